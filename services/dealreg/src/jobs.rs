//! Deal registration's scheduled work, the sweep: protection windows that
//! end soon (a `deal.expiring` notice, once per window) or have ended (the
//! registration expires and frees its customer), and submissions past
//! their approval SLA (the breach is recorded, and the policy escalates or
//! approves). Each registration is handled in its own transaction under a
//! row lock, and the runtime runs the sweep on one replica at a time, so
//! several replicas never act twice. `now` is the service clock's.

use std::time::Duration as Period;

use chrono::{DateTime, Duration, Utc};
use prm_runtime::{ApiError, Outbox, ServiceHost};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::config::DealregSettings;
use crate::domain::policy::{Policy, SlaBreachPolicy};
use crate::domain::registration::{HistoryAction, RegistrationStatus};
use crate::operations::{self, Announce};
use crate::store;

/// Registers the sweep on `host`.
pub fn schedule(host: &mut ServiceHost, settings: &DealregSettings) {
    host.every_each(
        "dealreg.sweep",
        Period::from_secs(settings.sweep_interval_secs.max(1)),
        |conn, now| {
            Box::pin(async move {
                let policy = store::policy(conn).await?;
                due(conn, &policy, now).await
            })
        },
        |tx, outbox, id, now| {
            Box::pin(async move {
                let policy = store::policy(tx).await?;
                sweep_one(tx, outbox, &policy, id, now).await.map(drop)
            })
        },
    );
}

/// Registrations the sweep has something to do for at `now`.
pub async fn due(
    conn: &mut PgConnection,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    store::due_for_sweep(conn, now, now + Duration::days(policy.expiring_notice_days)).await
}

/// What the sweep did to one registration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub expired: bool,
    pub warned: bool,
    pub sla_breached: bool,
    pub auto_approved: bool,
}

/// Applies whatever is due for registration `id` at `now`, in `tx`.
pub async fn sweep_one(
    tx: &mut PgConnection,
    outbox: &Outbox,
    policy: &Policy,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Swept, ApiError> {
    let mut done = Swept::default();
    let Some(mut row) = store::registration_for_update(tx, id).await? else {
        return Ok(done);
    };
    let from = row.status;
    match row.status {
        RegistrationStatus::Approved => {
            let until = row.protected_until.unwrap_or(now);
            if until <= now {
                row.status = RegistrationStatus::Expired;
                row.closed_at = Some(now);
                done.expired = true;
            } else if row.expiring_notified_at.is_none()
                && until - Duration::days(policy.expiring_notice_days) <= now
            {
                row.expiring_notified_at = Some(now);
                done.warned = true;
            }
        }
        RegistrationStatus::Submitted
            if row.sla_breached_at.is_none() && row.decision_due_at <= now =>
        {
            row.sla_breached_at = Some(now);
            done.sla_breached = true;
            if policy.on_sla_breach == SlaBreachPolicy::AutoApprove {
                row.status = RegistrationStatus::Approved;
                row.decided_at = Some(now);
                row.protected_until = Some(policy.protected_until(now));
                done.auto_approved = true;
            }
        }
        _ => {}
    }
    if done == Swept::default() {
        return Ok(done);
    }
    let row = store::save_registration(tx, &row).await?;
    let status = row.status;
    let entry = SweepEntry {
        registration: row.id,
        from,
        at: now,
    };
    if done.expired {
        let note = "protection ended";
        entry
            .record(tx, HistoryAction::Expired, status, note)
            .await?;
        operations::announce(tx, outbox, &row, Announce::Expired, now).await?;
    }
    if done.warned {
        operations::announce(tx, outbox, &row, Announce::Expiring, now).await?;
    }
    if done.sla_breached {
        let breach = Announce::SlaBreached {
            auto_approved: done.auto_approved,
        };
        // Auto-approval is its own entry, below.
        let to = if done.auto_approved { from } else { status };
        let note = breach.note();
        entry
            .record(tx, HistoryAction::SlaBreached, to, note)
            .await?;
        operations::announce(tx, outbox, &row, breach, now).await?;
    }
    if done.auto_approved {
        let note = "approved automatically: no decision within the SLA";
        entry
            .record(tx, HistoryAction::Approved, status, note)
            .await?;
        operations::announce(tx, outbox, &row, Announce::Approved, now).await?;
    }
    Ok(done)
}

/// The sweep's entries in one registration's history: by no user, from
/// the status it found, at the sweep's time.
struct SweepEntry {
    registration: Uuid,
    from: RegistrationStatus,
    at: DateTime<Utc>,
}

impl SweepEntry {
    async fn record(
        &self,
        tx: &mut PgConnection,
        action: HistoryAction,
        to: RegistrationStatus,
        note: &str,
    ) -> Result<(), ApiError> {
        let (id, from, at) = (self.registration, Some(self.from), self.at);
        store::record_transition(tx, id, action, from, to, None, note, at).await?;
        Ok(())
    }
}
