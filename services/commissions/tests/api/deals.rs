//! Won deals from deal registration, through real NATS: a reseller earns
//! its margin, a referral partner its fee, once per deal however often
//! the event is delivered.

use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::Utc;
use prm_proto::commissions::*;
use prm_proto::common::{Money, PartnerType};
use prm_proto::events::{DealWon, EventEnvelope};
use prm_runtime::testing::eventually;
use prm_runtime::wire::timestamp;
use prost::{Message, Name};
use uuid::Uuid;

use crate::helpers::*;

fn won(partner: Uuid, deal: Uuid, amount_minor: i64) -> EventEnvelope {
    let e = DealWon {
        deal_registration_id: deal.to_string(),
        partner_id: partner.to_string(),
        amount: Some(Money {
            amount_minor,
            currency: "EUR".into(),
        }),
        won_at: Some(timestamp(Utc::now())),
        ..Default::default()
    };
    EventEnvelope {
        event_id: Uuid::now_v7().to_string(),
        r#type: DealWon::full_name(),
        occurred_at: None,
        producer: "dealreg".into(),
        partner_id: partner.to_string(),
        aggregate_type: "deal_registration".into(),
        aggregate_id: deal.to_string(),
        aggregate_version: 3,
        payload: e.encode_to_vec(),
    }
}

#[tokio::test]
async fn won_deals_earn_the_margin_or_fee_once() {
    let t = commissions().await;
    let program = t
        .program_with(|program| CreatePlanRequest {
            reseller_margin_bps: 1_000,
            referral_fee_bps: 500,
            ..revshare_plan(program)
        })
        .await;
    sqlx::query("UPDATE plans SET effective_from = now() - interval '1 day' WHERE program_id = $1")
        .bind(program)
        .execute(&t.pool)
        .await
        .expect("backdate");
    let (reseller, referrer) = (partner(), partner());
    t.join_as(
        &reseller,
        program,
        "reseller.example",
        PartnerType::Reseller,
    )
    .await;
    t.join_as(
        &referrer,
        program,
        "referrer.example",
        PartnerType::Referral,
    )
    .await;
    let deal = Uuid::now_v7();
    let event = won(pid(&reseller), deal, 1_234_567);
    t.dealreg.publish("deal.won", &event, &event.event_id).await;
    t.dealreg
        .publish(
            "deal.won",
            &won(pid(&referrer), Uuid::now_v7(), 200_000),
            "referral",
        )
        .await;
    let earned = eventually(Duration::from_secs(15), || async {
        let r = t.commissions_of(&reseller).await;
        let f = t.commissions_of(&referrer).await;
        (r.len() == 1 && f.len() == 1).then_some((r, f))
    })
    .await
    .expect("both earned");
    let (r, f) = earned;
    assert_eq!(r[0].amount.as_ref().expect("amount").amount_minor, 123_457); // 10%, half up
    assert_eq!(r[0].deal_registration_id, deal.to_string());
    assert!(
        r[0].basis.starts_with("reseller margin 1000 bps"),
        "{}",
        r[0].basis
    );
    assert_eq!(f[0].amount.as_ref().expect("amount").amount_minor, 10_000); // 5%
    assert!(
        f[0].basis.starts_with("referral fee 500 bps"),
        "{}",
        f[0].basis
    );

    // The same event again (redelivered by the relay) is seen and skipped;
    // another event for the same deal earns nothing more either.
    let consumer = t.svc.consumer("dealreg");
    let before = consumer.redeliveries.load(Ordering::Relaxed);
    t.dealreg
        .publish("deal.won", &event, "a-second-publish")
        .await;
    let seen = eventually(Duration::from_secs(15), || async {
        (consumer.redeliveries.load(Ordering::Relaxed) > before).then_some(())
    })
    .await;
    assert!(seen.is_some(), "the duplicate was delivered");
    let applied = consumer.applied.load(Ordering::Relaxed);
    let again = won(pid(&reseller), deal, 1_234_567);
    t.dealreg.publish("deal.won", &again, &again.event_id).await;
    eventually(Duration::from_secs(15), || async {
        (consumer.applied.load(Ordering::Relaxed) > applied).then_some(())
    })
    .await
    .expect("the second event was applied");
    assert_eq!(t.commissions_of(&reseller).await.len(), 1);
    let entries: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ledger_entries WHERE partner_id = $1")
            .bind(pid(&reseller))
            .fetch_one(&t.pool)
            .await
            .expect("count");
    assert_eq!(entries, 1);
}
