//! Tier rules over a rolling window.
//!
//! Each tier of a program requires revenue won (in the program currency),
//! certified people and deals won over the program's window. A partner
//! qualifies for the highest tier whose requirements it meets; the entry
//! tier (lowest rank) is the floor. Reviews promote at once. A partner below
//! its tier is demoted only after the program's grace period, and the
//! demotion is cancelled if it qualifies again in time.

use chrono::{DateTime, Duration, Utc};

/// A tier and its requirements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TierRule {
    pub id: uuid::Uuid,
    pub name: String,
    pub rank: i32,
    pub min_revenue_minor: i64,
    pub min_certified_people: i32,
    pub min_deals_won: i32,
}

/// What a partner achieved over the window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TierMetrics {
    pub revenue_minor: i64,
    pub certified_people: i32,
    pub deals_won: i32,
}

impl TierMetrics {
    /// Adds what-if figures (saturating, never below zero).
    pub fn plus(self, other: TierMetrics) -> TierMetrics {
        TierMetrics {
            revenue_minor: self
                .revenue_minor
                .saturating_add(other.revenue_minor)
                .max(0),
            certified_people: self
                .certified_people
                .saturating_add(other.certified_people)
                .max(0),
            deals_won: self.deals_won.saturating_add(other.deals_won).max(0),
        }
    }
}

impl TierRule {
    pub fn is_met_by(&self, m: &TierMetrics) -> bool {
        m.revenue_minor >= self.min_revenue_minor
            && m.certified_people >= self.min_certified_people
            && m.deals_won >= self.min_deals_won
    }

    /// What is still missing to meet this tier (zero where met).
    pub fn missing(&self, m: &TierMetrics) -> TierMetrics {
        TierMetrics {
            revenue_minor: (self.min_revenue_minor - m.revenue_minor).max(0),
            certified_people: (self.min_certified_people - m.certified_people).max(0),
            deals_won: (self.min_deals_won - m.deals_won).max(0),
        }
    }
}

/// The highest tier `m` qualifies for. `tiers` must be non-empty; the
/// lowest rank always qualifies.
pub fn qualified_tier<'a>(tiers: &'a [TierRule], m: &TierMetrics) -> Option<&'a TierRule> {
    let floor = tiers.iter().min_by_key(|t| t.rank)?;
    Some(
        tiers
            .iter()
            .filter(|t| t.rank > floor.rank && t.is_met_by(m))
            .max_by_key(|t| t.rank)
            .unwrap_or(floor),
    )
}

/// The next tier above `rank`, if any.
pub fn next_tier(tiers: &[TierRule], rank: i32) -> Option<&TierRule> {
    tiers
        .iter()
        .filter(|t| t.rank > rank)
        .min_by_key(|t| t.rank)
}

/// What a review does to a partner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReviewDecision {
    Promote {
        to: uuid::Uuid,
    },
    Demote {
        to: uuid::Uuid,
    },
    /// Below its tier: demoted at `due_at` unless it qualifies again.
    ScheduleDemotion {
        due_at: DateTime<Utc>,
    },
    /// Qualifies again before a scheduled demotion.
    CancelDemotion,
    Unchanged,
}

impl ReviewDecision {
    pub fn action(&self) -> &'static str {
        match self {
            Self::Promote { .. } => "promoted",
            Self::Demote { .. } => "demoted",
            Self::ScheduleDemotion { .. } => "demotion_scheduled",
            Self::CancelDemotion => "demotion_cancelled",
            Self::Unchanged => "unchanged",
        }
    }
}

/// Decides a review. `grace` of zero demotes at once.
pub fn review(
    current_rank: i32,
    qualified: &TierRule,
    demotion_due_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    grace: Duration,
) -> ReviewDecision {
    use std::cmp::Ordering::*;
    match qualified.rank.cmp(&current_rank) {
        Greater => ReviewDecision::Promote { to: qualified.id },
        Equal => match demotion_due_at {
            Some(_) => ReviewDecision::CancelDemotion,
            None => ReviewDecision::Unchanged,
        },
        Less => match demotion_due_at {
            None if grace <= Duration::zero() => ReviewDecision::Demote { to: qualified.id },
            None => ReviewDecision::ScheduleDemotion {
                due_at: now + grace,
            },
            Some(due) if now >= due => ReviewDecision::Demote { to: qualified.id },
            Some(_) => ReviewDecision::Unchanged,
        },
    }
}

#[cfg(test)]
// Amounts are written as units_cents, e.g. 50_000_00 is 50,000.00.
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn tiers() -> Vec<TierRule> {
        let t = |name: &str, rank, rev, cert, deals| TierRule {
            id: Uuid::now_v7(),
            name: name.into(),
            rank,
            min_revenue_minor: rev,
            min_certified_people: cert,
            min_deals_won: deals,
        };
        vec![
            t("registered", 0, 0, 0, 0),
            t("silver", 1, 50_000_00, 1, 2),
            t("gold", 2, 250_000_00, 3, 5),
            t("platinum", 3, 1_000_000_00, 5, 10),
        ]
    }

    fn m(rev: i64, cert: i32, deals: i32) -> TierMetrics {
        TierMetrics {
            revenue_minor: rev,
            certified_people: cert,
            deals_won: deals,
        }
    }

    #[test]
    fn qualifies_for_the_highest_tier_fully_met() {
        let t = tiers();
        assert_eq!(qualified_tier(&t, &m(0, 0, 0)).map(|t| t.rank), Some(0));
        assert_eq!(
            qualified_tier(&t, &m(60_000_00, 1, 2)).map(|t| t.rank),
            Some(1)
        );
        // Gold revenue but only one certified person: still silver.
        assert_eq!(
            qualified_tier(&t, &m(300_000_00, 1, 9)).map(|t| t.rank),
            Some(1)
        );
        assert_eq!(
            qualified_tier(&t, &m(2_000_000_00, 9, 20)).map(|t| t.rank),
            Some(3)
        );
        assert!(qualified_tier(&[], &m(0, 0, 0)).is_none());
    }

    #[test]
    fn the_entry_tier_is_a_floor_even_with_requirements() {
        let mut t = tiers();
        t[0].min_deals_won = 1;
        assert_eq!(qualified_tier(&t, &m(0, 0, 0)).map(|t| t.rank), Some(0));
    }

    #[test]
    fn gaps_show_what_the_next_tier_needs() {
        let t = tiers();
        let next = next_tier(&t, 1).expect("gold");
        assert_eq!(next.name, "gold");
        assert_eq!(next.missing(&m(100_000_00, 4, 2)), m(150_000_00, 0, 3));
        assert!(next_tier(&t, 3).is_none());
    }

    #[test]
    fn promotion_is_immediate() {
        let t = tiers();
        let now = Utc::now();
        let d = review(0, &t[2], None, now, Duration::days(90));
        assert_eq!(d, ReviewDecision::Promote { to: t[2].id });
    }

    #[test]
    fn demotion_waits_for_the_grace_period() {
        let t = tiers();
        let now = Utc::now();
        let grace = Duration::days(90);
        // Falls below gold: scheduled, not demoted.
        let d = review(2, &t[1], None, now, grace);
        assert_eq!(
            d,
            ReviewDecision::ScheduleDemotion {
                due_at: now + grace
            }
        );
        // Still below, grace not over: nothing changes.
        assert_eq!(
            review(2, &t[1], Some(now + grace), now + Duration::days(30), grace),
            ReviewDecision::Unchanged
        );
        // Grace over: demoted to the tier it qualifies for.
        assert_eq!(
            review(2, &t[0], Some(now + grace), now + grace, grace),
            ReviewDecision::Demote { to: t[0].id }
        );
        // Qualifies again in time: demotion cancelled.
        assert_eq!(
            review(2, &t[2], Some(now + grace), now + Duration::days(10), grace),
            ReviewDecision::CancelDemotion
        );
        // Without a grace period, demotion is immediate.
        assert_eq!(
            review(2, &t[1], None, now, Duration::zero()),
            ReviewDecision::Demote { to: t[1].id }
        );
    }

    #[test]
    fn what_if_figures_add_up() {
        assert_eq!(m(10, 1, 1).plus(m(5, 2, -5)), m(15, 3, 0));
    }
}
