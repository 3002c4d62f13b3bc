//! Tracking links.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, Result};
use crate::domain::link::{LinkStatus, new_code};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LinkRow {
    pub id: Uuid,
    pub code: String,
    pub program_id: Uuid,
    pub partner_id: Uuid,
    pub destination_url: String,
    pub status: LinkStatus,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

prm_runtime::aggregate!(LinkRow: "tracking_link", partner = partner_id);

/// A new link with a fresh code (drawn again on the rare collision).
pub async fn insert_link(
    db: Db<'_>,
    program: Uuid,
    partner: Uuid,
    destination: &str,
    now: DateTime<Utc>,
) -> Result<LinkRow> {
    loop {
        let row: Option<LinkRow> = sqlx::query_as(
            "INSERT INTO links (id, code, program_id, partner_id, destination_url, status, created_at)
             VALUES ($1, $2, $3, $4, $5, 'active', $6)
             ON CONFLICT (code) DO NOTHING RETURNING *",
        )
        .bind(Uuid::now_v7())
        .bind(new_code())
        .bind(program)
        .bind(partner)
        .bind(destination)
        .bind(now)
        .fetch_optional(&mut *db)
        .await?;
        if let Some(row) = row {
            return Ok(row);
        }
    }
}

pub async fn active_link_by_code(db: Db<'_>, code: &str) -> Result<Option<LinkRow>> {
    sqlx::query_as("SELECT * FROM links WHERE code = $1 AND status = 'active'")
        .bind(code)
        .fetch_optional(db)
        .await
}

pub async fn list_links(
    db: Db<'_>,
    partner: Option<Uuid>,
    after: Uuid,
    limit: i64,
) -> Result<Vec<LinkRow>> {
    sqlx::query_as(
        "SELECT * FROM links WHERE ($1::uuid IS NULL OR partner_id = $1) AND id > $2
         ORDER BY id LIMIT $3",
    )
    .bind(partner)
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The links among `ids` (for a batch of clicks).
pub async fn links_by_id(db: Db<'_>, ids: &[Uuid]) -> Result<Vec<LinkRow>> {
    sqlx::query_as("SELECT * FROM links WHERE id = ANY($1)")
        .bind(ids)
        .fetch_all(db)
        .await
}

pub async fn link_for_update(db: Db<'_>, id: Uuid) -> Result<Option<LinkRow>> {
    sqlx::query_as("SELECT * FROM links WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn disable_link(db: Db<'_>, id: Uuid) -> Result<LinkRow> {
    sqlx::query_as(
        "UPDATE links SET status = 'disabled', version = version + 1 WHERE id = $1 RETURNING *",
    )
    .bind(id)
    .fetch_one(db)
    .await
}
