//! `moveo-dialog replay`: recorded requests sent again, replies compared with snapshots.

use std::path::{Path, PathBuf};

use crate::cli::ReplayArgs;
use crate::failure::Failure;
use crate::style::{self, BAD, GOOD, paint};
use crate::{diff, http, request, send};

pub(crate) async fn run(args: ReplayArgs) -> Result<(), Failure> {
    if let (Some(dir), true) = (&args.expect, args.update) {
        std::fs::create_dir_all(dir)
            .map_err(|err| Failure::Input(format!("cannot create {}: {err}", dir.display())))?;
    }
    // One client for every file: connections are reused.
    let client = http::client(http::timeout(args.target.timeout)?)?;
    let total = args.files.len();
    let (mut passed, mut failed, mut unreachable) = (0usize, 0usize, false);
    for (index, file) in args.files.iter().enumerate() {
        if style::progress_enabled() {
            eprint!("\r\x1b[2K[{}/{total}] {}", index + 1, file.display());
        }
        let outcome = replay_one(&client, &args, file).await;
        if style::progress_enabled() {
            eprint!("\r\x1b[2K");
        }
        match outcome {
            Ok(note) => {
                passed += 1;
                anstream::println!("{} {} {note}", paint(GOOD, "PASS"), file.display());
            }
            Err(failure) => {
                failed += 1;
                unreachable |= matches!(failure, Failure::Unreachable(_));
                anstream::println!("{} {}: {}", paint(BAD, "FAIL"), file.display(), indent(&failure.to_string()));
            }
        }
    }
    anstream::println!("{passed} passed, {failed} failed");
    match (failed, unreachable) {
        (0, _) => Ok(()),
        (_, true) => Err(Failure::Unreachable(String::new())),
        (_, false) => Err(Failure::Check(String::new())),
    }
}

fn indent(text: &str) -> String {
    text.replace('\n', "\n    ")
}

/// `DIR/NAME.reply.json` for `NAME.request.json` or `NAME.json`.
pub(crate) fn snapshot_path(dir: &Path, file: &Path) -> PathBuf {
    let name = file.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = name.strip_suffix(".json").unwrap_or(&name);
    let stem = stem.strip_suffix(".request").unwrap_or(stem);
    dir.join(format!("{stem}.reply.json"))
}

/// Pretty JSON and a final newline: how snapshots and fixtures are written.
pub(crate) fn pretty(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

async fn replay_one(client: &reqwest::Client, args: &ReplayArgs, file: &Path) -> Result<String, Failure> {
    let request = request::read_object(file)?;
    let answer = send::post_request(client, &args.url, &args.target, request).await?;
    let reply = send::check_reply(&answer)?;
    let latency = http::millis(answer.latency);
    let Some(dir) = &args.expect else {
        return Ok(format!("({latency})"));
    };
    let snapshot = snapshot_path(dir, file);
    if args.update {
        std::fs::write(&snapshot, pretty(&reply))
            .map_err(|err| Failure::Input(format!("cannot write {}: {err}", snapshot.display())))?;
        return Ok(format!("({latency}, wrote {})", snapshot.display()));
    }
    let stored = std::fs::read(&snapshot).map_err(|err| {
        Failure::Check(format!("no snapshot at {} ({err}); run with --update to write it", snapshot.display()))
    })?;
    let expected: serde_json::Value = serde_json::from_slice(&stored)
        .map_err(|err| Failure::Check(format!("{} is not JSON: {err}", snapshot.display())))?;
    let differences = diff::differences(&expected, &reply);
    if differences.is_empty() {
        Ok(format!("({latency}, matches {})", snapshot.display()))
    } else {
        Err(Failure::Check(format!("the reply differs from {}:\n{}", snapshot.display(), differences.join("\n"))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_sit_beside_their_requests_by_name() {
        let dir = Path::new("snaps");
        assert_eq!(snapshot_path(dir, Path::new("rec/0001-plan.request.json")), dir.join("0001-plan.reply.json"));
        assert_eq!(snapshot_path(dir, Path::new("otp.json")), dir.join("otp.reply.json"));
        assert_eq!(snapshot_path(dir, Path::new("raw")), dir.join("raw.reply.json"));
    }
}
