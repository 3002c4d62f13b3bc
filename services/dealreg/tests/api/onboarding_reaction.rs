//! Onboarding reacts to deal registration's events through real NATS: an
//! approved first deal completes the partner's checklist item, and a won
//! deal counts toward its tier.

use std::sync::atomic::Ordering;
use std::time::Duration;

use prm_proto::dealreg::WinRegistrationRequest;
use prm_proto::onboarding::{
    ChecklistItemKind, EvaluatePartnerTierRequest, GetOnboardingChecklistRequest,
};
use prm_runtime::testing::eventually;
use prm_runtime::testing::grpc::as_of;

use crate::helpers::*;

#[tokio::test]
async fn onboarding_sees_the_first_deal_and_the_revenue_won() {
    let p = platform().await;
    let partner = p.partner("theta-reseller.example").await;
    let partner_id = partner.partner_id.expect("partner").to_string();
    let r = p
        .submit(&partner, "Cyberdyne", "cyberdyne.com")
        .await
        .expect("submitted");
    p.approve(&r.id).await.expect("approved");

    let first_deal_done = eventually(Duration::from_secs(20), || {
        let mut c = p.onboarding();
        let req = as_of(
            GetOnboardingChecklistRequest {
                partner_id: partner_id.clone(),
            },
            &p.admin,
        );
        async move {
            let checklist = c
                .get_onboarding_checklist(req)
                .await
                .ok()?
                .into_inner()
                .checklist?;
            checklist
                .items
                .iter()
                .any(|i| i.kind == ChecklistItemKind::FirstDealRegistered as i32 && i.done)
                .then_some(())
        }
    })
    .await;
    assert!(
        first_deal_done.is_some(),
        "onboarding never saw the approved deal"
    );

    p.client()
        .win_registration(as_of(
            WinRegistrationRequest {
                registration_id: r.id.clone(),
                amount: Some(eur(4_200_000)),
            },
            &partner,
        ))
        .await
        .expect("won");
    let counted = eventually(Duration::from_secs(20), || {
        let mut c = p.onboarding();
        let req = as_of(
            EvaluatePartnerTierRequest {
                partner_id: partner_id.clone(),
                what_if: None,
            },
            &p.admin,
        );
        async move {
            let metrics = c
                .evaluate_partner_tier(req)
                .await
                .ok()?
                .into_inner()
                .evaluation?
                .metrics?;
            (metrics.deals_won == 1 && metrics.revenue_won == Some(eur(4_200_000))).then_some(())
        }
    })
    .await;
    assert!(counted.is_some(), "onboarding never counted the won deal");
    // Onboarding applied the approval and the win, each once, and let the
    // registration event pass without a transaction or an inbox row.
    let consumer = p.onboarding.consumer("dealreg");
    let applied = consumer.applied.load(Ordering::Relaxed);
    let ignored = consumer.ignored.load(Ordering::Relaxed);
    assert_eq!((applied, ignored), (2, 1), "{consumer:?}");
    let onboarding_db = sqlx::PgPool::connect(&p.onboarding.db.url)
        .await
        .expect("onboarding db");
    let inbox: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox")
        .fetch_one(&onboarding_db)
        .await
        .expect("inbox");
    assert_eq!(inbox, 2);
}
