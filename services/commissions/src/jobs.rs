//! The commissions service's scheduled work, each on one replica at a
//! time, on the service's clock: approving commissions whose hold period
//! is over, and publishing each finished hour's click counts per link (one
//! event per link and hour, never one per click).

use chrono::{DateTime, Duration, Utc};
use prm_proto::events as ev;
use prm_runtime::wire::timestamp;
use prm_runtime::{Outbox, ServiceHost};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::config::CommissionsSettings;
use crate::operations;
use crate::store;

/// Registers the jobs on `host`.
pub fn schedule(host: &mut ServiceHost, settings: &CommissionsSettings) {
    let every = std::time::Duration::from_secs(settings.sweep_interval_secs.max(1));
    host.every_each(
        "commissions.approve_after_hold",
        every,
        |conn, now| Box::pin(commissions_due(conn, now)),
        |tx, outbox, id, now| Box::pin(approve_commission(tx, outbox, id, now)),
    );
    host.every("commissions.click_hours", every, |tx, outbox, now| {
        Box::pin(async move { publish_click_hours(tx, outbox, now).await.map(drop) })
    });
}

/// Clicks handed over this long after their hour still count in it: the
/// hour is published only then. (A later click reopens it, and it is
/// published again with the full counts.)
pub const CLICK_HOUR_GRACE_SECS: i64 = 120;

pub async fn commissions_due(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    store::commissions_due(conn, now).await
}

/// Approves one commission, if it is still pending and due.
pub async fn approve_commission(
    tx: &mut PgConnection,
    outbox: &Outbox,
    id: Uuid,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    if let Some(row) = store::commission_for_update(tx, id).await?
        && row.hold_until <= now
    {
        operations::approve(tx, outbox, row, now).await?;
    }
    Ok(())
}

/// Publishes up to 1,000 finished link-hours; returns how many.
pub async fn publish_click_hours(
    tx: &mut PgConnection,
    outbox: &Outbox,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let before = now - Duration::seconds(CLICK_HOUR_GRACE_SECS);
    let hours = store::finished_click_hours_for_update(tx, before, 1_000).await?;
    for h in &hours {
        outbox
            .stage(
                tx,
                prm_runtime::EventMeta {
                    entity_verb: "link.clicks_counted",
                    partner_id: Some(h.partner_id),
                    aggregate_type: "tracking_link",
                    aggregate_id: h.link_id,
                    aggregate_version: h.hour.timestamp(),
                },
                &ev::TrackingLinkClicksCounted {
                    link_id: h.link_id.to_string(),
                    partner_id: h.partner_id.to_string(),
                    program_id: h.program_id.to_string(),
                    hour_start: Some(timestamp(h.hour)),
                    clicks: h.clicks,
                    counted_clicks: h.counted,
                },
            )
            .await?;
        store::mark_click_hour_published(tx, h.link_id, h.hour).await?;
    }
    Ok(hours.len())
}
