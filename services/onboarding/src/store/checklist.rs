//! The onboarding checklist.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, Result};
use crate::domain::checklist::{Checklist, ChecklistItem};

/// Marks an item done; returns false if it already was.
pub async fn complete_checklist_item(
    db: Db<'_>,
    partner_id: Uuid,
    item: ChecklistItem,
    at: DateTime<Utc>,
) -> Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO checklist_items (partner_id, item, completed_at) VALUES ($1, $2, $3)
         ON CONFLICT (partner_id, item) DO NOTHING",
    )
    .bind(partner_id)
    .bind(item)
    .bind(at)
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// The partner's checklist; `completed_at` is the partner's record of its
/// completion (`PartnerRow::onboarding_completed_at`).
pub async fn checklist(
    db: Db<'_>,
    partner_id: Uuid,
    completed_at: Option<DateTime<Utc>>,
) -> Result<Checklist> {
    let done = sqlx::query_as(
        "SELECT item, completed_at FROM checklist_items WHERE partner_id = $1 ORDER BY completed_at, item",
    )
    .bind(partner_id)
    .fetch_all(db)
    .await?;
    Ok(Checklist {
        partner_id,
        done,
        completed_at,
    })
}
