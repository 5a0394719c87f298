//! Secrets: generation of opaque tokens and codes, their storage digests, constant-time
//! comparison, and a redacting newtype so no secret reaches a log or `Debug` output.
//!
//! RFC 6749 §10.10: the probability of an attacker guessing generated tokens MUST be less
//! than or equal to 2^(-128) and SHOULD be less than or equal to 2^(-160). We draw 256 bits
//! from the operating system's CSPRNG.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// Bytes of entropy in every token and code (256 bits).
pub const TOKEN_BYTES: usize = 32;

/// A string that must never be printed: `Debug` and `Display` show `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that needs it (hashing, a response body).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The SHA-256 digest under which this secret is stored.
    pub fn digest(&self) -> Vec<u8> {
        digest(&self.0)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A fresh opaque token or code: 256 bits from the OS CSPRNG, base64url without padding
/// (43 characters, all in the RFC 6750 `b64token` and RFC 6749 `VSCHAR` sets).
pub fn generate() -> Result<Secret, getrandom::Error> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes)?;
    Ok(Secret(URL_SAFE_NO_PAD.encode(bytes)))
}

/// SHA-256 digest of a secret; what the database stores instead of the secret.
pub fn digest(value: &str) -> Vec<u8> {
    Sha256::digest(value.as_bytes()).to_vec()
}

/// Compares a presented secret with a stored digest in constant time.
pub fn matches_digest(presented: &str, stored: &[u8]) -> bool {
    digest(presented).ct_eq(stored).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Debug output of a secret never shows the value.
    #[test]
    fn debug_redacts() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "[redacted]");
    }

    /// Generated tokens carry 256 bits and differ from each other.
    #[test]
    fn generated_tokens_are_long_and_distinct() -> Result<(), getrandom::Error> {
        let a = generate()?;
        let b = generate()?;
        assert_eq!(a.expose().len(), 43);
        assert_ne!(a, b);
        Ok(())
    }

    /// A digest matches only its own secret.
    #[test]
    fn digest_comparison() {
        let d = digest("s3cret");
        assert!(matches_digest("s3cret", &d));
        assert!(!matches_digest("s3cret ", &d));
    }
}
