//! Users and their API keys (one kind of credential), and the bootstrap
//! admin key.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use prm_runtime::{Role, Scopes};
use uuid::Uuid;

use super::{Db, Result};
use crate::domain::credentials::{KeyLimits, KeyStatus};
use crate::domain::identity::{UserRef, UserStatus};
use crate::domain::partner::PartnerStatus;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub partner_id: Option<Uuid>,
    pub email: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub status: UserStatus,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

impl UserRow {
    /// What the access rules look at.
    pub fn as_ref(&self) -> UserRef {
        UserRef {
            id: self.id,
            partner_id: self.partner_id,
        }
    }
}

prm_runtime::aggregate!(UserRow: "user", partner = optional partner_id);

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub partner_id: Option<Uuid>,
    pub name: String,
    pub display_prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub allowed_cidrs: Vec<String>,
    pub last_used_ip: Option<String>,
}

impl ApiKeyRow {
    pub fn status(&self) -> KeyStatus {
        KeyStatus::of(self.revoked_at)
    }
}

prm_runtime::aggregate!(ApiKeyRow: "api_key", partner = optional partner_id);

const USER_COLUMNS: &str =
    "id, partner_id, email, display_name, roles, status, created_at, version";

pub async fn insert_user(
    db: Db<'_>,
    partner_id: Option<Uuid>,
    email: &str,
    display_name: &str,
    roles: &[Role],
) -> Result<UserRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO users (id, partner_id, email, display_name, roles) VALUES ($1, $2, $3, $4, $5)
         RETURNING {USER_COLUMNS}"
    )))
    .bind(Uuid::now_v7())
    .bind(partner_id)
    .bind(email)
    .bind(display_name)
    .bind(roles)
    .fetch_one(db)
    .await
}

pub async fn user(db: Db<'_>, id: Uuid) -> Result<Option<UserRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM users WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await
}

pub async fn user_by_email(db: Db<'_>, email: &str) -> Result<Option<UserRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM users WHERE lower(email) = lower($1)"
    )))
    .bind(email)
    .fetch_optional(db)
    .await
}

/// Users of a partner, or staff when `partner_id` is `None`.
pub async fn list_users(
    db: Db<'_>,
    partner_id: Option<Uuid>,
    after: Uuid,
    limit: i64,
) -> Result<Vec<UserRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM users
         WHERE id > $1 AND partner_id IS NOT DISTINCT FROM $2 ORDER BY id LIMIT $3"
    )))
    .bind(after)
    .bind(partner_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

pub async fn deactivate_user(db: Db<'_>, id: Uuid) -> Result<UserRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE users SET status = $2, deactivated_at = now(), version = version + 1 WHERE id = $1
         RETURNING {USER_COLUMNS}"
    )))
    .bind(id)
    .bind(UserStatus::Deactivated)
    .fetch_one(db)
    .await
}

const API_KEY_COLUMNS: &str =
    "id, user_id, partner_id, name, display_prefix, created_at, last_used_at, revoked_at, version,
     scopes, expires_at, allowed_cidrs::text[] AS allowed_cidrs, host(last_used_ip) AS last_used_ip";

/// What a new key may do, until when and from where.
pub struct NewKeyLimits {
    pub scopes: Scopes,
    pub limits: KeyLimits,
}

impl NewKeyLimits {
    /// Every scope, no expiry, any address: the bootstrap key and the key
    /// a partner's admin is provisioned with (it narrows its own later).
    pub fn unrestricted() -> Self {
        Self {
            scopes: Scopes::all(),
            limits: KeyLimits::default(),
        }
    }
}

pub async fn insert_api_key(
    db: Db<'_>,
    user: &UserRow,
    name: &str,
    display_prefix: &str,
    secret_hash: &[u8],
    is_bootstrap: bool,
    limits: &NewKeyLimits,
) -> Result<ApiKeyRow> {
    let cidrs: Vec<String> = limits
        .limits
        .allowed
        .iter()
        .map(|n| n.to_string())
        .collect();
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO api_keys (id, user_id, partner_id, name, display_prefix, secret_hash, is_bootstrap,
             scopes, expires_at, allowed_cidrs)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::cidr[]) RETURNING {API_KEY_COLUMNS}"
    )))
    .bind(Uuid::now_v7())
    .bind(user.id)
    .bind(user.partner_id)
    .bind(name)
    .bind(display_prefix)
    .bind(secret_hash)
    .bind(is_bootstrap)
    .bind(limits.scopes.names())
    .bind(limits.limits.expires_at)
    .bind(cidrs)
    .fetch_one(db)
    .await
}

pub async fn api_key(db: Db<'_>, id: Uuid) -> Result<Option<ApiKeyRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await
}

pub async fn list_api_keys(
    db: Db<'_>,
    user_id: Option<Uuid>,
    partner_id: Option<Uuid>,
    after: Uuid,
    limit: i64,
) -> Result<Vec<ApiKeyRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {API_KEY_COLUMNS} FROM api_keys
         WHERE id > $1 AND ($2::uuid IS NULL OR user_id = $2) AND ($3::uuid IS NULL OR partner_id = $3)
         ORDER BY id LIMIT $4"
    )))
    .bind(after)
    .bind(user_id)
    .bind(partner_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Revokes a key (once: revoking again changes nothing, not even the version).
pub async fn revoke_api_key(db: Db<'_>, id: Uuid) -> Result<ApiKeyRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()),
                version = version + CASE WHEN revoked_at IS NULL THEN 1 ELSE 0 END
         WHERE id = $1 RETURNING {API_KEY_COLUMNS}"
    )))
    .bind(id)
    .fetch_one(db)
    .await
}

/// Revokes every live key of a user (on deactivation).
pub async fn revoke_user_keys(db: Db<'_>, user_id: Uuid) -> Result<Vec<ApiKeyRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE api_keys SET revoked_at = now(), version = version + 1
         WHERE user_id = $1 AND revoked_at IS NULL RETURNING {API_KEY_COLUMNS}"
    )))
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// What a live API key of an active user authenticates as.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Credential {
    pub api_key_id: Uuid,
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_used_ip: Option<String>,
    pub user_id: Uuid,
    pub partner_id: Option<Uuid>,
    pub partner_status: Option<PartnerStatus>,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub allowed_cidrs: Vec<String>,
}

impl Credential {
    /// The key's expiry and allow-list (see [`KeyLimits::stored`]).
    pub fn limits(&self) -> std::result::Result<KeyLimits, String> {
        KeyLimits::stored(self.expires_at, &self.allowed_cidrs)
    }
}

pub async fn credential_by_hash(db: Db<'_>, hash: &[u8]) -> Result<Option<Credential>> {
    sqlx::query_as(
        "SELECT k.id AS api_key_id, k.last_used_at, host(k.last_used_ip) AS last_used_ip,
                u.id AS user_id, u.partner_id, p.status AS partner_status, k.scopes, k.expires_at,
                k.allowed_cidrs::text[] AS allowed_cidrs
         FROM api_keys k
         JOIN users u ON u.id = k.user_id
         LEFT JOIN partners p ON p.id = u.partner_id
         WHERE k.secret_hash = $1 AND k.revoked_at IS NULL AND u.status = $2",
    )
    .bind(hash)
    .bind(UserStatus::Active)
    .fetch_optional(db)
    .await
}

/// Records the time and address of use, at most once a minute per key
/// and address, to keep authentication cheap.
pub async fn touch_api_key(db: Db<'_>, id: Uuid, from: Option<IpAddr>) -> Result<()> {
    sqlx::query(
        "UPDATE api_keys SET last_used_at = now(), last_used_ip = $2::inet
         WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute'
                            OR last_used_ip IS DISTINCT FROM $2::inet)",
    )
    .bind(id)
    .bind(from.map(|ip| ip.to_string()))
    .execute(db)
    .await?;
    Ok(())
}

/// Serialises bootstrap-key installation across replicas until the
/// transaction ends.
pub async fn lock_bootstrap(db: Db<'_>) -> Result<()> {
    prm_runtime::db::advisory_xact_lock(db, "prm.onboarding.bootstrap_admin").await
}

/// The live bootstrap key's hash, if there is one.
pub async fn bootstrap_key_hash(db: Db<'_>) -> Result<Option<Vec<u8>>> {
    sqlx::query_scalar("SELECT secret_hash FROM api_keys WHERE is_bootstrap AND revoked_at IS NULL")
        .fetch_optional(db)
        .await
}

/// Retires every bootstrap key before a new one is installed: live ones
/// are revoked, and a revoked one with the new secret is deleted (the same
/// secret may come back from an earlier run), since hashes are unique.
pub async fn retire_bootstrap_keys(db: Db<'_>, new_hash: &[u8]) -> Result<()> {
    sqlx::query(
        "UPDATE api_keys SET revoked_at = now(), version = version + 1
         WHERE is_bootstrap AND revoked_at IS NULL",
    )
    .execute(&mut *db)
    .await?;
    sqlx::query("DELETE FROM api_keys WHERE secret_hash = $1 AND is_bootstrap")
        .bind(new_hash)
        .execute(db)
        .await?;
    Ok(())
}

/// The longest a new key may live, in days: for staff keys (`None`), or
/// for the keys of the program's partners. `None`: no maximum.
pub async fn max_key_days(db: Db<'_>, program: Option<Uuid>) -> Result<Option<i32>> {
    sqlx::query_scalar(
        "SELECT max_key_days FROM api_key_policies WHERE program_id IS NOT DISTINCT FROM $1",
    )
    .bind(program)
    .fetch_optional(db)
    .await
}

/// Sets (or, with `None`, lifts) the maximum lifetime of new keys.
pub async fn set_max_key_days(
    db: Db<'_>,
    program: Option<Uuid>,
    days: Option<i32>,
    at: DateTime<Utc>,
) -> Result<()> {
    match days {
        Some(days) => {
            sqlx::query(
                "INSERT INTO api_key_policies (program_id, max_key_days, updated_at)
                 VALUES ($1, $2, $3)
                 ON CONFLICT ON CONSTRAINT api_key_policies_program_key
                 DO UPDATE SET max_key_days = $2, updated_at = $3",
            )
            .bind(program)
            .bind(days)
            .bind(at)
            .execute(db)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM api_key_policies WHERE program_id IS NOT DISTINCT FROM $1")
                .bind(program)
                .execute(db)
                .await?;
        }
    }
    Ok(())
}

/// Ends a rotated key's life at `until` (never later than it would have).
pub async fn expire_api_key(db: Db<'_>, id: Uuid, until: DateTime<Utc>) -> Result<ApiKeyRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE api_keys SET expires_at = LEAST(coalesce(expires_at, $2), $2), version = version + 1
         WHERE id = $1 RETURNING {API_KEY_COLUMNS}"
    )))
    .bind(id)
    .bind(until)
    .fetch_one(db)
    .await
}
