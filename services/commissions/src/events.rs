//! What the commissions service consumes: onboarding's partner events,
//! which say which program and tier each partner is in (plans are chosen
//! by them), its type and domain (for self-referral checks), and whether
//! it is active. What it publishes is staged by the handlers and jobs
//! through the outbox; see `proto/prm/events/v1/commissions.proto`.

use prm_proto::events::{DealWon, PartnerApproved, PartnerTierChanged};
use prm_runtime::events::{optional_payload_id as opt_id, payload_id as id};
use prm_runtime::wire::from_timestamp;
use prm_runtime::{Delivery, EventRoutes, Money, PartnerStatusChanged, PartnerType};
use sqlx::PgConnection;

use crate::domain::bps_of;
use crate::operations;
use crate::store::{self, NewCommission, NewPartner};

/// `prm.onboarding.partner.*`: which program, tier and status each
/// partner has.
pub fn partner_events() -> EventRoutes {
    EventRoutes::new()
        .on(partner_approved)
        .on(partner_tier_changed)
        .on_partner_status(status)
}

async fn partner_approved(
    tx: &mut PgConnection,
    e: PartnerApproved,
    on: Delivery<'_>,
) -> anyhow::Result<()> {
    let partner_type =
        PartnerType::from_proto(e.partner_type).map_err(|m| anyhow::anyhow!("partner type {m}"))?;
    let partner = NewPartner {
        partner_id: id("partner id", &e.partner_id)?,
        program_id: id("program id", &e.program_id)?,
        tier_id: opt_id("tier id", &e.tier_id)?,
        partner_type,
        company_name: &e.company_name,
        domain: &e.domain.to_ascii_lowercase(),
    };
    let approved_at = from_timestamp(e.approved_at.as_ref()).unwrap_or(on.now());
    store::upsert_partner(tx, &partner, approved_at).await?;
    Ok(())
}

async fn partner_tier_changed(
    tx: &mut PgConnection,
    e: PartnerTierChanged,
    on: Delivery<'_>,
) -> anyhow::Result<()> {
    let partner = id("partner id", &e.partner_id)?;
    store::set_partner_tier(tx, partner, opt_id("tier id", &e.to_tier_id)?, on.now()).await?;
    Ok(())
}

/// A partner's status changed (suspended, reactivated, terminated).
async fn status(
    tx: &mut PgConnection,
    e: PartnerStatusChanged,
    on: Delivery<'_>,
) -> anyhow::Result<()> {
    store::set_partner_status(tx, id("partner id", &e.partner_id)?, e.status, on.now()).await?;
    Ok(())
}

/// `prm.dealreg.deal.*`: a won deal earns its partner's reseller margin
/// (resellers, integrators and technology partners) or referral fee
/// (referral partners and affiliates), in basis points of the deal's
/// amount, under the plan in force when it was won. Its hold period
/// starts at the win.
pub fn deal_events() -> EventRoutes {
    EventRoutes::new().on(deal_won)
}

async fn deal_won(tx: &mut PgConnection, e: DealWon, on: Delivery<'_>) -> anyhow::Result<()> {
    let deal = id("deal id", &e.deal_registration_id)?;
    let Some(partner) = store::partner(tx, id("partner id", &e.partner_id)?).await? else {
        return Ok(()); // not a partner of a commissions program
    };
    let amount =
        Money::parse(e.amount.as_ref(), false).map_err(|m| anyhow::anyhow!("amount {m}"))?;
    let won_at = on.at(e.won_at.as_ref());
    let Some(plan) = store::plan_in_force(tx, partner.program_id, partner.tier_id, won_at).await?
    else {
        return Ok(());
    };
    let referral = partner.partner_type.is_affiliate_motion();
    let (bps, what) = if referral {
        (plan.referral_fee_bps, "referral fee")
    } else {
        (plan.reseller_margin_bps, "reseller margin")
    };
    let earned = bps_of(amount.amount_minor, bps);
    if earned <= 0 {
        return Ok(());
    }
    let basis = format!(
        "{what} {bps} bps of won deal {} {}",
        amount.amount_minor, amount.currency
    );
    operations::earn(
        tx,
        on.outbox,
        NewCommission {
            partner_id: partner.partner_id,
            program_id: partner.program_id,
            conversion_id: None,
            deal_id: Some(deal),
            plan_id: plan.id,
            plan_version: plan.version,
            currency: &amount.currency,
            amount_minor: earned,
            basis: &basis,
            hold_until: won_at,
        },
        &plan,
        won_at,
        on.now(),
    )
    .await?;
    Ok(())
}
