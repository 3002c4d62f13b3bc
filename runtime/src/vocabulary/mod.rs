//! The words of the partner domain that cross a service's boundary: every
//! state and kind the REST API shows, declared once with
//! [`domain_enum!`](crate::domain_enum) (its stored name, its proto value,
//! its column type, serde, and with the `openapi` feature its OpenAPI
//! schema), so the owning service and the gateway use the same type and
//! cannot disagree on a name. Money is here too.
//!
//! Only the words are shared. The rules about them (which transitions a
//! status allows, what an entry does to a balance) belong to the owning
//! service's `domain` module, as traits it implements for these types.
//! Each owner's words are in a module of its own, all re-exported here.

use std::fmt;

use prm_proto::commissions::ConversionKind as ConversionKindProto;
use prm_proto::common::{Money as MoneyProto, PartnerType as PartnerTypeProto};
use prm_proto::onboarding::PartnerStatus as PartnerStatusProto;

use crate::validate;

mod commissions;
mod dealreg;
mod mdf;
mod onboarding;
mod reporting;

pub use commissions::*;
pub use dealreg::*;
pub use mdf::*;
pub use onboarding::*;
pub use reporting::*;

/// Declares a word of the vocabulary: a [`domain_enum!`](crate::domain_enum)
/// whose OpenAPI schema (feature `openapi`) is named after it, lists its
/// stored names and takes its description from its doc comment.
macro_rules! vocabulary {
    (
        $(#[doc = $doc:literal])*
        pub enum $name:ident : $proto:ty as $what:literal { $($variants:tt)* }
    ) => {
        crate::domain_enum! {
            $(#[doc = $doc])*
            pub enum $name: $proto as $what { $($variants)* }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                crate::wire::enum_schema(&[$($doc),*], Self::ALL.iter().map(|v| v.as_str()))
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }
    };
}
use vocabulary;

vocabulary! {
    /// The kind of partner.
    pub enum PartnerType: PartnerTypeProto as "partner type" {
        Reseller = "reseller" => Reseller,
        Si = "si" => Si,
        Technology = "technology" => Technology,
        Referral = "referral" => Referral,
        Affiliate = "affiliate" => Affiliate,
    }
}

// A partner's status as onboarding announces it. Onboarding owns the
// transitions; services that keep a copy of partners use these words.
vocabulary! {
    pub enum PartnerStatus: PartnerStatusProto as "partner status" {
        Active = "active" => Active,
        Suspended = "suspended" => Suspended,
        Terminated = "terminated" => Terminated,
    }
}

// What a tracked conversion is (commissions owns the rules; reporting
// reads its events).
vocabulary! {
    pub enum ConversionKind: ConversionKindProto as "conversion kind" {
        /// A sign-up: no amount needed.
        Lead = "lead" => Lead,
        /// A purchase: an amount in minor units and its currency.
        Sale = "sale" => Sale,
    }
}

impl PartnerStatus {
    /// A partner may start something new (a deal registration, an MDF
    /// request or claim, a tracking link) only while active; otherwise a
    /// `PARTNER_NOT_ACTIVE` precondition failure about `partner/<id>`.
    pub fn ensure_active(self, partner: uuid::Uuid) -> Result<(), crate::ApiError> {
        match self {
            PartnerStatus::Active => Ok(()),
            other => Err(crate::ApiError::precondition(
                "PARTNER_NOT_ACTIVE",
                format!("partner/{partner}"),
                format!("the partner is {other}"),
            )),
        }
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
