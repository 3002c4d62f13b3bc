//! The partners the service knows, from onboarding's events: which program
//! and tier each is in, its type, its domain and its status.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use prm_runtime::PartnerType;

use super::{Db, Result};
use crate::domain::partner::PartnerStatus;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PartnerRow {
    pub partner_id: Uuid,
    pub program_id: Uuid,
    pub tier_id: Option<Uuid>,
    pub partner_type: PartnerType,
    pub company_name: String,
    pub domain: String,
    pub status: PartnerStatus,
    pub updated_at: DateTime<Utc>,
}

pub struct NewPartner<'a> {
    pub partner_id: Uuid,
    pub program_id: Uuid,
    pub tier_id: Option<Uuid>,
    pub partner_type: PartnerType,
    pub company_name: &'a str,
    pub domain: &'a str,
}

pub async fn upsert_partner(db: Db<'_>, p: &NewPartner<'_>, at: DateTime<Utc>) -> Result<()> {
    sqlx::query(
        "INSERT INTO partners (partner_id, program_id, tier_id, partner_type, company_name, domain,
             status, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'active', $7)
         ON CONFLICT (partner_id) DO UPDATE SET program_id = $2, tier_id = $3, partner_type = $4,
             company_name = $5, domain = $6, status = 'active', updated_at = $7",
    )
    .bind(p.partner_id)
    .bind(p.program_id)
    .bind(p.tier_id)
    .bind(p.partner_type)
    .bind(p.company_name)
    .bind(p.domain)
    .bind(at)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_partner_tier(
    db: Db<'_>,
    partner: Uuid,
    tier: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("UPDATE partners SET tier_id = $2, updated_at = $3 WHERE partner_id = $1")
        .bind(partner)
        .bind(tier)
        .bind(at)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn set_partner_status(
    db: Db<'_>,
    partner: Uuid,
    status: PartnerStatus,
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("UPDATE partners SET status = $2, updated_at = $3 WHERE partner_id = $1")
        .bind(partner)
        .bind(status)
        .bind(at)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn partner(db: Db<'_>, id: Uuid) -> Result<Option<PartnerRow>> {
    sqlx::query_as("SELECT * FROM partners WHERE partner_id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}
