//! The funds ledger's arithmetic. Every movement is an entry with a
//! positive amount and a kind; a fund's balance is the per-kind sums of its
//! entries. The database keeps those sums beside the fund in the same
//! statement as each entry (migrations/0001) and refuses an entry that
//! would overdraw it; [`Balance::apply`] is the same rule, for the tests
//! and for explaining a refusal.

use prm_proto::mdf::AccrualTier as AccrualTierProto;
use serde::{Deserialize, Serialize};

pub use prm_runtime::vocabulary::EntryKind;

/// A fund's balance: the sums of its entries, per kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Balance {
    pub allocated: i64,
    pub accrued: i64,
    pub reserved: i64,
    pub released: i64,
    pub reimbursed: i64,
    pub expired: i64,
}

/// Why an entry cannot be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LedgerError {
    /// Entries are positive; the kind gives the direction.
    NotPositive,
    /// It would take the available balance below zero.
    InsufficientFunds { available: i64 },
    /// It would release or reimburse more than is reserved.
    NotReserved { reserved: i64 },
}

impl Balance {
    /// What requests can still be approved against.
    pub fn available(&self) -> i64 {
        self.allocated + self.accrued - self.reserved + self.released - self.expired
    }

    /// Reserved by approved requests and not yet reimbursed or released.
    pub fn reserved_outstanding(&self) -> i64 {
        self.reserved - self.released - self.reimbursed
    }

    /// The balance of `entries`, from nothing.
    pub fn of_entries(entries: impl IntoIterator<Item = (EntryKind, i64)>) -> Balance {
        let mut b = Balance::default();
        for (kind, amount) in entries {
            *b.sum_mut(kind) += amount;
        }
        b
    }

    fn sum_mut(&mut self, kind: EntryKind) -> &mut i64 {
        match kind {
            EntryKind::Allocated => &mut self.allocated,
            EntryKind::Accrued => &mut self.accrued,
            EntryKind::Reserved => &mut self.reserved,
            EntryKind::Released => &mut self.released,
            EntryKind::Reimbursed => &mut self.reimbursed,
            EntryKind::Expired => &mut self.expired,
        }
    }

    /// The balance after one more entry, or why the entry is refused.
    pub fn apply(&self, kind: EntryKind, amount: i64) -> Result<Balance, LedgerError> {
        if amount <= 0 {
            return Err(LedgerError::NotPositive);
        }
        let mut next = *self;
        *next.sum_mut(kind) += amount;
        if next.available() < 0 {
            return Err(LedgerError::InsufficientFunds {
                available: self.available(),
            });
        }
        if next.reserved_outstanding() < 0 {
            return Err(LedgerError::NotReserved {
                reserved: self.reserved_outstanding(),
            });
        }
        Ok(next)
    }
}

/// One accrual tier: won revenue from `from_revenue_minor` (up to the next
/// tier) accrues at `rate_bps`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccrualTier {
    pub from_revenue_minor: i64,
    pub rate_bps: i32,
}

/// Marginal accrual tiers, like tax brackets: each slice of a period's won
/// revenue accrues at its own tier's rate. So the accrual of a deal depends
/// only on the revenue before it, and the accruals of a period always add
/// up to the tiers applied to its total (rounded down once, in minor
/// units), whatever the order of the deals.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccrualTiers(Vec<AccrualTier>);

impl AccrualTiers {
    pub fn parse(tiers: &[AccrualTierProto]) -> Result<AccrualTiers, String> {
        if tiers.is_empty() {
            return Err("an accrual fund needs at least one tier".into());
        }
        if tiers.len() > 10 {
            return Err("at most 10 tiers".into());
        }
        let mut out = Vec::with_capacity(tiers.len());
        for (i, t) in tiers.iter().enumerate() {
            if !(0..=10_000).contains(&t.rate_bps) {
                return Err(format!("tier {i}: rate_bps must be 0..10000"));
            }
            if i == 0 && t.from_revenue_minor != 0 {
                return Err("the first tier must start at from_revenue_minor 0".into());
            }
            if i > 0 && t.from_revenue_minor <= tiers[i - 1].from_revenue_minor {
                return Err(format!(
                    "tier {i}: from_revenue_minor must be above the previous tier's"
                ));
            }
            if t.from_revenue_minor > super::MAX_AMOUNT_MINOR {
                return Err(format!("tier {i}: from_revenue_minor is absurdly large"));
            }
            out.push(AccrualTier {
                from_revenue_minor: t.from_revenue_minor,
                rate_bps: t.rate_bps,
            });
        }
        Ok(AccrualTiers(out))
    }

    pub fn tiers(&self) -> &[AccrualTier] {
        &self.0
    }

    pub fn to_proto(&self) -> Vec<AccrualTierProto> {
        self.0
            .iter()
            .map(|t| AccrualTierProto {
                from_revenue_minor: t.from_revenue_minor,
                rate_bps: t.rate_bps,
            })
            .collect()
    }

    /// What `revenue` accrues in all, rounded down.
    pub fn accrual_on(&self, revenue: i64) -> i64 {
        let mut sum: i128 = 0;
        for (i, t) in self.0.iter().enumerate() {
            let upper = self.0.get(i + 1).map_or(i64::MAX, |n| n.from_revenue_minor);
            let slice = revenue.min(upper) - t.from_revenue_minor;
            if slice > 0 {
                sum += i128::from(slice) * i128::from(t.rate_bps);
            }
        }
        i64::try_from(sum / 10_000).unwrap_or(i64::MAX)
    }

    /// What a deal of `amount` accrues when the period had already won
    /// `revenue_before`.
    pub fn accrual_for(&self, revenue_before: i64, amount: i64) -> i64 {
        self.accrual_on(revenue_before.saturating_add(amount)) - self.accrual_on(revenue_before)
    }
}

/// The share of a claim's proven cost the fund pays, rounded down.
pub fn reimbursable(proven_cost_minor: i64, rate_bps: i32) -> i64 {
    i64::try_from(i128::from(proven_cost_minor) * i128::from(rate_bps) / 10_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tiers(t: &[(i64, i32)]) -> AccrualTiers {
        let p: Vec<_> = t
            .iter()
            .map(|&(from_revenue_minor, rate_bps)| AccrualTierProto {
                from_revenue_minor,
                rate_bps,
            })
            .collect();
        AccrualTiers::parse(&p).expect("tiers")
    }

    #[test]
    fn entries_move_the_balance() {
        let b = Balance::default();
        let b = b.apply(EntryKind::Allocated, 10_000).expect("allocate");
        let b = b.apply(EntryKind::Reserved, 6_000).expect("reserve");
        assert_eq!((b.available(), b.reserved_outstanding()), (4_000, 6_000));
        assert_eq!(
            b.apply(EntryKind::Reserved, 4_001),
            Err(LedgerError::InsufficientFunds { available: 4_000 })
        );
        let b = b.apply(EntryKind::Reimbursed, 5_000).expect("reimburse");
        let b = b
            .apply(EntryKind::Released, 1_000)
            .expect("release the rest");
        assert_eq!((b.available(), b.reserved_outstanding()), (5_000, 0));
        assert_eq!(
            b.apply(EntryKind::Released, 1),
            Err(LedgerError::NotReserved { reserved: 0 })
        );
        assert_eq!(
            b.apply(EntryKind::Expired, 0),
            Err(LedgerError::NotPositive)
        );
        let b = b.apply(EntryKind::Expired, 5_000).expect("expire");
        assert_eq!(b.available(), 0);
    }

    #[test]
    fn tiers_are_marginal() {
        // 3% below 100,000.00, 4% up to 500,000.00, 5% above.
        let t = tiers(&[(0, 300), (10_000_000, 400), (50_000_000, 500)]);
        assert_eq!(t.accrual_on(10_000_000), 300_000);
        assert_eq!(t.accrual_on(20_000_000), 300_000 + 400_000);
        assert_eq!(t.accrual_on(60_000_000), 300_000 + 1_600_000 + 500_000);
        // A deal straddling a threshold accrues each slice at its rate.
        assert_eq!(t.accrual_for(9_000_000, 2_000_000), 30_000 + 40_000);
        // Rounded down once, so small deals add up to the whole.
        let one = tiers(&[(0, 333)]);
        let parts: i64 = (0..3).map(|i| one.accrual_for(i, 1)).sum();
        assert_eq!(parts, one.accrual_on(3));
    }

    #[test]
    fn bad_tiers_are_refused() {
        let p = |t: &[(i64, i32)]| {
            let v: Vec<_> = t
                .iter()
                .map(|&(f, r)| AccrualTierProto {
                    from_revenue_minor: f,
                    rate_bps: r,
                })
                .collect();
            AccrualTiers::parse(&v)
        };
        assert!(p(&[]).is_err());
        assert!(p(&[(100, 300)]).is_err(), "must start at 0");
        assert!(p(&[(0, 300), (0, 400)]).is_err(), "thresholds must rise");
        assert!(p(&[(0, 10_001)]).is_err());
        assert!(p(&[(0, -1)]).is_err());
        assert!(p(&[(0, 300), (1_000, 400)]).is_ok());
    }

    #[test]
    fn reimbursement_rate_rounds_down() {
        assert_eq!(reimbursable(20_001, 5_000), 10_000);
        assert_eq!(reimbursable(20_000, 10_000), 20_000);
        assert_eq!(reimbursable(1, 1), 0);
    }

    fn op() -> impl Strategy<Value = (EntryKind, i64)> {
        let kind = prop_oneof![
            Just(EntryKind::Allocated),
            Just(EntryKind::Accrued),
            Just(EntryKind::Reserved),
            Just(EntryKind::Released),
            Just(EntryKind::Reimbursed),
            Just(EntryKind::Expired),
        ];
        (kind, -10i64..50_000)
    }

    proptest! {
        /// Over any sequence of attempted entries, the balance kept entry
        /// by entry equals the sums of the entries accepted, and neither
        /// the available nor the reserved balance is ever negative.
        #[test]
        fn balance_is_the_sum_of_its_entries(ops in proptest::collection::vec(op(), 0..200)) {
            let mut balance = Balance::default();
            let mut accepted = Vec::new();
            for (kind, amount) in ops {
                match balance.apply(kind, amount) {
                    Ok(next) => {
                        balance = next;
                        accepted.push((kind, amount));
                    }
                    Err(LedgerError::NotPositive) => prop_assert!(amount <= 0),
                    Err(LedgerError::InsufficientFunds { available }) => {
                        prop_assert_eq!(available, balance.available());
                        prop_assert!(matches!(kind, EntryKind::Reserved | EntryKind::Expired));
                    }
                    Err(LedgerError::NotReserved { reserved }) => {
                        prop_assert_eq!(reserved, balance.reserved_outstanding());
                        prop_assert!(matches!(kind, EntryKind::Released | EntryKind::Reimbursed));
                    }
                }
                prop_assert!(balance.available() >= 0);
                prop_assert!(balance.reserved_outstanding() >= 0);
                prop_assert_eq!(balance, Balance::of_entries(accepted.iter().copied()));
            }
        }

        /// The accruals of a period's deals add up to the tiers applied to
        /// its total, whatever the order.
        #[test]
        fn accruals_add_up(deals in proptest::collection::vec(1i64..5_000_000, 1..40)) {
            let t = tiers(&[(0, 300), (10_000_000, 400), (50_000_000, 500)]);
            let mut before = 0;
            let mut sum = 0;
            for d in &deals {
                sum += t.accrual_for(before, *d);
                before += d;
            }
            prop_assert_eq!(sum, t.accrual_on(before));
        }
    }
}
