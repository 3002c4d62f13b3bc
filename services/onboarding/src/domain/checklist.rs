//! The onboarding checklist: terms accepted, first user active (a partner
//! user authenticated for the first time), required courses passed, and
//! first deal registered (the first approved or won deal). Time-to-first-deal
//! runs from approval to that first deal.

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use prm_runtime::vocabulary::ChecklistItemKind as ChecklistItem;

/// A partner's checklist: the items done so far and when, and when the
/// checklist was recorded complete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checklist {
    pub partner_id: Uuid,
    pub done: Vec<(ChecklistItem, DateTime<Utc>)>,
    pub completed_at: Option<DateTime<Utc>>,
}

impl Checklist {
    /// When the last item was done, once every item is: the moment to
    /// record the checklist complete.
    pub fn all_done_at(&self) -> Option<DateTime<Utc>> {
        completed_at(&self.done)
    }

    /// When `item` was done, if it was.
    pub fn done_at(&self, item: ChecklistItem) -> Option<DateTime<Utc>> {
        self.done
            .iter()
            .find(|(i, _)| *i == item)
            .map(|(_, at)| *at)
    }
}

/// The checklist's events announce its version: one per item done, and
/// one more once it is recorded complete.
impl prm_runtime::Aggregate for Checklist {
    const TYPE: &'static str = "checklist";
    fn aggregate_id(&self) -> Uuid {
        self.partner_id
    }
    fn aggregate_version(&self) -> i64 {
        self.done.len() as i64 + i64::from(self.completed_at.is_some())
    }
    fn partner_id(&self) -> Option<Uuid> {
        Some(self.partner_id)
    }
}

/// The checklist is complete when every item is; returns when it completed.
pub fn completed_at(done: &[(ChecklistItem, DateTime<Utc>)]) -> Option<DateTime<Utc>> {
    let mut latest = None;
    for item in ChecklistItem::ALL {
        let at = done.iter().find(|(i, _)| i == item).map(|(_, at)| *at)?;
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
    fn the_version_counts_items_and_completion() {
        use prm_runtime::Aggregate;
        let t0 = Utc::now();
        let mut c = Checklist {
            partner_id: Uuid::now_v7(),
            done: vec![],
            completed_at: None,
        };
        assert_eq!(c.aggregate_version(), 0);
        for (n, item) in ChecklistItem::ALL.iter().enumerate() {
            c.done.push((*item, t0));
            assert_eq!(c.aggregate_version(), n as i64 + 1);
        }
        assert_eq!(c.all_done_at(), Some(t0));
        c.completed_at = c.all_done_at();
        assert_eq!(c.aggregate_version(), ChecklistItem::ALL.len() as i64 + 1);
        assert_eq!(c.done_at(ChecklistItem::TermsAccepted), Some(t0));
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
            assert_eq!(ChecklistItem::parse(i.as_str()), Some(*i));
        }
    }
}
