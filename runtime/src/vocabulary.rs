//! Domain vocabulary every service speaks: partner types and statuses,
//! conversion kinds, and money. (Rules about them belong to the owning
//! service; only the words are shared.)

use std::fmt;

use prm_proto::commissions::ConversionKind as ConversionKindProto;
use prm_proto::common::{Money as MoneyProto, PartnerType as PartnerTypeProto};
use prm_proto::onboarding::PartnerStatus as PartnerStatusProto;

use crate::validate;

crate::domain_enum! {
    /// The kind of partner.
    pub enum PartnerType: PartnerTypeProto as "partner type" {
        Reseller = "reseller" => Reseller,
        Si = "si" => Si,
        Technology = "technology" => Technology,
        Referral = "referral" => Referral,
        Affiliate = "affiliate" => Affiliate,
    }
}

crate::domain_enum! {
    /// A partner's status as onboarding announces it. Onboarding owns the
    /// transitions; services that keep a copy of partners use these words.
    pub enum PartnerStatus: PartnerStatusProto as "partner status" {
        Active = "active" => Active,
        Suspended = "suspended" => Suspended,
        Terminated = "terminated" => Terminated,
    }
}

crate::domain_enum! {
    /// What a tracked conversion is (commissions owns the rules; reporting
    /// reads its events).
    pub enum ConversionKind: ConversionKindProto as "conversion kind" {
        /// A sign-up: no amount needed.
        Lead = "lead" => Lead,
        /// A purchase: an amount in minor units and its currency.
        Sale = "sale" => Sale,
    }
}

impl PartnerType {
    /// The high-volume motion: these partners are paid on tracked
    /// conversions and must accept the endorsement disclosure terms.
    pub fn is_affiliate_motion(self) -> bool {
        matches!(self, PartnerType::Referral | PartnerType::Affiliate)
    }
}

/// Money: integer minor units of an ISO 4217 currency. Never floating point,
/// never converted silently.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Money {
    pub amount_minor: i64,
    pub currency: String,
}

impl Money {
    pub fn new(amount_minor: i64, currency: impl Into<String>) -> Self {
        Self {
            amount_minor,
            currency: currency.into(),
        }
    }

    /// Validates a wire amount: a known currency and, unless `allow_negative`,
    /// a non-negative amount.
    pub fn parse(value: Option<&MoneyProto>, allow_negative: bool) -> Result<Money, String> {
        let m = value.ok_or("is required")?;
        let currency = validate::currency(&m.currency).map_err(|e| format!("currency {e}"))?;
        if !allow_negative && m.amount_minor < 0 {
            return Err("amount_minor must not be negative".into());
        }
        Ok(Money::new(m.amount_minor, currency))
    }

    pub fn to_proto(&self) -> MoneyProto {
        MoneyProto {
            amount_minor: self.amount_minor,
            currency: self.currency.clone(),
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} (minor units)", self.amount_minor, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partner_types_round_trip() {
        for t in PartnerType::ALL.iter().copied() {
            assert_eq!(PartnerType::parse(t.as_str()), Some(t));
            assert_eq!(PartnerType::from_proto(t.to_proto()), Ok(t));
        }
        assert!(PartnerType::from_proto(0).is_err());
        assert!(PartnerType::from_proto(99).is_err());
        assert!(PartnerType::Affiliate.is_affiliate_motion());
        assert!(!PartnerType::Reseller.is_affiliate_motion());
    }

    #[test]
    fn money_validation() {
        let ok = MoneyProto {
            amount_minor: 125_000,
            currency: "EUR".into(),
        };
        assert_eq!(
            Money::parse(Some(&ok), false),
            Ok(Money::new(125_000, "EUR"))
        );
        let neg = MoneyProto {
            amount_minor: -1,
            currency: "EUR".into(),
        };
        assert!(Money::parse(Some(&neg), false).is_err());
        assert!(Money::parse(Some(&neg), true).is_ok());
        let bad = MoneyProto {
            amount_minor: 1,
            currency: "XYZ".into(),
        };
        assert!(Money::parse(Some(&bad), false).is_err());
        assert!(Money::parse(None, false).is_err());
    }
}
