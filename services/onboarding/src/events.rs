//! What onboarding consumes: deal registration outcomes, which close the
//! checklist's first-deal item (time-to-first-deal) and feed the tier rules.
//! What it publishes is staged by the handlers through the outbox; see
//! `proto/prm/events/v1/onboarding.proto` for the list.

use prm_proto::events::{DealRegistrationApproved, DealWon};
use prm_runtime::{Delivery, EventRoutes, Money, validate};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::operations;
use crate::store::DealOutcome;

/// `prm.dealreg.deal.*`: approved and won deals. The other deal events
/// are not onboarding's business, and cost it nothing.
pub fn deal_outcomes() -> EventRoutes {
    EventRoutes::new().on(deal_approved).on(deal_won)
}

fn ids(deal: &str, partner: &str) -> anyhow::Result<(Uuid, Uuid)> {
    let deal = validate::uuid(deal).map_err(|m| anyhow::anyhow!("deal id {m}"))?;
    let partner = validate::uuid(partner).map_err(|m| anyhow::anyhow!("partner id {m}"))?;
    Ok((deal, partner))
}

async fn deal_approved(
    tx: &mut PgConnection,
    e: DealRegistrationApproved,
    on: Delivery<'_>,
) -> anyhow::Result<()> {
    let (deal, partner) = ids(&e.deal_registration_id, &e.partner_id)?;
    let at = on.at(e.approved_at.as_ref());
    let outcome = DealOutcome::Approved;
    operations::record_deal_outcome(tx, on.outbox, deal, partner, outcome, at, on.now()).await?;
    Ok(())
}

async fn deal_won(tx: &mut PgConnection, e: DealWon, on: Delivery<'_>) -> anyhow::Result<()> {
    let (deal, partner) = ids(&e.deal_registration_id, &e.partner_id)?;
    let amount =
        Money::parse(e.amount.as_ref(), false).map_err(|m| anyhow::anyhow!("amount {m}"))?;
    let at = on.at(e.won_at.as_ref());
    let outcome = DealOutcome::Won {
        amount_minor: amount.amount_minor,
        currency: &amount.currency,
    };
    operations::record_deal_outcome(tx, on.outbox, deal, partner, outcome, at, on.now()).await?;
    Ok(())
}
