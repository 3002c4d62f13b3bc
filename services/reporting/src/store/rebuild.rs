//! Emptying the read models for a rebuild. The tables listed here are
//! everything built from events; attribution models are staff's own data
//! and stay.

use super::{Db, Result};

/// Empties every read model and forgets which events `consumer` applied,
/// so that replaying the streams from their first event builds them again.
/// TRUNCATE waits for event transactions in flight, so none is half
/// counted.
pub async fn empty_read_models(db: Db<'_>, consumer: &str) -> Result<()> {
    sqlx::query(
        "TRUNCATE partners, checklist_items, certifications, deals, domain_conversions,
                  deal_credits, deal_influences, partner_first_deals, partner_rollups,
                  partner_money_rollups",
    )
    .execute(&mut *db)
    .await?;
    sqlx::query("DELETE FROM inbox WHERE consumer = $1")
        .bind(consumer)
        .execute(&mut *db)
        .await?;
    sqlx::query("DELETE FROM inbox_dead_letters WHERE consumer = $1")
        .bind(consumer)
        .execute(&mut *db)
        .await?;
    Ok(())
}
