//! Running the built `moveo-dialog` binary, and the servers it talks to: the example apps
//! in-process; the scriptable mock (a webhook, or Moveo's API) is `moveo_dialog_tests::MockHttp`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use moveo_dialog::Server;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

pub(crate) const TOKEN: &str = "cli-test-verify-token";
pub(crate) const SECRET: &str = "cli-test-webhook-secret";

/// What a run of the binary printed, and how it ended.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub(crate) fn expect(self, code: i32) -> Self {
        assert_eq!(self.code, code, "exit code\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        assert!(!self.stdout.contains('\u{1b}') && !self.stderr.contains('\u{1b}'), "colour in a pipe: {self:?}");
        self
    }
}

pub(crate) fn command(args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_moveo-dialog"));
    command.args(args).kill_on_drop(true);
    for var in ["MOVEO_VERIFY_TOKEN", "MOVEO_WEBHOOK_SECRET", "MOVEO_API_KEY", "MOVEO_INTEGRATION_ID", "MOVEO_API_BASE"]
    {
        command.env_remove(var);
    }
    command.env_remove("CLICOLOR_FORCE");
    command
}

/// Runs `moveo-dialog ARGS` with `env`, stdin from `stdin`; at most 60 s.
pub(crate) async fn run_with(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Run {
    let mut command = command(args);
    command.envs(env.iter().copied()).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("the binary starts");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).await.unwrap();
    drop(input);
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the command ends within 60 s")
        .unwrap();
    Run::from(output)
}

pub(crate) async fn run(args: &[&str]) -> Run {
    run_with(args, &[], b"").await
}

/// Serves `app` on a free loopback port.
pub(crate) async fn serve(app: impl moveo_dialog::serve::HttpService) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::new(app);
    tokio::spawn(server.serve(listener));
    addr
}

/// A loopback port nothing listens on.
pub(crate) async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// The repository's copies of the spec's examples.
pub(crate) fn spec_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/spec").join(name)
}

/// A fresh directory under the target directory.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
