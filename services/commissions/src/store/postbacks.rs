//! The postback log: every postback and its answer, refused ones included.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, Result};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PostbackLogRow {
    pub id: Uuid,
    pub program_id: Option<Uuid>,
    pub partner_id: Option<Uuid>,
    pub transaction_id: String,
    pub answer: String,
    pub http_status: i32,
    pub reason: String,
    pub conversion_id: Option<Uuid>,
    pub fields_json: String,
    pub received_at: DateTime<Utc>,
}

pub async fn log_postback(db: Db<'_>, row: &PostbackLogRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO postback_log (id, program_id, partner_id, transaction_id, answer, http_status,
             reason, conversion_id, fields_json, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(row.id)
    .bind(row.program_id)
    .bind(row.partner_id)
    .bind(&row.transaction_id)
    .bind(&row.answer)
    .bind(row.http_status)
    .bind(&row.reason)
    .bind(row.conversion_id)
    .bind(&row.fields_json)
    .bind(row.received_at)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn list_postback_log(
    db: Db<'_>,
    partner: Option<Uuid>,
    program: Option<Uuid>,
    answer: Option<&str>,
    after: Uuid,
    limit: i64,
) -> Result<Vec<PostbackLogRow>> {
    sqlx::query_as(
        "SELECT * FROM postback_log
         WHERE ($1::uuid IS NULL OR partner_id = $1) AND ($2::uuid IS NULL OR program_id = $2)
           AND ($3::text IS NULL OR answer = $3) AND id > $4
         ORDER BY id LIMIT $5",
    )
    .bind(partner)
    .bind(program)
    .bind(answer)
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await
}
