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
    if let Err(failure) = http::set_trust(cli.cacert.as_deref(), cli.insecure) {
        return report(&failure);
    }
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
    let secret = match (&args.secret, &args.secret_file) {
        (_, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|err| Failure::Input(format!("cannot read {}: {err}", path.display())))?;
            let text = text.strip_suffix('\n').map_or(text.as_str(), |line| line.strip_suffix('\r').unwrap_or(line));
            text.to_owned()
        }
        (Some(secret), None) if !secret.is_empty() => secret.clone(),
        _ => {
            return Err(Failure::Input(
                "no secret: pass --secret-file FILE, set MOVEO_VERIFY_TOKEN, or --secret".into(),
            ));
        }
    };
    if secret.trim().is_empty() {
        return Err(Failure::Input("the secret is empty: anyone can sign with an empty key".into()));
    }
    let body = request::read_input(&args.file)?;
    let signature = moveo_dialog::verify::sign(&moveo_dialog::verify::Secret::new(&secret), &body);
    println!("{signature}");
    Ok(())
}
