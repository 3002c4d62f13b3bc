//! Partner applications.

use chrono::{DateTime, Utc};
use prm_runtime::PartnerType;
use uuid::Uuid;

use super::{Db, Result};
use crate::domain::application::{ApplicationStatus, NewApplication};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ApplicationRow {
    pub id: Uuid,
    pub company_name: String,
    pub domain: String,
    pub country: String,
    pub partner_type: PartnerType,
    pub contact_name: String,
    pub contact_email: String,
    pub status: ApplicationStatus,
    pub rejection_reason: String,
    pub partner_id: Option<Uuid>,
    pub submitted_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<Uuid>,
    pub version: i64,
}

prm_runtime::aggregate!(ApplicationRow: "application", partner = optional partner_id);

pub async fn insert_application(db: Db<'_>, a: &NewApplication) -> Result<ApplicationRow> {
    sqlx::query_as(
        "INSERT INTO applications (id, company_name, domain, country, partner_type, contact_name, contact_email)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(&a.company_name)
    .bind(&a.domain)
    .bind(&a.country)
    .bind(a.partner_type)
    .bind(&a.contact_name)
    .bind(&a.contact_email)
    .fetch_one(db)
    .await
}

pub async fn application(db: Db<'_>, id: Uuid) -> Result<Option<ApplicationRow>> {
    sqlx::query_as("SELECT * FROM applications WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Locks the application for a decision, so concurrent decisions serialise.
pub async fn application_for_update(db: Db<'_>, id: Uuid) -> Result<Option<ApplicationRow>> {
    sqlx::query_as("SELECT * FROM applications WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn list_applications(
    db: Db<'_>,
    status: Option<ApplicationStatus>,
    after: Uuid,
    limit: i64,
) -> Result<Vec<ApplicationRow>> {
    sqlx::query_as(
        "SELECT * FROM applications WHERE id > $1 AND ($2::text IS NULL OR status = $2) ORDER BY id LIMIT $3",
    )
    .bind(after)
    .bind(status)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Records a decision, bumping the version.
pub async fn decide_application(
    db: Db<'_>,
    id: Uuid,
    status: ApplicationStatus,
    reason: &str,
    partner_id: Option<Uuid>,
    decided_by: Uuid,
) -> Result<ApplicationRow> {
    sqlx::query_as(
        "UPDATE applications SET status = $2, rejection_reason = $3, partner_id = $4,
                decided_at = now(), decided_by = $5, version = version + 1
         WHERE id = $1 RETURNING *",
    )
    .bind(id)
    .bind(status)
    .bind(reason)
    .bind(partner_id)
    .bind(decided_by)
    .fetch_one(db)
    .await
}
