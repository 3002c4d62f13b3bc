//! The commissions ledger. Every movement of a partner's money is an
//! append-only entry with signed changes to two balances, per currency:
//! **pending** (earned, in its hold period) and **available** (approved,
//! payable). A partner's balances are the sums of its entries, never a
//! stored figure; a reversal after payout takes `available` below zero,
//! and the next payout nets it.

pub use prm_runtime::vocabulary::LedgerEntryKind as EntryKind;

pub use prm_runtime::vocabulary::CommissionStatus;

/// An entry's changes to the pending and the available balance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deltas {
    pub pending: i64,
    pub available: i64,
}

/// The rules of a [`EntryKind`]: the word is the runtime's vocabulary,
/// the rules are this service's.
pub trait EntryDeltas: Copy {
    /// The changes an entry of this kind for `amount` (positive) makes.
    /// `after_approval` matters only for reversals: which balance they
    /// take back from.
    fn deltas(self, amount: i64, after_approval: bool) -> Deltas;
}

impl EntryDeltas for EntryKind {
    fn deltas(self, amount: i64, after_approval: bool) -> Deltas {
        let (pending, available) = match self {
            EntryKind::Earned => (amount, 0),
            EntryKind::Approved => (-amount, amount),
            EntryKind::Reversed if after_approval => (0, -amount),
            EntryKind::Reversed => (-amount, 0),
            EntryKind::PaidOut => (0, -amount),
            EntryKind::PayoutReturned => (0, amount),
        };
        Deltas { pending, available }
    }
}

/// A partner's balances in one currency: sums of its entries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Balance {
    pub pending: i64,
    pub available: i64,
    /// Paid out, net of returned payouts.
    pub paid: i64,
}

impl Balance {
    pub fn apply(&mut self, kind: EntryKind, d: Deltas) {
        self.pending += d.pending;
        self.available += d.available;
        if matches!(kind, EntryKind::PaidOut | EntryKind::PayoutReturned) {
            self.paid -= d.available;
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::plan::reversal_due;

    /// A commission in the model: what it earned, what was reversed, and
    /// whether it is approved.
    #[derive(Clone, Debug)]
    struct Commission {
        amount: i64,
        sale: i64,
        refunded: i64,
        reversed: i64,
        approved: bool,
    }

    #[derive(Clone, Debug)]
    enum Op {
        Earn { amount: i64, sale: i64 },
        Approve(usize),
        Refund { which: usize, more: i64 },
        Payout,
        ReturnPayout,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (1i64..100_000, 1i64..1_000_000).prop_map(|(amount, sale)| Op::Earn { amount, sale }),
            any::<usize>().prop_map(Op::Approve),
            (any::<usize>(), 0i64..500_000).prop_map(|(which, more)| Op::Refund { which, more }),
            Just(Op::Payout),
            Just(Op::ReturnPayout),
        ]
    }

    proptest! {
        /// Whatever happens, in any order: the balances summed from the
        /// entries equal what the commissions' states say they should be,
        /// pending never goes below zero, and no commission is reversed by
        /// more than it earned.
        #[test]
        fn entries_reconcile_with_commissions(ops in proptest::collection::vec(op(), 1..200)) {
            let mut commissions: Vec<Commission> = Vec::new();
            let mut entries: Vec<(EntryKind, Deltas)> = Vec::new();
            let mut paid: i64 = 0;
            let mut payouts: Vec<i64> = Vec::new();
            let sum = |entries: &[(EntryKind, Deltas)]| {
                let mut b = Balance::default();
                for (k, d) in entries {
                    b.apply(*k, *d);
                }
                b
            };
            for op in ops {
                match op {
                    Op::Earn { amount, sale } => {
                        commissions.push(Commission { amount, sale, refunded: 0, reversed: 0, approved: false });
                        entries.push((EntryKind::Earned, EntryKind::Earned.deltas(amount, false)));
                    }
                    Op::Approve(i) if !commissions.is_empty() => {
                        let n = commissions.len();
                        let c = &mut commissions[i % n];
                        if !c.approved && c.reversed < c.amount {
                            c.approved = true;
                            let x = c.amount - c.reversed;
                            entries.push((EntryKind::Approved, EntryKind::Approved.deltas(x, false)));
                        }
                    }
                    Op::Refund { which, more } if !commissions.is_empty() => {
                        let n = commissions.len();
                        let c = &mut commissions[which % n];
                        c.refunded = (c.refunded + more).min(c.sale);
                        let due = reversal_due(c.amount, c.sale, c.refunded);
                        let x = due - c.reversed;
                        if x > 0 {
                            c.reversed = due;
                            entries.push((EntryKind::Reversed, EntryKind::Reversed.deltas(x, c.approved)));
                        }
                    }
                    Op::Payout => {
                        let available = sum(&entries).available;
                        if available > 0 {
                            paid += available;
                            payouts.push(available);
                            entries.push((EntryKind::PaidOut, EntryKind::PaidOut.deltas(available, false)));
                        }
                    }
                    Op::ReturnPayout => {
                        if let Some(x) = payouts.pop() {
                            paid -= x;
                            entries.push((EntryKind::PayoutReturned, EntryKind::PayoutReturned.deltas(x, false)));
                        }
                    }
                    _ => {}
                }
                let b = sum(&entries);
                let pending: i64 = commissions.iter().filter(|c| !c.approved).map(|c| c.amount - c.reversed).sum();
                let approved: i64 = commissions.iter().filter(|c| c.approved).map(|c| c.amount - c.reversed).sum();
                prop_assert_eq!(b.pending, pending);
                prop_assert_eq!(b.available, approved - paid);
                prop_assert_eq!(b.paid, paid);
                prop_assert!(b.pending >= 0);
                prop_assert!(commissions.iter().all(|c| (0..=c.amount).contains(&c.reversed)));
            }
        }
    }
}
