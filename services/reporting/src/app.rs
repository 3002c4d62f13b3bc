//! Wires the reporting service into the shared runtime: one consumer per
//! stream it reads, and the gRPC server.

use std::sync::Arc;

use prm_proto::reporting::reporting_service_server::{ReportingServiceServer, SERVICE_NAME};
use prm_runtime::host::CancellationToken;
use prm_runtime::inbox::ConsumerSpec;
use prm_runtime::{Clock, ServiceHost};
use sqlx::migrate::Migrator;
use tonic::service::Routes;

use crate::api::Reporting;
use crate::config::{IDENTITY, Settings};
use crate::events::{Projector, SOURCES};

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

    /// As [`Application::build`], with "now" read from `clock`.
    pub async fn build_on(settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        let mut host = ServiceHost::build(IDENTITY, settings.runtime, migrator()).await?;
        // Set on each connection as it opens (no round trip per request):
        // the figures statement costs more to plan than to run for one
        // partner, so each connection plans it once; and its medians sort
        // in memory. The pool has opened no connection yet.
        let pool = host.pool();
        pool.set_connect_options((*pool.connect_options()).clone().options([
            ("plan_cache_mode", "force_generic_plan"),
            ("work_mem", "32MB"),
        ]));
        let projector = Arc::new(Projector);
        for source in SOURCES {
            // The whole stream: the projector names the types it applies.
            host.add_consumer(
                ConsumerSpec {
                    consumer: IDENTITY.name,
                    source,
                    filter: None,
                },
                projector.clone(),
            );
        }
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
        let api = Reporting::new(
            self.host.pool().clone(),
            self.host.outbox().clone(),
            self.clock,
            prm_runtime::nats::jetstream(self.host.nats().clone()),
            self.host.subjects().clone(),
            self.host.handle().consumers,
        );
        let server = ReportingServiceServer::with_interceptor(api, self.host.service_auth());
        self.host
            .run_until_stopped(Routes::new(server), &[SERVICE_NAME])
            .await
    }
}
