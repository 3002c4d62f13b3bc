//! What onboarding consumes: deal registration outcomes, which close the
//! checklist's first-deal item (time-to-first-deal) and feed the tier rules.
//! What it publishes is staged by the handlers through the outbox; see
//! `proto/prm/events/v1/onboarding.proto` for the list.

use chrono::Utc;
use prm_proto::events::{DealRegistrationApproved, DealWon};
use prm_runtime::inbox::{EventHandler, ReceivedEvent};
use prm_runtime::wire::from_timestamp;
use prm_runtime::{Money, Outbox, validate};
use prost::Name;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::operations;
use crate::store::DealOutcome;

/// Reacts to `prm.dealreg.deal.*`.
pub struct DealOutcomes {
    pub outbox: Outbox,
}

fn ids(deal: &str, partner: &str) -> anyhow::Result<(Uuid, Uuid)> {
    let deal = validate::uuid(deal).map_err(|m| anyhow::anyhow!("deal id {m}"))?;
    let partner = validate::uuid(partner).map_err(|m| anyhow::anyhow!("partner id {m}"))?;
    Ok((deal, partner))
}

#[async_trait::async_trait]
impl EventHandler for DealOutcomes {
    /// Approved and won deals; the other deal events are not onboarding's
    /// business, and cost it nothing.
    fn wants(&self, event_type: &str) -> bool {
        event_type == DealRegistrationApproved::full_name() || event_type == DealWon::full_name()
    }

    async fn handle(&self, tx: &mut PgConnection, event: &ReceivedEvent) -> anyhow::Result<()> {
        if event.is::<DealRegistrationApproved>() {
            let e: DealRegistrationApproved = event.decode()?;
            let (deal, partner) = ids(&e.deal_registration_id, &e.partner_id)?;
            let at = from_timestamp(e.approved_at.as_ref()).unwrap_or_else(Utc::now);
            operations::record_deal_outcome(
                tx,
                &self.outbox,
                deal,
                partner,
                DealOutcome::Approved,
                at,
            )
            .await?;
        } else if event.is::<DealWon>() {
            let e: DealWon = event.decode()?;
            let (deal, partner) = ids(&e.deal_registration_id, &e.partner_id)?;
            let amount = Money::parse(e.amount.as_ref(), false)
                .map_err(|m| anyhow::anyhow!("amount {m}"))?;
            let at = from_timestamp(e.won_at.as_ref()).unwrap_or_else(Utc::now);
            let outcome = DealOutcome::Won {
                amount_minor: amount.amount_minor,
                currency: &amount.currency,
            };
            operations::record_deal_outcome(tx, &self.outbox, deal, partner, outcome, at).await?;
        }
        // Other deal registration events are not onboarding's business.
        Ok(())
    }
}
