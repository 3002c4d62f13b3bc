//! Accrual and ROI from deal registration's events, published on real
//! JetStream in the test's namespace: a won deal accrues once, even when
//! its event is delivered again, at the tiers' marginal rates and never
//! beyond the budget. (tests/e2e drives the same from real registrations.)

use std::sync::atomic::Ordering;
use std::time::Duration;

use prm_proto::events::{DealRegistered, DealWon, EventEnvelope};
use prm_proto::mdf::*;
use prm_runtime::testing::grpc::as_of;
use prm_runtime::testing::{EventStream, SpawnOptions, eventually, unique_namespace};
use prost::{Message, Name};
use uuid::Uuid;

use crate::helpers::*;

struct Dealreg(EventStream);

impl Dealreg {
    async fn publish<M: Message + Name>(
        &self,
        verb: &str,
        partner: &str,
        msg: &M,
    ) -> EventEnvelope {
        let envelope = EventEnvelope {
            event_id: Uuid::now_v7().to_string(),
            r#type: M::full_name(),
            occurred_at: None,
            producer: "dealreg".into(),
            partner_id: partner.into(),
            aggregate_type: "deal_registration".into(),
            aggregate_id: Uuid::now_v7().to_string(),
            aggregate_version: 1,
            payload: msg.encode_to_vec(),
        };
        self.0.publish(verb, &envelope, &envelope.event_id).await;
        envelope
    }

    async fn won(&self, partner: &str, deal: Uuid, amount_minor: i64, code: &str) -> EventEnvelope {
        let won = DealWon {
            deal_registration_id: deal.to_string(),
            partner_id: partner.into(),
            amount: Some(eur(amount_minor)),
            won_at: Some(prm_runtime::wire::timestamp(chrono::Utc::now())),
            mdf_reference: code.into(),
            ..Default::default()
        };
        self.publish("deal.won", partner, &won).await
    }
}

async fn with_dealreg() -> (TestMdf, Dealreg) {
    let namespace = unique_namespace();
    let stream = EventStream::open(&prm_runtime::testing::nats_url(), &namespace, "dealreg").await;
    let t = mdf_with(SpawnOptions {
        namespace: Some(namespace),
        ..Default::default()
    })
    .await;
    (t, Dealreg(stream))
}

async fn accrual_fund(t: &TestMdf, budget: &Budget, p: &prm_runtime::Principal) -> Fund {
    t.client()
        .allocate_funds(as_of(
            AllocateFundsRequest {
                budget_id: budget.id.clone(),
                partner_id: partner_id(p),
                kind: FundKind::Accrual as i32,
                // 3% of the first 10,000.00 won in the period, 5% above.
                accrual_tiers: vec![
                    AccrualTier {
                        from_revenue_minor: 0,
                        rate_bps: 300,
                    },
                    AccrualTier {
                        from_revenue_minor: 1_000_000,
                        rate_bps: 500,
                    },
                ],
                ..Default::default()
            },
            &t.marketing,
        ))
        .await
        .expect("accrual fund")
        .into_inner()
        .fund
        .expect("fund")
}

async fn accrued_once(t: &TestMdf, fund_id: &str, expect: i64) {
    let got = eventually(Duration::from_secs(15), || async {
        let f = t.get_fund(fund_id).await;
        let accrued = minor(&f.balance.as_ref().expect("balance").accrued);
        (accrued == expect).then_some(accrued)
    })
    .await;
    assert_eq!(got, Some(expect), "accrued");
}

#[tokio::test]
async fn won_deals_accrue_once_at_the_tiers_rates() {
    let (t, dealreg) = with_dealreg().await;
    let p = partner();
    let budget = t.budget(1_000_000).await;
    let fund = accrual_fund(&t, &budget, &p).await;
    assert_eq!(available(&fund), 0);

    // 8,000.00 at 3%; then 4,000.00: 2,000.00 at 3% and 2,000.00 at 5%.
    dealreg
        .won(&partner_id(&p), Uuid::now_v7(), 800_000, "")
        .await;
    accrued_once(&t, &fund.id, 24_000).await;
    let second = dealreg
        .won(&partner_id(&p), Uuid::now_v7(), 400_000, "")
        .await;
    accrued_once(&t, &fund.id, 24_000 + 6_000 + 10_000).await;

    // The same event delivered again (a relay that published but crashed
    // before marking it, say) is seen and changes nothing.
    let consumer = t.svc.consumer("dealreg");
    let before = consumer.redeliveries.load(Ordering::Relaxed);
    dealreg
        .0
        .publish("deal.won", &second, "a-second-publish")
        .await;
    let seen = eventually(Duration::from_secs(15), || async {
        (consumer.redeliveries.load(Ordering::Relaxed) > before).then_some(())
    })
    .await;
    assert!(seen.is_some(), "the duplicate was never delivered");
    let f = t.get_fund(&fund.id).await;
    assert_eq!(minor(&f.balance.as_ref().expect("balance").accrued), 40_000);
    assert_eq!(minor(&f.won_revenue), 1_200_000);
    assert_eq!(
        t.count("SELECT count(*) FROM fund_entries WHERE kind = 'accrued'")
            .await,
        2
    );
    t.check_ledger(&fund.id).await;

    // Another partner's deal, or one in another currency, accrues nothing here.
    dealreg
        .won(&partner_id(&partner()), Uuid::now_v7(), 900_000, "")
        .await;
    let usd = DealWon {
        deal_registration_id: Uuid::now_v7().to_string(),
        partner_id: partner_id(&p),
        amount: Some(prm_proto::common::Money {
            amount_minor: 900_000,
            currency: "USD".into(),
        }),
        ..Default::default()
    };
    dealreg.publish("deal.won", &partner_id(&p), &usd).await;
    let applied = eventually(Duration::from_secs(15), || async {
        (consumer.applied.load(Ordering::Relaxed) >= 4).then_some(())
    })
    .await;
    assert!(applied.is_some());
    let f = t.get_fund(&fund.id).await;
    assert_eq!(minor(&f.balance.as_ref().expect("balance").accrued), 40_000);
    assert_eq!(
        t.count("SELECT count(*) FROM outbox WHERE subject LIKE '%.mdf.funds.accrued'")
            .await,
        2
    );
}

#[tokio::test]
async fn accrual_stops_at_the_budget() {
    let (t, dealreg) = with_dealreg().await;
    let p = partner();
    let budget = t.budget(50_000).await;
    t.allocate(&budget, &partner(), 45_000)
        .await
        .expect("someone else's");
    let fund = accrual_fund(&t, &budget, &p).await;
    // 3% of 8,000.00 is 24,000, but only 5,000 is left in the budget.
    dealreg
        .won(&partner_id(&p), Uuid::now_v7(), 800_000, "")
        .await;
    accrued_once(&t, &fund.id, 5_000).await;
    let allocated: i64 = sqlx::query_scalar("SELECT allocated_minor FROM budgets")
        .fetch_one(&t.pool)
        .await
        .expect("budget");
    assert_eq!(allocated, 50_000);
}

#[tokio::test]
async fn roi_counts_the_deals_carrying_the_campaign_code() {
    let (t, dealreg) = with_dealreg().await;
    let p = partner();
    let fund = t.fund(&p, 100_000).await;
    let request = t.approved(&p, &fund, 10_000).await;
    let claim = t
        .claim(&p, claim_for(&request.id, 8_000, "INV-ROI"))
        .await
        .expect("claim");
    t.client()
        .approve_claim(as_of(
            ApproveClaimRequest {
                claim_id: claim.id,
                amount: None,
                reason: String::new(),
            },
            &t.finance,
        ))
        .await
        .expect("approve");
    let pid = partner_id(&p);
    let (won_deal, open_deal) = (Uuid::now_v7(), Uuid::now_v7());
    for (deal, value) in [(won_deal, 3_000_000), (open_deal, 2_000_000)] {
        let registered = DealRegistered {
            deal_registration_id: deal.to_string(),
            partner_id: pid.clone(),
            estimated_value: Some(eur(value)),
            mdf_reference: "WEB-LAUNCH".into(),
            ..Default::default()
        };
        dealreg.publish("deal.registered", &pid, &registered).await;
    }
    // Another partner's deal with the same code is not this request's.
    let stranger = partner_id(&partner());
    let foreign = DealRegistered {
        deal_registration_id: Uuid::now_v7().to_string(),
        partner_id: stranger.clone(),
        estimated_value: Some(eur(9_000_000)),
        mdf_reference: "WEB-LAUNCH".into(),
        ..Default::default()
    };
    dealreg
        .publish("deal.registered", &stranger, &foreign)
        .await;
    dealreg.won(&pid, won_deal, 2_800_000, "WEB-LAUNCH").await;
    let roi = eventually(Duration::from_secs(15), || async {
        let roi = t
            .client()
            .get_request_roi(as_of(
                GetRequestRoiRequest {
                    request_id: request.id.clone(),
                },
                &p,
            ))
            .await
            .expect("roi")
            .into_inner();
        (roi.won_deals == 1).then_some(roi)
    })
    .await
    .expect("the won deal reached MDF");
    assert_eq!(roi.registrations, 2);
    assert_eq!(minor(&roi.open_pipeline), 2_000_000);
    assert_eq!(minor(&roi.won_revenue), 2_800_000);
    assert_eq!(minor(&roi.paid), 8_000);
    assert_eq!(roi.return_bps, 2_800_000 * 10_000 / 8_000);
}
