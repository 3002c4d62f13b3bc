//! Programs and their tiers.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, Result};
use crate::domain::tiering::{TierMetrics, TierRule};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ProgramRow {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub currency: String,
    pub tier_window_days: i32,
    pub demotion_grace_days: i32,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TierRow {
    pub id: Uuid,
    pub program_id: Uuid,
    pub name: String,
    pub rank: i32,
    pub min_revenue_won_minor: i64,
    pub min_certified_people: i32,
    pub min_deals_won: i32,
    pub created_at: DateTime<Utc>,
}

impl TierRow {
    pub fn rule(&self) -> TierRule {
        TierRule {
            id: self.id,
            name: self.name.clone(),
            rank: self.rank,
            min_revenue_minor: self.min_revenue_won_minor,
            min_certified_people: self.min_certified_people,
            min_deals_won: self.min_deals_won,
        }
    }
}

pub struct NewProgram<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub currency: &'a str,
    pub tier_window_days: i32,
    pub demotion_grace_days: i32,
}

pub async fn insert_program(db: Db<'_>, p: NewProgram<'_>) -> Result<ProgramRow> {
    sqlx::query_as(
        "INSERT INTO programs (id, name, description, currency, tier_window_days, demotion_grace_days)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(p.name)
    .bind(p.description)
    .bind(p.currency)
    .bind(p.tier_window_days)
    .bind(p.demotion_grace_days)
    .fetch_one(db)
    .await
}

pub async fn program(db: Db<'_>, id: Uuid) -> Result<Option<ProgramRow>> {
    sqlx::query_as("SELECT * FROM programs WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn list_programs(
    db: Db<'_>,
    only: Option<Uuid>,
    after: Uuid,
    limit: i64,
) -> Result<Vec<ProgramRow>> {
    sqlx::query_as(
        "SELECT * FROM programs WHERE id > $1 AND ($2::uuid IS NULL OR id = $2) ORDER BY id LIMIT $3",
    )
    .bind(after)
    .bind(only)
    .bind(limit)
    .fetch_all(db)
    .await
}

pub async fn insert_tier(
    db: Db<'_>,
    program_id: Uuid,
    name: &str,
    rank: i32,
    m: TierMetrics,
) -> Result<TierRow> {
    sqlx::query_as(
        "INSERT INTO tiers (id, program_id, name, rank, min_revenue_won_minor, min_certified_people, min_deals_won)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(program_id)
    .bind(name)
    .bind(rank)
    .bind(m.revenue_minor)
    .bind(m.certified_people)
    .bind(m.deals_won)
    .fetch_one(db)
    .await
}

pub async fn update_tier_requirements(
    db: Db<'_>,
    id: Uuid,
    m: TierMetrics,
) -> Result<Option<TierRow>> {
    sqlx::query_as(
        "UPDATE tiers SET min_revenue_won_minor = $2, min_certified_people = $3, min_deals_won = $4,
                updated_at = now()
         WHERE id = $1 RETURNING *",
    )
    .bind(id)
    .bind(m.revenue_minor)
    .bind(m.certified_people)
    .bind(m.deals_won)
    .fetch_optional(db)
    .await
}

pub async fn tier(db: Db<'_>, id: Uuid) -> Result<Option<TierRow>> {
    sqlx::query_as("SELECT * FROM tiers WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Tiers ordered by program, then rank.
pub async fn tiers(db: Db<'_>, program_id: Option<Uuid>) -> Result<Vec<TierRow>> {
    sqlx::query_as(
        "SELECT * FROM tiers WHERE ($1::uuid IS NULL OR program_id = $1) ORDER BY program_id, rank",
    )
    .bind(program_id)
    .fetch_all(db)
    .await
}
