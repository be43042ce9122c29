//! Upload and owner tokens: random, shown once, stored only as SHA-256 digests.

use sha2::{Digest, Sha256};

use crate::random;

/// A new token: 43 characters of `A-Za-z0-9`, 256 bits.
pub fn new_token() -> String {
    random::token(protocol::RECORDING_TOKEN_LEN)
}

/// The stored form of a token: its SHA-256, hex. A leaked metadata file grants nothing.
pub fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `presented` is the token whose digest is `stored`, in time independent of where the
/// digests differ.
pub fn matches(presented: &str, stored: &str) -> bool {
    let d = digest(presented);
    d.len() == stored.len()
        && d.bytes()
            .zip(stored.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_checked_by_digest() {
        let t = new_token();
        assert_eq!(t.len(), 43);
        assert_ne!(t, new_token());
        let stored = digest(&t);
        assert_eq!(stored.len(), 64);
        assert!(matches(&t, &stored));
        assert!(!matches("wrong", &stored));
        assert!(!stored.contains(&t));
    }
}
