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

/// Where and until when a key may be used, besides not being revoked:
/// checked in one place, [`KeyLimits::admit`], on every authentication.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyLimits {
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Empty: any address.
    pub allowed: Vec<ipnet::IpNet>,
}

/// Why a live key authenticates nothing here and now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyRefusal {
    Expired,
    OutsideAllowList,
}

impl KeyLimits {
    /// Reads a new key's limits: an expiry after `now`, and networks in
    /// CIDR notation (a single address is its own network). Every bad
    /// value is reported against its field.
    pub fn parse(
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
        cidrs: &[String],
        now: chrono::DateTime<chrono::Utc>,
        errs: &mut prm_runtime::FieldErrors,
    ) -> KeyLimits {
        if expires_at.is_some_and(|t| t <= now) {
            errs.add("expires_at", "must be in the future");
        }
        let mut allowed = Vec::new();
        for (i, c) in cidrs.iter().enumerate() {
            let c = c.trim();
            match c
                .parse::<ipnet::IpNet>()
                .or_else(|_| c.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            {
                Ok(net) => allowed.push(net.trunc()),
                Err(_) => errs.add(
                    format!("allowed_cidrs[{i}]"),
                    format!("{c:?} is not a network in CIDR notation, e.g. 203.0.113.0/24"),
                ),
            }
        }
        if cidrs.len() > 50 {
            errs.add("allowed_cidrs", "at most 50 networks");
        }
        KeyLimits {
            expires_at,
            allowed,
        }
    }

    /// A stored key's limits. A network that cannot be read is an error:
    /// dropping it would widen the key, so the key then allows nothing.
    pub fn stored(
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
        cidrs: &[String],
    ) -> Result<KeyLimits, String> {
        let allowed = cidrs
            .iter()
            .map(|c| c.parse().map_err(|_| format!("unreadable network {c:?}")))
            .collect::<Result<Vec<ipnet::IpNet>, String>>()?;
        Ok(KeyLimits {
            expires_at,
            allowed,
        })
    }

    /// Applies the maximum lifetime of new keys (`max_days`, if any): a
    /// key without an expiry gets the longest allowed, and one beyond it
    /// is refused against `expires_at`.
    pub fn within_lifetime(
        &mut self,
        max_days: Option<i32>,
        now: chrono::DateTime<chrono::Utc>,
        errs: &mut prm_runtime::FieldErrors,
    ) {
        let Some(days) = max_days else {
            return;
        };
        let latest = now + chrono::Duration::days(i64::from(days));
        match self.expires_at {
            None => self.expires_at = Some(latest),
            Some(t) if t > latest => errs.add(
                "expires_at",
                format!(
                    "must be at most {days} days from now (the maximum lifetime of these keys)"
                ),
            ),
            Some(_) => {}
        }
    }

    /// Whether the key may be used at `now` from `from` (an unknown
    /// address passes only a key without an allow-list).
    pub fn admit(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        from: Option<std::net::IpAddr>,
    ) -> Result<(), KeyRefusal> {
        if self.expires_at.is_some_and(|t| t <= now) {
            return Err(KeyRefusal::Expired);
        }
        if !self.allowed.is_empty()
            && !from.is_some_and(|ip| self.allowed.iter().any(|n| n.contains(&ip)))
        {
            return Err(KeyRefusal::OutsideAllowList);
        }
        Ok(())
    }
}

#[cfg(test)]
mod limits_tests {
    use super::*;
    use chrono::{Duration, Utc};

    #[test]
    fn a_key_is_refused_after_its_expiry_and_outside_its_networks() {
        let now = Utc::now();
        let mut errs = prm_runtime::FieldErrors::new();
        let limits = KeyLimits::parse(
            Some(now + Duration::hours(1)),
            &["203.0.113.0/24".into(), "2001:db8::7".into()],
            now,
            &mut errs,
        );
        assert!(errs.finish().is_ok());
        let ip = |s: &str| s.parse().ok();
        assert_eq!(limits.admit(now, ip("203.0.113.9")), Ok(()));
        assert_eq!(limits.admit(now, ip("2001:db8::7")), Ok(()));
        assert_eq!(
            limits.admit(now, ip("198.51.100.1")),
            Err(KeyRefusal::OutsideAllowList)
        );
        assert_eq!(limits.admit(now, None), Err(KeyRefusal::OutsideAllowList));
        assert_eq!(
            limits.admit(now + Duration::hours(2), ip("203.0.113.9")),
            Err(KeyRefusal::Expired)
        );
        assert_eq!(KeyLimits::default().admit(now, None), Ok(()));
    }

    #[test]
    fn a_maximum_lifetime_caps_new_keys_and_fills_in_a_missing_expiry() {
        let now = Utc::now();
        let mut errs = prm_runtime::FieldErrors::new();
        let mut open = KeyLimits::default();
        open.within_lifetime(Some(30), now, &mut errs);
        assert_eq!(open.expires_at, Some(now + Duration::days(30)));
        let mut long = KeyLimits {
            expires_at: Some(now + Duration::days(31)),
            ..KeyLimits::default()
        };
        long.within_lifetime(Some(30), now, &mut errs);
        assert!(format!("{:?}", errs.finish()).contains("expires_at"));
        let mut free = KeyLimits::default();
        let mut errs = prm_runtime::FieldErrors::new();
        free.within_lifetime(None, now, &mut errs);
        assert_eq!(free.expires_at, None);
        assert!(errs.finish().is_ok());
    }

    #[test]
    fn bad_limits_name_their_field() {
        let now = Utc::now();
        let mut errs = prm_runtime::FieldErrors::new();
        KeyLimits::parse(
            Some(now - Duration::seconds(1)),
            &["10.0.0.0/8".into(), "10.0.0.0/33".into()],
            now,
            &mut errs,
        );
        let e = errs.finish().expect_err("bad");
        let text = format!("{e:?}");
        assert!(text.contains("expires_at"), "{text}");
        assert!(text.contains("allowed_cidrs[1]"), "{text}");
    }
}
