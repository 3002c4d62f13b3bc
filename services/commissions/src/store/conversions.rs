//! Conversions, keyed by program and transaction id; and the customers
//! whose later sales recur.

use chrono::{DateTime, Utc};
use prm_runtime::Money;
use uuid::Uuid;

use super::{Db, Result};
use crate::domain::postback::{
    ConversionKind, ConversionStatus, HoldReason, Postback, new_conversion_status,
};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ConversionRow {
    pub id: Uuid,
    pub program_id: Uuid,
    pub partner_id: Option<Uuid>,
    pub link_id: Option<Uuid>,
    pub click_id: Option<Uuid>,
    pub transaction_id: String,
    pub kind: ConversionKind,
    pub event_type: String,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub status: ConversionStatus,
    pub hold_reason: Option<HoldReason>,
    pub refunded_minor: i64,
    pub customer_id: Option<String>,
    pub customer_domain: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    /// Staff's reason, once they released or rejected it.
    pub decision_reason: String,
}

impl ConversionRow {
    pub fn amount(&self) -> Option<Money> {
        Some(Money::new(self.amount_minor?, self.currency.clone()?))
    }
}

prm_runtime::aggregate!(ConversionRow: "conversion", partner = optional partner_id);

/// Who a new conversion is attributed to, and whether it is held.
pub struct Attributed {
    pub partner_id: Option<Uuid>,
    pub link_id: Option<Uuid>,
    pub click_id: Option<Uuid>,
    pub hold: Option<HoldReason>,
}

/// Inserts the conversion unless the program already has its transaction
/// id (`None` then: a concurrent or earlier postback won).
pub async fn insert_conversion(
    db: Db<'_>,
    program: Uuid,
    p: &Postback,
    a: &Attributed,
    occurred_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<ConversionRow>> {
    let status = new_conversion_status(a.hold, p.status);
    sqlx::query_as(
        "INSERT INTO conversions (id, program_id, partner_id, link_id, click_id, transaction_id,
             kind, event_type, amount_minor, currency, status, hold_reason, customer_id,
             customer_domain, occurred_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)
         ON CONFLICT (program_id, transaction_id) DO NOTHING
         RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(program)
    .bind(a.partner_id)
    .bind(a.link_id)
    .bind(a.click_id)
    .bind(&p.transaction_id)
    .bind(p.kind)
    .bind(&p.event_type)
    .bind(p.amount_minor)
    .bind(&p.currency)
    .bind(status)
    .bind(a.hold)
    .bind(&p.customer_id)
    .bind(&p.customer_domain)
    .bind(occurred_at)
    .bind(now)
    .fetch_optional(db)
    .await
}

pub async fn conversion_by_transaction_for_update(
    db: Db<'_>,
    program: Uuid,
    transaction_id: &str,
) -> Result<Option<ConversionRow>> {
    sqlx::query_as(
        "SELECT * FROM conversions WHERE program_id = $1 AND transaction_id = $2 FOR UPDATE",
    )
    .bind(program)
    .bind(transaction_id)
    .fetch_optional(db)
    .await
}

pub async fn conversion_for_update(db: Db<'_>, id: Uuid) -> Result<Option<ConversionRow>> {
    sqlx::query_as("SELECT * FROM conversions WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Records staff's decision on a held conversion: its new status and why.
pub async fn decide_conversion(
    db: Db<'_>,
    id: Uuid,
    status: ConversionStatus,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<ConversionRow> {
    sqlx::query_as(
        "UPDATE conversions SET status = $2, decision_reason = $3, updated_at = $4,
             version = version + 1
         WHERE id = $1 RETURNING *",
    )
    .bind(id)
    .bind(status)
    .bind(reason)
    .bind(now)
    .fetch_one(db)
    .await
}

pub async fn save_conversion_status(
    db: Db<'_>,
    id: Uuid,
    status: ConversionStatus,
    refunded_minor: i64,
    now: DateTime<Utc>,
) -> Result<ConversionRow> {
    sqlx::query_as(
        "UPDATE conversions SET status = $2, refunded_minor = $3, updated_at = $4,
             version = version + 1
         WHERE id = $1 RETURNING *",
    )
    .bind(id)
    .bind(status)
    .bind(refunded_minor)
    .bind(now)
    .fetch_one(db)
    .await
}

/// Counts one more attributed sale of the partner in the calendar month
/// (UTC) of `at`, and returns which it is (1 for the first). Concurrent
/// sales of one partner and month queue on the counter's row.
pub async fn next_sale_in_month(db: Db<'_>, partner: Uuid, at: DateTime<Utc>) -> Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO partner_month_sales (partner_id, month, sales)
         VALUES ($1, date_trunc('month', $2::timestamptz, 'UTC')::date, 1)
         ON CONFLICT (partner_id, month) DO UPDATE SET sales = partner_month_sales.sales + 1
         RETURNING sales",
    )
    .bind(partner)
    .bind(at)
    .fetch_one(db)
    .await
}

pub async fn list_conversions(
    db: Db<'_>,
    partner: Option<Uuid>,
    status: Option<ConversionStatus>,
    after: Uuid,
    limit: i64,
) -> Result<Vec<ConversionRow>> {
    sqlx::query_as(
        "SELECT * FROM conversions
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

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CustomerRow {
    pub program_id: Uuid,
    pub customer_id: String,
    pub partner_id: Uuid,
    pub link_id: Option<Uuid>,
    pub first_sale_at: DateTime<Utc>,
}

pub async fn customer(db: Db<'_>, program: Uuid, customer: &str) -> Result<Option<CustomerRow>> {
    sqlx::query_as("SELECT * FROM customers WHERE program_id = $1 AND customer_id = $2")
        .bind(program)
        .bind(customer)
        .fetch_optional(db)
        .await
}

/// Remembers a customer's first attributed sale (a later one changes
/// nothing).
pub async fn remember_customer(
    db: Db<'_>,
    program: Uuid,
    customer: &str,
    partner: Uuid,
    link: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO customers (program_id, customer_id, partner_id, link_id, first_sale_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(program)
    .bind(customer)
    .bind(partner)
    .bind(link)
    .bind(at)
    .execute(db)
    .await?;
    Ok(())
}
