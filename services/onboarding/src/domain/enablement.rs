//! The enablement library and courses: who sees what, what passes, and
//! how certifications expire and renew.
//!
//! Content and courses are visible to partners at or above a tier rank and,
//! optionally, only to some partner types. A course attempt passes at or
//! above the course's pass mark. A pass certifies the person for the
//! course's validity period; passing again renews it from the day of the
//! new pass (renewals do not stack).

use chrono::{DateTime, Duration, Utc};
use prm_runtime::PartnerType;

/// Who looks at the library: a partner, by its tier rank and type. Staff
/// look as no viewer at all, and see everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Viewer {
    pub tier_rank: i32,
    pub partner_type: PartnerType,
}

impl Viewer {
    /// The one visibility rule of the library: content and courses are
    /// listed, taken and required only where the viewer sees them.
    pub fn sees(self, visibility: &Visibility) -> bool {
        visibility.admits(self.tier_rank, self.partner_type)
    }
}

/// Whether a viewer (`None`: staff) sees an item.
pub fn visible_to(viewer: Option<Viewer>, visibility: &Visibility) -> bool {
    viewer.is_none_or(|v| v.sees(visibility))
}

/// How many required courses a partner still has to pass: those it sees
/// (`visibility`) and nobody of it has passed (`passed`).
pub fn required_outstanding(
    viewer: Viewer,
    required: impl IntoIterator<Item = (Visibility, bool)>,
) -> usize {
    required
        .into_iter()
        .filter(|(visibility, passed)| !passed && viewer.sees(visibility))
        .count()
}

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

pub use prm_runtime::vocabulary::ContentKind;

pub fn passes(score_percent: i32, pass_mark_percent: i32) -> bool {
    score_percent >= pass_mark_percent
}

pub use prm_runtime::vocabulary::CertificationStatus;

/// The rules of a [`CertificationStatus`]: the word is the runtime's vocabulary,
/// the rules are this service's.
pub trait CertificationStatusRules: Copy {
    /// A certification holds until its expiry, exclusive.
    fn at(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> Self;
}

impl CertificationStatusRules for CertificationStatus {
    fn at(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        if expires_at > now {
            Self::Active
        } else {
            Self::Expired
        }
    }
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
    fn required_courses_count_where_the_partner_sees_them() {
        let viewer = Viewer {
            tier_rank: 1,
            partner_type: PartnerType::Reseller,
        };
        let everyone = Visibility::default();
        let gold = Visibility {
            min_tier_rank: 2,
            partner_types: vec![],
        };
        let affiliates = Visibility {
            min_tier_rank: 0,
            partner_types: vec![PartnerType::Affiliate],
        };
        assert_eq!(
            required_outstanding(
                viewer,
                [
                    (everyone.clone(), false),
                    (everyone.clone(), true),
                    (gold.clone(), false),
                    (affiliates.clone(), false),
                ]
            ),
            1
        );
        assert!(visible_to(None, &gold));
        assert!(!visible_to(Some(viewer), &gold));
        assert!(visible_to(Some(viewer), &everyone));
    }

    #[test]
    fn passing_and_expiry() {
        assert!(passes(80, 80));
        assert!(!passes(79, 80));
        assert!(prm_runtime::fields::ScorePercent::check(-1).is_err());
        let now = Utc::now();
        assert_eq!(certification_expiry(now, 365), now + Duration::days(365));
        assert_eq!(
            CertificationStatus::at(now + Duration::seconds(1), now),
            CertificationStatus::Active
        );
        assert_eq!(
            CertificationStatus::at(now, now),
            CertificationStatus::Expired
        );
    }
}
