//! The ledger under random operation sequences, through the real service:
//! after every step the fund's stored balance equals the sum of its
//! entries, matches the ledger arithmetic applied to what succeeded, and is
//! never negative.

use prm_mdf::domain::ledger::{Balance, EntryKind};
use prm_proto::mdf::*;
use prm_runtime::testing::grpc::{as_of, reason};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::helpers::*;

#[tokio::test]
async fn random_operations_keep_the_ledger_whole() {
    let t = mdf().await;
    let p = partner();
    let budget = t.budget(200_000).await;
    let fund = t.allocate(&budget, &p, 20_000).await.expect("fund");
    let mut model = Balance::default()
        .apply(EntryKind::Allocated, 20_000)
        .expect("model");
    let seed: u64 = std::env::var("PRM_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("ledger sequence seed {seed} (PRM_TEST_SEED reproduces it)");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut c = t.client();
    let mut submitted: Vec<(String, i64)> = Vec::new();
    let mut approved: Vec<(String, i64)> = Vec::new();
    let mut refused = 0;
    for step in 0..150 {
        let amount = rng.random_range(1..20_000);
        match rng.random_range(0..6) {
            0 => match t.allocate(&budget, &p, amount).await {
                Ok(_) => {
                    model = model
                        .apply(EntryKind::Allocated, amount)
                        .expect("allocated")
                }
                Err(s) => {
                    assert_eq!(reason(&s), "BUDGET_EXCEEDED", "step {step}: {s:?}");
                    refused += 1;
                }
            },
            1 => {
                let asked = rng.random_range(1..15_000);
                let r = t
                    .submit(&p, activity(&fund.id, asked))
                    .await
                    .expect("submit");
                submitted.push((r.id, asked));
            }
            2 if !submitted.is_empty() => {
                let (id, asked) = submitted.swap_remove(rng.random_range(0..submitted.len()));
                let partial = rng.random_bool(0.3).then(|| rng.random_range(1..=asked));
                match t.approve(&id, partial).await {
                    Ok(r) => {
                        let amount = minor(&r.approved);
                        model = model.apply(EntryKind::Reserved, amount).expect("reserved");
                        approved.push((id, amount));
                    }
                    Err(s) => {
                        assert_eq!(reason(&s), "INSUFFICIENT_FUNDS", "step {step}: {s:?}");
                        assert!(
                            model
                                .apply(EntryKind::Reserved, partial.unwrap_or(asked))
                                .is_err(),
                            "step {step}: refused although the fund covered it"
                        );
                        refused += 1;
                        submitted.push((id, asked));
                    }
                }
            }
            3 if !submitted.is_empty() => {
                let (id, _) = submitted.swap_remove(rng.random_range(0..submitted.len()));
                c.reject_mdf_request(as_of(
                    RejectMdfRequestRequest {
                        request_id: id,
                        reason: "not this quarter".into(),
                    },
                    &t.marketing,
                ))
                .await
                .expect("reject");
            }
            4 if !approved.is_empty() => {
                let (id, amount) = approved.swap_remove(rng.random_range(0..approved.len()));
                c.cancel_mdf_request(as_of(
                    CancelMdfRequestRequest {
                        request_id: id,
                        reason: String::new(),
                    },
                    &p,
                ))
                .await
                .expect("cancel");
                model = model.apply(EntryKind::Released, amount).expect("released");
            }
            5 if !approved.is_empty() => {
                let (id, amount) = approved.swap_remove(rng.random_range(0..approved.len()));
                let cost = rng.random_range(1..=amount);
                let claim = t
                    .claim(&p, claim_for(&id, cost, &format!("INV-{step}")))
                    .await
                    .expect("claim");
                let paid = rng.random_range(1..=cost);
                c.approve_claim(as_of(
                    ApproveClaimRequest {
                        claim_id: claim.id,
                        amount: Some(eur(paid)),
                        reason: String::new(),
                    },
                    &t.finance,
                ))
                .await
                .expect("approve claim");
                model = model
                    .apply(EntryKind::Reimbursed, paid)
                    .expect("reimbursed");
                if amount > paid {
                    model = model
                        .apply(EntryKind::Released, amount - paid)
                        .expect("released");
                }
            }
            _ => continue,
        }
        let stored = t.check_ledger(&fund.id).await;
        assert_eq!(
            stored, model,
            "step {step}: the service moved money differently"
        );
    }
    eprintln!(
        "ledger sequence: {refused} refusals, final {:?}",
        t.check_ledger(&fund.id).await
    );
}
