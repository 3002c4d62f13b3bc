//! The partners' status MDF keeps from onboarding's events, through real
//! NATS: a suspended or terminated partner can neither request nor claim
//! MDF; reactivated, it can again.

use std::time::Duration;

use prm_proto::events::{EventEnvelope, PartnerReactivated, PartnerSuspended, PartnerTerminated};
use prm_runtime::Principal;
use prm_runtime::testing::grpc::{assert_code, reason};
use prm_runtime::testing::{EventStream, SpawnOptions, eventually, nats_url, unique_namespace};
use prost::{Message, Name};
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

async fn announce<M: Message + Name>(
    stream: &EventStream,
    partner: &Principal,
    subject: &str,
    event: M,
    version: i64,
) {
    let id = partner.partner_id.expect("a partner").to_string();
    let envelope = EventEnvelope {
        event_id: Uuid::now_v7().to_string(),
        r#type: M::full_name(),
        occurred_at: None,
        producer: "onboarding".into(),
        partner_id: id.clone(),
        aggregate_type: "partner".into(),
        aggregate_id: id,
        aggregate_version: version,
        payload: event.encode_to_vec(),
    };
    stream.publish(subject, &envelope, &envelope.event_id).await;
}

async fn status_becomes(t: &TestMdf, partner: &Principal, want: &str) {
    let (pool, id) = (t.pool.clone(), partner.partner_id.expect("a partner"));
    let seen = eventually(Duration::from_secs(10), || {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT status FROM partners WHERE partner_id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .ok()
                .filter(|s| s == want)
        }
    })
    .await;
    assert_eq!(seen.as_deref(), Some(want), "the directory hears of it");
}

#[tokio::test]
async fn a_suspended_or_terminated_partner_cannot_request_or_claim_mdf() {
    let namespace = unique_namespace();
    let onboarding = EventStream::open(&nats_url(), &namespace, "onboarding").await;
    let t = mdf_with(SpawnOptions {
        namespace: Some(namespace),
        ..Default::default()
    })
    .await;
    let p = partner();
    let id = partner_id(&p);
    let fund = t.fund(&p, 100_000).await;
    // Approved before the suspension: its claim is refused too.
    let approved = t.approved(&p, &fund, 10_000).await;

    let suspended = PartnerSuspended {
        partner_id: id.clone(),
        ..Default::default()
    };
    announce(&onboarding, &p, "partner.suspended", suspended, 2).await;
    status_becomes(&t, &p, "suspended").await;
    let requests_before = t.count("SELECT count(*) FROM mdf_requests").await;
    let s = assert_code(
        t.submit(&p, activity(&fund.id, 5_000)).await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&s), "PARTNER_NOT_ACTIVE");
    assert!(s.message().contains("suspended"), "{}", s.message());
    // Staff acting for the partner are refused as well: the rule is the
    // partner's, not the caller's.
    let s = assert_code(
        t.submit(&t.marketing, activity(&fund.id, 5_000)).await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&s), "PARTNER_NOT_ACTIVE");
    let s = assert_code(
        t.claim(&p, claim_for(&approved.id, 9_000, "INV-1")).await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&s), "PARTNER_NOT_ACTIVE");
    assert_eq!(
        t.count("SELECT count(*) FROM mdf_requests").await,
        requests_before,
        "nothing stored"
    );
    assert_eq!(t.count("SELECT count(*) FROM claims").await, 0);

    let reactivated = PartnerReactivated {
        partner_id: id.clone(),
        ..Default::default()
    };
    announce(&onboarding, &p, "partner.reactivated", reactivated, 3).await;
    status_becomes(&t, &p, "active").await;
    t.submit(&p, activity(&fund.id, 5_000))
        .await
        .expect("an active partner's request");
    t.claim(&p, claim_for(&approved.id, 9_000, "INV-1"))
        .await
        .expect("an active partner's claim");

    let terminated = PartnerTerminated {
        partner_id: id,
        ..Default::default()
    };
    announce(&onboarding, &p, "partner.terminated", terminated, 4).await;
    status_becomes(&t, &p, "terminated").await;
    let s = assert_code(
        t.submit(&p, activity(&fund.id, 5_000)).await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&s), "PARTNER_NOT_ACTIVE");
    assert!(s.message().contains("terminated"), "{}", s.message());
}
