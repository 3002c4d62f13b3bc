//! The command line of every PRM process. A service binary's `main` is
//! one call to [`crate::service::main`], which gives it `serve` (the default),
//! `migrate` (for a Kubernetes Job or init container), `healthcheck` (asks
//! the local gRPC health service; for container runtimes without native
//! gRPC probes) and `check-config`. A process with other commands (the
//! gateway) declares them as a clap `Subcommand` and reads them with
//! [`parse`].

use std::time::Duration;

use clap::{Parser, Subcommand};
use sqlx::migrate::Migrator;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::config::{RuntimeSettings, ServiceSettings};
use crate::service::{Application, Service};

/// A PRM process's command line: one subcommand of `C`, or none.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli<C: Subcommand = Command> {
    #[command(subcommand)]
    pub command: Option<C>,
}

/// The subcommand given on the command line, or `default` when none is.
pub fn parse<C: Subcommand>(default: C) -> C {
    Cli::<C>::parse().command.unwrap_or(default)
}

/// Runs a service binary (see [`crate::service::main`]): parses the
/// command line, loads the settings, starts telemetry, and runs the
/// command; `serve` builds the application and runs it until SIGTERM.
pub async fn service_main<S: Service>() -> anyhow::Result<()> {
    let identity = S::IDENTITY;
    let command = parse(Command::Serve);
    if let Command::CheckConfig = command {
        return check_service_config::<S::Settings>(identity);
    }
    let settings = ServiceSettings::<S::Settings>::load(identity)?;
    let telemetry = crate::telemetry::init(identity.name, &settings.runtime.telemetry)?;
    let result = match command {
        Command::Serve => serve::<S>(settings).await,
        Command::Migrate => migrate(&settings.runtime, &S::migrator()).await,
        Command::Healthcheck => healthcheck(&settings.runtime).await,
        Command::CheckConfig => Ok(()),
    };
    if let Err(e) = &result {
        tracing::error!(
            service = identity.name,
            error = format!("{e:#}"),
            "exited with an error"
        );
    }
    telemetry.shutdown();
    result
}

async fn serve<S: Service>(settings: ServiceSettings<S::Settings>) -> anyhow::Result<()> {
    let app = Application::<S>::build(settings).await?;
    crate::host::cancel_on_signal(app.shutdown_token());
    app.run_until_stopped().await
}

/// The subcommands of a service binary.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Serve gRPC (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Exit 0 if the local service reports SERVING, 1 otherwise.
    Healthcheck,
    /// Load the configuration from the environment and report, as JSON, the
    /// port and grace period it resolves to and any PRM_ variable that no
    /// setting reads. Exits 1 on invalid or unread settings.
    CheckConfig,
}

/// Applies the runtime's and the service's migrations.
pub async fn migrate(settings: &RuntimeSettings, migrator: &Migrator) -> anyhow::Result<()> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(crate::db::connect_options(&settings.database)?)
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach the database: {e}"))?;
    crate::db::migrate(&pool, migrator).await?;
    pool.close().await;
    tracing::info!("migrations applied");
    Ok(())
}

/// Checks the overall health status of the service on the configured port.
pub async fn healthcheck(settings: &RuntimeSettings) -> anyhow::Result<()> {
    let host = if settings.grpc.host == "0.0.0.0" {
        "127.0.0.1"
    } else {
        settings.grpc.host.as_str()
    };
    let channel =
        tonic::transport::Endpoint::from_shared(format!("http://{host}:{}", settings.grpc.port))?
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(2))
            .connect()
            .await?;
    let status = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await?
        .into_inner()
        .status;
    if status == ServingStatus::Serving as i32 {
        Ok(())
    } else {
        anyhow::bail!("service is not serving (status {status})")
    }
}

/// What `check-config` reports.
#[derive(Debug, serde::Serialize)]
pub struct ConfigReport {
    pub listen_port: u16,
    pub drain_delay_ms: u64,
    pub grace_period_secs: u64,
    pub unread: Vec<String>,
}

impl ConfigReport {
    /// The longest drain delay and grace period `check-config` accepts: a
    /// shutdown longer than a few minutes stalls every rollout.
    pub const MAX_DRAIN_DELAY_MS: u64 = 60_000;
    pub const MAX_GRACE_PERIOD_SECS: u64 = 300;

    /// Prints the report; fails if any variable is unread or the shutdown
    /// timings are out of bounds.
    pub fn finish(self) -> anyhow::Result<()> {
        println!("{}", serde_json::to_string(&self)?);
        anyhow::ensure!(
            self.unread.is_empty(),
            "unread configuration: {}",
            self.unread.join(", ")
        );
        self.check_shutdown()
    }

    fn check_shutdown(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.drain_delay_ms <= Self::MAX_DRAIN_DELAY_MS,
            "drain_delay_ms: {} is more than {} ms",
            self.drain_delay_ms,
            Self::MAX_DRAIN_DELAY_MS
        );
        anyhow::ensure!(
            (1..=Self::MAX_GRACE_PERIOD_SECS).contains(&self.grace_period_secs),
            "grace_period_secs: {} is not between 1 and {}",
            self.grace_period_secs,
            Self::MAX_GRACE_PERIOD_SECS
        );
        Ok(())
    }
}

/// `check-config` for a service with its own settings `S` beside the runtime's.
pub fn check_service_config<S: serde::de::DeserializeOwned>(
    id: crate::config::ServiceIdentity,
) -> anyhow::Result<()> {
    let cfg = crate::config::layered(id)?;
    let runtime: RuntimeSettings = cfg
        .clone()
        .try_deserialize()
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
    let by_runtime = crate::config::unread_keys::<RuntimeSettings>(&cfg)?;
    let by_service = crate::config::unread_keys::<S>(&cfg)?;
    ConfigReport {
        listen_port: runtime.grpc.port,
        drain_delay_ms: runtime.grpc.drain_delay_ms,
        grace_period_secs: runtime.grpc.grace_period_secs,
        // `PRM_CONFIG_FILE` names the file rather than a setting.
        unread: by_runtime
            .intersection(&by_service)
            .filter(|k| *k != "PRM_CONFIG_FILE")
            .cloned()
            .collect(),
    }
    .finish()
}

#[cfg(test)]
mod tests {
    use super::ConfigReport;

    fn report(drain_delay_ms: u64, grace_period_secs: u64) -> ConfigReport {
        ConfigReport {
            listen_port: 50051,
            drain_delay_ms,
            grace_period_secs,
            unread: Vec::new(),
        }
    }

    #[test]
    fn shutdown_timings_are_bounded() {
        assert!(report(5_000, 20).check_shutdown().is_ok());
        assert!(report(0, 1).check_shutdown().is_ok());
        let long_drain = report(60_001, 20).check_shutdown().expect_err("drain");
        assert!(
            long_drain.to_string().contains("drain_delay_ms"),
            "{long_drain}"
        );
        let no_grace = report(5_000, 0).check_shutdown().expect_err("grace");
        assert!(
            no_grace.to_string().contains("grace_period_secs"),
            "{no_grace}"
        );
        assert!(report(5_000, 301).check_shutdown().is_err());
    }
}
