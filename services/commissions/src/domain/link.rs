//! Tracking links: a short random code that redirects to a destination on
//! one of the program's allowed domains.

use rand::Rng;

pub const CODE_LEN: usize = 8;
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

pub use prm_runtime::vocabulary::LinkStatus;

/// A new link code: 8 characters of an alphabet without look-alikes
/// (57^8, about 1.1e14 codes).
pub fn new_code() -> String {
    let mut rng = rand::rng();
    (0..CODE_LEN)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Whether `code` could be a link code at all (anything else is 404
/// without a lookup).
pub fn plausible_code(code: &str) -> bool {
    (4..=32).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The destination, if it is an absolute http(s) URL whose host is one of
/// `allowed` or a subdomain of one. Credentials in the URL and backslashes
/// (which browsers read as a slash, so `https://evil.example\@shop.example`
/// goes to evil.example) are refused outright.
pub fn destination(url: &str, allowed: &[String]) -> Result<String, String> {
    let url = prm_runtime::validate::url(url)?;
    if url.contains('\\') {
        return Err("must not contain a backslash".into());
    }
    let rest = url
        .split_once("://")
        .map(|(_, r)| r)
        .ok_or("must be an absolute http or https URL")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err("must not carry credentials (user@host)".into());
    }
    let host = authority
        .split(':')
        .next()
        .unwrap_or_default()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if allowed.is_empty() {
        return Err(
            "the program allows no link destinations yet (staff set allowed_domains)".into(),
        );
    }
    let ok = allowed
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")));
    if ok {
        Ok(url)
    } else {
        Err(format!(
            "host {host} is not one of the program's allowed domains ({})",
            allowed.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<String> {
        vec!["shop.example".to_owned()]
    }

    #[test]
    fn destinations_stay_on_allowed_domains() {
        assert!(destination("https://shop.example/p?x=1", &allowed()).is_ok());
        assert!(destination("https://eu.shop.example/", &allowed()).is_ok());
        assert!(destination("https://SHOP.example./", &allowed()).is_ok());
        for bad in [
            "https://evil.example/",
            "https://notshop.example/",
            "https://shop.example.evil.example/",
            "https://shop.example@evil.example/",
            "https://evil.example\\@shop.example/",
            "javascript:alert(1)",
            "//shop.example/",
            "ftp://shop.example/",
        ] {
            assert!(destination(bad, &allowed()).is_err(), "{bad} refused");
        }
        assert!(destination("https://shop.example/", &[]).is_err());
    }

    #[test]
    fn codes() {
        let c = new_code();
        assert_eq!(c.len(), CODE_LEN);
        assert!(plausible_code(&c));
        assert!(!plausible_code("../etc"));
        assert!(!plausible_code("ab"));
    }
}
