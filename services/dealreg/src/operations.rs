//! Steps the handlers and the sweep share, each in the caller's
//! transaction: announcing a registration's step through the outbox.

use chrono::{DateTime, Utc};
use prm_proto::events as ev;
use prm_runtime::wire::timestamp;
use prm_runtime::{Money, Outbox};
use sqlx::PgConnection;

use crate::domain::registration::RejectionReason;
use crate::store::RegistrationRow;

/// A step of a registration that other services hear about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Announce {
    Approved,
    Rejected,
    Won,
    Lost,
    Expired,
    /// Its protection ends soon.
    Expiring,
    /// No decision within the approval SLA; the policy escalated it or
    /// approved it.
    SlaBreached {
        auto_approved: bool,
    },
}

impl Announce {
    /// What the policy did about a breached SLA, as the event and the
    /// history say it; empty for the other steps.
    pub fn note(self) -> &'static str {
        match self {
            Self::SlaBreached {
                auto_approved: true,
            } => "auto_approved",
            Self::SlaBreached {
                auto_approved: false,
            } => "escalated",
            _ => "",
        }
    }
}

/// Stages the event announcing `step` of `row` (as saved) at `at`.
pub async fn announce(
    tx: &mut PgConnection,
    outbox: &Outbox,
    row: &RegistrationRow,
    step: Announce,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let deal_registration_id = row.id.to_string();
    let partner_id = row.partner_id.to_string();
    let at = Some(timestamp(at));
    match step {
        Announce::Approved => {
            let e = ev::DealRegistrationApproved {
                deal_registration_id,
                partner_id,
                approved_at: at,
                protected_until: row.protected_until.map(timestamp),
                customer_domain: row.domain_key.clone(),
            };
            outbox.stage_for(tx, "deal.approved", row, &e).await?
        }
        Announce::Rejected => {
            let e = ev::DealRejected {
                deal_registration_id,
                partner_id,
                reason: row
                    .rejection_reason
                    .map_or("", RejectionReason::as_str)
                    .to_owned(),
                rejected_at: at,
            };
            outbox.stage_for(tx, "deal.rejected", row, &e).await?
        }
        Announce::Won => {
            let e = ev::DealWon {
                deal_registration_id,
                partner_id,
                amount: row
                    .won_minor
                    .map(|m| Money::new(m, row.currency.clone()).to_proto()),
                won_at: at,
                customer_company: row.customer_company.clone(),
                customer_domain: row.domain_key.clone(),
                mdf_reference: row.mdf_reference.clone(),
            };
            outbox.stage_for(tx, "deal.won", row, &e).await?
        }
        Announce::Lost => {
            let e = ev::DealLost {
                deal_registration_id,
                partner_id,
                reason: row.status_note.clone(),
                lost_at: at,
            };
            outbox.stage_for(tx, "deal.lost", row, &e).await?
        }
        Announce::Expired => {
            let e = ev::DealExpired {
                deal_registration_id,
                partner_id,
                expired_at: at,
            };
            outbox.stage_for(tx, "deal.expired", row, &e).await?
        }
        Announce::Expiring => {
            let e = ev::DealExpiring {
                deal_registration_id,
                partner_id,
                protected_until: row.protected_until.map(timestamp),
            };
            outbox.stage_for(tx, "deal.expiring", row, &e).await?
        }
        Announce::SlaBreached { .. } => {
            let e = ev::DealSlaBreached {
                deal_registration_id,
                partner_id,
                decision_due_at: Some(timestamp(row.decision_due_at)),
                action: step.note().to_owned(),
            };
            outbox.stage_for(tx, "deal.sla_breached", row, &e).await?
        }
    };
    Ok(())
}
