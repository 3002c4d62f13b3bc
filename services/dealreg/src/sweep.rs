//! The scheduled sweep: protection windows that end soon (a `deal.expiring`
//! notice, once per window) or have ended (the registration expires and
//! frees its customer), and submissions past their approval SLA (the
//! breach is recorded, and the policy escalates or approves). Each
//! registration is handled in its own transaction under a row lock, and
//! the runtime runs the sweep on one replica at a time, so several
//! replicas never act twice. `now` is a parameter: tests move the clock.

use chrono::{DateTime, Duration, Utc};
use prm_proto::events as ev;
use prm_runtime::wire::timestamp;
use prm_runtime::{ApiError, Outbox};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::policy::{Policy, SlaBreachPolicy};
use crate::domain::registration::RegistrationStatus;
use crate::store::{self, RegistrationRow};

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
    announce(tx, outbox, &row, from, done, now).await?;
    Ok(done)
}

async fn announce(
    tx: &mut PgConnection,
    outbox: &Outbox,
    row: &RegistrationRow,
    from: RegistrationStatus,
    done: Swept,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let id = row.id.to_string();
    let partner_id = row.partner_id.to_string();
    if done.expired {
        store::record_transition(
            tx,
            row.id,
            "expired",
            Some(from),
            row.status,
            None,
            "protection ended",
            now,
        )
        .await?;
        outbox
            .stage_for(
                tx,
                "deal.expired",
                row,
                &ev::DealExpired {
                    deal_registration_id: id.clone(),
                    partner_id: partner_id.clone(),
                    expired_at: Some(timestamp(now)),
                },
            )
            .await?;
    }
    if done.warned {
        outbox
            .stage_for(
                tx,
                "deal.expiring",
                row,
                &ev::DealExpiring {
                    deal_registration_id: id.clone(),
                    partner_id: partner_id.clone(),
                    protected_until: row.protected_until.map(timestamp),
                },
            )
            .await?;
    }
    if done.sla_breached {
        let action = if done.auto_approved {
            "auto_approved"
        } else {
            "escalated"
        };
        store::record_transition(
            tx,
            row.id,
            "sla_breached",
            Some(from),
            if done.auto_approved { from } else { row.status },
            None,
            action,
            now,
        )
        .await?;
        outbox
            .stage_for(
                tx,
                "deal.sla_breached",
                row,
                &ev::DealSlaBreached {
                    deal_registration_id: id.clone(),
                    partner_id: partner_id.clone(),
                    decision_due_at: Some(timestamp(row.decision_due_at)),
                    action: action.to_owned(),
                },
            )
            .await?;
    }
    if done.auto_approved {
        store::record_transition(
            tx,
            row.id,
            "approved",
            Some(from),
            row.status,
            None,
            "approved automatically: no decision within the SLA",
            now,
        )
        .await?;
        outbox
            .stage_for(
                tx,
                "deal.approved",
                row,
                &ev::DealRegistrationApproved {
                    deal_registration_id: id,
                    partner_id,
                    approved_at: Some(timestamp(now)),
                    protected_until: row.protected_until.map(timestamp),
                    customer_domain: row.domain_key.clone(),
                },
            )
            .await?;
    }
    Ok(())
}
