//! A server process for the tests that need one to kill: SIGTERM during load, SIGKILL in the
//! middle of an event stream. Prints `listening on ADDR` on stdout once it accepts calls.
//!
//! ```text
//! hostile-server dialog                 # POST /webhook: nodes `slow` (300 ms) and `fast`
//! hostile-server dialog-idle MS         # the same, closing connections idle for MS ms
//! hostile-server dialog-tls CERT KEY    # the same over HTTPS; SIGHUP reads the files again
//! hostile-server inventory DB           # the inventory example on the SQLite file DB
//! hostile-server otp                     # the OTP example, configured by its environment
//! hostile-server events LOG [ADDR]      # POST /events: appends each handled request_id to LOG
//! ```
//! The token / secret is `hostile-secret`.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use moveo_dialog::events::{Event, EventsReceiver};
use moveo_dialog::{Reply, Router, Server};
use tokio::net::TcpListener;

const SECRET: &str = "hostile-secret";

async fn slow() -> Reply {
    tokio::time::sleep(Duration::from_millis(300)).await;
    Reply::text("slow and steady")
}

async fn fast() -> Reply {
    Reply::text("fast")
}

fn events(log: String) -> EventsReceiver {
    EventsReceiver::new().webhook_secret(SECRET).on_every(move |event: Event| {
        let log = log.clone();
        async move {
            // Long enough for a kill to land while some events are in their handler.
            tokio::time::sleep(Duration::from_millis(3)).await;
            let mut file =
                std::fs::OpenOptions::new().create(true).append(true).open(&log).map_err(|e| e.to_string())?;
            // One write per line: concurrent appends must not interleave.
            file.write_all(format!("{}\n", event.request_id).as_bytes()).map_err(|e| e.to_string())?;
            file.sync_data().map_err(|e| e.to_string())
        }
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["dialog"] => {
            let router = Router::new().verify_token(SECRET).node("slow", slow).node("fast", fast);
            run(Server::new(router).grace_period(Duration::from_secs(5)), "127.0.0.1:0").await
        }
        ["dialog-idle", millis] => {
            let Ok(millis) = millis.parse() else {
                eprintln!("dialog-idle takes milliseconds");
                return ExitCode::from(2);
            };
            let router = Router::new().verify_token(SECRET).node("slow", slow).node("fast", fast);
            run(Server::new(router).header_read_timeout(Duration::from_millis(millis)), "127.0.0.1:0").await
        }
        ["dialog-tls", cert, key] => {
            let tls = match moveo_dialog::serve::Tls::from_pem_files(cert, key) {
                Ok(tls) => tls,
                Err(err) => {
                    eprintln!("{err}");
                    return ExitCode::from(2);
                }
            };
            let router = Router::new().verify_token(SECRET).node("slow", slow).node("fast", fast);
            run(Server::new(router).tls(tls), "127.0.0.1:0").await
        }
        ["inventory", database] => match moveo_dialog_examples::inventory::router(SECRET, database) {
            Ok(router) => run(Server::new(router), "127.0.0.1:0").await,
            Err(err) => {
                eprintln!("{err}");
                ExitCode::from(2)
            }
        },
        ["otp"] => match moveo_dialog_examples::otp::from_env().await {
            Ok(otp) => run(Server::new(moveo_dialog_examples::otp::router(SECRET, otp)), "127.0.0.1:0").await,
            Err(err) => {
                eprintln!("{err}");
                ExitCode::from(2)
            }
        },
        ["events", log] => run(Server::new(events((*log).to_owned())), "127.0.0.1:0").await,
        ["events", log, addr] => run(Server::new(events((*log).to_owned())), addr).await,
        _ => {
            eprintln!("usage: hostile-server dialog | hostile-server events LOG [ADDR]");
            ExitCode::from(2)
        }
    }
}

async fn run<S: moveo_dialog::serve::HttpService>(server: Server<S>, addr: &str) -> ExitCode {
    let listener = match TcpListener::bind(&addr).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("cannot listen on {addr}: {err}");
            return ExitCode::from(2);
        }
    };
    match listener.local_addr() {
        Ok(local) => println!("listening on {local}"),
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::from(2);
        }
    }
    match server.serve(listener).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{err}");
            ExitCode::FAILURE
        }
    }
}
