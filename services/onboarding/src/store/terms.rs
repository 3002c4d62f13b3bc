//! Versioned terms and their acceptance.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, Result};
use crate::domain::terms::TermsKind;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TermsRow {
    pub id: Uuid,
    pub kind: TermsKind,
    pub version: String,
    pub title: String,
    pub body: String,
    pub published_at: DateTime<Utc>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AcceptanceRow {
    pub partner_id: Uuid,
    pub terms_id: Uuid,
    pub kind: TermsKind,
    pub version: String,
    pub accepted_by: Uuid,
    pub accepted_at: DateTime<Utc>,
}

pub async fn insert_terms(
    db: Db<'_>,
    kind: TermsKind,
    version: &str,
    title: &str,
    body: &str,
) -> Result<TermsRow> {
    sqlx::query_as(
        "INSERT INTO terms (id, kind, version, title, body) VALUES ($1, $2, $3, $4, $5) RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(kind)
    .bind(version)
    .bind(title)
    .bind(body)
    .fetch_one(db)
    .await
}

pub async fn list_terms(db: Db<'_>, kind: Option<TermsKind>) -> Result<Vec<TermsRow>> {
    sqlx::query_as(
        "SELECT * FROM terms WHERE ($1::text IS NULL OR kind = $1) ORDER BY kind, published_at, id",
    )
    .bind(kind)
    .fetch_all(db)
    .await
}

pub async fn terms_by_version(
    db: Db<'_>,
    kind: TermsKind,
    version: &str,
) -> Result<Option<TermsRow>> {
    sqlx::query_as("SELECT * FROM terms WHERE kind = $1 AND version = $2")
        .bind(kind)
        .bind(version)
        .fetch_optional(db)
        .await
}

/// The latest published version of a kind.
pub async fn latest_terms(db: Db<'_>, kind: TermsKind) -> Result<Option<TermsRow>> {
    sqlx::query_as(
        "SELECT * FROM terms WHERE kind = $1 ORDER BY published_at DESC, id DESC LIMIT 1",
    )
    .bind(kind)
    .fetch_optional(db)
    .await
}

/// Records an acceptance; returns false if the partner had already accepted.
pub async fn insert_acceptance(
    db: Db<'_>,
    partner_id: Uuid,
    terms_id: Uuid,
    user_id: Uuid,
) -> Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO terms_acceptances (partner_id, terms_id, accepted_by) VALUES ($1, $2, $3)
         ON CONFLICT (partner_id, terms_id) DO NOTHING",
    )
    .bind(partner_id)
    .bind(terms_id)
    .bind(user_id)
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

pub async fn acceptance(
    db: Db<'_>,
    partner_id: Uuid,
    terms_id: Uuid,
) -> Result<Option<AcceptanceRow>> {
    sqlx::query_as(
        "SELECT a.partner_id, a.terms_id, t.kind, t.version, a.accepted_by, a.accepted_at
         FROM terms_acceptances a JOIN terms t ON t.id = a.terms_id
         WHERE a.partner_id = $1 AND a.terms_id = $2",
    )
    .bind(partner_id)
    .bind(terms_id)
    .fetch_optional(db)
    .await
}
