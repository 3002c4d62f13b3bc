//! The partners' status, from onboarding's events (onboarding owns it and
//! its transitions; this is MDF's copy).

use chrono::{DateTime, Utc};
use prm_runtime::PartnerStatus;
use uuid::Uuid;

use super::{Db, Result};

/// Records `partner`'s status as of `at`.
pub async fn set_partner_status(
    db: Db<'_>,
    partner: Uuid,
    status: PartnerStatus,
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO partners (partner_id, status, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (partner_id) DO UPDATE SET status = $2, updated_at = $3",
    )
    .bind(partner)
    .bind(status)
    .bind(at)
    .execute(db)
    .await?;
    Ok(())
}

/// `partner`'s status, if MDF has heard of it.
pub async fn partner_status(db: Db<'_>, partner: Uuid) -> Result<Option<PartnerStatus>> {
    sqlx::query_scalar("SELECT status FROM partners WHERE partner_id = $1")
        .bind(partner)
        .fetch_optional(db)
        .await
}
