//! What MDF consumes: onboarding's partner events, for each partner's
//! status (a suspended or terminated partner cannot request or claim MDF),
//! and deal registration's events. A won deal accrues into
//! the partner's accrual funds; registrations carrying a campaign code
//! (their `mdf_reference`) feed the ROI of the requests with that code.
//! What MDF publishes is staged by the handlers through the outbox; see
//! `proto/prm/events/v1/mdf.proto` for the list.

use prm_proto::events::{
    DealExpired, DealLost, DealRegistered, DealRejected, DealWon, PartnerApproved,
};
use prm_runtime::events::payload_id as id;
use prm_runtime::fields::CampaignCode;
use prm_runtime::{Delivery, EventRoutes, Money, PartnerStatus, PartnerStatusChanged};
use sqlx::PgConnection;

use crate::{operations, store};

/// `prm.onboarding.partner.*`: each partner's status.
pub fn partner_events() -> EventRoutes {
    EventRoutes::new()
        .on(partner_approved)
        .on_partner_status(partner_status)
}

async fn partner_approved(
    tx: &mut PgConnection,
    e: PartnerApproved,
    on: Delivery<'_>,
) -> anyhow::Result<()> {
    let partner = id("partner id", &e.partner_id)?;
    store::set_partner_status(tx, partner, PartnerStatus::Active, on.now()).await?;
    Ok(())
}

async fn partner_status(
    tx: &mut PgConnection,
    e: PartnerStatusChanged,
    on: Delivery<'_>,
) -> anyhow::Result<()> {
    let partner = id("partner id", &e.partner_id)?;
    store::set_partner_status(tx, partner, e.status, on.now()).await?;
    Ok(())
}

/// `prm.dealreg.deal.*`.
pub fn deal_events() -> EventRoutes {
    EventRoutes::new()
        .on(deal_registered)
        .on(deal_won)
        .on(deal_rejected)
        .on(deal_lost)
        .on(deal_expired)
}

/// The campaign code a registration carries, if it is one MDF could have
/// issued (anything else cannot match a request).
fn code(reference: &str) -> Option<String> {
    CampaignCode::check(reference)
        .ok()
        .filter(|c| !c.is_empty())
}

async fn deal_registered(
    tx: &mut PgConnection,
    e: DealRegistered,
    _: Delivery<'_>,
) -> anyhow::Result<()> {
    let Some(code) = code(&e.mdf_reference) else {
        return Ok(());
    };
    let value = Money::parse(e.estimated_value.as_ref(), false)
        .map_err(|m| anyhow::anyhow!("estimated value {m}"))?;
    store::record_campaign_deal(
        tx,
        id("deal id", &e.deal_registration_id)?,
        id("partner id", &e.partner_id)?,
        &code,
        &value.currency,
        value.amount_minor,
    )
    .await?;
    Ok(())
}

async fn deal_won(tx: &mut PgConnection, e: DealWon, on: Delivery<'_>) -> anyhow::Result<()> {
    let deal = id("deal id", &e.deal_registration_id)?;
    let partner = id("partner id", &e.partner_id)?;
    let amount =
        Money::parse(e.amount.as_ref(), false).map_err(|m| anyhow::anyhow!("amount {m}"))?;
    let won_at = on.at(e.won_at.as_ref());
    operations::accrue_won_deal(tx, on.outbox, deal, partner, &amount, won_at).await?;
    if let Some(code) = code(&e.mdf_reference) {
        store::campaign_deal_won(
            tx,
            deal,
            partner,
            &code,
            &amount.currency,
            amount.amount_minor,
        )
        .await?;
    }
    Ok(())
}

/// A registration rejected, lost or expired: its campaign deal is closed.
async fn closed(tx: &mut PgConnection, deal: &str) -> anyhow::Result<()> {
    store::campaign_deal_closed(tx, id("deal id", deal)?).await?;
    Ok(())
}

async fn deal_rejected(
    tx: &mut PgConnection,
    e: DealRejected,
    _: Delivery<'_>,
) -> anyhow::Result<()> {
    closed(tx, &e.deal_registration_id).await
}

async fn deal_lost(tx: &mut PgConnection, e: DealLost, _: Delivery<'_>) -> anyhow::Result<()> {
    closed(tx, &e.deal_registration_id).await
}

async fn deal_expired(
    tx: &mut PgConnection,
    e: DealExpired,
    _: Delivery<'_>,
) -> anyhow::Result<()> {
    closed(tx, &e.deal_registration_id).await
}
