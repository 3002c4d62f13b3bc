//! Registrations, their product lines, near matches and history.

use chrono::{DateTime, NaiveDate, Utc};
use prm_runtime::Money;
use uuid::Uuid;

use super::{Db, Result};
use crate::domain::registration::{
    Contact, HistoryAction, NewRegistration, ProductLine, RegistrationStatus, RejectionReason,
};

/// The unique indexes that make one registration hold a customer.
pub const ACTIVE_DOMAIN_KEY: &str = "registrations_active_domain_key";
pub const ACTIVE_COMPANY_KEY: &str = "registrations_active_company_key";

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RegistrationRow {
    pub id: Uuid,
    pub partner_id: Uuid,
    pub status: RegistrationStatus,
    pub customer_company: String,
    pub company_key: String,
    pub customer_domain: String,
    pub domain_key: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub value_minor: i64,
    pub currency: String,
    pub expected_close_date: NaiveDate,
    pub notes: String,
    pub mdf_reference: String,
    pub submitted_at: DateTime<Utc>,
    pub decision_due_at: DateTime<Utc>,
    pub returned_at: Option<DateTime<Utc>>,
    pub sla_breached_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<Uuid>,
    pub protected_until: Option<DateTime<Utc>>,
    pub extensions_used: i32,
    pub expiring_notified_at: Option<DateTime<Utc>>,
    pub rejection_reason: Option<RejectionReason>,
    pub status_note: String,
    pub won_minor: Option<i64>,
    pub closed_at: Option<DateTime<Utc>>,
    pub needs_review: bool,
    pub version: i64,
}

impl RegistrationRow {
    pub fn value(&self) -> Money {
        Money::new(self.value_minor, self.currency.clone())
    }

    pub fn contact(&self) -> Contact {
        Contact {
            name: self.contact_name.clone(),
            email: self.contact_email.clone(),
            phone: self.contact_phone.clone(),
        }
    }
}

prm_runtime::aggregate!(RegistrationRow: "deal_registration", partner = partner_id);

pub async fn insert_registration(
    db: Db<'_>,
    partner_id: Uuid,
    r: &NewRegistration,
    at: DateTime<Utc>,
    decision_due_at: DateTime<Utc>,
) -> Result<RegistrationRow> {
    let row: RegistrationRow = sqlx::query_as(
        "INSERT INTO registrations (id, partner_id, status, customer_company, company_key,
            customer_domain, domain_key, contact_name, contact_email, contact_phone, value_minor,
            currency, expected_close_date, notes, mdf_reference, submitted_at, decision_due_at)
         VALUES ($1, $2, 'submitted', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
         RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(partner_id)
    .bind(&r.customer_company)
    .bind(&r.company_key)
    .bind(&r.customer_domain)
    .bind(&r.domain_key)
    .bind(&r.contact.name)
    .bind(&r.contact.email)
    .bind(&r.contact.phone)
    .bind(r.value.amount_minor)
    .bind(&r.value.currency)
    .bind(r.expected_close_date)
    .bind(&r.notes)
    .bind(&r.mdf_reference)
    .bind(at)
    .bind(decision_due_at)
    .fetch_one(&mut *db)
    .await?;
    if !r.products.is_empty() {
        insert_products(db, row.id, &r.products).await?;
    }
    Ok(row)
}

pub async fn replace_products(db: Db<'_>, id: Uuid, lines: &[ProductLine]) -> Result<()> {
    sqlx::query("DELETE FROM registration_products WHERE registration_id = $1")
        .bind(id)
        .execute(&mut *db)
        .await?;
    if lines.is_empty() {
        return Ok(());
    }
    insert_products(db, id, lines).await
}

async fn insert_products(db: Db<'_>, id: Uuid, lines: &[ProductLine]) -> Result<()> {
    let n: Vec<i32> = (0..lines.len() as i32).collect();
    let product: Vec<&str> = lines.iter().map(|l| l.product.as_str()).collect();
    let quantity: Vec<i32> = lines.iter().map(|l| l.quantity).collect();
    let amount: Vec<i64> = lines.iter().map(|l| l.amount_minor).collect();
    let currency: Vec<&str> = lines.iter().map(|l| l.currency.as_str()).collect();
    sqlx::query(
        "INSERT INTO registration_products (registration_id, line, product, quantity, amount_minor, currency)
         SELECT $1, * FROM UNNEST($2::int[], $3::text[], $4::int[], $5::bigint[], $6::text[])",
    )
    .bind(id)
    .bind(&n)
    .bind(&product)
    .bind(&quantity)
    .bind(&amount)
    .bind(&currency)
    .execute(db)
    .await?;
    Ok(())
}

#[derive(Clone, Debug, sqlx::FromRow)]
struct ProductRow {
    registration_id: Uuid,
    product: String,
    quantity: i32,
    amount_minor: i64,
    currency: String,
}

/// The product lines of each of `ids`, in line order.
pub async fn products_of(db: Db<'_>, ids: &[Uuid]) -> Result<Vec<(Uuid, ProductLine)>> {
    let rows: Vec<ProductRow> = sqlx::query_as(
        "SELECT registration_id, product, quantity, amount_minor, currency
         FROM registration_products WHERE registration_id = ANY($1) ORDER BY registration_id, line",
    )
    .bind(ids)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.registration_id,
                ProductLine {
                    product: r.product,
                    quantity: r.quantity,
                    amount_minor: r.amount_minor,
                    currency: r.currency,
                },
            )
        })
        .collect())
}

pub async fn registration(db: Db<'_>, id: Uuid) -> Result<Option<RegistrationRow>> {
    sqlx::query_as("SELECT * FROM registrations WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Locks the registration for a change, so concurrent changes serialise.
pub async fn registration_for_update(db: Db<'_>, id: Uuid) -> Result<Option<RegistrationRow>> {
    sqlx::query_as("SELECT * FROM registrations WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn list_registrations(
    db: Db<'_>,
    partner_id: Option<Uuid>,
    status: Option<RegistrationStatus>,
    after: Uuid,
    limit: i64,
) -> Result<Vec<RegistrationRow>> {
    sqlx::query_as(
        "SELECT * FROM registrations
         WHERE id > $1 AND ($2::uuid IS NULL OR partner_id = $2) AND ($3::text IS NULL OR status = $3)
         ORDER BY id LIMIT $4",
    )
    .bind(after)
    .bind(partner_id)
    .bind(status)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Saves a registration's changed state and bumps its version.
pub async fn save_registration(db: Db<'_>, r: &RegistrationRow) -> Result<RegistrationRow> {
    sqlx::query_as(
        "UPDATE registrations SET status = $2, contact_name = $3, contact_email = $4,
            contact_phone = $5, value_minor = $6, currency = $7, expected_close_date = $8,
            notes = $9, decision_due_at = $10, returned_at = $11, sla_breached_at = $12,
            decided_at = $13, decided_by = $14, protected_until = $15, extensions_used = $16,
            expiring_notified_at = $17, rejection_reason = $18, status_note = $19, won_minor = $20,
            closed_at = $21, needs_review = $22, version = version + 1
         WHERE id = $1 RETURNING *",
    )
    .bind(r.id)
    .bind(r.status)
    .bind(&r.contact_name)
    .bind(&r.contact_email)
    .bind(&r.contact_phone)
    .bind(r.value_minor)
    .bind(&r.currency)
    .bind(r.expected_close_date)
    .bind(&r.notes)
    .bind(r.decision_due_at)
    .bind(r.returned_at)
    .bind(r.sla_breached_at)
    .bind(r.decided_at)
    .bind(r.decided_by)
    .bind(r.protected_until)
    .bind(r.extensions_used)
    .bind(r.expiring_notified_at)
    .bind(r.rejection_reason)
    .bind(&r.status_note)
    .bind(r.won_minor)
    .bind(r.closed_at)
    .bind(r.needs_review)
    .fetch_one(db)
    .await
}

/// A direct account of the vendor holds this customer (by domain or
/// company name). Registrations hold theirs through the unique indexes.
pub async fn direct_account_holds(db: Db<'_>, domain_key: &str, company_key: &str) -> Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM direct_accounts WHERE domain_key = $1 OR company_key = $2)",
    )
    .bind(domain_key)
    .bind(company_key)
    .fetch_one(db)
    .await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct NearMatchRow {
    pub registration_id: Uuid,
    pub matched_id: Uuid,
    pub customer_company: String,
    pub similarity: f32,
}

/// Records the active registrations whose company name resembles `r`'s
/// (trigram similarity at least `threshold`; an index lookup), and returns
/// how many there are.
pub async fn record_near_matches(db: Db<'_>, r: &RegistrationRow, threshold: f64) -> Result<u64> {
    // `%` uses this threshold, and the GIN index then skips rows that
    // share too few trigrams before reading them (the default, 0.3, would
    // read far more candidates only to drop them). The trigram index must
    // be the plan even while the table is small or its statistics stale:
    // any other scan computes trigrams for every row. So the scan sees only
    // `%` (OFFSET 0 keeps the status filter out of it, which would let a
    // partial index on status qualify) and sequential scans are off for it.
    sqlx::query(
        "SELECT set_config('pg_trgm.similarity_threshold', $1, true),
                set_config('enable_seqscan', 'off', true)",
    )
    .bind(threshold.to_string())
    .execute(&mut *db)
    .await?;
    let done = sqlx::query(
        "INSERT INTO registration_near_matches (registration_id, matched_id, similarity)
         SELECT $1, id, sml FROM (
             SELECT id, status, similarity(company_key, $2) AS sml
             FROM registrations
             WHERE company_key % $2 AND id <> $1
             OFFSET 0
         ) candidates
         WHERE status IN ('submitted', 'returned', 'approved')
         ORDER BY sml DESC
         LIMIT 10
         ON CONFLICT DO NOTHING",
    )
    .bind(r.id)
    .bind(&r.company_key)
    .execute(&mut *db)
    .await?;
    sqlx::query("SELECT set_config('enable_seqscan', 'on', true)")
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

pub async fn near_matches_of(db: Db<'_>, ids: &[Uuid]) -> Result<Vec<NearMatchRow>> {
    sqlx::query_as(
        "SELECT m.registration_id, m.matched_id, r.customer_company, m.similarity
         FROM registration_near_matches m JOIN registrations r ON r.id = m.matched_id
         WHERE m.registration_id = ANY($1) ORDER BY m.registration_id, m.similarity DESC",
    )
    .bind(ids)
    .fetch_all(db)
    .await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TransitionRow {
    pub id: Uuid,
    pub registration_id: Uuid,
    pub action: HistoryAction,
    pub from_status: Option<RegistrationStatus>,
    pub to_status: RegistrationStatus,
    pub actor_user_id: Option<Uuid>,
    pub note: String,
    pub at: DateTime<Utc>,
}

/// Keeps a transition in the registration's history.
#[allow(clippy::too_many_arguments)]
pub async fn record_transition(
    db: Db<'_>,
    registration_id: Uuid,
    action: HistoryAction,
    from: Option<RegistrationStatus>,
    to: RegistrationStatus,
    actor: Option<Uuid>,
    note: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO registration_history (id, registration_id, action, from_status, to_status, actor_user_id, note, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(Uuid::now_v7())
    .bind(registration_id)
    .bind(action)
    .bind(from)
    .bind(to)
    .bind(actor)
    .bind(note)
    .bind(at)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn history(db: Db<'_>, registration_id: Uuid) -> Result<Vec<TransitionRow>> {
    sqlx::query_as("SELECT * FROM registration_history WHERE registration_id = $1 ORDER BY id")
        .bind(registration_id)
        .fetch_all(db)
        .await
}

/// Flags a new registration for review (part of its creation: the version
/// stays).
pub async fn mark_needs_review(db: Db<'_>, id: Uuid) -> Result<()> {
    sqlx::query("UPDATE registrations SET needs_review = true WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Registrations the sweep must look at: approved ones whose protection
/// ends by `notice_horizon` (not yet warned) or has ended by `now`, and
/// submitted ones past their decision time without a recorded breach.
/// Partial-index friendly: both arms filter on status first.
pub async fn due_for_sweep(
    db: Db<'_>,
    now: DateTime<Utc>,
    notice_horizon: DateTime<Utc>,
) -> Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT id FROM registrations
         WHERE (status = 'approved' AND (protected_until <= $1
                OR (protected_until <= $2 AND expiring_notified_at IS NULL)))
            OR (status = 'submitted' AND decision_due_at <= $1 AND sla_breached_at IS NULL)
         ORDER BY id LIMIT 1000",
    )
    .bind(now)
    .bind(notice_horizon)
    .fetch_all(db)
    .await
}
