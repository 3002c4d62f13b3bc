//! Wires the commissions service into the shared runtime: the partner
//! events it consumes, its jobs, and the gRPC server.

use std::sync::Arc;
use std::time::Duration;

use prm_proto::commissions::commissions_service_server::{CommissionsServiceServer, SERVICE_NAME};
use prm_runtime::host::CancellationToken;
use prm_runtime::inbox::ConsumerSpec;
use prm_runtime::{Clock, ServiceHost};
use sqlx::migrate::Migrator;
use tonic::service::Routes;

use crate::api::Commissions;
use crate::config::{IDENTITY, Settings};
use crate::events::{DealEvents, PartnerEvents};
use crate::jobs;

/// The service's own migrations (the runtime adds its tables first).
pub fn migrator() -> Migrator {
    sqlx::migrate!("./migrations")
}

pub struct Application {
    host: ServiceHost,
    clock: Clock,
}

impl Application {
    /// Binds the port and prepares everything; serving starts in
    /// [`Application::run_until_stopped`].
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_on(settings, Clock::system()).await
    }

    /// As [`Application::build`], with the rules reading `clock`.
    pub async fn build_on(settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        let mut host = ServiceHost::build(IDENTITY, settings.runtime, migrator()).await?;
        host.add_consumer(
            ConsumerSpec::new(IDENTITY.name, "onboarding", "partner.*"),
            Arc::new(PartnerEvents),
        );
        host.add_consumer(
            ConsumerSpec::new(IDENTITY.name, "dealreg", "deal.*"),
            Arc::new(DealEvents {
                outbox: host.outbox().clone(),
                clock: clock.clone(),
            }),
        );
        let every = Duration::from_secs(settings.service.sweep_interval_secs.max(1));
        let (select_clock, work_clock) = (clock.clone(), clock.clone());
        host.every_each(
            "commissions.approve_after_hold",
            every,
            move |conn| {
                let now = select_clock.now();
                Box::pin(async move { jobs::commissions_due(conn, now).await })
            },
            move |tx, outbox, id| {
                let now = work_clock.now();
                Box::pin(async move { jobs::approve_commission(tx, outbox, id, now).await })
            },
        );
        let hours_clock = clock.clone();
        host.every("commissions.click_hours", every, move |tx, outbox| {
            let now = hours_clock.now();
            Box::pin(async move { jobs::publish_click_hours(tx, outbox, now).await.map(drop) })
        });
        Ok(Self { host, clock })
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
        let api = Commissions::new(
            self.host.pool().clone(),
            self.host.outbox().clone(),
            self.clock,
        );
        let server = CommissionsServiceServer::with_interceptor(api, self.host.service_auth());
        self.host
            .run_until_stopped(Routes::new(server), &[SERVICE_NAME])
            .await
    }
}
