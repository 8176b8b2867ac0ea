//! `moveo-dialog validate`: documents checked against the bundled JSON Schemas.

use std::path::Path;

use moveo_dialog::testing::Schema;
use serde_json::Value;

use crate::cli::{SchemaKind, ValidateArgs};
use crate::failure::Failure;
use crate::request::read_input;
use crate::style::{BAD, GOOD, WARN, paint};

pub(crate) fn run(args: &ValidateArgs) -> Result<(), Failure> {
    let schema = match args.schema {
        SchemaKind::Reply => Schema::Reply,
        SchemaKind::Request => Schema::Request,
        SchemaKind::Event => Schema::Event,
    };
    let (mut invalid, mut unreadable) = (0usize, 0usize);
    for file in &args.files {
        let name = if file == Path::new("-") { "<stdin>".to_owned() } else { file.display().to_string() };
        let bytes = match read_input(file) {
            Ok(bytes) => bytes,
            Err(failure) => {
                unreadable += 1;
                crate::style::error(&failure.to_string());
                continue;
            }
        };
        let document: Value = match serde_json::from_slice(&bytes) {
            Ok(document) => document,
            Err(err) => {
                invalid += 1;
                anstream::println!("{name}: {} not JSON: {err}", paint(BAD, "invalid:"));
                continue;
            }
        };
        let warnings = schema.warnings(&document);
        for warning in &warnings {
            let label = if args.strict { paint(BAD, "error:") } else { paint(WARN, "warning:") };
            anstream::println!("{name}: {label} {warning}");
        }
        match schema.validate(&document) {
            Ok(()) if args.strict && !warnings.is_empty() => invalid += 1,
            Ok(()) if !warnings.is_empty() => anstream::println!("{name}: {} (with warnings)", paint(GOOD, "valid")),
            Ok(()) => anstream::println!("{name}: {}", paint(GOOD, "valid")),
            Err(violations) => {
                invalid += 1;
                for violation in violations {
                    anstream::println!("{name}: {violation}");
                }
            }
        }
    }
    if unreadable > 0 {
        Err(Failure::Input(format!("{unreadable} of {} files could not be read", args.files.len())))
    } else if invalid > 0 {
        Err(Failure::Check(format!("{invalid} of {} files are invalid", args.files.len())))
    } else {
        Ok(())
    }
}
