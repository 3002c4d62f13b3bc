//! Partners, and the deal outcomes that count towards their tiers.

use chrono::{DateTime, Utc};
use prm_runtime::PartnerType;
use uuid::Uuid;

use super::{ApplicationRow, Db, Result};
use crate::domain::partner::PartnerStatus;
use crate::domain::tiering::TierMetrics;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PartnerRow {
    pub id: Uuid,
    pub application_id: Uuid,
    pub company_name: String,
    pub domain: String,
    pub country: String,
    pub partner_type: PartnerType,
    pub program_id: Uuid,
    pub tier_id: Uuid,
    pub tier_name: String,
    pub tier_rank: i32,
    pub status: PartnerStatus,
    pub status_reason: String,
    pub approved_at: DateTime<Utc>,
    pub demotion_due_at: Option<DateTime<Utc>>,
    pub first_deal_at: Option<DateTime<Utc>>,
    pub onboarding_completed_at: Option<DateTime<Utc>>,
    pub version: i64,
}

prm_runtime::aggregate!(PartnerRow: "partner", partner = id);

/// A partner row with its tier's name and rank, from `p` (the partners
/// table or a CTE of updated partners).
const PARTNER_COLUMNS: &str = "p.id, p.application_id, p.company_name, p.domain, p.country, p.partner_type,
        p.program_id, p.tier_id, t.name AS tier_name, t.rank AS tier_rank, p.status, p.status_reason,
        p.approved_at, p.demotion_due_at, p.first_deal_at, p.onboarding_completed_at, p.version";

pub async fn insert_partner(
    db: Db<'_>,
    app: &ApplicationRow,
    program_id: Uuid,
    tier_id: Uuid,
) -> Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO partners (id, application_id, company_name, domain, country, partner_type,
                               program_id, tier_id, approved_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())",
    )
    .bind(id)
    .bind(app.id)
    .bind(&app.company_name)
    .bind(&app.domain)
    .bind(&app.country)
    .bind(app.partner_type)
    .bind(program_id)
    .bind(tier_id)
    .execute(db)
    .await?;
    Ok(id)
}

pub async fn partner(db: Db<'_>, id: Uuid) -> Result<Option<PartnerRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PARTNER_COLUMNS} FROM partners p JOIN tiers t ON t.id = p.tier_id WHERE p.id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// The partner, locked for a state change until the transaction ends.
pub async fn partner_for_update(db: Db<'_>, id: Uuid) -> Result<Option<PartnerRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PARTNER_COLUMNS} FROM partners p JOIN tiers t ON t.id = p.tier_id
         WHERE p.id = $1 FOR UPDATE OF p"
    )))
    .bind(id)
    .fetch_optional(db)
    .await
}

pub async fn list_partners(
    db: Db<'_>,
    only: Option<Uuid>,
    status: Option<PartnerStatus>,
    program_id: Option<Uuid>,
    after: Uuid,
    limit: i64,
) -> Result<Vec<PartnerRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PARTNER_COLUMNS} FROM partners p JOIN tiers t ON t.id = p.tier_id
         WHERE p.id > $1 AND ($2::uuid IS NULL OR p.id = $2)
            AND ($3::text IS NULL OR p.status = $3) AND ($4::uuid IS NULL OR p.program_id = $4)
         ORDER BY p.id LIMIT $5"
    )))
    .bind(after)
    .bind(only)
    .bind(status)
    .bind(program_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Ids of the partners whose tier rules are reviewed.
pub async fn active_partner_ids(db: Db<'_>) -> Result<Vec<Uuid>> {
    sqlx::query_scalar("SELECT id FROM partners WHERE status = $1 ORDER BY id")
        .bind(PartnerStatus::Active)
        .fetch_all(db)
        .await
}

/// Runs an UPDATE of one partner (as a CTE named `p`) and returns the
/// updated row with its tier.
fn updated_partner(update: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!(
        "WITH p AS ({update} RETURNING *)
         SELECT {PARTNER_COLUMNS} FROM p JOIN tiers t ON t.id = p.tier_id"
    ))
}

/// Sets status and reason, bumping the version.
pub async fn set_partner_status(
    db: Db<'_>,
    id: Uuid,
    status: PartnerStatus,
    reason: &str,
) -> Result<PartnerRow> {
    sqlx::query_as(updated_partner(
        "UPDATE partners SET status = $2, status_reason = $3, version = version + 1 WHERE id = $1",
    ))
    .bind(id)
    .bind(status)
    .bind(reason)
    .fetch_one(db)
    .await
}

/// Sets tier and pending demotion, bumping the version.
pub async fn set_partner_tier(
    db: Db<'_>,
    id: Uuid,
    tier_id: Uuid,
    demotion_due_at: Option<DateTime<Utc>>,
) -> Result<PartnerRow> {
    sqlx::query_as(updated_partner(
        "UPDATE partners SET tier_id = $2, demotion_due_at = $3, version = version + 1 WHERE id = $1",
    ))
    .bind(id)
    .bind(tier_id)
    .bind(demotion_due_at)
    .fetch_one(db)
    .await
}

pub async fn set_first_deal(db: Db<'_>, id: Uuid, at: DateTime<Utc>) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE partners SET first_deal_at = $2 WHERE id = $1 AND first_deal_at IS NULL",
    )
    .bind(id)
    .bind(at)
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

pub async fn set_onboarding_completed(db: Db<'_>, id: Uuid, at: DateTime<Utc>) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE partners SET onboarding_completed_at = $2 WHERE id = $1 AND onboarding_completed_at IS NULL",
    )
    .bind(id)
    .bind(at)
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// How a deal registration ended up, as far as onboarding cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DealOutcome<'a> {
    Approved,
    Won {
        amount_minor: i64,
        currency: &'a str,
    },
}

/// Records a deal outcome once (per deal and outcome); returns whether it
/// was new.
pub async fn record_deal(
    db: Db<'_>,
    deal_id: Uuid,
    partner_id: Uuid,
    outcome: DealOutcome<'_>,
    at: DateTime<Utc>,
) -> Result<bool> {
    let (name, amount, currency) = match outcome {
        DealOutcome::Approved => ("approved", None, None),
        DealOutcome::Won {
            amount_minor,
            currency,
        } => ("won", Some(amount_minor), Some(currency)),
    };
    Ok(sqlx::query(
        "INSERT INTO partner_deals (deal_registration_id, outcome, partner_id, amount_minor, currency, occurred_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(deal_id)
    .bind(name)
    .bind(partner_id)
    .bind(amount)
    .bind(currency)
    .bind(at)
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// Revenue won (in `currency` only; no conversion), deals won and
/// certified people of a partner since `since`.
pub async fn tier_metrics(
    db: Db<'_>,
    partner_id: Uuid,
    currency: &str,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<TierMetrics> {
    let (revenue, deals, certified): (i64, i64, i64) = sqlx::query_as(
        "SELECT
            coalesce((SELECT sum(amount_minor) FROM partner_deals
                      WHERE partner_id = $1 AND outcome = 'won' AND currency = $2
                        AND occurred_at > $3 AND occurred_at <= $4), 0)::bigint,
            (SELECT count(*) FROM partner_deals
             WHERE partner_id = $1 AND outcome = 'won' AND occurred_at > $3 AND occurred_at <= $4),
            (SELECT count(DISTINCT user_id) FROM certifications
             WHERE partner_id = $1 AND expires_at > $4)",
    )
    .bind(partner_id)
    .bind(currency)
    .bind(since)
    .bind(now)
    .fetch_one(db)
    .await?;
    Ok(TierMetrics {
        revenue_minor: revenue,
        deals_won: i32::try_from(deals).unwrap_or(i32::MAX),
        certified_people: i32::try_from(certified).unwrap_or(i32::MAX),
    })
}
