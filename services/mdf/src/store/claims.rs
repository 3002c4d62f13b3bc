//! Claims with their proof of performance.

use chrono::{DateTime, Utc};
use prm_runtime::Money;
use uuid::Uuid;

use super::{Db, Result, from_json};
use crate::domain::claim::{ClaimStatus, NewClaim, ProofDocument};

/// An invoice number is claimed once per partner.
pub const CLAIM_PARTNER_INVOICE: &str = "claims_partner_invoice";
/// One claim in play per request.
pub const CLAIM_REQUEST_OPEN: &str = "claims_request_open";

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ClaimRow {
    pub id: Uuid,
    pub request_id: Uuid,
    pub fund_id: Uuid,
    pub partner_id: Uuid,
    pub status: ClaimStatus,
    pub currency: String,
    pub proven_cost_minor: i64,
    pub reimbursable_minor: i64,
    pub reimbursed_minor: Option<i64>,
    pub invoice_number: String,
    pub leads_generated: i32,
    pub attendees: i32,
    /// JSON of the [`ProofDocument`]s; read with [`ClaimRow::documents`].
    pub documents: String,
    pub decision_reason: String,
    pub decided_by: Option<Uuid>,
    pub submitted_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl ClaimRow {
    pub fn money(&self, amount_minor: i64) -> Money {
        Money::new(amount_minor, self.currency.clone())
    }

    pub fn documents(&self) -> Result<Vec<ProofDocument>> {
        from_json("documents", &self.documents)
    }
}

prm_runtime::aggregate!(ClaimRow: "mdf_claim", partner = partner_id);

pub async fn insert_claim(
    db: Db<'_>,
    c: &NewClaim,
    fund_id: Uuid,
    partner_id: Uuid,
    reimbursable_minor: i64,
    now: DateTime<Utc>,
) -> Result<ClaimRow> {
    let documents =
        serde_json::to_string(&c.documents).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query_as(
        "INSERT INTO claims (id, request_id, fund_id, partner_id, status, currency,
             proven_cost_minor, reimbursable_minor, invoice_number, leads_generated, attendees,
             documents, submitted_at)
         VALUES ($1, $2, $3, $4, 'submitted', $5, $6, $7, $8, $9, $10, $11, $12)
         RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(c.request_id)
    .bind(fund_id)
    .bind(partner_id)
    .bind(&c.proven_cost.currency)
    .bind(c.proven_cost.amount_minor)
    .bind(reimbursable_minor)
    .bind(&c.invoice_number)
    .bind(c.leads_generated)
    .bind(c.attendees)
    .bind(documents)
    .bind(now)
    .fetch_one(db)
    .await
}

pub async fn claim(db: Db<'_>, id: Uuid) -> Result<Option<ClaimRow>> {
    sqlx::query_as("SELECT * FROM claims WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn claim_for_update(db: Db<'_>, id: Uuid) -> Result<Option<ClaimRow>> {
    sqlx::query_as("SELECT * FROM claims WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn list_claims(
    db: Db<'_>,
    partner: Option<Uuid>,
    request: Option<Uuid>,
    status: Option<ClaimStatus>,
    after: Uuid,
    limit: i64,
) -> Result<Vec<ClaimRow>> {
    sqlx::query_as(
        "SELECT * FROM claims
         WHERE ($1::uuid IS NULL OR partner_id = $1) AND ($2::uuid IS NULL OR request_id = $2)
           AND ($3::text IS NULL OR status = $3) AND id > $4
         ORDER BY id LIMIT $5",
    )
    .bind(partner)
    .bind(request)
    .bind(status)
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// A claim is in play on the request (submitted, or approved).
pub async fn open_claim_on(db: Db<'_>, request_id: Uuid) -> Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM claims
                        WHERE request_id = $1 AND status IN ('submitted', 'approved'))",
    )
    .bind(request_id)
    .fetch_one(db)
    .await
}

pub async fn save_claim(db: Db<'_>, c: &ClaimRow) -> Result<ClaimRow> {
    sqlx::query_as(
        "UPDATE claims SET status = $2, reimbursed_minor = $3, decision_reason = $4,
             decided_by = $5, decided_at = $6, version = version + 1
         WHERE id = $1 RETURNING *",
    )
    .bind(c.id)
    .bind(c.status)
    .bind(c.reimbursed_minor)
    .bind(&c.decision_reason)
    .bind(c.decided_by)
    .bind(c.decided_at)
    .fetch_one(db)
    .await
}

/// What the request's approved claims reimbursed.
pub async fn reimbursed_on(db: Db<'_>, request_id: Uuid) -> Result<i64> {
    sqlx::query_scalar(
        "SELECT COALESCE(SUM(reimbursed_minor), 0)::bigint FROM claims
         WHERE request_id = $1 AND status = 'approved'",
    )
    .bind(request_id)
    .fetch_one(db)
    .await
}
