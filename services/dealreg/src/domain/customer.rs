//! Who the customer is. Two registrations are for the same customer when
//! their registrable domains are equal (`eu.shop.acme.co.uk` and
//! `www.acme.co.uk` are both `acme.co.uk`, by the Public Suffix List), or
//! their company names are equal once case, punctuation and legal suffixes
//! are gone ("ACME, Inc." and "Acme" are both `acme`). Similar but unequal
//! names are near matches: flagged for review, never blocked.

use prm_runtime::validate;

/// The registrable domain of `value` (eTLD+1 by the Public Suffix List).
pub fn domain_key(value: &str) -> Result<String, String> {
    let host = validate::domain(value)?;
    let registrable = psl::domain_str(&host).ok_or_else(|| {
        "must be a company's domain, not a public suffix such as co.uk".to_owned()
    })?;
    Ok(registrable.to_owned())
}

/// Legal-form words dropped from the end of a company name.
const LEGAL_SUFFIXES: &[&str] = &[
    "ab",
    "ag",
    "as",
    "asa",
    "bv",
    "co",
    "company",
    "corp",
    "corporation",
    "gmbh",
    "inc",
    "incorporated",
    "kg",
    "kk",
    "limited",
    "llc",
    "llp",
    "lp",
    "ltd",
    "nv",
    "oy",
    "plc",
    "pte",
    "pty",
    "pvt",
    "sa",
    "sarl",
    "sas",
    "se",
    "spa",
    "srl",
];

/// A company name reduced to what identifies it: lower case, `&` as "and",
/// punctuation gone, legal suffixes ("Inc", "GmbH", "Ltd", "L.L.C.") and a
/// leading "the" dropped, single spaces. A name that is nothing but a legal
/// form keeps it, so it never becomes empty.
pub fn company_key(name: &str) -> String {
    let folded: String = name
        .to_lowercase()
        .replace('&', " and ")
        .chars()
        // Dots and apostrophes join what they separate: "L.L.C." is "llc".
        .filter(|c| !matches!(c, '.' | '\'' | '’'))
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let words: Vec<&str> = folded.split_whitespace().collect();
    let mut end = words.len();
    while end > 1 && LEGAL_SUFFIXES.contains(&words[end - 1]) {
        end -= 1;
    }
    let start = usize::from(end > 1 && words[0] == "the");
    words[start..end].join(" ")
}

/// The similarity (trigram, as PostgreSQL's `pg_trgm` computes it) at and
/// above which two different company keys are a near match.
pub const NEAR_MATCH_SIMILARITY: f64 = 0.5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_fold_to_the_registrable_domain() {
        let cases = [
            ("acme.com", "acme.com"),
            ("WWW.Acme.COM", "acme.com"),
            ("www.acme.com.", "acme.com"),
            ("eu.shop.acme.co.uk", "acme.co.uk"),
            ("acme.co.uk", "acme.co.uk"),
            ("sales.acme.com.au", "acme.com.au"),
            ("acme.de", "acme.de"),
            ("foo.bar.acme.co.jp", "acme.co.jp"),
            // Private suffixes are suffixes too: each app is its own customer.
            ("acme.github.io", "acme.github.io"),
            ("www.acme.github.io", "acme.github.io"),
            ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
        ];
        for (input, key) in cases {
            assert_eq!(domain_key(input).as_deref(), Ok(key), "{input}");
        }
    }

    #[test]
    fn what_is_no_company_domain_is_refused() {
        for bad in [
            "",
            "co.uk",
            "com",
            "github.io",
            "https://acme.com",
            "acme.com/x",
            "10.0.0.1",
            "acme..com",
            "-acme.com",
        ] {
            assert!(domain_key(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn company_names_fold_to_what_identifies_them() {
        let cases = [
            ("Acme", "acme"),
            ("ACME, Inc.", "acme"),
            ("Acme Inc", "acme"),
            ("Acme Incorporated", "acme"),
            ("Acme L.L.C.", "acme"),
            ("Acme LLC", "acme"),
            ("Acme GmbH", "acme"),
            ("Acme Ltd.", "acme"),
            ("Acme Limited", "acme"),
            ("Acme Corp.", "acme"),
            ("Acme Co., Ltd.", "acme"),
            ("Acme Pty Ltd", "acme"),
            ("The Acme Company", "acme"),
            ("  acme   systems  ", "acme systems"),
            ("Acme-Systems AG", "acme systems"),
            ("Smith & Sons Ltd", "smith and sons"),
            ("Smith and Sons", "smith and sons"),
            ("O'Reilly Media, Inc.", "oreilly media"),
            ("Müller GmbH", "müller"),
            // A legal word inside the name stays.
            ("Inc Magazine Ltd", "inc magazine"),
            // Only a legal form: kept, never empty.
            ("Inc.", "inc"),
            ("The", "the"),
        ];
        for (input, key) in cases {
            assert_eq!(company_key(input), key, "{input}");
        }
    }
}
