//! Codes: drawn from the operating system's CSPRNG, kept only as salted SHA-256 hashes,
//! compared in constant time.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A code as the store keeps it: a random salt and `SHA-256(salt || code)`.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedCode {
    /// The salt, 16 random bytes.
    pub salt: [u8; 16],
    /// `SHA-256(salt || code)`.
    pub hash: [u8; 32],
}

impl std::fmt::Debug for SealedCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealedCode(<redacted>)")
    }
}

fn digest(salt: &[u8; 16], code: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(code.as_bytes());
    hasher.finalize().into()
}

impl SealedCode {
    /// Seals `code` under a fresh random salt.
    ///
    /// # Errors
    ///
    /// When the operating system has no randomness to give.
    pub fn seal(code: &str) -> Result<Self, getrandom::Error> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt)?;
        Ok(Self { salt, hash: digest(&salt, code) })
    }

    /// Whether `code` is the sealed one, in constant time.
    #[must_use]
    pub fn matches(&self, code: &str) -> bool {
        bool::from(digest(&self.salt, code).ct_eq(&self.hash))
    }
}

/// A uniformly random 6-digit code from the OS CSPRNG.
///
/// # Errors
///
/// When the operating system has no randomness to give.
pub fn new_code() -> Result<String, getrandom::Error> {
    loop {
        let mut bytes = [0u8; 4];
        getrandom::fill(&mut bytes)?;
        let value = u32::from_le_bytes(bytes);
        // Reject the top sliver so that every code is equally likely.
        if value < 4_294_000_000 {
            return Ok(format!("{:06}", value % 1_000_000));
        }
    }
}
