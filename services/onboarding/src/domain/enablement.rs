//! The enablement library and courses: who sees what, what passes, and
//! how certifications expire and renew.
//!
//! Content and courses are visible to partners at or above a tier rank and,
//! optionally, only to some partner types. A course attempt passes at or
//! above the course's pass mark. A pass certifies the person for the
//! course's validity period; passing again renews it from the day of the
//! new pass (renewals do not stack).

use chrono::{DateTime, Duration, Utc};
use prm_proto::onboarding::ContentKind as ContentKindProto;
use prm_runtime::PartnerType;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Visibility {
    pub min_tier_rank: i32,
    /// Empty: every partner type.
    pub partner_types: Vec<PartnerType>,
}

impl Visibility {
    pub fn admits(&self, tier_rank: i32, partner_type: PartnerType) -> bool {
        tier_rank >= self.min_tier_rank
            && (self.partner_types.is_empty() || self.partner_types.contains(&partner_type))
    }

    pub fn parse(
        min_tier_rank: i32,
        partner_types: &[i32],
    ) -> Result<Self, (&'static str, String)> {
        if min_tier_rank < 0 {
            return Err(("visibility.min_tier_rank", "must not be negative".into()));
        }
        let mut types = Vec::new();
        for t in partner_types {
            let t = PartnerType::from_proto(*t).map_err(|e| ("visibility.partner_types", e))?;
            if !types.contains(&t) {
                types.push(t);
            }
        }
        types.sort();
        Ok(Self {
            min_tier_rank,
            partner_types: types,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentKind {
    Deck,
    Battlecard,
    DemoScript,
    Document,
    Video,
}

impl ContentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deck => "deck",
            Self::Battlecard => "battlecard",
            Self::DemoScript => "demo_script",
            Self::Document => "document",
            Self::Video => "video",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Deck,
            Self::Battlecard,
            Self::DemoScript,
            Self::Document,
            Self::Video,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    pub fn to_proto(self) -> i32 {
        (match self {
            Self::Deck => ContentKindProto::Deck,
            Self::Battlecard => ContentKindProto::Battlecard,
            Self::DemoScript => ContentKindProto::DemoScript,
            Self::Document => ContentKindProto::Document,
            Self::Video => ContentKindProto::Video,
        }) as i32
    }

    pub fn from_proto(value: i32) -> Result<Self, String> {
        match ContentKindProto::try_from(value) {
            Ok(ContentKindProto::Deck) => Ok(Self::Deck),
            Ok(ContentKindProto::Battlecard) => Ok(Self::Battlecard),
            Ok(ContentKindProto::DemoScript) => Ok(Self::DemoScript),
            Ok(ContentKindProto::Document) => Ok(Self::Document),
            Ok(ContentKindProto::Video) => Ok(Self::Video),
            Ok(ContentKindProto::Unspecified) => Err("is required".into()),
            Err(_) => Err(format!("unknown content kind {value}")),
        }
    }
}

pub fn pass_mark(value: i32) -> Result<i32, String> {
    if (1..=100).contains(&value) {
        Ok(value)
    } else {
        Err("must be a percentage from 1 to 100".into())
    }
}

pub fn validity_days(value: i32) -> Result<i32, String> {
    if (1..=3_650).contains(&value) {
        Ok(value)
    } else {
        Err("must be from 1 to 3650 days".into())
    }
}

pub fn score(value: i32) -> Result<i32, String> {
    if (0..=100).contains(&value) {
        Ok(value)
    } else {
        Err("must be a percentage from 0 to 100".into())
    }
}

pub fn passes(score_percent: i32, pass_mark_percent: i32) -> bool {
    score_percent >= pass_mark_percent
}

/// The expiry of a certification earned or renewed at `now`.
pub fn certification_expiry(now: DateTime<Utc>, valid_days: i32) -> DateTime<Utc> {
    now + Duration::days(i64::from(valid_days))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_by_tier_and_type() {
        let everyone = Visibility::default();
        assert!(everyone.admits(0, PartnerType::Affiliate));
        let gold_resellers = Visibility {
            min_tier_rank: 2,
            partner_types: vec![PartnerType::Reseller],
        };
        assert!(gold_resellers.admits(2, PartnerType::Reseller));
        assert!(gold_resellers.admits(3, PartnerType::Reseller));
        assert!(!gold_resellers.admits(1, PartnerType::Reseller));
        assert!(!gold_resellers.admits(3, PartnerType::Si));
        assert!(Visibility::parse(-1, &[]).is_err());
        assert!(Visibility::parse(0, &[0]).is_err());
        assert_eq!(
            Visibility::parse(1, &[1, 1]).map(|v| v.partner_types.len()),
            Ok(1)
        );
    }

    #[test]
    fn passing_and_expiry() {
        assert!(passes(80, 80));
        assert!(!passes(79, 80));
        assert!(pass_mark(0).is_err());
        assert!(pass_mark(101).is_err());
        assert!(score(-1).is_err());
        let now = Utc::now();
        assert_eq!(certification_expiry(now, 365), now + Duration::days(365));
    }
}
