//! The spec's examples, copied into the repo (tests never read `../shared`).

use std::path::{Path, PathBuf};

use serde_json::Value;

pub(crate) fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/spec")
}

pub(crate) fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap_or_else(|err| panic!("fixture {name}: {err}"))
}

pub(crate) fn json(name: &str) -> Value {
    serde_json::from_slice(&bytes(name)).unwrap_or_else(|err| panic!("fixture {name}: {err}"))
}

/// Every fixture whose name starts with `prefix`, sorted.
pub(crate) fn named(prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .expect("fixtures dir")
        .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(prefix) && name.ends_with(".json"))
        .collect();
    names.sort();
    names
}
