//! The subcommands every service binary has: `serve` (the default),
//! `migrate` (for a Kubernetes Job or init container) and `healthcheck`
//! (asks the local gRPC health service; for container runtimes without
//! native gRPC probes).

use std::time::Duration;

use clap::{Parser, Subcommand};
use sqlx::migrate::Migrator;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::config::RuntimeSettings;

#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

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

impl Cli {
    pub fn command(&self) -> Command {
        self.command.clone().unwrap_or(Command::Serve)
    }
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
    pub grace_period_secs: u64,
    pub unread: Vec<String>,
}

impl ConfigReport {
    /// Prints the report; fails if any variable is unread.
    pub fn finish(self) -> anyhow::Result<()> {
        println!("{}", serde_json::to_string(&self)?);
        anyhow::ensure!(
            self.unread.is_empty(),
            "unread configuration: {}",
            self.unread.join(", ")
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
