//! Helpers for integration tests against real PostgreSQL and NATS.
//!
//! `make test` starts (or finds) a PostgreSQL and a NATS server owned by the
//! project and exports `PRM_TEST_DATABASE_URL` (a superuser URL) and
//! `PRM_TEST_NATS_URL`. Every test then takes a fresh database and its own
//! NATS namespace, so tests run in parallel without seeing each other's
//! data or events. A test that must stop NATS starts a private server with
//! [`NatsServer`], never the shared one.

use std::net::TcpListener as StdTcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use secrecy::SecretString;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tokio::process::{Child, Command};

use crate::config::{RuntimeSettings, ServiceIdentity};

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
