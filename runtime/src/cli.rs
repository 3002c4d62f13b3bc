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
