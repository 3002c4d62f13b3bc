//! Plan versions.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, Result};
use crate::domain::plan::{CpaRate, NewPlan, PlanRules, Recurrence, VolumeTier};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PlanRow {
    pub id: Uuid,
    pub program_id: Uuid,
    pub tier_id: Option<Uuid>,
    pub version: i32,
    pub effective_from: DateTime<Utc>,
    pub name: String,
    pub currency: String,
    pub cpa_event_types: Vec<String>,
    pub cpa_amounts_minor: Vec<i64>,
    pub revshare_bps: i32,
    pub tier_from_sales: Vec<i32>,
    pub tier_revshare_bps: Vec<i32>,
    pub recurrence: Recurrence,
    pub recurring_months: i32,
    pub reseller_margin_bps: i32,
    pub referral_fee_bps: i32,
    pub hold_days: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl PlanRow {
    pub fn rules(&self) -> PlanRules {
        PlanRules {
            currency: self.currency.clone(),
            cpa: self
                .cpa_event_types
                .iter()
                .zip(&self.cpa_amounts_minor)
                .map(|(e, a)| CpaRate {
                    event_type: e.clone(),
                    amount_minor: *a,
                })
                .collect(),
            revshare_bps: self.revshare_bps,
            volume_tiers: self
                .tier_from_sales
                .iter()
                .zip(&self.tier_revshare_bps)
                .map(|(f, b)| VolumeTier {
                    from_sale: *f,
                    revshare_bps: *b,
                })
                .collect(),
            recurrence: self.recurrence,
            recurring_months: self.recurring_months,
            reseller_margin_bps: self.reseller_margin_bps,
            referral_fee_bps: self.referral_fee_bps,
            hold_days: self.hold_days,
        }
    }
}

/// Inserts the next version of the program's (or tier's) plan. Versions of
/// one plan are numbered one at a time (a transaction-scoped lock).
pub async fn insert_plan(
    db: Db<'_>,
    p: &NewPlan,
    effective_from: DateTime<Utc>,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<PlanRow> {
    let key = format!(
        "plans:{}:{}",
        p.program_id,
        prm_runtime::wire::opt_id(p.tier_id)
    );
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(&key)
        .execute(&mut *db)
        .await?;
    let r = &p.rules;
    sqlx::query_as(
        "INSERT INTO plans (id, program_id, tier_id, version, effective_from, name, currency,
             cpa_event_types, cpa_amounts_minor, revshare_bps, tier_from_sales, tier_revshare_bps,
             recurrence, recurring_months, reseller_margin_bps, referral_fee_bps, hold_days,
             created_by, created_at)
         SELECT $1, $2, $3, coalesce(max(version), 0) + 1, $4, $5, $6, $7, $8, $9, $10, $11, $12,
             $13, $14, $15, $16, $17, $18
         FROM plans WHERE program_id = $2 AND tier_id IS NOT DISTINCT FROM $3
         RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(p.program_id)
    .bind(p.tier_id)
    .bind(effective_from)
    .bind(&p.name)
    .bind(&r.currency)
    .bind(
        r.cpa
            .iter()
            .map(|c| c.event_type.clone())
            .collect::<Vec<_>>(),
    )
    .bind(r.cpa.iter().map(|c| c.amount_minor).collect::<Vec<_>>())
    .bind(r.revshare_bps)
    .bind(
        r.volume_tiers
            .iter()
            .map(|t| t.from_sale)
            .collect::<Vec<_>>(),
    )
    .bind(
        r.volume_tiers
            .iter()
            .map(|t| t.revshare_bps)
            .collect::<Vec<_>>(),
    )
    .bind(r.recurrence)
    .bind(r.recurring_months)
    .bind(r.reseller_margin_bps)
    .bind(r.referral_fee_bps)
    .bind(r.hold_days)
    .bind(by)
    .bind(now)
    .fetch_one(db)
    .await
}

/// The plan in force for a partner of `program` in `tier` at `at`: the
/// tier's latest effective version if it has one, else the program's.
pub async fn plan_in_force(
    db: Db<'_>,
    program: Uuid,
    tier: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<Option<PlanRow>> {
    sqlx::query_as(
        "SELECT * FROM plans
         WHERE program_id = $1 AND (tier_id IS NULL OR tier_id = $2) AND effective_from <= $3
         ORDER BY tier_id IS NULL, version DESC LIMIT 1",
    )
    .bind(program)
    .bind(tier)
    .bind(at)
    .fetch_optional(db)
    .await
}

pub async fn list_plans(
    db: Db<'_>,
    program: Option<Uuid>,
    after: Uuid,
    limit: i64,
) -> Result<Vec<PlanRow>> {
    sqlx::query_as(
        "SELECT * FROM plans WHERE ($1::uuid IS NULL OR program_id = $1) AND id > $2
         ORDER BY id LIMIT $3",
    )
    .bind(program)
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await
}
