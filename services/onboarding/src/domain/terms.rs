//! Versioned terms. Every partner accepts the latest partner agreement;
//! affiliate and referral partners also accept the latest endorsement
//! disclosure terms (FTC rules). Accepting a superseded version is refused.

use prm_runtime::PartnerType;

pub use prm_runtime::vocabulary::TermsKind;

/// The kinds of terms a partner of this type must accept.
pub fn required_kinds(partner_type: PartnerType) -> Vec<TermsKind> {
    if partner_type.is_affiliate_motion() {
        vec![TermsKind::PartnerAgreement, TermsKind::Disclosure]
    } else {
        vec![TermsKind::PartnerAgreement]
    }
}

/// A version label: 1 to 32 of letters, digits, '.', '-' and '_'.
pub fn version(value: &str) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("is required".into());
    }
    if v.len() > 32
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        return Err("must be 1 to 32 letters, digits, '.', '-' or '_', like 2026-11".into());
    }
    Ok(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affiliates_and_referrals_also_accept_disclosures() {
        assert_eq!(
            required_kinds(PartnerType::Reseller),
            [TermsKind::PartnerAgreement]
        );
        assert_eq!(
            required_kinds(PartnerType::Technology),
            [TermsKind::PartnerAgreement]
        );
        assert_eq!(
            required_kinds(PartnerType::Affiliate),
            [TermsKind::PartnerAgreement, TermsKind::Disclosure]
        );
        assert_eq!(
            required_kinds(PartnerType::Referral),
            [TermsKind::PartnerAgreement, TermsKind::Disclosure]
        );
    }

    #[test]
    fn versions() {
        assert_eq!(version(" 2026-11 ").as_deref(), Ok("2026-11"));
        assert!(version("").is_err());
        assert!(version("v 1").is_err());
        assert!(TermsKind::from_proto(0).is_err());
        assert!(TermsKind::from_proto(7).is_err());
    }
}
