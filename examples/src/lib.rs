//! Runnable example servers for moveo-dialog. Each example in `examples/` is a thin `main`
//! over the functions here, so the tests start the very same apps in-process.

use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;

use moveo_dialog::serve::HttpService;
use moveo_dialog::{Router, Server};
use tokio::net::TcpListener;

/// The error type the example handlers return: any error, logged and answered 500.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub mod chat;
pub mod erasmus;
pub mod events;
pub mod inventory;
pub mod otp;
pub mod webhooks;

/// Logs to stderr, at `info` unless `RUST_LOG` says otherwise; in colour only on a terminal.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(colour).with_writer(std::io::stderr).try_init();
}

/// A required setting from the environment, or a message that says what to set.
///
/// # Errors
///
/// The sentence to print when the variable is missing or empty.
pub fn required_env(name: &str, why: &str) -> Result<String, String> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(format!("{name} is not set: {why}")),
    }
}

/// HTTPS when `MOVEO_TLS_CERT` and `MOVEO_TLS_KEY` are both set (PEM files), plain HTTP when
/// neither is.
///
/// # Errors
///
/// The sentence to print when only one is set, or the files do not work (it names the file).
pub fn tls_from_env() -> Result<Option<moveo_dialog::serve::Tls>, String> {
    tls_from(|name| std::env::var(name).ok())
}

/// [`tls_from_env`] with the settings read by `var`.
///
/// # Errors
///
/// As [`tls_from_env`].
pub fn tls_from(var: impl Fn(&str) -> Option<String>) -> Result<Option<moveo_dialog::serve::Tls>, String> {
    let var = |name: &str| var(name).filter(|value| !value.trim().is_empty());
    match (var("MOVEO_TLS_CERT"), var("MOVEO_TLS_KEY")) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => {
            moveo_dialog::serve::Tls::from_pem_files(cert, key).map(Some).map_err(|err| err.to_string())
        }
        (Some(_), None) => {
            Err("MOVEO_TLS_CERT is set but MOVEO_TLS_KEY is missing: set both, or neither for plain HTTP".to_owned())
        }
        (None, Some(_)) => {
            Err("MOVEO_TLS_KEY is set but MOVEO_TLS_CERT is missing: set both, or neither for plain HTTP".to_owned())
        }
    }
}

/// `LISTEN_ADDR`, or `default`.
///
/// # Errors
///
/// The sentence to print when it is not a socket address.
pub fn listen_addr(default: &str) -> Result<SocketAddr, String> {
    let value = std::env::var("LISTEN_ADDR").unwrap_or_else(|_| default.to_owned());
    value.parse().map_err(|_| format!("LISTEN_ADDR={value:?} is not an address such as 127.0.0.1:8080"))
}

/// The shared `main` of the example servers: reads the secret from `secret_var` (refusing to
/// start without it, saying `why`) and `LISTEN_ADDR` (default `default_addr`), builds the app
/// with `app` (which may connect to a database first), and serves it until SIGTERM or Ctrl-C.
/// Exit code 2 when it cannot start.
pub async fn run_example<A, F, Fut>(
    name: &str,
    path: &str,
    secret_var: &str,
    why: &str,
    default_addr: &str,
    app: F,
) -> ExitCode
where
    A: HttpService,
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<A, String>>,
{
    let describe = |addr: SocketAddr| format!("{name}: POST http://{addr}{path}");
    run_service(default_addr, describe, || async { app(required_env(secret_var, why)?).await }).await
}

/// Builds a service with `app` (refusing to start with its message), and serves it on
/// `LISTEN_ADDR` (default `default_addr`) until SIGTERM or Ctrl-C, logging `describe(addr)`.
/// Logging is set up first, so `app` may log. Exit code 2 when it cannot start.
pub async fn run_service<A, F, Fut>(default_addr: &str, describe: impl FnOnce(SocketAddr) -> String, app: F) -> ExitCode
where
    A: HttpService,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<A, String>>,
{
    init_logging();
    let started = async {
        let app = app().await?;
        let addr = listen_addr(default_addr)?;
        let tls = tls_from_env()?;
        let listener = TcpListener::bind(addr).await.map_err(|err| format!("cannot listen on {addr}: {err}"))?;
        let server = Server::new(app);
        match tls {
            Some(tls) => {
                tracing::info!("{}", describe(addr).replace("http://", "https://"));
                server.tls(tls).serve(listener).await
            }
            None => {
                tracing::info!("{}", describe(addr));
                server.serve(listener).await
            }
        }
        .map_err(|err| err.to_string())
    };
    match started.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// The shared `main` of the dialog webhook examples: `MOVEO_VERIFY_TOKEN`, `LISTEN_ADDR`
/// (default `127.0.0.1:8080`), `POST /webhook`.
pub async fn run_dialog_example<Fut>(name: &str, app: impl FnOnce(String) -> Fut) -> ExitCode
where
    Fut: Future<Output = Result<Router, String>>,
{
    run_example(
        name,
        "/webhook",
        "MOVEO_VERIFY_TOKEN",
        "set it to the verify token of your webhook in Moveo; every call is checked against it, \
         so the server refuses to start without one",
        "127.0.0.1:8080",
        app,
    )
    .await
}
