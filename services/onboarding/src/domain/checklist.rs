//! The onboarding checklist: terms accepted, first user active (a partner
//! user authenticated for the first time), required courses passed, and
//! first deal registered (the first approved or won deal). Time-to-first-deal
//! runs from approval to that first deal.

use chrono::{DateTime, Utc};
use prm_proto::onboarding::ChecklistItemKind as ChecklistItemProto;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChecklistItem {
    TermsAccepted,
    FirstUserActive,
    RequiredCoursesPassed,
    FirstDealRegistered,
}

impl ChecklistItem {
    pub const ALL: [ChecklistItem; 4] = [
        ChecklistItem::TermsAccepted,
        ChecklistItem::FirstUserActive,
        ChecklistItem::RequiredCoursesPassed,
        ChecklistItem::FirstDealRegistered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TermsAccepted => "terms_accepted",
            Self::FirstUserActive => "first_user_active",
            Self::RequiredCoursesPassed => "required_courses_passed",
            Self::FirstDealRegistered => "first_deal_registered",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.as_str() == s)
    }

    pub fn to_proto(self) -> i32 {
        (match self {
            Self::TermsAccepted => ChecklistItemProto::TermsAccepted,
            Self::FirstUserActive => ChecklistItemProto::FirstUserActive,
            Self::RequiredCoursesPassed => ChecklistItemProto::RequiredCoursesPassed,
            Self::FirstDealRegistered => ChecklistItemProto::FirstDealRegistered,
        }) as i32
    }
}

/// The checklist is complete when every item is; returns when it completed.
pub fn completed_at(done: &[(ChecklistItem, DateTime<Utc>)]) -> Option<DateTime<Utc>> {
    let mut latest = None;
    for item in ChecklistItem::ALL {
        let at = done.iter().find(|(i, _)| *i == item).map(|(_, at)| *at)?;
        latest = Some(latest.map_or(at, |l: DateTime<Utc>| l.max(at)));
    }
    latest
}

/// Time from approval to the first approved or won deal.
pub fn time_to_first_deal(
    approved_at: DateTime<Utc>,
    first_deal_at: Option<DateTime<Utc>>,
) -> Option<chrono::Duration> {
    first_deal_at.map(|d| (d - approved_at).max(chrono::Duration::zero()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn complete_only_with_every_item() {
        let t0 = Utc::now();
        let mut done = vec![
            (ChecklistItem::TermsAccepted, t0),
            (ChecklistItem::FirstUserActive, t0 + Duration::hours(1)),
            (
                ChecklistItem::RequiredCoursesPassed,
                t0 + Duration::hours(5),
            ),
        ];
        assert_eq!(completed_at(&done), None);
        done.push((ChecklistItem::FirstDealRegistered, t0 + Duration::hours(3)));
        assert_eq!(completed_at(&done), Some(t0 + Duration::hours(5)));
    }

    #[test]
    fn time_to_first_deal_is_from_approval() {
        let approved = Utc::now();
        assert_eq!(time_to_first_deal(approved, None), None);
        assert_eq!(
            time_to_first_deal(approved, Some(approved + Duration::days(12))),
            Some(Duration::days(12))
        );
    }

    #[test]
    fn names_round_trip() {
        for i in ChecklistItem::ALL {
            assert_eq!(ChecklistItem::parse(i.as_str()), Some(i));
        }
    }
}
