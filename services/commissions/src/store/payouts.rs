//! Payout profiles and batches.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{Db, Result};
use crate::domain::payout::{NewProfile, PayoutBatchStatus, PayoutMethod, TaxForm};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ProfileRow {
    pub partner_id: Uuid,
    pub method: PayoutMethod,
    pub paypal_email: String,
    pub bank_reference: String,
    pub stripe_account_id: String,
    pub payee_name: String,
    pub tax_form: Option<TaxForm>,
    pub tax_form_received_on: Option<NaiveDate>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl ProfileRow {
    pub fn destination(&self) -> &str {
        match self.method {
            PayoutMethod::Paypal => &self.paypal_email,
            PayoutMethod::Bank => &self.bank_reference,
            PayoutMethod::StripeConnect => &self.stripe_account_id,
        }
    }
}

/// Saves the profile; a `None` tax form keeps the recorded one.
pub async fn put_profile(
    db: Db<'_>,
    partner: Uuid,
    p: &NewProfile,
    now: DateTime<Utc>,
) -> Result<ProfileRow> {
    sqlx::query_as(
        "INSERT INTO payout_profiles (partner_id, method, paypal_email, bank_reference,
             stripe_account_id, payee_name, tax_form, tax_form_received_on, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (partner_id) DO UPDATE SET method = $2, paypal_email = $3,
             bank_reference = $4, stripe_account_id = $5, payee_name = $6,
             tax_form = coalesce($7, payout_profiles.tax_form),
             tax_form_received_on = coalesce($8, payout_profiles.tax_form_received_on),
             updated_at = $9, version = payout_profiles.version + 1
         RETURNING *",
    )
    .bind(partner)
    .bind(p.method)
    .bind(&p.paypal_email)
    .bind(&p.bank_reference)
    .bind(&p.stripe_account_id)
    .bind(&p.payee_name)
    .bind(p.tax_form.map(|t| t.0))
    .bind(p.tax_form.map(|t| t.1))
    .bind(now)
    .fetch_one(db)
    .await
}

pub async fn profile(db: Db<'_>, partner: Uuid) -> Result<Option<ProfileRow>> {
    sqlx::query_as("SELECT * FROM payout_profiles WHERE partner_id = $1")
        .bind(partner)
        .fetch_optional(db)
        .await
}

/// A partner of the program with money in the currency, and its profile.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PayableRow {
    pub partner_id: Uuid,
    pub available_minor: i64,
    pub has_profile: bool,
    pub has_tax_form: bool,
    pub method: Option<PayoutMethod>,
    pub destination: Option<String>,
    pub payee_name: Option<String>,
}

/// Takes the program's payout lock for the currency (batches of one
/// program and currency are made one at a time), then reads every partner
/// of the program with a positive available balance.
pub async fn payable_partners_locked(
    db: Db<'_>,
    program: Uuid,
    currency: &str,
) -> Result<Vec<PayableRow>> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("payouts:{program}:{currency}"))
        .execute(&mut *db)
        .await?;
    sqlx::query_as(
        "SELECT b.partner_id, b.available_minor,
             pp.partner_id IS NOT NULL AS has_profile,
             coalesce(pp.tax_form IS NOT NULL, false) AS has_tax_form,
             pp.method,
             CASE pp.method WHEN 'paypal' THEN pp.paypal_email WHEN 'bank' THEN pp.bank_reference
                  ELSE pp.stripe_account_id END AS destination,
             pp.payee_name
         FROM (SELECT e.partner_id, sum(e.available_delta)::bigint AS available_minor
               FROM ledger_entries e JOIN partners p ON p.partner_id = e.partner_id
               WHERE p.program_id = $1 AND e.currency = $2
               GROUP BY e.partner_id HAVING sum(e.available_delta) > 0) b
         LEFT JOIN payout_profiles pp ON pp.partner_id = b.partner_id
         ORDER BY b.partner_id",
    )
    .bind(program)
    .bind(currency)
    .fetch_all(db)
    .await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct BatchRow {
    pub id: Uuid,
    pub program_id: Uuid,
    pub currency: String,
    pub status: PayoutBatchStatus,
    pub total_minor: i64,
    pub min_payout_minor: i64,
    pub provider_reference: String,
    pub failure_reason: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

prm_runtime::aggregate!(BatchRow: "payout_batch", partner = none);

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ItemRow {
    pub batch_id: Uuid,
    pub partner_id: Uuid,
    pub position: i32,
    pub amount_minor: i64,
    pub method: PayoutMethod,
    pub destination: String,
    pub payee_name: String,
}

impl ItemRow {
    /// A reference unique in the batch, short enough for PayPal's
    /// 30-character Customer ID.
    pub fn reference(&self) -> String {
        format!(
            "{}-{:05}",
            &self.batch_id.simple().to_string()[..12],
            self.position
        )
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ExclusionRow {
    pub batch_id: Uuid,
    pub partner_id: Uuid,
    pub available_minor: i64,
    pub reason: String,
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_batch(
    db: Db<'_>,
    id: Uuid,
    program: Uuid,
    currency: &str,
    total: i64,
    minimum: i64,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<BatchRow> {
    sqlx::query_as(
        "INSERT INTO payout_batches (id, program_id, currency, status, total_minor,
             min_payout_minor, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $7) RETURNING *",
    )
    .bind(id)
    .bind(program)
    .bind(currency)
    .bind(total)
    .bind(minimum)
    .bind(by)
    .bind(now)
    .fetch_one(db)
    .await
}

pub async fn insert_items(db: Db<'_>, items: &[ItemRow]) -> Result<()> {
    sqlx::query(
        "INSERT INTO payout_items (batch_id, partner_id, position, amount_minor, method,
             destination, payee_name)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::bigint[], $5::text[],
             $6::text[], $7::text[])",
    )
    .bind(items.iter().map(|i| i.batch_id).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.partner_id).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.position).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.amount_minor).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.method.as_str()).collect::<Vec<_>>())
    .bind(
        items
            .iter()
            .map(|i| i.destination.clone())
            .collect::<Vec<_>>(),
    )
    .bind(
        items
            .iter()
            .map(|i| i.payee_name.clone())
            .collect::<Vec<_>>(),
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn insert_exclusions(db: Db<'_>, rows: &[ExclusionRow]) -> Result<()> {
    sqlx::query(
        "INSERT INTO payout_exclusions (batch_id, partner_id, available_minor, reason)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[])",
    )
    .bind(rows.iter().map(|r| r.batch_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.partner_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.available_minor).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.reason.clone()).collect::<Vec<_>>())
    .execute(db)
    .await?;
    Ok(())
}

pub async fn batch(db: Db<'_>, id: Uuid, lock: bool) -> Result<Option<BatchRow>> {
    let sql = if lock {
        "SELECT * FROM payout_batches WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT * FROM payout_batches WHERE id = $1"
    };
    sqlx::query_as(sql).bind(id).fetch_optional(db).await
}

pub async fn batch_items(db: Db<'_>, id: Uuid) -> Result<Vec<ItemRow>> {
    sqlx::query_as("SELECT * FROM payout_items WHERE batch_id = $1 ORDER BY position")
        .bind(id)
        .fetch_all(db)
        .await
}

pub async fn batch_exclusions(db: Db<'_>, id: Uuid) -> Result<Vec<ExclusionRow>> {
    sqlx::query_as("SELECT * FROM payout_exclusions WHERE batch_id = $1 ORDER BY partner_id")
        .bind(id)
        .fetch_all(db)
        .await
}

pub async fn save_batch(db: Db<'_>, b: &BatchRow, now: DateTime<Utc>) -> Result<BatchRow> {
    sqlx::query_as(
        "UPDATE payout_batches SET status = $2, provider_reference = $3, failure_reason = $4,
             updated_at = $5, version = version + 1
         WHERE id = $1 RETURNING *",
    )
    .bind(b.id)
    .bind(b.status)
    .bind(&b.provider_reference)
    .bind(&b.failure_reason)
    .bind(now)
    .fetch_one(db)
    .await
}
