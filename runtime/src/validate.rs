//! Input validation shared by every service. Each function takes the raw
//! field value and returns the normalised value or a description of what
//! is wrong, for [`crate::error::FieldErrors::check`] to attach to the
//! field's name.

use uuid::Uuid;

/// ISO 3166-1 alpha-2 country codes (officially assigned).
pub const COUNTRIES: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// ISO 4217 active currency codes.
pub const CURRENCIES: [&str; 156] = [
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR",
    "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB",
    "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS",
    "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
];

/// Trimmed, non-empty text of at most `max` characters, without control characters.
pub fn required_text(value: &str, max: usize) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("is required".into());
    }
    bounded_text(v, max)
}

/// Trimmed text of at most `max` characters (may be empty).
pub fn optional_text(value: &str, max: usize) -> Result<String, String> {
    bounded_text(value.trim(), max)
}

fn bounded_text(v: &str, max: usize) -> Result<String, String> {
    let len = v.chars().count();
    if len > max {
        return Err(format!("must be at most {max} characters (got {len})"));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err("must not contain control characters".into());
    }
    Ok(v.to_owned())
}

/// A UUID given as a string.
pub fn uuid(value: &str) -> Result<Uuid, String> {
    if value.is_empty() {
        return Err("is required".into());
    }
    Uuid::parse_str(value).map_err(|_| format!("must be a UUID (got {:?})", truncate(value, 40)))
}

/// A UUID, or `None` for the empty string.
pub fn optional_uuid(value: &str) -> Result<Option<Uuid>, String> {
    if value.is_empty() {
        Ok(None)
    } else {
        uuid(value).map(Some)
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// A DNS domain name such as `example.com`, normalised to lower case
/// without a trailing dot. Schemes, paths, ports and IP addresses are refused.
pub fn domain(value: &str) -> Result<String, String> {
    let v = value.trim().trim_end_matches('.').to_ascii_lowercase();
    if v.is_empty() {
        return Err("is required".into());
    }
    if v.contains("://") || v.contains('/') || v.contains(':') {
        return Err(
            "must be a bare domain name like example.com, without scheme, path or port".into(),
        );
    }
    if v.len() > 253 {
        return Err("must be at most 253 characters".into());
    }
    let labels: Vec<&str> = v.split('.').collect();
    if labels.len() < 2 {
        return Err("must have at least two labels, like example.com".into());
    }
    for label in &labels {
        if label.is_empty() || label.len() > 63 {
            return Err("each label must be 1 to 63 characters".into());
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(
                "may contain only letters, digits, hyphens and dots (use punycode for IDNs)".into(),
            );
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("labels must not start or end with a hyphen".into());
        }
    }
    let tld = labels[labels.len() - 1];
    if tld.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must be a domain name, not an IP address".into());
    }
    if !(tld.bytes().all(|b| b.is_ascii_alphabetic()) || tld.starts_with("xn--")) || tld.len() < 2 {
        return Err("must end in a valid top-level domain".into());
    }
    Ok(v)
}

/// An email address, normalised with a lower-case domain.
pub fn email(value: &str) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("is required".into());
    }
    if v.len() > 254 {
        return Err("must be at most 254 characters".into());
    }
    let Some((local, host)) = v.rsplit_once('@') else {
        return Err("must be an email address like name@example.com".into());
    };
    if local.is_empty() || local.len() > 64 {
        return Err("must have a local part of 1 to 64 characters before the @".into());
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c);
    if !local.chars().all(allowed)
        || local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
    {
        return Err("has characters not allowed before the @".into());
    }
    let host = domain(host).map_err(|e| format!("has an invalid domain: {e}"))?;
    Ok(format!("{local}@{host}"))
}

/// An ISO 3166-1 alpha-2 country code, normalised to upper case.
pub fn country(value: &str) -> Result<String, String> {
    let v = value.trim().to_ascii_uppercase();
    if v.is_empty() {
        return Err("is required".into());
    }
    if COUNTRIES.binary_search(&v.as_str()).is_ok() {
        Ok(v)
    } else {
        Err(format!(
            "must be an ISO 3166-1 alpha-2 country code like DE or US (got {:?})",
            truncate(value, 10)
        ))
    }
}

/// An ISO 4217 currency code, upper case as given.
pub fn currency(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err("is required".into());
    }
    if CURRENCIES.binary_search(&value).is_ok() {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "must be an ISO 4217 currency code like EUR or USD (got {:?})",
            truncate(value, 10)
        ))
    }
}

/// An absolute http(s) URL.
pub fn url(value: &str) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("is required".into());
    }
    if v.len() > 2048 {
        return Err("must be at most 2048 characters".into());
    }
    let rest = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"))
        .ok_or("must be an absolute http or https URL")?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = host.split(':').next().unwrap_or_default();
    if host.is_empty() || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must be an absolute http or https URL with a host".into());
    }
    Ok(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_sorted_for_binary_search() {
        assert!(COUNTRIES.windows(2).all(|w| w[0] < w[1]));
        assert!(CURRENCIES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn domains() {
        assert_eq!(domain("Example.COM.").as_deref(), Ok("example.com"));
        assert_eq!(domain("shop.acme.co.uk").as_deref(), Ok("shop.acme.co.uk"));
        assert_eq!(
            domain("xn--bcher-kva.example").as_deref(),
            Ok("xn--bcher-kva.example")
        );
        for bad in [
            "",
            "localhost",
            "https://acme.com",
            "acme.com/x",
            "acme..com",
            "-acme.com",
            "acme.c",
            "10.0.0.1",
            "acme.com:80",
            "ac me.com",
            "acme_corp.com",
        ] {
            assert!(domain(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(
            email("Jane.Doe+prm@Acme.COM").as_deref(),
            Ok("Jane.Doe+prm@acme.com")
        );
        for bad in [
            "",
            "jane",
            "jane@",
            "@acme.com",
            "jane@acme",
            "ja ne@acme.com",
            ".jane@acme.com",
            "jane..doe@acme.com",
            "jane@acme..com",
        ] {
            assert!(email(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn countries_and_currencies() {
        assert_eq!(country("de").as_deref(), Ok("DE"));
        assert!(country("XX").is_err());
        assert!(country("DEU").is_err());
        assert_eq!(currency("EUR").as_deref(), Ok("EUR"));
        assert!(currency("eur").is_err());
        assert!(currency("ABC").is_err());
    }

    #[test]
    fn texts_and_urls() {
        assert_eq!(required_text("  Acme  ", 10).as_deref(), Ok("Acme"));
        assert!(required_text("   ", 10).is_err());
        assert!(required_text("abcdefghijk", 10).is_err());
        assert!(required_text("a\u{0}b", 10).is_err());
        assert!(url("https://cdn.example.com/deck.pdf").is_ok());
        assert!(url("ftp://x.com").is_err());
        assert!(url("https://").is_err());
        assert!(uuid("nope").is_err());
        assert!(uuid("").is_err());
    }
}
