//! API key credentials: opaque, prefixed and random; shown once and stored
//! only as a SHA-256 hash. A key is `prm_` followed by 40 base62 characters
//! (about 238 bits of entropy), so a fast hash is safe: there is nothing to
//! brute-force that is cheaper than guessing the key itself.
//!
//! Keys are one kind of credential of a user; later kinds (passwords, SSO
//! sessions) will sit beside them, not inside the user.

use rand::Rng;
use sha2::{Digest, Sha256};

pub const KEY_PREFIX: &str = "prm_";
const RANDOM_LEN: usize = 40;
const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Characters of the secret shown in lists to recognise a key.
pub const DISPLAY_PREFIX_LEN: usize = 12;
/// The shortest operator-chosen bootstrap key accepted.
pub const MIN_BOOTSTRAP_KEY_LEN: usize = 24;

/// A newly generated key. The secret leaves the service once, in the response.
pub struct GeneratedKey {
    pub secret: String,
    pub hash: Vec<u8>,
    pub display_prefix: String,
}

pub fn generate() -> GeneratedKey {
    let mut rng = rand::rng();
    let random: String = (0..RANDOM_LEN)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    let secret = format!("{KEY_PREFIX}{random}");
    GeneratedKey {
        hash: hash(&secret),
        display_prefix: display_prefix(&secret),
        secret,
    }
}

/// A key is live until it is revoked; revocation is final.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyStatus {
    Live,
    Revoked,
}

impl KeyStatus {
    /// Keys carry their revocation time; the status follows from it.
    pub fn of(revoked_at: Option<chrono::DateTime<chrono::Utc>>) -> Self {
        match revoked_at {
            None => Self::Live,
            Some(_) => Self::Revoked,
        }
    }
}

pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

pub fn display_prefix(secret: &str) -> String {
    secret.chars().take(DISPLAY_PREFIX_LEN).collect()
}

/// Whether a presented secret could be one of our keys at all; anything
/// else is refused without a database lookup.
pub fn looks_like_key(secret: &str) -> bool {
    secret.len() <= 256
        && secret.len() >= MIN_BOOTSTRAP_KEY_LEN.min(KEY_PREFIX.len() + RANDOM_LEN)
        && secret.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_prefixed_random_and_hashed() {
        let a = generate();
        let b = generate();
        assert!(a.secret.starts_with(KEY_PREFIX));
        assert_eq!(a.secret.len(), KEY_PREFIX.len() + RANDOM_LEN);
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.hash, hash(&a.secret));
        assert_ne!(a.hash, b.hash);
        assert!(a.secret.starts_with(&a.display_prefix));
        assert!(looks_like_key(&a.secret));
        assert!(!looks_like_key("short"));
        assert!(!looks_like_key(&format!("{} with space", a.secret)));
    }
}
