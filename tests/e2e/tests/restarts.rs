//! No request fails because a process stops or a connection is recycled.
//!
//! Each test puts the gateway under load from 16 clients (reads, writes,
//! and writes with an Idempotency-Key) while something restarts, then
//! counts what the clients got and prints it. The assertions are counts:
//! answers of 5xx, requests broken on an open connection, and the writes
//! answered 2xx, each of which must be stored and published exactly once.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull};
use futures::StreamExt;
use prm_e2e::balancer::Balancer;
use prm_e2e::load::{self, Recorder, Tally};
use prm_e2e::{ADMIN_KEY, RunningGateway, gateway_settings};
use prm_onboarding::testing::{RunningService, SpawnOptions};
use prm_proto::events::{ApplicationSubmitted, EventEnvelope};
use prm_runtime::config::RuntimeSettings;
use prm_runtime::nats::Subjects;
use prm_runtime::testing::{TestDatabase, eventually};
use prost::{Message, Name};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const CLIENTS: usize = 16;

fn free_port() -> u16 {
    StdTcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Where one onboarding replica runs, so that it can be started again in
/// the same place (same port, database and namespace).
#[derive(Clone)]
struct Replica {
    port: u16,
    db: Option<TestDatabase>,
    namespace: Option<String>,
    max_connection_age_secs: u64,
    drain_delay_ms: u64,
}

impl Replica {
    fn new(drain_delay_ms: u64) -> Self {
        Self {
            port: free_port(),
            db: None,
            namespace: None,
            max_connection_age_secs: 300,
            drain_delay_ms,
        }
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// A replica beside this one: same database and namespace, own port.
    fn sibling(&self) -> Self {
        Self {
            port: free_port(),
            ..self.clone()
        }
    }

    async fn start(&mut self) -> RunningService {
        let (port, age, drain) = (self.port, self.max_connection_age_secs, self.drain_delay_ms);
        let service = prm_onboarding::testing::spawn(SpawnOptions {
            db: self.db.clone(),
            namespace: self.namespace.clone(),
            tweak: Some(Arc::new(move |s: &mut RuntimeSettings| {
                s.grpc.port = port;
                s.grpc.max_connection_age_secs = age;
                s.grpc.drain_delay_ms = drain;
            })),
            ..SpawnOptions::default()
        })
        .await;
        self.db = Some(service.db.clone());
        self.namespace = Some(service.namespace.clone());
        service.wait_serving().await;
        service
    }
}

async fn gateway(upstream: &str) -> RunningGateway {
    let mut settings = prm_gateway::GatewaySettings::default();
    settings.http.port = 0;
    settings
        .upstreams
        .insert("onboarding".into(), upstream.to_owned());
    settings.rate_limit.public_per_minute = 1_000_000;
    settings.rate_limit.per_key_per_second = 1_000_000;
    settings.rate_limit.per_key_burst = 1_000_000;
    RunningGateway::start(settings).await
}

/// A partner to read, created through the gateway.
#[derive(Clone)]
struct Partner {
    id: String,
    key: String,
}

async fn partner(http: &reqwest::Client, gw: &RunningGateway) -> Partner {
    let post = |path: &str, key: Option<&str>, body: Value| {
        let mut req = http.post(gw.url(path)).json(&body);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        async move {
            let res = req.send().await.expect("request");
            assert!(res.status().is_success(), "{}", res.status());
            res.json::<Value>().await.expect("json")
        }
    };
    let program = post(
        "/v1/programs",
        Some(ADMIN_KEY),
        json!({"name": "Resellers", "currency": "EUR"}),
    )
    .await;
    let program = program["id"].as_str().expect("id").to_owned();
    post(
        &format!("/v1/programs/{program}/tiers"),
        Some(ADMIN_KEY),
        json!({"name": "registered", "rank": 0, "requirements": {"min_revenue_won": {"amount_minor": 0, "currency": "EUR"}, "min_deals_won": 0}}),
    )
    .await;
    let app = post("/v1/applications", None, application("reader", 0)).await;
    let approved = post(
        &format!(
            "/v1/applications/{}/approve",
            app["id"].as_str().expect("id")
        ),
        Some(ADMIN_KEY),
        json!({"program_id": program}),
    )
    .await;
    Partner {
        id: approved["partner"]["id"].as_str().expect("id").to_owned(),
        key: approved["admin_api_key"]["secret"]
            .as_str()
            .expect("key")
            .to_owned(),
    }
}

fn application(client: &str, n: usize) -> Value {
    let domain = format!("{client}-{n}-{:08x}.example", rand_u32());
    json!({
        "company_name": format!("{domain} Ltd"), "domain": domain, "country": "GB",
        "partner_type": "reseller", "contact_name": "Pat Partner", "contact_email": format!("pat@{domain}")
    })
}

fn rand_u32() -> u32 {
    uuid::Uuid::now_v7().as_u128() as u32
}

/// One client step: three reads of the partner, then a write, every
/// second one with an Idempotency-Key.
async fn step(
    http: reqwest::Client,
    base: String,
    partner: Partner,
    rec: Recorder,
    client: usize,
    n: usize,
) {
    if n % 4 != 3 {
        let sent = http
            .get(format!("{base}/v1/partners/{}", partner.id))
            .bearer_auth(&partner.key)
            .send()
            .await;
        rec.record(sent).await;
        return;
    }
    let mut req = http
        .post(format!("{base}/v1/applications"))
        .json(&application(&format!("c{client}"), n));
    if n % 8 == 7 {
        req = req.header("Idempotency-Key", format!("k-{client}-{n}-{}", rand_u32()));
    }
    if let Some(body) = rec.record(req.send().await).await {
        rec.written(body["id"].as_str().unwrap_or_default().to_owned());
    }
}

/// Drives load through `base` until `stop` is cancelled.
fn load(
    http: &reqwest::Client,
    base: String,
    partner: &Partner,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<Tally> {
    let (http, partner) = (http.clone(), partner.clone());
    tokio::spawn(load::drive(CLIENTS, stop, move |rec, client, n| {
        step(http.clone(), base.clone(), partner.clone(), rec, client, n)
    }))
}

/// Every write answered 2xx is one row in onboarding's database and one
/// `ApplicationSubmitted` event in its stream; no event is in it twice.
async fn assert_writes_stored_and_published_once(replica: &Replica, tally: &Tally) {
    assert!(!tally.written.is_empty(), "no write succeeded: {tally}");
    let db = replica.db.as_ref().expect("started");
    let pool = sqlx::PgPool::connect(&db.url).await.expect("pool");
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM applications WHERE id::text = ANY($1)")
            .bind(&tally.written)
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(
        stored as usize,
        tally.written.len(),
        "every 2xx write stored"
    );
    // Wait for the outbox to drain, then read the whole stream.
    let drained = eventually(Duration::from_secs(30), || {
        let pool = pool.clone();
        async move {
            let left: i64 =
                sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                    .fetch_one(&pool)
                    .await
                    .ok()?;
            (left == 0).then_some(())
        }
    })
    .await;
    assert!(drained.is_some(), "the outbox did not drain");
    let client = async_nats::connect(prm_runtime::testing::nats_url())
        .await
        .expect("nats");
    let stream = jetstream::new(client)
        .get_stream(
            Subjects::new(replica.namespace.clone().expect("started")).stream_name("onboarding"),
        )
        .await
        .expect("stream");
    let total = stream.cached_info().state.messages as usize;
    let consumer: jetstream::consumer::Consumer<pull::OrderedConfig> = stream
        .create_consumer(pull::OrderedConfig::default())
        .await
        .expect("consumer");
    let mut messages = consumer.messages().await.expect("messages");
    let mut by_event: HashMap<String, usize> = HashMap::new();
    let mut submitted: HashMap<String, usize> = HashMap::new();
    for _ in 0..total {
        let m = tokio::time::timeout(Duration::from_secs(10), messages.next())
            .await
            .expect("message in time")
            .expect("message")
            .expect("ok");
        let env = EventEnvelope::decode(m.payload.as_ref()).expect("envelope");
        *by_event.entry(env.event_id.clone()).or_default() += 1;
        if env.r#type == ApplicationSubmitted::full_name() {
            *submitted.entry(env.aggregate_id.clone()).or_default() += 1;
        }
    }
    assert!(
        by_event.values().all(|&n| n == 1),
        "an event is in the stream twice"
    );
    for id in &tally.written {
        assert_eq!(
            submitted.get(id),
            Some(&1),
            "application {id} published exactly once"
        );
    }
    println!(
        "{} writes answered 2xx: each stored once and published once ({} events in the stream)",
        tally.written.len(),
        total
    );
}

/// Connection recycling: the upstream closes every connection after 2 s
/// (GOAWAY), and no request sees it.
#[tokio::test]
async fn recycled_connections_fail_no_request() {
    let mut replica = Replica::new(200);
    replica.max_connection_age_secs = 2;
    let _onboarding = replica.start().await;
    let gw = gateway(&format!("http://{}", replica.addr())).await;
    let http = reqwest::Client::new();
    let partner = partner(&http, &gw).await;

    let stop = CancellationToken::new();
    let running = load(&http, gw.url(""), &partner, stop.clone());
    tokio::time::sleep(Duration::from_secs(15)).await;
    stop.cancel();
    let tally = running.await.expect("load");
    println!("recycling every 2 s: {tally}");
    assert!(tally.total() > 500, "too little load to tell: {tally}");
    assert_eq!(tally.errors(), 0, "{tally}");
    assert_writes_stored_and_published_once(&replica, &tally).await;
}

/// One replica, restarted three times under load: while it is gone the
/// gateway may answer 503 (with Retry-After), never 500, and no request
/// breaks.
#[tokio::test]
async fn a_restarting_service_gives_no_500_and_no_broken_request() {
    let mut replica = Replica::new(300);
    let mut onboarding = replica.start().await;
    let gw = gateway(&format!("http://{}", replica.addr())).await;
    let http = reqwest::Client::new();
    let partner = partner(&http, &gw).await;

    let stop = CancellationToken::new();
    let running = load(&http, gw.url(""), &partner, stop.clone());
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_secs(2)).await;
        onboarding.stop().await.expect("clean stop");
        onboarding = replica.start().await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.cancel();
    let tally = running.await.expect("load");
    println!("3 restarts of the only replica: {tally}");
    assert!(tally.total() > 200, "too little load to tell: {tally}");
    assert_eq!(tally.count(|s| s == 500), 0, "{tally}");
    assert_eq!(tally.count(|s| s >= 500 && s != 503), 0, "{tally}");
    assert_eq!(tally.broken + tally.refused, 0, "{tally}");
    assert_writes_stored_and_published_once(&replica, &tally).await;
}

/// Two replicas behind a Service: a rolling restart of both, one at a
/// time, gives no error of any kind.
#[tokio::test]
async fn a_rolling_restart_of_two_replicas_gives_no_error() {
    let mut a = Replica::new(1_000);
    let mut first = a.start().await;
    let mut b = a.sibling();
    let mut second = b.start().await;
    let balancer = Balancer::start(&[a.addr(), b.addr()]).await;
    balancer.wait_ready(a.addr()).await;
    balancer.wait_ready(b.addr()).await;
    let gw = gateway(&balancer.url()).await;
    let http = reqwest::Client::new();
    let partner = partner(&http, &gw).await;

    let stop = CancellationToken::new();
    let running = load(&http, gw.url(""), &partner, stop.clone());
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_secs(2)).await;
        first.stop().await.expect("clean stop");
        first = a.start().await;
        balancer.wait_ready(a.addr()).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        second.stop().await.expect("clean stop");
        second = b.start().await;
        balancer.wait_ready(b.addr()).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.cancel();
    let tally = running.await.expect("load");
    println!("rolling restarts of two replicas (4 stops): {tally}");
    assert!(tally.total() > 200, "too little load to tell: {tally}");
    assert_eq!(tally.errors(), 0, "{tally}");
    assert_writes_stored_and_published_once(&a, &tally).await;
    drop((first, second));
}

/// The gateway stopping under load: /readyz turns 503 first, and no
/// connection it accepted is reset; clients find the listener closed,
/// not their requests broken.
#[tokio::test]
async fn a_stopping_gateway_resets_no_accepted_connection() {
    let mut replica = Replica::new(200);
    let _onboarding = replica.start().await;
    let mut settings = gateway_settings(&_onboarding, &[]);
    settings.rate_limit.per_key_per_second = 1_000_000;
    settings.rate_limit.per_key_burst = 1_000_000;
    settings.http.drain_delay_ms = 1_000;
    let mut gw = RunningGateway::start(settings).await;
    let http = reqwest::Client::new();
    let partner = partner(&http, &gw).await;

    let stop = CancellationToken::new();
    let running = load(&http, gw.url(""), &partner, stop.clone());
    tokio::time::sleep(Duration::from_secs(2)).await;
    gw.shutdown.cancel();
    let readyz = http
        .get(gw.url("/readyz"))
        .send()
        .await
        .expect("still serving while draining");
    assert_eq!(readyz.status().as_u16(), 503, "/readyz at once");
    let body: Value = readyz.json().await.expect("health");
    assert_eq!(body["status"], "draining", "{body}");
    gw.stopped().await.expect("clean stop");
    // Clients now meet a closed port.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.cancel();
    let tally = running.await.expect("load");
    println!("gateway stopped under load: {tally}");
    assert!(
        tally.refused > 0,
        "clients kept going after the stop: {tally}"
    );
    assert_eq!(tally.broken, 0, "{tally}");
    assert_eq!(tally.count(|s| !(200..300).contains(&s)), 0, "{tally}");
}
