//! Applied once, rebuilt the same, and lag that shows.

use std::sync::atomic::Ordering;
use std::time::Duration;

use prm_proto::common::PartnerType;
use prm_proto::events as ev;
use prm_proto::reporting::*;
use prm_runtime::testing::eventually;
use prm_runtime::testing::grpc::as_of;
use uuid::Uuid;

use crate::helpers::*;
use crate::scorecards::reseller_october;

/// Everything the read models answer for the two partners.
async fn snapshot(t: &TestReporting, a: Uuid, b: Uuid, deals: &[Uuid]) -> String {
    let mut out = Vec::new();
    for p in [a, b] {
        for period in ["2026-09", "2026-10", "2026-W42", "2026-Q4"] {
            out.push(format!("{:?}", t.scorecard(p, period).await.figures));
        }
    }
    for g in [GroupBy::Tier, GroupBy::PartnerType] {
        out.push(format!("{:?}", t.program(g, "2026-10").await.groups));
    }
    for d in deals {
        out.push(format!("{:?}", t.attribution(*d).await.shares));
    }
    out.join("\n")
}

#[tokio::test]
async fn redelivered_events_count_once_and_a_rebuild_gives_the_same_figures() {
    let t = reporting().await;
    let (a, b, program) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    reseller_october(&t, a, b, program).await;
    // A deal B wins that A influenced, under a 70/30 model.
    t.client()
        .create_attribution_model(as_of(
            CreateAttributionModelRequest {
                name: "70/30".into(),
                sourced_bps: 7_000,
                influencer_bps: 3_000,
                ..Default::default()
            },
            &t.admin,
        ))
        .await
        .expect("model");
    let now = chrono::Utc::now();
    t.convert(a, "shared.example", None, now - chrono::Duration::days(4))
        .await;
    let deal = t
        .register(b, "shared.example", 50_000, now - chrono::Duration::days(1))
        .await;
    let won = t
        .emit(
            "dealreg",
            "deal.won",
            About {
                partner: Some(b),
                aggregate_type: "deal_registration",
                aggregate_id: deal,
                version: 3,
                at: now,
            },
            &ev::DealWon {
                deal_registration_id: deal.to_string(),
                partner_id: b.to_string(),
                amount: usd(50_001),
                won_at: ts(now),
                customer_domain: "shared.example".into(),
                ..Default::default()
            },
        )
        .await;
    t.settle().await;
    let before = snapshot(&t, a, b, &[deal]).await;

    // The same event again (a republish JetStream does not deduplicate):
    // the inbox skips it.
    let redelivered = t
        .svc
        .consumer("dealreg")
        .redeliveries
        .load(Ordering::Relaxed);
    t.redeliver("dealreg", "deal.won", &won).await;
    let seen = eventually(Duration::from_secs(20), || async {
        (t.svc
            .consumer("dealreg")
            .redeliveries
            .load(Ordering::Relaxed)
            > redelivered)
            .then_some(())
    })
    .await;
    assert!(seen.is_some(), "the redelivery reached the consumer");
    t.settle().await;
    assert_eq!(snapshot(&t, a, b, &[deal]).await, before);
    let shares: Vec<i64> = t
        .attribution(deal)
        .await
        .shares
        .iter()
        .map(|s| s.amount.as_ref().expect("amount").amount_minor)
        .collect();
    assert_eq!(shares, vec![35_001, 15_000], "70/30 of 50,001");

    // Rebuild: the read models are emptied and replayed from every
    // stream, and say the same.
    let applied_before = t.svc.consumer("dealreg").applied.load(Ordering::Relaxed);
    let rebuilt = t
        .client()
        .rebuild_read_models(as_of(RebuildReadModelsRequest {}, &t.admin))
        .await
        .expect("rebuild")
        .into_inner();
    assert_eq!(rebuilt.sources.len(), 4);
    t.settle().await;
    let after = eventually(Duration::from_secs(30), || async {
        let now = snapshot(&t, a, b, &[deal]).await;
        (now == before).then_some(now)
    })
    .await;
    assert_eq!(after.as_deref(), Some(before.as_str()), "rebuilt figures");
    // Every deal event was applied again (the stream holds 19 of them and
    // the redelivered copy, which the inbox skips once more).
    let lag = t.lag().await;
    let dealreg = lag.iter().find(|s| s.source == "dealreg").expect("dealreg");
    assert_eq!(dealreg.stream_last_sequence, 20, "{dealreg:?}");
    let applied_again = t.svc.consumer("dealreg").applied.load(Ordering::Relaxed) - applied_before;
    assert_eq!(
        applied_again, 19,
        "the replay applied every deal event once"
    );
}

#[tokio::test]
async fn lag_counts_the_events_not_yet_applied_and_their_age() {
    let t = reporting().await;
    let partner = Uuid::now_v7();
    t.approve(
        partner,
        Uuid::now_v7(),
        "Gold",
        PartnerType::Reseller,
        oct(1, 0),
    )
    .await;
    t.settle().await;
    assert!(t.lag().await.iter().all(|s| s.lag_seconds == 0.0));

    // An event an hour old that cannot be applied (its deal id is not an
    // id) stays unacknowledged while it is retried: the lag shows it.
    let hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    t.emit(
        "dealreg",
        "deal.won",
        About {
            partner: Some(partner),
            aggregate_type: "deal_registration",
            aggregate_id: Uuid::now_v7(),
            version: 3,
            at: hour_ago,
        },
        &ev::DealWon {
            deal_registration_id: "not-an-id".into(),
            partner_id: partner.to_string(),
            amount: usd(1),
            won_at: ts(hour_ago),
            ..Default::default()
        },
    )
    .await;
    let lagging = eventually(Duration::from_secs(20), || async {
        t.lag()
            .await
            .into_iter()
            .find(|s| s.source == "dealreg" && s.pending_events >= 1)
    })
    .await
    .expect("the stuck event shows as lag");
    assert!(
        lagging.lag_seconds >= 3_500.0,
        "about an hour behind: {lagging:?}"
    );
    let onboarding = t.lag().await.into_iter().find(|s| s.source == "onboarding");
    assert_eq!(onboarding.map(|s| s.pending_events), Some(0));
}
