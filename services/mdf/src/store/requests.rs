//! MDF requests.

use chrono::{DateTime, NaiveDate, Utc};
use prm_runtime::Money;
use uuid::Uuid;

use super::{Db, Result};
use crate::domain::request::{ActivityType, MdfRequestStatus, NewRequest};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RequestRow {
    pub id: Uuid,
    pub fund_id: Uuid,
    pub partner_id: Uuid,
    pub status: MdfRequestStatus,
    pub activity_type: ActivityType,
    pub description: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub expected_leads: i32,
    pub campaign_code: String,
    pub currency: String,
    pub requested_minor: i64,
    pub approved_minor: Option<i64>,
    pub claim_deadline: NaiveDate,
    pub decision_reason: String,
    pub decided_by: Option<Uuid>,
    pub submitted_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl RequestRow {
    pub fn requested(&self) -> Money {
        Money::new(self.requested_minor, self.currency.clone())
    }

    pub fn money(&self, amount_minor: i64) -> Money {
        Money::new(amount_minor, self.currency.clone())
    }
}

prm_runtime::aggregate!(RequestRow: "mdf_request", partner = partner_id);

pub async fn insert_request(
    db: Db<'_>,
    partner_id: Uuid,
    r: &NewRequest,
    claim_deadline: NaiveDate,
    now: DateTime<Utc>,
) -> Result<RequestRow> {
    sqlx::query_as(
        "INSERT INTO mdf_requests (id, fund_id, partner_id, status, activity_type, description,
             starts_on, ends_on, expected_leads, campaign_code, currency, requested_minor,
             claim_deadline, submitted_at)
         VALUES ($1, $2, $3, 'submitted', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(r.fund_id)
    .bind(partner_id)
    .bind(r.activity_type)
    .bind(&r.description)
    .bind(r.starts_on)
    .bind(r.ends_on)
    .bind(r.expected_leads)
    .bind(&r.campaign_code)
    .bind(&r.amount.currency)
    .bind(r.amount.amount_minor)
    .bind(claim_deadline)
    .bind(now)
    .fetch_one(db)
    .await
}

pub async fn request(db: Db<'_>, id: Uuid) -> Result<Option<RequestRow>> {
    sqlx::query_as("SELECT * FROM mdf_requests WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn request_for_update(db: Db<'_>, id: Uuid) -> Result<Option<RequestRow>> {
    sqlx::query_as("SELECT * FROM mdf_requests WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn list_requests(
    db: Db<'_>,
    partner: Option<Uuid>,
    fund: Option<Uuid>,
    status: Option<MdfRequestStatus>,
    after: Uuid,
    limit: i64,
) -> Result<Vec<RequestRow>> {
    sqlx::query_as(
        "SELECT * FROM mdf_requests
         WHERE ($1::uuid IS NULL OR partner_id = $1) AND ($2::uuid IS NULL OR fund_id = $2)
           AND ($3::text IS NULL OR status = $3) AND id > $4
         ORDER BY id LIMIT $5",
    )
    .bind(partner)
    .bind(fund)
    .bind(status)
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Saves a decided or closed request (status, approval, reason), bumping
/// its version.
pub async fn save_request(db: Db<'_>, r: &RequestRow) -> Result<RequestRow> {
    sqlx::query_as(
        "UPDATE mdf_requests SET status = $2, approved_minor = $3, decision_reason = $4,
             decided_by = $5, decided_at = $6, version = version + 1
         WHERE id = $1 RETURNING *",
    )
    .bind(r.id)
    .bind(r.status)
    .bind(r.approved_minor)
    .bind(&r.decision_reason)
    .bind(r.decided_by)
    .bind(r.decided_at)
    .fetch_one(db)
    .await
}

/// Approved requests whose claim deadline has passed at `today` with no
/// claim in play: their reservations are released (sweep).
pub async fn requests_past_deadline(db: Db<'_>, today: NaiveDate) -> Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT r.id FROM mdf_requests r
         WHERE r.status = 'approved' AND r.claim_deadline < $1
           AND NOT EXISTS (SELECT 1 FROM claims c
                           WHERE c.request_id = r.id AND c.status IN ('submitted', 'approved'))
         ORDER BY r.claim_deadline LIMIT 1000",
    )
    .bind(today)
    .fetch_all(db)
    .await
}
