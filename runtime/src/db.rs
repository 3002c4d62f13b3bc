//! The PostgreSQL pool and migrations.
//!
//! Each service owns one database. Two migrators run against it: the
//! runtime's own tables (outbox, inbox, idempotency keys), tracked in
//! `_prm_runtime_migrations`, then the service's, tracked in sqlx's default
//! `_sqlx_migrations`. Both are embedded in the binary, and both take
//! sqlx's advisory lock, so replicas starting together migrate once.

use std::str::FromStr;
use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};

use crate::config::DatabaseSettings;
use crate::error::ApiError;

/// The runtime's tables, applied before the service's own migrations.
pub fn runtime_migrator() -> Migrator {
    let mut m = sqlx::migrate!("./migrations");
    m.dangerous_set_table_name("_prm_runtime_migrations");
    m
}

pub fn connect_options(settings: &DatabaseSettings) -> anyhow::Result<PgConnectOptions> {
    let opts = PgConnectOptions::from_str(settings.url.expose_secret())
        .map_err(|e| anyhow::anyhow!("database.url is not a valid PostgreSQL URL: {e}"))?
        .log_statements(tracing::log::LevelFilter::Debug)
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(500));
    Ok(opts)
}

/// A pool that connects on first use, so a service can start (and report
/// NotServing) before its database is reachable.
pub fn lazy_pool(settings: &DatabaseSettings) -> anyhow::Result<PgPool> {
    Ok(PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(Duration::from_millis(settings.acquire_timeout_ms))
        .connect_lazy_with(connect_options(settings)?))
}

/// Applies the runtime's migrations, then the service's, then attaches
/// the audit capture to any table without it.
pub async fn migrate(pool: &PgPool, service: &Migrator) -> anyhow::Result<()> {
    runtime_migrator()
        .run(pool)
        .await
        .map_err(|e| anyhow::anyhow!("runtime migrations failed: {e}"))?;
    service
        .run(pool)
        .await
        .map_err(|e| anyhow::anyhow!("service migrations failed: {e}"))?;
    crate::audit::attach_capture(pool)
        .await
        .map_err(|e| anyhow::anyhow!("attaching the audit capture failed: {e}"))?;
    Ok(())
}

/// Cheap liveness probe of the database.
pub async fn ping(pool: &PgPool) -> bool {
    sqlx::query("SELECT 1").execute(pool).await.is_ok()
}

/// A stable 64-bit advisory-lock key for a name (FNV-1a), so replicas agree
/// on it without coordination.
pub fn advisory_key(name: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

/// Runs `job` only if no other replica is running the job of the same name
/// right now (a session advisory lock). Returns whether it ran.
pub async fn run_exclusive<F, Fut, T>(
    pool: &PgPool,
    name: &str,
    job: F,
) -> anyhow::Result<Option<T>>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let key = advisory_key(name);
    let mut conn = pool.acquire().await?;
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(key)
        .fetch_one(&mut *conn)
        .await?;
    if !locked {
        return Ok(None);
    }
    let result = job().await;
    // Unlock even when the job failed; if this fails the connection is
    // closed, which releases the lock too.
    if sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(key)
        .execute(&mut *conn)
        .await
        .is_err()
    {
        conn.detach();
    }
    result.map(Some)
}

/// Whether `e` is a violation of the named constraint or unique index, so a
/// handler can turn it into a domain error (e.g. AlreadyExists).
fn violates(e: &sqlx::Error, constraint: &str) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.constraint() == Some(constraint))
}

/// Takes a transaction-scoped advisory lock named `name`, waiting for it;
/// it is released when the transaction ends. Serialises work that must not
/// run twice at once across replicas (e.g. installing a bootstrap key).
pub async fn advisory_xact_lock(tx: &mut sqlx::PgConnection, name: &str) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(advisory_key(name))
        .execute(tx)
        .await?;
    Ok(())
}

/// Turns the violation of a named constraint or unique index into a domain
/// error, and any other database error into an [`ApiError`] as usual.
/// Calls chain, one per constraint:
///
/// ```ignore
/// store::insert_tier(&mut tx, ..)
///     .await
///     .on_constraint("tiers_program_rank_key", || ApiError::already_exists("TIER_RANK_TAKEN", ..))
///     .on_constraint("tiers_program_name_key", || ApiError::already_exists("TIER_NAME_TAKEN", ..))?;
/// ```
pub trait OnConstraint<T> {
    fn on_constraint(
        self,
        constraint: &str,
        error: impl FnOnce() -> ApiError,
    ) -> Result<T, ApiError>;
}

impl<T> OnConstraint<T> for Result<T, sqlx::Error> {
    fn on_constraint(
        self,
        constraint: &str,
        error: impl FnOnce() -> ApiError,
    ) -> Result<T, ApiError> {
        self.map_err(|e| {
            if violates(&e, constraint) {
                error()
            } else {
                e.into()
            }
        })
    }
}

/// A database error already turned into an [`ApiError`] keeps the original
/// as its source, so a second `on_constraint` still sees it.
impl<T> OnConstraint<T> for Result<T, ApiError> {
    fn on_constraint(
        self,
        constraint: &str,
        error: impl FnOnce() -> ApiError,
    ) -> Result<T, ApiError> {
        match self {
            Err(ApiError::Internal(e))
                if e.downcast_ref::<sqlx::Error>()
                    .is_some_and(|db| violates(db, constraint)) =>
            {
                Err(error())
            }
            other => other,
        }
    }
}
