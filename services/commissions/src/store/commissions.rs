//! Commissions.

use chrono::{DateTime, Utc};
use prm_runtime::Money;
use uuid::Uuid;

use super::{Db, Result};
use crate::domain::ledger::CommissionStatus;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CommissionRow {
    pub id: Uuid,
    pub partner_id: Uuid,
    pub program_id: Uuid,
    pub conversion_id: Option<Uuid>,
    pub deal_id: Option<Uuid>,
    pub plan_id: Uuid,
    pub plan_version: i32,
    pub currency: String,
    pub amount_minor: i64,
    pub reversed_minor: i64,
    pub status: CommissionStatus,
    pub basis: String,
    pub hold_until: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub approved_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl CommissionRow {
    pub fn money(&self, amount_minor: i64) -> Money {
        Money::new(amount_minor, self.currency.clone())
    }

    /// What is left after reversals.
    pub fn outstanding(&self) -> i64 {
        self.amount_minor - self.reversed_minor
    }
}

prm_runtime::aggregate!(CommissionRow: "commission", partner = partner_id);

/// A commission to write (the plan and hold are filled in by
/// `operations::earn`).
#[derive(Clone, Debug)]
pub struct NewCommission<'a> {
    pub partner_id: Uuid,
    pub program_id: Uuid,
    pub conversion_id: Option<Uuid>,
    pub deal_id: Option<Uuid>,
    pub plan_id: Uuid,
    pub plan_version: i32,
    pub currency: &'a str,
    pub amount_minor: i64,
    pub basis: &'a str,
    pub hold_until: DateTime<Utc>,
}

/// Inserts the commission; `None` when the deal already earned one.
pub async fn insert_commission(
    db: Db<'_>,
    c: &NewCommission<'_>,
    now: DateTime<Utc>,
) -> Result<Option<CommissionRow>> {
    sqlx::query_as(
        "INSERT INTO commissions (id, partner_id, program_id, conversion_id, deal_id, plan_id,
             plan_version, currency, amount_minor, status, basis, hold_until, created_at)
         VALUES ($1, $2, $3, $4, $12, $5, $6, $7, $8, 'pending', $9, $10, $11)
         ON CONFLICT (deal_id) DO NOTHING
         RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(c.partner_id)
    .bind(c.program_id)
    .bind(c.conversion_id)
    .bind(c.plan_id)
    .bind(c.plan_version)
    .bind(c.currency)
    .bind(c.amount_minor)
    .bind(c.basis)
    .bind(c.hold_until)
    .bind(now)
    .bind(c.deal_id)
    .fetch_optional(db)
    .await
}

pub async fn commission_of_conversion_for_update(
    db: Db<'_>,
    conversion: Uuid,
) -> Result<Option<CommissionRow>> {
    sqlx::query_as("SELECT * FROM commissions WHERE conversion_id = $1 FOR UPDATE")
        .bind(conversion)
        .fetch_optional(db)
        .await
}

pub async fn commission_for_update(db: Db<'_>, id: Uuid) -> Result<Option<CommissionRow>> {
    sqlx::query_as("SELECT * FROM commissions WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn save_commission(db: Db<'_>, c: &CommissionRow) -> Result<CommissionRow> {
    sqlx::query_as(
        "UPDATE commissions SET status = $2, reversed_minor = $3, approved_at = $4,
             version = version + 1
         WHERE id = $1 RETURNING *",
    )
    .bind(c.id)
    .bind(c.status)
    .bind(c.reversed_minor)
    .bind(c.approved_at)
    .fetch_one(db)
    .await
}

/// Pending commissions whose hold period is over at `now`.
pub async fn commissions_due(db: Db<'_>, now: DateTime<Utc>) -> Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT id FROM commissions WHERE status = 'pending' AND hold_until <= $1
         ORDER BY hold_until LIMIT 500",
    )
    .bind(now)
    .fetch_all(db)
    .await
}

pub async fn list_commissions(
    db: Db<'_>,
    partner: Option<Uuid>,
    status: Option<CommissionStatus>,
    after: Uuid,
    limit: i64,
) -> Result<Vec<CommissionRow>> {
    sqlx::query_as(
        "SELECT * FROM commissions
         WHERE ($1::uuid IS NULL OR partner_id = $1) AND ($2::text IS NULL OR status = $2) AND id > $3
         ORDER BY id LIMIT $4",
    )
    .bind(partner)
    .bind(status)
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await
}
