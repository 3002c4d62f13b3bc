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
        use prm_runtime::fields::TermsVersion;
        assert_eq!(TermsVersion::check(" 2026-11 ").as_deref(), Ok("2026-11"));
        assert!(TermsVersion::check("").is_err());
        assert!(TermsVersion::check("v 1").is_err());
        assert!(TermsKind::from_proto(0).is_err());
        assert!(TermsKind::from_proto(7).is_err());
    }
}
