//! Wires the onboarding service into the shared runtime: database,
//! outbox relay, the deal-outcome consumer, periodic jobs and the gRPC server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use prm_proto::onboarding::onboarding_service_server::OnboardingServiceServer;
use prm_runtime::ServiceHost;
use prm_runtime::host::CancellationToken;
use prm_runtime::host::Job;
use prm_runtime::inbox::{ConsumerSpec, ConsumerStats};
use prm_runtime::outbox::RelayStats;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use tonic::server::NamedService;
use tonic::service::Routes;

use crate::api::Onboarding;
use crate::config::{IDENTITY, Settings};
use crate::events::DealOutcomes;

/// Onboarding's own migrations (the runtime adds its tables first).
pub fn migrator() -> Migrator {
    sqlx::migrate!("./migrations")
}

pub struct Application {
    host: ServiceHost,
    api: Onboarding,
    deal_consumer: Arc<ConsumerStats>,
}

impl Application {
    /// Binds the port and prepares everything; serving starts in
    /// [`Application::run_until_stopped`].
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let mut host = ServiceHost::build(IDENTITY, settings.runtime.clone(), migrator()).await?;
        let api = Onboarding::new(host.pool().clone(), host.outbox().clone());

        let deal_consumer = host.add_consumer(
            ConsumerSpec {
                consumer: IDENTITY.name,
                source: "dealreg",
                filter: Some("deal.*"),
            },
            Arc::new(DealOutcomes {
                outbox: host.outbox().clone(),
            }),
        );

        let outbox = host.outbox().clone();
        let tier_review: Job = Arc::new(move |pool: PgPool| {
            let outbox = outbox.clone();
            Box::pin(async move { crate::jobs::review_all_tiers(&pool, &outbox).await })
        });
        host.add_periodic_job(
            "onboarding.tier_review",
            Duration::from_secs(settings.onboarding.tier_review_interval_secs.max(1)),
            tier_review,
        );
        let outbox = host.outbox().clone();
        let expiry: Job = Arc::new(move |pool: PgPool| {
            let outbox = outbox.clone();
            Box::pin(async move {
                let mut tx = pool.begin().await?;
                let n = crate::operations::expire_certifications(&mut tx, &outbox, Utc::now())
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                tx.commit().await?;
                if n > 0 {
                    tracing::info!(expired = n, "announced expired certifications");
                }
                Ok(())
            })
        });
        host.add_periodic_job(
            "onboarding.certification_expiry",
            Duration::from_secs(settings.onboarding.certification_sweep_interval_secs.max(1)),
            expiry,
        );
        if let Some(key) = settings.onboarding.bootstrap_admin_key.clone() {
            let bootstrap: Job = Arc::new(move |pool: PgPool| {
                let key = key.clone();
                Box::pin(async move { crate::api::identity_bootstrap(&pool, &key).await })
            });
            host.add_ready_hook(bootstrap);
        }
        Ok(Self {
            host,
            api,
            deal_consumer,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.host.local_addr()
    }

    pub fn pool(&self) -> &PgPool {
        self.host.pool()
    }

    pub fn relay_stats(&self) -> Arc<RelayStats> {
        self.host.relay_stats()
    }

    pub fn deal_consumer_stats(&self) -> Arc<ConsumerStats> {
        self.deal_consumer.clone()
    }

    /// Cancelling this token stops the service as SIGTERM does.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.host.shutdown_token()
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let auth = self.host.service_auth();
        let routes = Routes::new(OnboardingServiceServer::with_interceptor(self.api, auth));
        let name = <OnboardingServiceServer<Onboarding> as NamedService>::NAME;
        self.host.run_until_stopped(routes, &[name]).await
    }
}
