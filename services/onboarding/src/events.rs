//! What onboarding consumes: deal registration outcomes, which close the
//! checklist's first-deal item (time-to-first-deal) and feed the tier rules.
//! What it publishes is staged by the handlers through the outbox; see
//! `proto/prm/events/v1/onboarding.proto` for the list.

use chrono::{DateTime, Utc};
use prm_proto::events::{DealRegistrationApproved, DealWon};
use prm_runtime::inbox::{EventHandler, ReceivedEvent};
use prm_runtime::{Money, Outbox, validate};
use sqlx::PgConnection;

use crate::operations;

/// Reacts to `prm.dealreg.deal.*`.
pub struct DealOutcomes {
    pub outbox: Outbox,
}

fn time(t: Option<&prost_types::Timestamp>, fallback: DateTime<Utc>) -> DateTime<Utc> {
    t.and_then(|t| DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .unwrap_or(fallback)
}

#[async_trait::async_trait]
impl EventHandler for DealOutcomes {
    async fn handle(&self, tx: &mut PgConnection, event: &ReceivedEvent) -> anyhow::Result<()> {
        let now = Utc::now();
        if event.is::<DealRegistrationApproved>() {
            let e: DealRegistrationApproved = event.decode()?;
            let deal = validate::uuid(&e.deal_registration_id)
                .map_err(|m| anyhow::anyhow!("deal id {m}"))?;
            let partner =
                validate::uuid(&e.partner_id).map_err(|m| anyhow::anyhow!("partner id {m}"))?;
            operations::record_deal_outcome(
                tx,
                &self.outbox,
                deal,
                partner,
                None,
                time(e.approved_at.as_ref(), now),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        } else if event.is::<DealWon>() {
            let e: DealWon = event.decode()?;
            let deal = validate::uuid(&e.deal_registration_id)
                .map_err(|m| anyhow::anyhow!("deal id {m}"))?;
            let partner =
                validate::uuid(&e.partner_id).map_err(|m| anyhow::anyhow!("partner id {m}"))?;
            let amount = Money::parse(e.amount.as_ref(), false)
                .map_err(|m| anyhow::anyhow!("amount {m}"))?;
            operations::record_deal_outcome(
                tx,
                &self.outbox,
                deal,
                partner,
                Some((amount.amount_minor, &amount.currency)),
                time(e.won_at.as_ref(), now),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        // Other deal registration events are not onboarding's business.
        Ok(())
    }
}
