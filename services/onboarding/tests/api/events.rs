//! The outbox and its relay on real JetStream: envelopes, a NATS outage
//! with a restart in the middle, and two replicas on one database.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull};
use futures::StreamExt;
use prm_proto::common::PartnerType;
use prm_proto::events::{EventEnvelope, PartnerApproved};
use prm_proto::onboarding::*;
use prm_runtime::nats::Subjects;
use prm_runtime::testing::{self, NatsServer};
use prost::{Message, Name};
use tonic_health::pb::health_check_response::ServingStatus;
use uuid::Uuid;

use crate::helpers::*;

/// Every message in the service's stream: event id (from `Nats-Msg-Id`) and envelope.
async fn stream_messages(
    nats_url: &str,
    namespace: &str,
    expected: usize,
) -> Vec<(String, EventEnvelope)> {
    let client = async_nats::connect(nats_url).await.expect("nats");
    let js = jetstream::new(client);
    let stream = js
        .get_stream(Subjects::new(namespace).stream_name("onboarding"))
        .await
        .expect("stream exists");
    let consumer: jetstream::consumer::Consumer<pull::OrderedConfig> = stream
        .create_consumer(pull::OrderedConfig {
            ..Default::default()
        })
        .await
        .expect("ordered consumer");
    let mut messages = consumer.messages().await.expect("messages");
    let mut out = Vec::new();
    // Read until the stream goes quiet, and at least `expected` arrived.
    let wait = |n: usize| Duration::from_millis(if n >= expected { 500 } else { 10_000 });
    while let Ok(Some(Ok(m))) = tokio::time::timeout(wait(out.len()), messages.next()).await {
        let id = m
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id"))
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default();
        out.push((
            id,
            EventEnvelope::decode(m.payload.as_ref()).expect("envelope"),
        ));
    }
    out
}

async fn outbox_ids(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar::<_, Uuid>("SELECT event_id FROM outbox ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .expect("ids")
        .into_iter()
        .map(|u| u.to_string())
        .collect()
}

/// Every outbox event is in the stream exactly once, and nothing else is.
async fn assert_stream_matches_outbox(app: &TestApp) {
    assert!(app.outbox_drained().await, "outbox did not drain");
    let ids = outbox_ids(app).await;
    let msgs = stream_messages(&app.nats_url, &app.namespace, ids.len()).await;
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (id, env) in &msgs {
        assert_eq!(id, &env.event_id, "Nats-Msg-Id is the event id");
        *counts.entry(id.as_str()).or_default() += 1;
    }
    assert_eq!(msgs.len(), ids.len(), "one message per outbox event");
    for id in &ids {
        assert_eq!(
            counts.get(id.as_str()),
            Some(&1),
            "event {id} published exactly once"
        );
    }
}

#[tokio::test]
async fn approval_publishes_an_enveloped_event() {
    let app = spawn_app().await;
    let program = app.program("Channel").await;
    let p = app
        .partner(&program, "acme.example", PartnerType::Reseller)
        .await;
    assert!(app.outbox_drained().await);
    let ids = outbox_ids(&app).await;
    let msgs = stream_messages(&app.nats_url, &app.namespace, ids.len()).await;
    let (_, env) = msgs
        .iter()
        .find(|(_, e)| e.r#type == PartnerApproved::full_name())
        .expect("partner approved");
    assert_eq!(env.producer, "onboarding");
    assert_eq!(env.partner_id, p.id);
    assert_eq!(env.aggregate_type, "partner");
    assert_eq!(env.aggregate_id, p.id);
    assert_eq!(env.aggregate_version, 1);
    assert!(env.occurred_at.is_some());
    let payload = PartnerApproved::decode(env.payload.as_slice()).expect("payload");
    assert_eq!(payload.domain, "acme.example");
    assert_eq!(payload.tier_name, "registered");
    assert_eq!(payload.approved_by_user_id, app.admin.user_id.to_string());
}

/// NATS goes down while onboarding keeps changing state, and the service
/// itself restarts during the outage. Once NATS is back every event arrives,
/// once.
#[tokio::test]
async fn events_survive_a_nats_outage_and_a_restart() {
    let mut nats = NatsServer::start().await;
    let db = testing::fresh_database().await;
    let namespace = testing::unique_namespace();
    let opts = Spawn {
        db: Some(db.clone()),
        namespace: Some(namespace.clone()),
        nats_url: Some(nats.url()),
        no_wait: false,
    };
    let mut app = spawn(opts.clone()).await;
    let program = app.program("Channel").await;
    let p = app
        .partner(&program, "before.example", PartnerType::Reseller)
        .await;
    assert!(app.outbox_drained().await);
    let before = app.relay.published.load(Ordering::Relaxed);
    assert!(before > 0);

    nats.stop().await;
    // The service notices and stops reporting SERVING.
    let unhealthy = testing::eventually(Duration::from_secs(15), || async {
        (app.health("").await == ServingStatus::NotServing as i32).then_some(())
    })
    .await;
    assert!(unhealthy.is_some(), "NOT_SERVING while NATS is down");

    // State keeps changing; events queue in the outbox.
    let mut c = app.client();
    c.suspend_partner(as_of(
        SuspendPartnerRequest {
            partner_id: p.id.clone(),
            reason: "outage test".into(),
        },
        &app.admin,
    ))
    .await
    .expect("suspend during outage");
    for i in 0..5 {
        app.submit(
            &format!("During {i}"),
            &format!("during{i}.example"),
            PartnerType::Referral,
        )
        .await;
    }
    let pending = app
        .count("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        .await;
    assert_eq!(pending, 6);

    // The service restarts while NATS is still down.
    app.stop()
        .await
        .expect("clean stop despite NATS being down");
    let app2 = spawn(Spawn {
        no_wait: true,
        ..opts.clone()
    })
    .await;
    c = app2.client();
    tokio::time::sleep(Duration::from_millis(300)).await;
    app2.submit("After restart", "restart.example", PartnerType::Si)
        .await;
    assert_eq!(
        app2.count("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            .await,
        7
    );

    nats.start_again().await;
    app2.wait_serving().await;
    assert_stream_matches_outbox(&app2).await;
    let _ = &mut c;
    drop(nats);
}

/// Two instances relay from one database: nothing is published twice and
/// nothing is lost.
#[tokio::test]
async fn two_instances_publish_each_event_once() {
    let db = testing::fresh_database().await;
    let namespace = testing::unique_namespace();
    let a = spawn(Spawn {
        db: Some(db.clone()),
        namespace: Some(namespace.clone()),
        ..Default::default()
    })
    .await;
    let b = spawn(Spawn {
        db: Some(db.clone()),
        namespace: Some(namespace.clone()),
        ..Default::default()
    })
    .await;
    let program = a.program("Channel").await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let target = if i % 2 == 0 { a.client() } else { b.client() };
        tasks.push(tokio::spawn(async move {
            let mut c = target;
            c.submit_application(req(
                SubmitApplicationRequest {
                    company_name: format!("Co {i}"),
                    domain: format!("co{i}.example"),
                    country: "NL".into(),
                    partner_type: PartnerType::Affiliate as i32,
                    contact_name: "C".into(),
                    contact_email: format!("c@co{i}.example"),
                },
                None,
                None,
            ))
            .await
            .expect("submit")
        }));
    }
    for t in tasks {
        t.await.expect("join");
    }
    b.partner(&program, "both.example", PartnerType::Reseller)
        .await;
    assert_stream_matches_outbox(&a).await;
    let published =
        a.relay.published.load(Ordering::Relaxed) + b.relay.published.load(Ordering::Relaxed);
    let duplicates =
        a.relay.duplicates.load(Ordering::Relaxed) + b.relay.duplicates.load(Ordering::Relaxed);
    let total = a.count("SELECT count(*) FROM outbox").await as u64;
    assert_eq!(
        published, total,
        "each event relayed by exactly one instance"
    );
    assert_eq!(duplicates, 0, "no publish was a JetStream duplicate");
}
