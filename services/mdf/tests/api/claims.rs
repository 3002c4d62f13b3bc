//! Claims: proof of performance, the claim deadline on a moved clock,
//! reimbursement at the fund's rate, and every refusal leaving the ledger
//! untouched.

use chrono::Duration;
use prm_proto::mdf::*;
use prm_runtime::testing::grpc::{as_of, assert_code, bad_fields, reason};
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn an_approved_claim_is_reimbursed_at_the_funds_rate() {
    let t = mdf().await;
    let p = partner();
    let budget = t.budget(1_000_000).await;
    let mut c = t.client();
    // Co-op: the fund pays half of the proven cost.
    let fund = c
        .allocate_funds(as_of(
            AllocateFundsRequest {
                budget_id: budget.id.clone(),
                partner_id: partner_id(&p),
                kind: FundKind::Discretionary as i32,
                amount: Some(eur(100_000)),
                reimbursement_rate_bps: 5_000,
                ..Default::default()
            },
            &t.marketing,
        ))
        .await
        .expect("allocate")
        .into_inner()
        .fund
        .expect("fund");
    let request = t.approved(&p, &fund, 10_000).await;
    let claim = t
        .claim(&p, claim_for(&request.id, 15_000, "INV-1"))
        .await
        .expect("claim");
    assert_eq!(claim.status, ClaimStatus::Submitted as i32);
    assert_eq!(minor(&claim.reimbursable), 7_500);
    assert_eq!(claim.documents.len(), 1);

    // Finance approves 7,000 of the 7,500: paid, and the rest of the
    // 10,000 reservation comes back.
    let approved = c
        .approve_claim(as_of(
            ApproveClaimRequest {
                claim_id: claim.id.clone(),
                amount: Some(eur(7_000)),
                reason: "one invoice line is not MDF-eligible".into(),
            },
            &t.finance,
        ))
        .await
        .expect("approve")
        .into_inner()
        .claim
        .expect("claim");
    assert_eq!(approved.status, ClaimStatus::Approved as i32);
    assert_eq!(minor(&approved.reimbursed), 7_000);
    let f = t.get_fund(&fund.id).await;
    let balance = f.balance.as_ref().expect("balance");
    assert_eq!(minor(&balance.reimbursed), 7_000);
    assert_eq!(minor(&balance.reserved), 0);
    assert_eq!(available(&f), 93_000);
    let ledger = t.check_ledger(&fund.id).await;
    assert_eq!(ledger.released, 3_000);

    let request = c
        .get_mdf_request(as_of(
            GetMdfRequestRequest {
                request_id: request.id.clone(),
            },
            &p,
        ))
        .await
        .expect("request")
        .into_inner()
        .request
        .expect("request");
    assert_eq!(request.status, MdfRequestStatus::Completed as i32);
    // Decided once.
    let s = assert_code(
        c.reject_claim(as_of(
            RejectClaimRequest {
                claim_id: claim.id.clone(),
                reason: "late".into(),
            },
            &t.finance,
        ))
        .await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&s), "CLAIM_STATE");

    // What staff see on the budget.
    let totals = c
        .get_budget(as_of(
            GetBudgetRequest {
                budget_id: budget.id.clone(),
            },
            &t.finance,
        ))
        .await
        .expect("budget")
        .into_inner()
        .budget
        .expect("budget")
        .totals
        .expect("totals");
    assert_eq!(
        [
            minor(&totals.allocated),
            minor(&totals.requested),
            minor(&totals.approved),
            minor(&totals.claimed),
            minor(&totals.reimbursed),
        ],
        [100_000, 10_000, 10_000, 7_500, 7_000]
    );
    let roi = c
        .get_request_roi(as_of(
            GetRequestRoiRequest {
                request_id: request.id.clone(),
            },
            &p,
        ))
        .await
        .expect("roi")
        .into_inner();
    assert_eq!(minor(&roi.paid), 7_000);
    assert_eq!((roi.registrations, roi.return_bps), (0, 0));
}

#[tokio::test]
async fn bad_claims_are_refused_and_the_ledger_is_untouched() {
    let t = mdf().await;
    let p = partner();
    let fund = t.fund(&p, 100_000).await;
    let request = t.approved(&p, &fund, 10_000).await;
    let before = t.count("SELECT count(*) FROM fund_entries").await;

    // No proof of performance, and more: every field named.
    let mut bare = claim_for(&request.id, 0, "");
    bare.documents.clear();
    let s = assert_code(t.claim(&p, bare).await, Code::InvalidArgument);
    assert_eq!(
        bad_fields(&s),
        ["proven_cost", "invoice_number", "documents"]
    );
    // More than approved (the fund reimburses all of the cost).
    let s = assert_code(
        t.claim(&p, claim_for(&request.id, 10_001, "INV-9")).await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&s), ["proven_cost"]);
    let mut usd = claim_for(&request.id, 100, "INV-9");
    usd.proven_cost = Some(prm_proto::common::Money {
        amount_minor: 100,
        currency: "USD".into(),
    });
    let s = assert_code(t.claim(&p, usd).await, Code::InvalidArgument);
    assert_eq!(bad_fields(&s), ["proven_cost.currency"]);
    // A request not approved.
    let pending = t
        .submit(&p, activity(&fund.id, 1_000))
        .await
        .expect("submit");
    let s = assert_code(
        t.claim(&p, claim_for(&pending.id, 500, "INV-9")).await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&s), "REQUEST_NOT_APPROVED");
    assert_eq!(t.count("SELECT count(*) FROM claims").await, 0);

    // One claim in play per request; one claim per invoice per partner.
    let first = t
        .claim(&p, claim_for(&request.id, 9_000, "INV-7"))
        .await
        .expect("claim");
    let s = assert_code(
        t.claim(&p, claim_for(&request.id, 9_000, "INV-8")).await,
        Code::AlreadyExists,
    );
    assert_eq!(reason(&s), "CLAIM_EXISTS");
    let other = t.approved(&p, &fund, 5_000).await;
    let s = assert_code(
        t.claim(&p, claim_for(&other.id, 1_000, "inv-7")).await,
        Code::AlreadyExists,
    );
    assert_eq!(reason(&s), "DUPLICATE_INVOICE");
    // Another partner may use the same invoice number for its own.
    let q = partner();
    let qf = t.fund(&q, 10_000).await;
    let qr = t.approved(&q, &qf, 1_000).await;
    t.claim(&q, claim_for(&qr.id, 1_000, "INV-7"))
        .await
        .expect("another partner's invoice");
    // A request with a claim awaiting a decision cannot be cancelled.
    let s = assert_code(
        t.client()
            .cancel_mdf_request(as_of(
                CancelMdfRequestRequest {
                    request_id: request.id.clone(),
                    reason: String::new(),
                },
                &p,
            ))
            .await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&s), "CLAIM_IN_PROGRESS");

    // Rejected: the invoice is free again and the request claimable.
    t.client()
        .reject_claim(as_of(
            RejectClaimRequest {
                claim_id: first.id.clone(),
                reason: "the invoice is not itemised".into(),
            },
            &t.marketing,
        ))
        .await
        .expect("reject");
    t.claim(&p, claim_for(&request.id, 9_000, "INV-7"))
        .await
        .expect("claim again");
    // Money moved only where something succeeded: our second approval,
    // and the other partner's allocation and approval.
    let after = t.count("SELECT count(*) FROM fund_entries").await;
    assert_eq!(after, before + 3);
    t.check_ledger(&fund.id).await;
}

#[tokio::test]
async fn the_claim_deadline_follows_the_clock() {
    let t = mdf().await;
    let p = partner();
    let fund = t.fund(&p, 100_000).await;
    // An activity that has not happened yet cannot be claimed.
    let mut future = activity(&fund.id, 2_000);
    future.starts_on = days_ago(-9).to_string();
    future.ends_on = days_ago(-10).to_string();
    let upcoming = t.submit(&p, future).await.expect("submit");
    t.approve(&upcoming.id, None).await.expect("approve");
    let s = assert_code(
        t.claim(&p, claim_for(&upcoming.id, 2_000, "INV-A")).await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&s), "ACTIVITY_NOT_ENDED");
    // Ten days on, it has.
    t.clock.advance(Duration::days(10));
    t.claim(&p, claim_for(&upcoming.id, 2_000, "INV-A"))
        .await
        .expect("claimable after the activity");

    // The activity ended 5 days ago (by the real clock), so the deadline
    // is in 55 days; the clock is 10 days on already.
    let request = t.approved(&p, &fund, 3_000).await;
    t.clock.advance(Duration::days(45));
    t.claim(&p, claim_for(&request.id, 100, "INV-B"))
        .await
        .map(drop)
        .expect("on the deadline day");
    let late = t.approved(&p, &fund, 3_000).await;
    t.clock.advance(Duration::days(1));
    let s = assert_code(
        t.claim(&p, claim_for(&late.id, 100, "INV-C")).await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&s), "CLAIM_DEADLINE_PASSED");
    assert!(
        s.message().contains(&late.claim_deadline),
        "{}",
        s.message()
    );
}
