//! Running the service in-process for integration tests (feature
//! `testing`): a fresh database, its own NATS namespace, a free port and a
//! bootstrap admin key. Used by this crate's tests and the end-to-end tests.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use prm_runtime::inbox::ConsumerStats;
use prm_runtime::outbox::RelayStats;
use prm_runtime::testing::{self, TestDatabase};
use secrecy::SecretString;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::config::{IDENTITY, OnboardingSettings};
use crate::{Application, Settings};

/// The admin key every test instance installs.
pub const BOOTSTRAP_KEY: &str = "test-bootstrap-admin-key-0123456789";

#[derive(Clone, Default)]
pub struct SpawnOptions {
    /// Share a database (e.g. two replicas); a fresh one by default.
    pub db: Option<TestDatabase>,
    /// Share a NATS namespace; a fresh one by default.
    pub namespace: Option<String>,
    /// A private NATS server; the shared test server by default.
    pub nats_url: Option<String>,
}

pub struct RunningService {
    pub addr: SocketAddr,
    pub db: TestDatabase,
    pub namespace: String,
    pub nats_url: String,
    pub shutdown: CancellationToken,
    pub relay: Arc<RelayStats>,
    pub deal_consumer: Arc<ConsumerStats>,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
}

/// Starts the service; it may not be SERVING yet (see [`RunningService::wait_serving`]).
pub async fn spawn(opts: SpawnOptions) -> RunningService {
    prm_runtime::telemetry::init_for_tests();
    let db = match opts.db {
        Some(db) => db,
        None => testing::fresh_database().await,
    };
    let namespace = opts.namespace.unwrap_or_else(testing::unique_namespace);
    let nats_url = opts.nats_url.unwrap_or_else(testing::nats_url);
    let settings = Settings {
        runtime: testing::runtime_settings(IDENTITY, &db.url, &nats_url, &namespace),
        onboarding: OnboardingSettings {
            bootstrap_admin_key: Some(SecretString::from(BOOTSTRAP_KEY)),
            ..OnboardingSettings::default()
        },
    };
    let app = Application::build(settings)
        .await
        .expect("build onboarding");
    let (addr, shutdown, relay, deal_consumer) = (
        app.local_addr(),
        app.shutdown_token(),
        app.relay_stats(),
        app.deal_consumer_stats(),
    );
    RunningService {
        addr,
        shutdown,
        relay,
        deal_consumer,
        db,
        namespace,
        nats_url,
        handle: Some(tokio::spawn(app.run_until_stopped())),
    }
}

impl RunningService {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn channel(&self) -> Channel {
        Channel::from_shared(self.url())
            .expect("uri")
            .connect_lazy()
    }

    /// Waits (up to 30 s) for the overall health status to be SERVING.
    pub async fn wait_serving(&self) {
        let health = HealthClient::new(self.channel());
        let ok = testing::eventually(Duration::from_secs(30), || {
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
        assert!(ok.is_some(), "onboarding did not become SERVING");
    }

    /// Stops the service and waits for it to exit.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        match self.handle.take() {
            Some(h) => h.await.map_err(|e| anyhow::anyhow!("{e}"))?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningService {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
