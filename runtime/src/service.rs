//! A PRM service, declared once: what it serves, what it consumes and
//! what it schedules. Everything around that (the command line, settings,
//! telemetry, the host with its health, relay and shutdown) is written
//! here, so a service's `app.rs` is its [`Service`] implementation and its
//! `main.rs` is one line:
//!
//! ```ignore
//! fn main() -> anyhow::Result<()> {
//!     prm_runtime::service::main::<prm_dealreg::Dealreg>()
//! }
//! ```

use std::convert::Infallible;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use sqlx::migrate::Migrator;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::service::Routes;
use tonic::service::interceptor::InterceptedService;

use crate::Clock;
use crate::config::{ServiceIdentity, ServiceSettings};
use crate::host::{CancellationToken, ServiceHost};

/// What a service declares; the runtime does the rest.
pub trait Service: Sized + Send + 'static {
    /// Its name (subjects, stream, consumers, database) and gRPC port.
    const IDENTITY: ServiceIdentity;
    /// Its own infrastructure settings, beside the runtime's (business
    /// policy is data changed through its API, never a setting).
    type Settings: DeserializeOwned + Default + Clone + Send + Sync + 'static;

    /// Its migrations: `sqlx::migrate!("./migrations")` (the runtime adds
    /// its own tables first).
    fn migrator() -> Migrator;

    /// Registers on `host` the events the service consumes
    /// ([`ServiceHost::consume`]), its scheduled work
    /// ([`ServiceHost::every`], [`ServiceHost::every_each`]) and its
    /// start-up work ([`ServiceHost::on_ready`]), and returns its gRPC API
    /// ([`ServiceHost::serve`]).
    fn declare(host: &mut ServiceHost, settings: Self::Settings) -> anyhow::Result<GrpcApi>;
}

/// The gRPC services a process serves beside health and reflection, and
/// the names their health is reported under.
pub struct GrpcApi {
    pub(crate) routes: Routes,
    pub(crate) names: Vec<&'static str>,
}

impl GrpcApi {
    /// No service of its own: only health and reflection (runtime tests).
    pub fn none() -> Self {
        Self {
            routes: Routes::default(),
            names: Vec::new(),
        }
    }
}

impl ServiceHost {
    /// `server` (a generated `XServiceServer`) behind the check of the
    /// service credential that reads the caller's principal; its health is
    /// reported under its gRPC name.
    pub fn serve<S>(&self, server: S) -> GrpcApi
    where
        S: tower::Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        let audit = prm_proto::audit::audit_service_server::AuditServiceServer::new(
            crate::audit::AuditApi::new(self.pool().clone(), self.service_name()),
        );
        GrpcApi {
            routes: Routes::new(InterceptedService::new(server, self.service_auth()))
                .add_service(InterceptedService::new(audit, self.service_auth())),
            names: vec![S::NAME],
        }
    }
}

/// A built service, ready to run: its host and its API.
pub struct Application<S: Service> {
    host: ServiceHost,
    api: GrpcApi,
    service: PhantomData<S>,
}

impl<S: Service> Application<S> {
    /// Binds the port and prepares everything on the system clock; serving
    /// starts in [`Application::run_until_stopped`].
    pub async fn build(settings: ServiceSettings<S::Settings>) -> anyhow::Result<Self> {
        Self::build_on(settings, Clock::system()).await
    }

    /// As [`Application::build`], with every rule, job and event reading
    /// `clock` (tests move it).
    pub async fn build_on(
        settings: ServiceSettings<S::Settings>,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let mut host =
            ServiceHost::build(S::IDENTITY, settings.runtime, S::migrator(), clock).await?;
        let api = S::declare(&mut host, settings.service)?;
        Ok(Self {
            host,
            api,
            service: PhantomData,
        })
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
        self.host.run_until_stopped(self.api).await
    }
}

/// A service binary's `main`: `serve` (the default), `migrate`,
/// `healthcheck` and `check-config` (see [`crate::cli`]).
pub fn main<S: Service>() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(crate::cli::service_main::<S>())
}
