//! The vendor's direct-sales accounts.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, Result};

pub const DIRECT_ACCOUNT_DOMAIN_KEY: &str = "direct_accounts_domain_key";

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DirectAccountRow {
    pub id: Uuid,
    pub company: String,
    pub company_key: String,
    pub domain: String,
    pub domain_key: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_direct_account(
    db: Db<'_>,
    company: &str,
    company_key: &str,
    domain: &str,
    domain_key: &str,
    created_by: Uuid,
) -> Result<DirectAccountRow> {
    sqlx::query_as(
        "INSERT INTO direct_accounts (id, company, company_key, domain, domain_key, created_by)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(company)
    .bind(company_key)
    .bind(domain)
    .bind(domain_key)
    .bind(created_by)
    .fetch_one(db)
    .await
}

pub async fn list_direct_accounts(
    db: Db<'_>,
    after: Uuid,
    limit: i64,
) -> Result<Vec<DirectAccountRow>> {
    sqlx::query_as("SELECT * FROM direct_accounts WHERE id > $1 ORDER BY id LIMIT $2")
        .bind(after)
        .bind(limit)
        .fetch_all(db)
        .await
}

/// Deletes it; false if there was none.
pub async fn delete_direct_account(db: Db<'_>, id: Uuid) -> Result<bool> {
    let done = sqlx::query("DELETE FROM direct_accounts WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}
