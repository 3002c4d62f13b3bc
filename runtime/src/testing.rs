//! Helpers for integration tests against real PostgreSQL and NATS.
//!
//! A service runs in-process with [`spawn`] (its own settings and a clock
//! the test may move); a service's `testing` module only fills in what its
//! tests share. Its tests then call it through
//! [`grpc::request`] and check failures with [`grpc::assert_code`],
//! [`grpc::reason`] and [`grpc::bad_fields`].
//!
//! `make test` starts (or finds) a PostgreSQL and a NATS server owned by the
//! project and exports `PRM_TEST_DATABASE_URL` (a superuser URL) and
//! `PRM_TEST_NATS_URL`. Every test then takes a fresh database and its own
//! NATS namespace, so tests run in parallel without seeing each other's
//! data or events. A test that must stop NATS starts a private server with
//! [`NatsServer`], never the shared one.

use std::future::Future;
use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::Clock;
use crate::config::{RuntimeSettings, ServiceIdentity, ServiceSettings};
use crate::host::HostHandle;
use crate::inbox::ConsumerStats;
use crate::outbox::RelayStats;
use crate::service::{Application, Service};

pub const DATABASE_URL_ENV: &str = "PRM_TEST_DATABASE_URL";
pub const NATS_URL_ENV: &str = "PRM_TEST_NATS_URL";

fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run the tests with `make test`, which starts PostgreSQL and NATS"
        )
    })
}

/// The shared test NATS server.
pub fn nats_url() -> String {
    required_env(NATS_URL_ENV)
}

/// A namespace for subjects and streams that no other test uses.
pub fn unique_namespace() -> String {
    format!("t{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff)
}

/// A freshly created, empty database. It is left behind when the test ends
/// (a failing test's data is then there to inspect); `make test` drops the
/// previous run's test databases before it starts.
#[derive(Clone, Debug)]
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

pub async fn fresh_database() -> TestDatabase {
    let admin = required_env(DATABASE_URL_ENV);
    let name = format!("prm_test_{:016x}", rand::random::<u64>());
    let mut conn = PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("cannot reach test PostgreSQL at {admin}: {e}"));
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let _ = conn.close().await;
    let base = match admin.rfind('/') {
        Some(i) if !admin[..i].ends_with('/') => admin[..i].to_owned(),
        _ => admin.clone(),
    };
    let (base, query) = match admin.split_once('?') {
        Some((_, q)) => (
            base.split('?').next().unwrap_or(&base).to_owned(),
            format!("?{q}"),
        ),
        None => (base, String::new()),
    };
    TestDatabase {
        url: format!("{base}/{name}{query}"),
        name,
    }
}

/// Runtime settings for a service under test: a free port on loopback,
/// the given database and NATS, short polling so tests are quick.
pub fn runtime_settings(
    identity: ServiceIdentity,
    database_url: &str,
    nats_url: &str,
    namespace: &str,
) -> RuntimeSettings {
    let mut s = RuntimeSettings::defaults(identity);
    s.grpc.host = "127.0.0.1".into();
    s.grpc.port = 0;
    s.grpc.grace_period_secs = 5;
    // Long enough for a client watching health to see NOT_SERVING first.
    s.grpc.drain_delay_ms = 200;
    s.database.url = SecretString::from(database_url.to_owned());
    s.database.max_connections = 8;
    s.nats.url = nats_url.to_owned();
    s.nats.namespace = namespace.to_owned();
    s.outbox.poll_interval_ms = 50;
    s.outbox.publish_timeout_ms = 2_000;
    s
}

fn free_port() -> u16 {
    StdTcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A private NATS server with JetStream, on its own port and store
/// directory, which the test that owns it may stop and start again.
pub struct NatsServer {
    port: u16,
    store: PathBuf,
    child: Option<Child>,
}

impl NatsServer {
    pub async fn start() -> NatsServer {
        let store = std::env::temp_dir().join(format!("prm-nats-{:016x}", rand::random::<u64>()));
        std::fs::create_dir_all(&store).expect("nats store dir");
        let mut server = NatsServer {
            port: free_port(),
            store,
            child: None,
        };
        server.start_again().await;
        server
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts the server again on the same port and store, keeping streams.
    pub async fn start_again(&mut self) {
        assert!(self.child.is_none(), "already running");
        let bin = std::env::var("PRM_NATS_SERVER_BIN").unwrap_or_else(|_| "nats-server".into());
        let child = Command::new(&bin)
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(&self.store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e} (make test installs nats-server)"));
        self.child = Some(child);
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("private nats-server did not start on port {}", self.port);
    }

    /// Kills the server (SIGKILL: an outage, not a clean shutdown).
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
            let _ = child.wait().await;
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

/// Polls `check` until it returns `Some`, for up to `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Changes a test's runtime settings (a fixed port, a shorter connection
/// age, a longer drain delay, ...).
pub type SettingsTweak = Arc<dyn Fn(&mut RuntimeSettings) + Send + Sync>;

/// Where a service under test runs; fresh ones by default.
#[derive(Clone, Default)]
pub struct SpawnOptions {
    /// Share a database (e.g. two replicas); a fresh one by default.
    pub db: Option<TestDatabase>,
    /// Share a NATS namespace; a fresh one by default.
    pub namespace: Option<String>,
    /// A private NATS server; the shared test server by default.
    pub nats_url: Option<String>,
    /// Applied last to the runtime settings.
    pub tweak: Option<SettingsTweak>,
}

/// The database, NATS server and namespace one service under test uses.
#[derive(Clone)]
pub struct TestEnv {
    pub db: TestDatabase,
    pub namespace: String,
    pub nats_url: String,
    pub tweak: Option<SettingsTweak>,
}

impl TestEnv {
    /// Fills in what `opts` leaves open: a fresh database, a namespace of
    /// its own, the shared NATS server.
    pub async fn new(opts: SpawnOptions) -> TestEnv {
        crate::telemetry::init_for_tests();
        let db = match opts.db {
            Some(db) => db,
            None => fresh_database().await,
        };
        TestEnv {
            db,
            namespace: opts.namespace.unwrap_or_else(unique_namespace),
            nats_url: opts.nats_url.unwrap_or_else(nats_url),
            tweak: opts.tweak,
        }
    }

    /// The runtime settings for `identity` in this environment (see
    /// [`runtime_settings`]).
    pub fn runtime_settings(&self, identity: ServiceIdentity) -> RuntimeSettings {
        let mut s = runtime_settings(identity, &self.db.url, &self.nats_url, &self.namespace);
        if let Some(tweak) = &self.tweak {
            tweak(&mut s);
        }
        s
    }
}

/// Starts service `S` in-process with `settings` on `clock`, in a fresh
/// environment (or the one `opts` names); it may not be SERVING yet (see
/// [`RunningService::wait_serving`]).
pub async fn spawn<S: Service>(
    opts: SpawnOptions,
    settings: S::Settings,
    clock: Clock,
) -> RunningService {
    let env = TestEnv::new(opts).await;
    let settings = ServiceSettings {
        runtime: env.runtime_settings(S::IDENTITY),
        service: settings,
    };
    let app = Application::<S>::build_on(settings, clock)
        .await
        .unwrap_or_else(|e| panic!("build {}: {e:#}", S::IDENTITY.name));
    RunningService::start(env, app.host().handle(), app.run_until_stopped())
}

/// A service running in-process on a free port, until stopped or dropped.
pub struct RunningService {
    pub addr: SocketAddr,
    pub db: TestDatabase,
    pub namespace: String,
    pub nats_url: String,
    pub shutdown: CancellationToken,
    pub relay: Arc<RelayStats>,
    consumers: Vec<(&'static str, Arc<ConsumerStats>)>,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
}

impl RunningService {
    /// Spawns `run` (the application's `run_until_stopped()`); `host` is
    /// its host's [`HostHandle`]. The service may not be SERVING yet (see
    /// [`RunningService::wait_serving`]).
    pub fn start(
        env: TestEnv,
        host: HostHandle,
        run: impl Future<Output = anyhow::Result<()>> + Send + 'static,
    ) -> RunningService {
        RunningService {
            addr: host.addr,
            db: env.db,
            namespace: env.namespace,
            nats_url: env.nats_url,
            shutdown: host.shutdown,
            relay: host.relay,
            consumers: host.consumers,
            handle: Some(tokio::spawn(run)),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A lazily connecting channel to the service.
    pub fn channel(&self) -> Channel {
        Channel::from_shared(self.url())
            .expect("uri")
            .connect_lazy()
    }

    /// The counters of the consumer that reads `source`'s stream.
    pub fn consumer(&self, source: &str) -> Arc<ConsumerStats> {
        self.consumers
            .iter()
            .find(|(s, _)| *s == source)
            .map(|(_, stats)| stats.clone())
            .unwrap_or_else(|| panic!("the service consumes no events from {source}"))
    }

    /// Waits (up to 30 s) for the overall health status to be SERVING.
    pub async fn wait_serving(&self) {
        wait_serving(self.channel()).await;
    }

    /// Stops the service and waits for it to exit.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        match self.handle.take() {
            Some(h) => h.await.map_err(|e| anyhow::anyhow!("service task: {e}"))?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningService {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Waits (up to 30 s) for the service behind `channel` to report SERVING.
pub async fn wait_serving(channel: Channel) {
    let health = HealthClient::new(channel);
    let ok = eventually(Duration::from_secs(30), || {
        let mut h = health.clone();
        async move {
            let r = h
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await
                .ok()?;
            (r.into_inner().status == ServingStatus::Serving as i32).then_some(())
        }
    })
    .await;
    assert!(
        ok.is_some(),
        "the service did not become SERVING within 30 s"
    );
}

/// A service's event stream in a test's namespace: publish into it as
/// that service would, or read back what it published (to deliver it again).
pub struct EventStream {
    js: async_nats::jetstream::Context,
    subjects: crate::nats::Subjects,
    source: &'static str,
}

impl EventStream {
    /// Opens `source`'s stream in `namespace`, creating it if the service
    /// has not yet.
    pub async fn open(nats_url: &str, namespace: &str, source: &'static str) -> EventStream {
        let client = async_nats::connect(nats_url).await.expect("nats");
        let js = async_nats::jetstream::new(client);
        let subjects = crate::nats::Subjects::new(namespace);
        let settings = RuntimeSettings::defaults(ServiceIdentity {
            name: source,
            default_grpc_port: 0,
        })
        .nats;
        crate::nats::ensure_stream(&js, &subjects, source, &settings)
            .await
            .expect("stream");
        EventStream {
            js,
            subjects,
            source,
        }
    }

    /// Publishes `envelope` on `<source>.<entity_verb>`; JetStream drops a
    /// second publish with the same `msg_id` within its duplicate window.
    pub async fn publish(
        &self,
        entity_verb: &str,
        envelope: &prm_proto::events::EventEnvelope,
        msg_id: &str,
    ) {
        use prost::Message;
        self.js
            .send_publish(
                self.subjects.subject(self.source, entity_verb),
                async_nats::jetstream::message::PublishMessage::build()
                    .message_id(msg_id)
                    .payload(envelope.encode_to_vec().into()),
            )
            .await
            .expect("publish")
            .await
            .expect("ack");
    }

    /// The last event published on `<source>.<entity_verb>`, if any.
    pub async fn last(&self, entity_verb: &str) -> Option<prm_proto::events::EventEnvelope> {
        use prost::Message;
        let stream = self
            .js
            .get_stream(self.subjects.stream_name(self.source))
            .await
            .expect("stream");
        let raw = stream
            .get_last_raw_message_by_subject(&self.subjects.subject(self.source, entity_verb))
            .await
            .ok()?;
        Some(prm_proto::events::EventEnvelope::decode(raw.payload).expect("envelope"))
    }
}

/// Calling a service as its callers do, and checking how it refused.
pub mod grpc {
    use tonic::{Code, Request, Status};
    use tonic_types::StatusExt;

    use crate::Principal;
    use crate::auth::authorize_request;
    use crate::config::LOCAL_SERVICE_TOKEN;

    /// A request with the service credential and, optionally, a principal
    /// and an idempotency key.
    pub fn request<T>(
        msg: T,
        principal: Option<&Principal>,
        idempotency_key: Option<&str>,
    ) -> Request<T> {
        let mut r = Request::new(msg);
        authorize_request(&mut r, LOCAL_SERVICE_TOKEN, principal, idempotency_key)
            .expect("metadata");
        r
    }

    /// A request made by `principal`.
    pub fn as_of<T>(msg: T, principal: &Principal) -> Request<T> {
        request(msg, Some(principal), None)
    }

    /// The stable reason in a status's `ErrorInfo`.
    pub fn reason(s: &Status) -> String {
        s.get_error_details()
            .error_info()
            .map(|i| i.reason.clone())
            .unwrap_or_default()
    }

    /// The fields named in a status's `BadRequest` details.
    pub fn bad_fields(s: &Status) -> Vec<String> {
        s.get_error_details()
            .bad_request()
            .map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect())
            .unwrap_or_default()
    }

    /// The call failed with `code`; returns the status for further checks.
    #[track_caller]
    pub fn assert_code<T: std::fmt::Debug>(r: Result<T, Status>, code: Code) -> Status {
        match r {
            Ok(v) => panic!("expected {code:?}, got Ok({v:?})"),
            Err(s) => {
                assert_eq!(s.code(), code, "unexpected status: {s:?}");
                s
            }
        }
    }
}
