//! Wires the onboarding service into the shared runtime: the deal-outcome
//! consumer, the periodic jobs, the bootstrap key and the gRPC server.

use std::time::Duration;

use chrono::Utc;
use prm_proto::onboarding::onboarding_service_server::{OnboardingServiceServer, SERVICE_NAME};
use prm_runtime::ServiceHost;
use prm_runtime::host::CancellationToken;
use prm_runtime::inbox::ConsumerSpec;
use sqlx::migrate::Migrator;
use std::sync::Arc;
use tonic::service::Routes;

use crate::api::{self, Onboarding};
use crate::config::{IDENTITY, Settings};
use crate::events::DealOutcomes;
use crate::{operations, store};

/// Onboarding's own migrations (the runtime adds its tables first).
pub fn migrator() -> Migrator {
    sqlx::migrate!("./migrations")
}

pub struct Application {
    host: ServiceHost,
}

impl Application {
    /// Binds the port and prepares everything; serving starts in
    /// [`Application::run_until_stopped`].
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let mut host = ServiceHost::build(IDENTITY, settings.runtime, migrator()).await?;
        let outbox = host.outbox().clone();
        host.add_consumer(
            ConsumerSpec::new(IDENTITY.name, "dealreg", "deal.*"),
            Arc::new(DealOutcomes { outbox }),
        );
        let every = |secs: u64| Duration::from_secs(secs.max(1));
        host.every_each(
            "onboarding.tier_review",
            every(settings.service.tier_review_interval_secs),
            |conn| Box::pin(store::active_partner_ids(conn)),
            |tx, outbox, id| {
                Box::pin(async move {
                    let outcome = operations::review_tier(tx, outbox, id, Utc::now()).await?;
                    if let Some(o) = outcome.filter(|o| o.from_tier != o.to_tier) {
                        tracing::info!(partner_id = %id, from = %o.from_tier, to = %o.to_tier, "tier review changed the tier");
                    }
                    Ok::<_, prm_runtime::ApiError>(())
                })
            },
        );
        host.every(
            "onboarding.certification_expiry",
            every(settings.service.certification_sweep_interval_secs),
            |tx, outbox| {
                Box::pin(async move {
                    operations::expire_certifications(tx, outbox, Utc::now())
                        .await
                        .map(drop)
                })
            },
        );
        if let Some(key) = settings.service.bootstrap_admin_key {
            host.on_ready(move |tx, _| {
                let key = key.clone();
                Box::pin(async move { api::ensure_bootstrap_admin(tx, &key).await })
            });
        }
        Ok(Self { host })
    }

    /// The host, for what watches the service from outside (tests).
    pub fn host(&self) -> &ServiceHost {
        &self.host
    }

    /// Cancelling this token stops the service as SIGTERM does.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.host.shutdown_token()
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let api = Onboarding::new(self.host.pool().clone(), self.host.outbox().clone());
        let server = OnboardingServiceServer::with_interceptor(api, self.host.service_auth());
        self.host
            .run_until_stopped(Routes::new(server), &[SERVICE_NAME])
            .await
    }
}
