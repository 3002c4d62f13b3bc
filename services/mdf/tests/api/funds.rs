//! Budgets and allocations: staff only, never beyond the budget.

use prm_proto::mdf::*;
use prm_runtime::testing::grpc::{as_of, assert_code, bad_fields, reason};
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn budgets_refuse_bad_input_and_duplicates() {
    let t = mdf().await;
    let mut c = t.client();
    let bad = CreateBudgetRequest {
        program_id: "nope".into(),
        name: " ".into(),
        period: "2026-Q5".into(),
        amount: Some(eur(-1)),
        claim_window_days: 400,
    };
    let s = assert_code(
        c.create_budget(as_of(bad, &t.marketing)).await,
        Code::InvalidArgument,
    );
    assert_eq!(
        bad_fields(&s),
        [
            "program_id",
            "name",
            "period",
            "amount",
            "claim_window_days"
        ]
    );
    assert_eq!(t.count("SELECT count(*) FROM budgets").await, 0);

    let budget = t.budget(1_000_000).await;
    assert_eq!(budget.period, this_quarter());
    assert_eq!(budget.claim_window_days, 60);
    let totals = budget.totals.as_ref().expect("totals");
    assert_eq!(minor(&totals.unallocated), 1_000_000);

    let again = CreateBudgetRequest {
        program_id: budget.program_id.clone(),
        name: "again".into(),
        period: this_quarter().to_lowercase(),
        amount: Some(eur(5)),
        claim_window_days: 0,
    };
    let s = assert_code(
        c.create_budget(as_of(again.clone(), &t.admin)).await,
        Code::AlreadyExists,
    );
    assert_eq!(reason(&s), "BUDGET_EXISTS");
    // Nor one overlapping it: this year contains this quarter.
    let year = CreateBudgetRequest {
        period: this_quarter()[..4].to_owned(),
        ..again.clone()
    };
    let s = assert_code(
        c.create_budget(as_of(year, &t.admin)).await,
        Code::AlreadyExists,
    );
    assert_eq!(reason(&s), "BUDGET_EXISTS");
    assert!(s.message().contains("overlapping"), "{}", s.message());
    // Partners and read-only staff set no budgets.
    assert_code(
        c.create_budget(as_of(again.clone(), &partner())).await,
        Code::PermissionDenied,
    );
    assert_code(
        c.create_budget(as_of(again, &t.analyst)).await,
        Code::PermissionDenied,
    );
}

#[tokio::test]
async fn allocations_never_exceed_the_budget() {
    let t = mdf().await;
    let budget = t.budget(100_000).await;
    let (p1, p2) = (partner(), partner());
    t.allocate(&budget, &p1, 60_000).await.expect("p1");
    t.allocate(&budget, &p2, 30_000).await.expect("p2");
    // Adding to a fund is another allocated entry.
    let f2 = t.allocate(&budget, &p2, 10_000).await.expect("top up");
    assert_eq!(available(&f2), 40_000);
    let s = assert_code(t.allocate(&budget, &p1, 1).await, Code::FailedPrecondition);
    assert_eq!(reason(&s), "BUDGET_EXCEEDED");
    let entries = t.count("SELECT count(*) FROM fund_entries").await;
    assert_eq!(entries, 3, "the refused allocation left no entry");

    let got = t
        .client()
        .get_budget(as_of(
            GetBudgetRequest {
                budget_id: budget.id.clone(),
            },
            &t.analyst,
        ))
        .await
        .expect("budget")
        .into_inner()
        .budget
        .expect("budget");
    let totals = got.totals.expect("totals");
    assert_eq!(minor(&totals.allocated), 100_000);
    assert_eq!(minor(&totals.unallocated), 0);
}

#[tokio::test]
async fn concurrent_allocations_stop_at_the_budget() {
    let t = mdf().await;
    let budget = t.budget(100_000).await;
    let tries = (0..20).map(|_| {
        let (t, budget) = (&t, &budget);
        async move { t.allocate(budget, &partner(), 10_000).await }
    });
    let results = futures::future::join_all(tries).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 10, "exactly the budget is allocated");
    for r in results.into_iter().filter_map(Result::err) {
        assert_eq!(r.code(), Code::FailedPrecondition, "{r:?}");
        assert_eq!(reason(&r), "BUDGET_EXCEEDED");
    }
    let allocated: i64 = sqlx::query_scalar("SELECT allocated_minor FROM budgets")
        .fetch_one(&t.pool)
        .await
        .expect("budget");
    assert_eq!(allocated, 100_000);
}

#[tokio::test]
async fn allocation_rules_are_checked() {
    let t = mdf().await;
    let budget = t.budget(100_000).await;
    let p = partner();
    let mut c = t.client();
    let base = AllocateFundsRequest {
        budget_id: budget.id.clone(),
        partner_id: partner_id(&p),
        kind: FundKind::Discretionary as i32,
        amount: Some(eur(10_000)),
        ..Default::default()
    };
    // Every bad field at once, nothing stored.
    let s = assert_code(
        c.allocate_funds(as_of(
            AllocateFundsRequest {
                budget_id: "x".into(),
                partner_id: String::new(),
                kind: FundKind::Discretionary as i32,
                amount: Some(eur(0)),
                reimbursement_rate_bps: 10_001,
                accrual_tiers: vec![AccrualTier {
                    from_revenue_minor: 0,
                    rate_bps: 300,
                }],
                ..Default::default()
            },
            &t.marketing,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(
        bad_fields(&s),
        [
            "budget_id",
            "partner_id",
            "amount",
            "reimbursement_rate_bps",
            "accrual_tiers"
        ]
    );
    // A discretionary allocation of nothing (an all-zero amount).
    let s = assert_code(
        c.allocate_funds(as_of(
            AllocateFundsRequest {
                amount: Some(prm_proto::common::Money {
                    amount_minor: 0,
                    currency: String::new(),
                }),
                ..base.clone()
            },
            &t.marketing,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&s), ["amount"]);
    // The budget's currency only.
    let s = assert_code(
        c.allocate_funds(as_of(
            AllocateFundsRequest {
                amount: Some(prm_proto::common::Money {
                    amount_minor: 5,
                    currency: "USD".into(),
                }),
                ..base.clone()
            },
            &t.marketing,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&s), ["amount.currency"]);
    // A new accrual fund needs tiers.
    let s = assert_code(
        c.allocate_funds(as_of(
            AllocateFundsRequest {
                kind: FundKind::Accrual as i32,
                amount: None,
                ..base.clone()
            },
            &t.marketing,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&s), ["accrual_tiers"]);
    assert_eq!(t.count("SELECT count(*) FROM funds").await, 0);

    let fund = c
        .allocate_funds(as_of(
            AllocateFundsRequest {
                reimbursement_rate_bps: 5_000,
                ..base.clone()
            },
            &t.marketing,
        ))
        .await
        .expect("allocate")
        .into_inner()
        .fund
        .expect("fund");
    assert_eq!(fund.reimbursement_rate_bps, 5_000);
    // The first allocation set the rules; a later one may not change them,
    // nor the kind.
    let s = assert_code(
        c.allocate_funds(as_of(
            AllocateFundsRequest {
                reimbursement_rate_bps: 8_000,
                ..base.clone()
            },
            &t.marketing,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&s), ["reimbursement_rate_bps"]);
    let s = assert_code(
        c.allocate_funds(as_of(
            AllocateFundsRequest {
                kind: FundKind::Accrual as i32,
                amount: None,
                ..base.clone()
            },
            &t.marketing,
        ))
        .await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&s), "FUND_KIND_MISMATCH");
    // Unknown budgets are NotFound; partners and finance allocate nothing.
    assert_code(
        c.allocate_funds(as_of(
            AllocateFundsRequest {
                budget_id: Uuid::now_v7().to_string(),
                ..base.clone()
            },
            &t.marketing,
        ))
        .await,
        Code::NotFound,
    );
    assert_code(
        c.allocate_funds(as_of(base.clone(), &p)).await,
        Code::PermissionDenied,
    );
    assert_code(
        c.allocate_funds(as_of(base, &t.finance)).await,
        Code::PermissionDenied,
    );
    assert_eq!(t.count("SELECT count(*) FROM fund_entries").await, 1);
}

#[tokio::test]
async fn a_repeated_allocation_with_one_key_allocates_once() {
    let t = mdf().await;
    let budget = t.budget(100_000).await;
    let p = partner();
    let req = AllocateFundsRequest {
        budget_id: budget.id.clone(),
        partner_id: partner_id(&p),
        kind: FundKind::Discretionary as i32,
        amount: Some(eur(10_000)),
        ..Default::default()
    };
    let tries = (0..5).map(|_| {
        let mut c = t.client();
        let req =
            prm_runtime::testing::grpc::request(req.clone(), Some(&t.marketing), Some("alloc-1"));
        async move { c.allocate_funds(req).await }
    });
    for r in futures::future::join_all(tries).await {
        let fund = r.expect("replayed").into_inner().fund.expect("fund");
        assert_eq!(available(&fund), 10_000);
    }
    assert_eq!(t.count("SELECT count(*) FROM fund_entries").await, 1);
}
