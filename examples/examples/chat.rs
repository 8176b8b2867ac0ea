//! `cargo run --release --example chat`: a terminal chat with a Moveo agent over the custom
//! integration. Type a line, read `bot: ...`; end the input (Ctrl-D) to close the session.
//!
//! Settings: `MOVEO_API_KEY`, `MOVEO_INTEGRATION_ID`, `MOVEO_WEBHOOK_SECRET` (required),
//! `MOVEO_API_BASE` (default `https://channels.moveo.ai`), `LISTEN_ADDR` for the webhook
//! (default `127.0.0.1:8082`; Moveo must reach it, through a tunnel for instance).

use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use moveo_dialog_examples::chat::{Settings, run};
use moveo_dialog_examples::{init_logging, listen_addr};

#[tokio::main]
async fn main() -> ExitCode {
    init_logging();
    let started = async {
        let settings = Settings::from_env()?;
        let addr = listen_addr("127.0.0.1:8082")?;
        let listener =
            tokio::net::TcpListener::bind(addr).await.map_err(|err| format!("cannot listen on {addr}: {err}"))?;
        let input = tokio::io::BufReader::new(tokio::io::stdin());
        run(settings, listener, input, Arc::new(Mutex::new(std::io::stdout()))).await
    };
    match started.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
