//! Budgets and what their money is doing.

use chrono::{DateTime, NaiveDate, Utc};
use prm_runtime::Money;
use uuid::Uuid;

use super::{Db, Result};
use crate::domain::period::Period;

/// The unique index: one budget per program and period.
pub const BUDGET_PROGRAM_PERIOD: &str = "budgets_program_period";
/// The exclusion: a program's budgets cover periods that do not overlap.
pub const BUDGET_PERIODS_DO_NOT_OVERLAP: &str = "budgets_periods_do_not_overlap";
/// The CHECK that keeps a budget's allocations within it.
pub const BUDGET_NOT_OVERALLOCATED: &str = "budgets_not_overallocated";

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct BudgetRow {
    pub id: Uuid,
    pub program_id: Uuid,
    pub name: String,
    pub period: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub currency: String,
    pub amount_minor: i64,
    pub allocated_minor: i64,
    pub claim_window_days: i32,
    pub created_at: DateTime<Utc>,
}

impl BudgetRow {
    pub fn amount(&self) -> Money {
        Money::new(self.amount_minor, self.currency.clone())
    }

    pub fn unallocated_minor(&self) -> i64 {
        self.amount_minor - self.allocated_minor
    }
}

/// Sums over a budget's funds, requests and claims.
#[derive(Clone, Debug, Default, sqlx::FromRow)]
pub struct BudgetTotalsRow {
    pub budget_id: Uuid,
    pub requested: i64,
    pub approved: i64,
    pub claimed: i64,
    pub reimbursed: i64,
    pub expired: i64,
}

pub struct NewBudget<'a> {
    pub program_id: Uuid,
    pub name: &'a str,
    pub period: &'a Period,
    pub amount: &'a Money,
    pub claim_window_days: i32,
}

pub async fn insert_budget(db: Db<'_>, b: &NewBudget<'_>, now: DateTime<Utc>) -> Result<BudgetRow> {
    sqlx::query_as(
        "INSERT INTO budgets (id, program_id, name, period, starts_on, ends_on, currency,
                              amount_minor, claim_window_days, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(b.program_id)
    .bind(b.name)
    .bind(&b.period.name)
    .bind(b.period.starts_on)
    .bind(b.period.ends_on)
    .bind(&b.amount.currency)
    .bind(b.amount.amount_minor)
    .bind(b.claim_window_days)
    .bind(now)
    .fetch_one(db)
    .await
}

pub async fn budget(db: Db<'_>, id: Uuid) -> Result<Option<BudgetRow>> {
    sqlx::query_as("SELECT * FROM budgets WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// The budgets, locked in id order: accruals read what is left of them.
pub async fn budgets_for_update(db: Db<'_>, ids: &[Uuid]) -> Result<Vec<BudgetRow>> {
    sqlx::query_as("SELECT * FROM budgets WHERE id = ANY($1) ORDER BY id FOR UPDATE")
        .bind(ids)
        .fetch_all(db)
        .await
}

pub async fn list_budgets(
    db: Db<'_>,
    program: Option<Uuid>,
    after: Uuid,
    limit: i64,
) -> Result<Vec<BudgetRow>> {
    sqlx::query_as(
        "SELECT * FROM budgets
         WHERE ($1::uuid IS NULL OR program_id = $1) AND id > $2
         ORDER BY id LIMIT $3",
    )
    .bind(program)
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The totals of each budget in `ids`.
pub async fn budget_totals(db: Db<'_>, ids: &[Uuid]) -> Result<Vec<BudgetTotalsRow>> {
    sqlx::query_as(
        "SELECT b.id AS budget_id,
           COALESCE((SELECT SUM(r.requested_minor) FROM mdf_requests r JOIN funds f ON f.id = r.fund_id
                     WHERE f.budget_id = b.id
                       AND r.status IN ('submitted', 'approved', 'completed', 'lapsed')), 0)::bigint AS requested,
           COALESCE((SELECT SUM(r.approved_minor) FROM mdf_requests r JOIN funds f ON f.id = r.fund_id
                     WHERE f.budget_id = b.id
                       AND r.status IN ('approved', 'completed', 'lapsed')), 0)::bigint AS approved,
           COALESCE((SELECT SUM(c.reimbursable_minor) FROM claims c JOIN funds f ON f.id = c.fund_id
                     WHERE f.budget_id = b.id AND c.status IN ('submitted', 'approved')), 0)::bigint AS claimed,
           COALESCE((SELECT SUM(f.reimbursed_minor) FROM funds f WHERE f.budget_id = b.id), 0)::bigint AS reimbursed,
           COALESCE((SELECT SUM(f.expired_minor) FROM funds f WHERE f.budget_id = b.id), 0)::bigint AS expired
         FROM budgets b WHERE b.id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(db)
    .await
}
