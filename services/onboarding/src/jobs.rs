//! Onboarding's scheduled work: tier rules applied to every active
//! partner, and expired certifications announced. Each runs on one
//! replica at a time, on the service's clock.

use std::time::Duration;

use chrono::{DateTime, Utc};
use prm_runtime::{ApiError, Outbox, ServiceHost};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::config::OnboardingSettings;
use crate::{operations, store};

/// Registers the jobs on `host`.
pub fn schedule(host: &mut ServiceHost, settings: &OnboardingSettings) {
    let every = |secs: u64| Duration::from_secs(secs.max(1));
    host.every_each(
        "onboarding.tier_review",
        every(settings.tier_review_interval_secs),
        |conn, _| Box::pin(store::active_partner_ids(conn)),
        |tx, outbox, id, now| Box::pin(review_tier(tx, outbox, id, now)),
    );
    host.every(
        "onboarding.certification_expiry",
        every(settings.certification_sweep_interval_secs),
        |tx, outbox, now| Box::pin(expire_certifications(tx, outbox, now)),
    );
}

/// Applies the tier rules to partner `id`.
async fn review_tier(
    tx: &mut PgConnection,
    outbox: &Outbox,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let outcome = operations::review_tier(tx, outbox, id, now).await?;
    if let Some(o) = outcome.filter(|o| o.from_tier != o.to_tier) {
        tracing::info!(partner_id = %id, from = %o.from_tier, to = %o.to_tier, "tier review changed the tier");
    }
    Ok(())
}

async fn expire_certifications(
    tx: &mut PgConnection,
    outbox: &Outbox,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    operations::expire_certifications(tx, outbox, now)
        .await
        .map(drop)
}
