//! Attribution credit: models, shares under the model in force when a
//! deal was won, exact sums, and shares that do not depend on the order
//! the streams arrive in.

use chrono::{Duration, Utc};
use prm_proto::common::PartnerType;
use prm_proto::reporting::*;
use prm_runtime::Role;
use prm_runtime::testing::grpc::{as_of, assert_code, bad_fields};
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

fn model(name: &str, sourced: i32, influencer: i32, direct: i32) -> CreateAttributionModelRequest {
    CreateAttributionModelRequest {
        name: name.into(),
        sourced_bps: sourced,
        influencer_bps: influencer,
        direct_bps: direct,
        window_days: 30,
        effective_from: None,
    }
}

fn shares(a: &DealAttribution) -> Vec<(i32, String, i64)> {
    a.shares
        .iter()
        .map(|s| {
            (
                s.role,
                s.partner_id.clone(),
                s.amount.as_ref().expect("amount").amount_minor,
            )
        })
        .collect()
}

#[tokio::test]
async fn models_are_validated_versioned_and_only_for_staff() {
    let t = reporting().await;
    let client = t.client();
    let s = assert_code(
        client
            .clone()
            .create_attribution_model(as_of(model("Split", 7_000, 2_000, 0), &t.admin))
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&s), vec!["sourced_bps"]);
    assert!(s.message().contains("10000"), "{}", s.message());
    let mut bad = model("", 7_000, 3_000, 0);
    bad.window_days = 366;
    bad.effective_from = ts(Utc::now() - Duration::days(1));
    let s = assert_code(
        client
            .clone()
            .create_attribution_model(as_of(bad, &t.admin))
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(
        bad_fields(&s),
        vec!["name", "window_days", "effective_from"]
    );
    assert_code(
        client
            .clone()
            .create_attribution_model(as_of(
                model("Split", 7_000, 3_000, 0),
                &staff(Role::Analyst),
            ))
            .await,
        Code::PermissionDenied,
    );
    assert_code(
        client
            .clone()
            .list_attribution_models(as_of(
                ListAttributionModelsRequest::default(),
                &partner_user(Uuid::now_v7()),
            ))
            .await,
        Code::PermissionDenied,
    );
    for n in 0..2 {
        let m = client
            .clone()
            .create_attribution_model(as_of(model("Split", 7_000, 3_000, 0), &t.admin))
            .await
            .expect("model")
            .into_inner()
            .model
            .expect("model");
        assert_eq!(m.version, n + 1);
        assert_eq!(m.window_days, 30);
    }
    let listed = client
        .clone()
        .list_attribution_models(as_of(ListAttributionModelsRequest::default(), &t.admin))
        .await
        .expect("list")
        .into_inner()
        .models;
    assert_eq!(
        listed.iter().map(|m| m.version).collect::<Vec<_>>(),
        vec![1, 2]
    );
}

#[tokio::test]
async fn influenced_pipeline_counts_within_the_window_of_the_model_in_force() {
    let t = reporting().await;
    let program = Uuid::now_v7();
    let (reseller, referrer, stranger) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    for (p, kind) in [
        (reseller, PartnerType::Reseller),
        (referrer, PartnerType::Referral),
        (stranger, PartnerType::Affiliate),
    ] {
        t.approve(p, program, "Gold", kind, Utc::now() - Duration::days(60))
            .await;
    }
    // A 30-day window, in force from now: narrower than the built-in 90.
    t.client()
        .create_attribution_model(as_of(model("Narrow", 7_000, 3_000, 0), &t.admin))
        .await
        .expect("model");
    let registered = Utc::now() + Duration::minutes(1);
    t.convert(
        referrer,
        "window.example",
        None,
        registered - Duration::days(10),
    )
    .await;
    t.convert(
        stranger,
        "window.example",
        None,
        registered - Duration::days(40),
    )
    .await;
    t.register(reseller, "window.example", 100_000, registered)
        .await;
    t.settle().await;
    let period = registered.format("%Y-%m").to_string();
    let influenced = |c: Scorecard| c.figures.expect("figures").influenced_pipeline_minor;
    assert_eq!(influenced(t.scorecard(referrer, &period).await), 100_000);
    // 40 days before: inside the built-in window, outside the model's.
    assert_eq!(influenced(t.scorecard(stranger, &period).await), 0);
}

#[tokio::test]
async fn a_conversion_and_a_registration_applied_at_once_still_meet() {
    let t = reporting().await;
    let program = Uuid::now_v7();
    let (reseller, referrer) = (Uuid::now_v7(), Uuid::now_v7());
    for (p, kind) in [
        (reseller, PartnerType::Reseller),
        (referrer, PartnerType::Referral),
    ] {
        t.approve(p, program, "Gold", kind, Utc::now() - Duration::days(60))
            .await;
    }
    // Each pair on two streams, with no settling between: the two
    // consumers apply a conversion and the registration it influenced at
    // the same time.
    let registered = Utc::now() + Duration::minutes(1);
    for n in 0..40 {
        let domain = format!("race-{n}.example");
        t.convert(referrer, &domain, None, registered - Duration::days(1))
            .await;
        t.register(reseller, &domain, 1_000, registered).await;
    }
    t.settle().await;
    let period = registered.format("%Y-%m").to_string();
    let card = t.scorecard(referrer, &period).await;
    assert_eq!(
        card.figures.expect("figures").influenced_pipeline_minor,
        40_000
    );
}

#[tokio::test]
async fn a_won_deal_is_shared_under_the_model_in_force_summing_exactly() {
    let t = reporting().await;
    let program = Uuid::now_v7();
    let (reseller, referrer, affiliate, stranger) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    for (p, kind) in [
        (reseller, PartnerType::Reseller),
        (referrer, PartnerType::Referral),
        (affiliate, PartnerType::Affiliate),
        (stranger, PartnerType::Affiliate),
    ] {
        t.approve(p, program, "Gold", kind, oct(1, 0)).await;
    }
    // A deal won before any model: the registering partner gets it all.
    let before = t
        .register(reseller, "early.example", 1_000, oct(2, 0))
        .await;
    t.win(reseller, before, "early.example", 1_000, "", oct(3, 0))
        .await;
    t.settle().await;
    let early = t.attribution(before).await;
    assert_eq!(early.model_version, 0);
    assert_eq!(
        shares(&early),
        vec![(ShareRole::Sourced as i32, reseller.to_string(), 1_000)]
    );

    // 60 / 30 / 10, effective now: deals won from now on use it.
    let m = t
        .client()
        .create_attribution_model(as_of(model("Channel", 6_000, 3_000, 1_000), &t.admin))
        .await
        .expect("model")
        .into_inner()
        .model
        .expect("model");
    let now = Utc::now();
    // Two partners converted the customer within 30 days before the
    // registration; a third converted 40 days before (outside); the
    // registering partner's own conversion does not make it an
    // influencer.
    t.convert(referrer, "acme.example", None, now - Duration::days(10))
        .await;
    t.convert(
        affiliate,
        "acme.example",
        Some(500),
        now - Duration::days(5),
    )
    .await;
    t.convert(stranger, "acme.example", None, now - Duration::days(40))
        .await;
    t.convert(reseller, "acme.example", None, now - Duration::days(2))
        .await;
    let deal = t
        .register(reseller, "acme.example", 100_000, now - Duration::days(1))
        .await;
    t.win(
        reseller,
        deal,
        "acme.example",
        100_003,
        "",
        now + Duration::seconds(1),
    )
    .await;
    t.settle().await;

    let a = t.attribution(deal).await;
    assert_eq!((a.model_id.as_str(), a.model_version), (m.id.as_str(), 1));
    assert!(a.rounding.contains("largest remainder"), "{}", a.rounding);
    // 60,001.8 / 15,000.45 / 15,000.45 / 10,000.3: two units left over,
    // to the largest remainders (.8, then the earlier .45).
    assert_eq!(
        shares(&a),
        vec![
            (ShareRole::Sourced as i32, reseller.to_string(), 60_002),
            (ShareRole::Influencer as i32, referrer.to_string(), 15_001),
            (ShareRole::Influencer as i32, affiliate.to_string(), 15_000),
            (ShareRole::Direct as i32, String::new(), 10_000),
        ]
    );
    assert_eq!(
        a.shares
            .iter()
            .map(|s| s.amount.as_ref().expect("amount").amount_minor)
            .sum::<i64>(),
        100_003
    );
    assert!(
        a.shares.iter().all(|s| !s.reason.is_empty()),
        "every share says why"
    );
    // The deal won before the model keeps its credit.
    assert_eq!(t.attribution(before).await.model_version, 0);

    // A partner sees only its own share; a partner without one, nothing.
    let mine = t
        .client()
        .get_deal_attribution(as_of(
            GetDealAttributionRequest {
                deal_registration_id: deal.to_string(),
            },
            &partner_user(referrer),
        ))
        .await
        .expect("own share")
        .into_inner()
        .attribution
        .expect("attribution");
    assert_eq!(
        shares(&mine),
        vec![(ShareRole::Influencer as i32, referrer.to_string(), 15_001)]
    );
    assert_code(
        t.client()
            .get_deal_attribution(as_of(
                GetDealAttributionRequest {
                    deal_registration_id: deal.to_string(),
                },
                &partner_user(stranger),
            ))
            .await,
        Code::NotFound,
    );
    let s = assert_code(
        t.client()
            .get_deal_attribution(as_of(
                GetDealAttributionRequest {
                    deal_registration_id: "deal-1".into(),
                },
                &t.admin,
            ))
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&s), vec!["deal_registration_id"]);
    assert_code(
        t.client()
            .get_deal_attribution(as_of(
                GetDealAttributionRequest {
                    deal_registration_id: Uuid::now_v7().to_string(),
                },
                &t.admin,
            ))
            .await,
        Code::NotFound,
    );

    // A conversion that arrives after the deal was credited (its stream
    // lagging) changes the shares as if it had come first.
    let late = t
        .register(reseller, "late.example", 10_000, now - Duration::days(1))
        .await;
    t.win(
        reseller,
        late,
        "late.example",
        10_000,
        "",
        now + Duration::seconds(2),
    )
    .await;
    t.settle().await;
    assert_eq!(
        t.attribution(late).await.shares.len(),
        2,
        "sourced and direct"
    );
    t.convert(referrer, "late.example", None, now - Duration::days(3))
        .await;
    t.settle().await;
    assert_eq!(
        shares(&t.attribution(late).await),
        vec![
            (ShareRole::Sourced as i32, reseller.to_string(), 6_000),
            (ShareRole::Influencer as i32, referrer.to_string(), 3_000),
            (ShareRole::Direct as i32, String::new(), 1_000),
        ]
    );
    // The scorecards' credited revenue follows the shares as they are now
    // (the late deal's 9,000 went back from the reseller to the referrer).
    let month = now.format("%Y-%m").to_string();
    let credited = |p| {
        let (t, month) = (&t, month.clone());
        async move {
            t.scorecard(p, &month)
                .await
                .figures
                .expect("figures")
                .credited_revenue_minor
        }
    };
    assert_eq!(credited(referrer).await, 15_001 + 3_000);
    assert_eq!(credited(reseller).await, 60_002 + 6_000);
    assert_eq!(credited(affiliate).await, 15_000);
}
