//! `moveo-dialog`: play Moveo against a local webhook server, replay and record fixtures,
//! validate documents against the bundled schemas, sign bodies, and call the custom-integration
//! REST API. Run `moveo-dialog --help`, or `moveo-dialog help COMMAND`.

mod api;
mod cli;
mod diff;
mod event;
mod failure;
mod http;
mod record;
mod render;
mod replay;
mod request;
mod send;
mod style;
mod validate;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::failure::Failure;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => return report(&Failure::Input(format!("cannot start the runtime: {err}"))),
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Send(args) => send::run(args).await,
            Command::Replay(args) => replay::run(args).await,
            Command::Record(args) => record::run(args).await,
            Command::Validate(args) => validate::run(&args),
            Command::Sign(args) => sign(&args),
            Command::Event(args) => event::run(args).await,
            Command::Api(args) => api::run(args).await,
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => report(&failure),
    }
}

fn report(failure: &Failure) -> ExitCode {
    let message = failure.to_string();
    if !message.is_empty() {
        style::error(&message);
    }
    ExitCode::from(failure.exit_code())
}

/// `moveo-dialog sign`: the hex signature of the exact bytes, and nothing else.
fn sign(args: &cli::SignArgs) -> Result<(), Failure> {
    let body = request::read_input(&args.file)?;
    let signature = moveo_dialog::verify::sign(&moveo_dialog::verify::Secret::new(&args.secret), &body);
    println!("{signature}");
    Ok(())
}
