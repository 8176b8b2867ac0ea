//! The ids a test call carries, shaped as Moveo's.

use sha2::{Digest, Sha256};

/// A random UUID v4, hyphenated.
#[must_use]
pub fn random_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A stable UUID v8 derived from `name`: the same node always gets the same id.
#[must_use]
pub fn name_uuid(name: &str) -> String {
    let digest = Sha256::digest(name.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Uuid::new_v8(bytes).to_string()
}
