//! Wires the deal registration service into the shared runtime: the
//! onboarding client, the sweep and the gRPC server.

use std::time::Duration;

use chrono::Utc;
use prm_proto::dealreg::dealreg_service_server::{DealregServiceServer, SERVICE_NAME};
use prm_runtime::ServiceHost;
use prm_runtime::host::CancellationToken;
use sqlx::migrate::Migrator;
use tonic::service::Routes;

use crate::api::Dealreg;
use crate::config::{IDENTITY, Settings};
use crate::onboarding::Onboarding;
use crate::{store, sweep};

/// Deal registration's own migrations (the runtime adds its tables first).
pub fn migrator() -> Migrator {
    sqlx::migrate!("./migrations")
}

pub struct Application {
    host: ServiceHost,
    onboarding: Onboarding,
}

impl Application {
    /// Binds the port and prepares everything; serving starts in
    /// [`Application::run_until_stopped`].
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let onboarding = Onboarding::new(
            &settings.service.onboarding_url,
            settings.runtime.auth.service_token.clone(),
        )?;
        let mut host = ServiceHost::build(IDENTITY, settings.runtime, migrator()).await?;
        host.every_each(
            "dealreg.sweep",
            Duration::from_secs(settings.service.sweep_interval_secs.max(1)),
            |conn| {
                Box::pin(async move {
                    let policy = store::policy(conn).await?;
                    sweep::due(conn, &policy, Utc::now()).await
                })
            },
            |tx, outbox, id| {
                Box::pin(async move {
                    let policy = store::policy(tx).await?;
                    sweep::sweep_one(tx, outbox, &policy, id, Utc::now())
                        .await
                        .map(drop)
                })
            },
        );
        Ok(Self { host, onboarding })
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
        let api = Dealreg::new(
            self.host.pool().clone(),
            self.host.outbox().clone(),
            self.onboarding,
        );
        let server = DealregServiceServer::with_interceptor(api, self.host.service_auth());
        self.host
            .run_until_stopped(Routes::new(server), &[SERVICE_NAME])
            .await
    }
}
