//! Requests: submission, decisions that reserve funds, cancellation, and
//! approvals racing for one fund.

use prm_proto::mdf::*;
use prm_runtime::testing::grpc::{as_of, assert_code, bad_fields, reason};
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn approval_reserves_and_cancellation_releases() {
    let t = mdf().await;
    let p = partner();
    let fund = t.fund(&p, 100_000).await;
    let submitted = t
        .submit(&p, activity(&fund.id, 40_000))
        .await
        .expect("submit");
    assert_eq!(submitted.status, MdfRequestStatus::Submitted as i32);
    assert_eq!(submitted.partner_id, partner_id(&p));
    assert_eq!(
        submitted.claim_deadline,
        (days_ago(5) + chrono::Duration::days(60)).to_string()
    );
    // Submitting reserves nothing yet.
    assert_eq!(available(&t.get_fund(&fund.id).await), 100_000);

    // Partially approved: 25,000 of 40,000 is reserved.
    let approved = t
        .approve(&submitted.id, Some(25_000))
        .await
        .expect("approve");
    assert_eq!(approved.status, MdfRequestStatus::Approved as i32);
    assert_eq!(minor(&approved.approved), 25_000);
    let f = t.get_fund(&fund.id).await;
    assert_eq!(available(&f), 75_000);
    assert_eq!(
        minor(&f.balance.as_ref().expect("balance").reserved),
        25_000
    );
    // Decided once.
    let s = assert_code(
        t.approve(&submitted.id, None).await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&s), "REQUEST_STATE");

    // The partner cancels: the reservation comes back.
    let cancelled = t
        .client()
        .cancel_mdf_request(as_of(
            CancelMdfRequestRequest {
                request_id: submitted.id.clone(),
                reason: "event postponed".into(),
            },
            &p,
        ))
        .await
        .expect("cancel")
        .into_inner()
        .request
        .expect("request");
    assert_eq!(cancelled.status, MdfRequestStatus::Cancelled as i32);
    assert_eq!(available(&t.get_fund(&fund.id).await), 100_000);
    t.check_ledger(&fund.id).await;

    // A rejection needs a reason and reserves nothing.
    let other = t
        .submit(&p, activity(&fund.id, 10_000))
        .await
        .expect("submit");
    let mut c = t.client();
    let s = assert_code(
        c.reject_mdf_request(as_of(
            RejectMdfRequestRequest {
                request_id: other.id.clone(),
                reason: String::new(),
            },
            &t.marketing,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&s), ["reason"]);
    let rejected = c
        .reject_mdf_request(as_of(
            RejectMdfRequestRequest {
                request_id: other.id.clone(),
                reason: "outside the program's focus".into(),
            },
            &t.marketing,
        ))
        .await
        .expect("reject")
        .into_inner()
        .request
        .expect("request");
    assert_eq!(rejected.status, MdfRequestStatus::Rejected as i32);
    assert_eq!(rejected.decision_reason, "outside the program's focus");
    let s = assert_code(
        c.cancel_mdf_request(as_of(
            CancelMdfRequestRequest {
                request_id: other.id.clone(),
                reason: String::new(),
            },
            &p,
        ))
        .await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&s), "REQUEST_STATE");

    // The ledger tells the story: allocated, reserved, released.
    let entries = c
        .list_fund_entries(as_of(
            ListFundEntriesRequest {
                fund_id: fund.id.clone(),
                ..Default::default()
            },
            &p,
        ))
        .await
        .expect("entries")
        .into_inner()
        .entries;
    let kinds: Vec<i32> = entries.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EntryKind::Allocated as i32,
            EntryKind::Reserved as i32,
            EntryKind::Released as i32
        ]
    );
    assert_eq!(entries[1].request_id, submitted.id);
    let t_budget = t
        .count("SELECT count(*) FROM outbox WHERE subject LIKE '%.mdf.request.%'")
        .await;
    assert_eq!(t_budget, 5, "submitted x2, approved, cancelled, rejected");
}

#[tokio::test]
async fn bad_requests_name_the_field_and_store_nothing() {
    let t = mdf().await;
    let p = partner();
    let fund = t.fund(&p, 100_000).await;
    let mut wrong_order = activity(&fund.id, 1_000);
    wrong_order.ends_on = days_ago(30).to_string();
    wrong_order.amount = Some(eur(0));
    wrong_order.activity_type = 0;
    let s = assert_code(t.submit(&p, wrong_order).await, Code::InvalidArgument);
    assert_eq!(bad_fields(&s), ["activity_type", "ends_on", "amount"]);
    let mut usd = activity(&fund.id, 1_000);
    usd.amount = Some(prm_proto::common::Money {
        amount_minor: 1_000,
        currency: "USD".into(),
    });
    let s = assert_code(t.submit(&p, usd).await, Code::InvalidArgument);
    assert_eq!(bad_fields(&s), ["amount.currency"]);
    let s = assert_code(
        t.submit(
            &p,
            activity(&fund.id, prm_mdf::domain::MAX_AMOUNT_MINOR + 1),
        )
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&s), ["amount"]);
    assert_eq!(t.count("SELECT count(*) FROM mdf_requests").await, 0);

    // Approving more than was asked, or in another currency.
    let r = t
        .submit(&p, activity(&fund.id, 5_000))
        .await
        .expect("submit");
    let s = assert_code(t.approve(&r.id, Some(5_001)).await, Code::InvalidArgument);
    assert_eq!(bad_fields(&s), ["amount"]);
    // Partners approve nothing, finance decides claims not requests.
    let mut c = t.client();
    let approve = ApproveMdfRequestRequest {
        request_id: r.id.clone(),
        amount: None,
        reason: String::new(),
    };
    assert_code(
        c.approve_mdf_request(as_of(approve.clone(), &p)).await,
        Code::PermissionDenied,
    );
    assert_code(
        c.approve_mdf_request(as_of(approve, &t.finance)).await,
        Code::PermissionDenied,
    );
    assert_eq!(t.count("SELECT count(*) FROM fund_entries").await, 1);
}

/// 100 approvals at once against a fund that covers 50 of them: exactly
/// 50 reserve, the rest are refused, and the fund never goes below zero.
#[tokio::test]
async fn a_hundred_concurrent_approvals_never_overspend() {
    let t = mdf().await;
    let p = partner();
    let fund = t.fund(&p, 50_000).await;
    let mut ids = Vec::new();
    for _ in 0..100 {
        ids.push(
            t.submit(&p, activity(&fund.id, 1_000))
                .await
                .expect("submit")
                .id,
        );
    }
    let approvals = ids.iter().map(|id| t.approve(id, None));
    let results = futures::future::join_all(approvals).await;
    let approved = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(approved, 50);
    for s in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(s.code(), Code::FailedPrecondition, "{s:?}");
        assert_eq!(reason(s), "INSUFFICIENT_FUNDS");
    }
    let balance = t.check_ledger(&fund.id).await;
    assert_eq!(balance.available(), 0);
    assert_eq!(balance.reserved_outstanding(), 50_000);
    assert_eq!(
        t.count("SELECT count(*) FROM mdf_requests WHERE status = 'approved'")
            .await,
        50
    );
}
