//! Running the built `moveo-dialog` binary, and the servers it talks to: the example apps
//! in-process, and a scriptable mock (a webhook that answers anything, or Moveo's API).

#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use moveo_dialog::{Serve, Server};
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
pub(crate) async fn serve(app: impl Serve) -> SocketAddr {
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

#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Seen {
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or("")
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// Per path, the next answers: status and body.
type Script = HashMap<String, VecDeque<(u16, String)>>;

/// A scriptable HTTP server: records every call and answers by path (`{BASE}` in a scripted
/// body becomes its own address); unscripted paths get 200 `{"request_id": "r-1"}`.
#[derive(Clone, Default)]
pub(crate) struct Mock {
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<Script>>,
    delay: Arc<Mutex<Option<Duration>>>,
    addr: Arc<Mutex<Option<SocketAddr>>>,
}

impl Mock {
    pub(crate) fn answer(&self, path: &str, status: u16, body: &str) {
        self.script.lock().unwrap().entry(path.to_owned()).or_default().push_back((status, body.to_owned()));
    }

    /// Answers only after `delay`.
    pub(crate) fn stall(&self, delay: Duration) {
        *self.delay.lock().unwrap() = Some(delay);
    }

    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub(crate) async fn start(&self) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        *self.addr.lock().unwrap() = Some(addr);
        let mock = self.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let mock = mock.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                        let mock = mock.clone();
                        async move { Ok::<_, Infallible>(mock.respond(request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        addr
    }

    async fn respond(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let (parts, body) = request.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        let path = parts.uri.path().to_owned();
        self.seen.lock().unwrap().push(Seen {
            method: parts.method.to_string(),
            path: path.clone(),
            headers: parts.headers,
            body,
        });
        let delay = *self.delay.lock().unwrap();
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        let scripted = self.script.lock().unwrap().get_mut(&path).and_then(VecDeque::pop_front);
        let (status, body) = scripted.unwrap_or((200, r#"{"request_id":"r-1"}"#.to_owned()));
        let base = format!("http://{}", self.addr.lock().unwrap().unwrap());
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.replace("{BASE}", &base))))
            .unwrap()
    }
}
