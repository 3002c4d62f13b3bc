//! Periodic work: applying tier rules to every active partner.

use chrono::Utc;
use prm_runtime::Outbox;
use sqlx::PgPool;

use crate::operations;
use crate::store;

/// Reviews every active partner, one transaction each.
pub async fn review_all_tiers(pool: &PgPool, outbox: &Outbox) -> anyhow::Result<()> {
    let ids = {
        let mut conn = pool.acquire().await?;
        store::active_partner_ids(&mut conn).await?
    };
    let now = Utc::now();
    let mut changed = 0;
    for id in ids {
        let mut tx = pool.begin().await?;
        match operations::review_partner_tier(&mut tx, outbox, id, now).await {
            Ok(Some(o)) if o.from_tier != o.to_tier => changed += 1,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(partner_id = %id, error = %e, "tier review failed");
                continue;
            }
        }
        tx.commit().await?;
    }
    if changed > 0 {
        tracing::info!(changed, "tier review changed partner tiers");
    }
    Ok(())
}
