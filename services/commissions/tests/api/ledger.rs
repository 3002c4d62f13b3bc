//! The ledger: partial refunds reverse in proportion, approval after the
//! hold, and the balances always reconcile with the commissions, over a
//! random sequence of postbacks.

use chrono::{Duration, Utc};
use prm_proto::commissions::*;
use rand::{Rng, SeedableRng};

use crate::helpers::*;

#[tokio::test]
async fn partial_refunds_reverse_in_proportion() {
    let t = commissions().await;
    let (program, p, link) = t.affiliate().await;
    let click = t.click_at(&link, ago(600), "10.0.0.1").await;
    t.postback(sale(program, &click, "T-1", 10_000)).await;
    // 2,000 earned (20%). A quarter refunded: 500 reversed.
    let r = t
        .postback(status(program, "T-1", "refunded", Some(2_500)))
        .await;
    assert_eq!(r.answer, "STATUS_UPDATED", "{r:?}");
    let c = &t.commissions_of(&p).await[0];
    assert_eq!(
        (c.reversed_minor, c.status),
        (500, CommissionStatus::Pending as i32)
    );
    // The same refund again: nothing more.
    assert_eq!(
        t.postback(status(program, "T-1", "refunded", Some(2_500)))
            .await
            .answer,
        "DUPLICATE"
    );
    // A smaller total is refused and names the amount.
    let r = t
        .postback(status(program, "T-1", "refunded", Some(1_000)))
        .await;
    assert_eq!(
        (r.answer.as_str(), r.field.as_str()),
        ("INVALID_FIELD", "amount")
    );
    // The hold ends: the rest (1,500) becomes payable.
    assert_eq!(t.approve_due(Utc::now() + Duration::days(31)).await, 1);
    let c = &t.commissions_of(&p).await[0];
    assert_eq!(c.status, CommissionStatus::Approved as i32);
    let l = t.ledger(&p).await;
    assert_eq!(l.balances.len(), 1);
    assert_eq!(
        (l.balances[0].pending_minor, l.balances[0].available_minor),
        (0, 1_500)
    );
    // Refunded in full after approval: the payable balance gives it back.
    t.postback(status(program, "T-1", "refunded", Some(10_000)))
        .await;
    let c = &t.commissions_of(&p).await[0];
    assert_eq!(
        (c.reversed_minor, c.status),
        (2_000, CommissionStatus::Reversed as i32)
    );
    let l = t.ledger(&p).await;
    assert_eq!(
        (l.balances[0].pending_minor, l.balances[0].available_minor),
        (0, 0)
    );
    let kinds: Vec<i32> = l.entries.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            LedgerEntryKind::Earned as i32,
            LedgerEntryKind::Reversed as i32,
            LedgerEntryKind::Approved as i32,
            LedgerEntryKind::Reversed as i32,
        ]
    );
    // Entries are append-only.
    let err = sqlx::query("UPDATE ledger_entries SET note = 'x'")
        .execute(&t.pool)
        .await;
    assert!(err.is_err(), "the ledger refuses updates");
}

/// Random sales, refunds, chargebacks, rejections and approvals through
/// the service; after each, the balances (sums of entries) equal what the
/// commissions say. The seed is printed; `PRM_TEST_SEED` replays it.
#[tokio::test]
async fn balances_reconcile_with_commissions_under_random_postbacks() {
    let t = commissions().await;
    let (program, p, link) = t.affiliate().await;
    let seed: u64 = std::env::var("PRM_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    println!("PRM_TEST_SEED={seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut sales: Vec<(String, i64, i64)> = Vec::new(); // txn, amount, refunded
    let mut now = Utc::now();
    for step in 0..120 {
        match rng.random_range(0..10) {
            0..=3 => {
                let amount = rng.random_range(1..200_000);
                let click = t
                    .click_at(
                        &link,
                        ago(600),
                        &format!("10.9.{}.{}", step / 250, step % 250),
                    )
                    .await;
                let txn = format!("R-{step}");
                let r = t.postback(sale(program, &click, &txn, amount)).await;
                assert_eq!(r.answer, "ACCEPTED", "step {step}: {r:?}");
                sales.push((txn, amount, 0));
            }
            4..=5 if !sales.is_empty() => {
                let i = rng.random_range(0..sales.len());
                let (txn, amount, refunded) = sales[i].clone();
                let total = (refunded + rng.random_range(0..=amount / 2 + 1)).min(amount);
                let r = t
                    .postback(status(program, &txn, "refunded", Some(total)))
                    .await;
                assert!(
                    ["STATUS_UPDATED", "DUPLICATE", "INVALID_STATUS_CHANGE"]
                        .contains(&r.answer.as_str()),
                    "step {step}: {r:?}"
                );
                if r.answer == "STATUS_UPDATED" {
                    sales[i].2 = total;
                }
            }
            6 if !sales.is_empty() => {
                let i = rng.random_range(0..sales.len());
                let which = if rng.random_bool(0.5) {
                    "chargeback"
                } else {
                    "rejected"
                };
                t.postback(status(program, &sales[i].0, which, None)).await;
            }
            7 => {
                now += Duration::days(rng.random_range(1..20));
                t.approve_due(now).await;
            }
            _ => {}
        }
        // Reconcile: entries vs commissions.
        let commissions = t.commissions_of(&p).await;
        let outstanding = |s: CommissionStatus| -> i64 {
            commissions
                .iter()
                .filter(|c| c.status == s as i32)
                .map(|c| c.amount.as_ref().expect("test step").amount_minor - c.reversed_minor)
                .sum()
        };
        let expected = (
            outstanding(CommissionStatus::Pending),
            outstanding(CommissionStatus::Approved),
        );
        let sums = t.sums(pid(&p)).await;
        let actual = sums.first().map_or((0, 0), |(_, p, a)| (*p, *a));
        assert_eq!(actual, expected, "step {step}, seed {seed}");
        let l = t.ledger(&p).await;
        let reported = l
            .balances
            .first()
            .map_or((0, 0), |b| (b.pending_minor, b.available_minor));
        assert_eq!(reported, expected, "step {step}, seed {seed}");
        assert!(commissions.iter().all(|c| c.reversed_minor >= 0
            && c.reversed_minor <= c.amount.as_ref().expect("test step").amount_minor));
    }
}
