//! What the commissions service consumes: onboarding's partner events,
//! which say which program and tier each partner is in (plans are chosen
//! by them), its type and domain (for self-referral checks), and whether
//! it is active. What it publishes is staged by the handlers and jobs
//! through the outbox; see `proto/prm/events/v1/commissions.proto`.

use chrono::Utc;
use prm_proto::events::{
    DealWon, PartnerApproved, PartnerReactivated, PartnerSuspended, PartnerTerminated,
    PartnerTierChanged,
};
use prm_runtime::inbox::{EventHandler, ReceivedEvent};
use prm_runtime::wire::from_timestamp;
use prm_runtime::{PartnerType, validate};
use prost::Name;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::bps_of;
use crate::domain::partner::PartnerStatus;
use crate::operations;
use crate::store::{self, NewCommission, NewPartner};
use prm_runtime::{Clock, Money, Outbox};

/// Reacts to `prm.onboarding.partner.*`.
pub struct PartnerEvents;

fn id(what: &str, value: &str) -> anyhow::Result<Uuid> {
    validate::uuid(value).map_err(|m| anyhow::anyhow!("{what} {m}"))
}

fn opt_id(what: &str, value: &str) -> anyhow::Result<Option<Uuid>> {
    validate::optional_uuid(value).map_err(|m| anyhow::anyhow!("{what} {m}"))
}

#[async_trait::async_trait]
impl EventHandler for PartnerEvents {
    fn wants(&self, event_type: &str) -> bool {
        [
            PartnerApproved::full_name(),
            PartnerTierChanged::full_name(),
            PartnerSuspended::full_name(),
            PartnerReactivated::full_name(),
            PartnerTerminated::full_name(),
        ]
        .iter()
        .any(|t| t == event_type)
    }

    async fn handle(&self, tx: &mut PgConnection, event: &ReceivedEvent) -> anyhow::Result<()> {
        let now = Utc::now();
        if event.is::<PartnerApproved>() {
            let e: PartnerApproved = event.decode()?;
            let partner_type = PartnerType::from_proto(e.partner_type)
                .map_err(|m| anyhow::anyhow!("partner type {m}"))?;
            store::upsert_partner(
                tx,
                &NewPartner {
                    partner_id: id("partner id", &e.partner_id)?,
                    program_id: id("program id", &e.program_id)?,
                    tier_id: opt_id("tier id", &e.tier_id)?,
                    partner_type,
                    company_name: &e.company_name,
                    domain: &e.domain.to_ascii_lowercase(),
                },
                from_timestamp(e.approved_at.as_ref()).unwrap_or(now),
            )
            .await?;
        } else if event.is::<PartnerTierChanged>() {
            let e: PartnerTierChanged = event.decode()?;
            store::set_partner_tier(
                tx,
                id("partner id", &e.partner_id)?,
                opt_id("tier id", &e.to_tier_id)?,
                now,
            )
            .await?;
        } else if event.is::<PartnerSuspended>() {
            let e: PartnerSuspended = event.decode()?;
            store::set_partner_status(
                tx,
                id("partner id", &e.partner_id)?,
                PartnerStatus::Suspended,
                now,
            )
            .await?;
        } else if event.is::<PartnerReactivated>() {
            let e: PartnerReactivated = event.decode()?;
            store::set_partner_status(
                tx,
                id("partner id", &e.partner_id)?,
                PartnerStatus::Active,
                now,
            )
            .await?;
        } else if event.is::<PartnerTerminated>() {
            let e: PartnerTerminated = event.decode()?;
            store::set_partner_status(
                tx,
                id("partner id", &e.partner_id)?,
                PartnerStatus::Terminated,
                now,
            )
            .await?;
        }
        Ok(())
    }
}

/// Reacts to `prm.dealreg.deal.*`: a won deal earns its partner's reseller
/// margin (resellers, integrators and technology partners) or referral fee
/// (referral partners and affiliates), in basis points of the deal's
/// amount, under the plan in force when it was won.
pub struct DealEvents {
    pub outbox: Outbox,
    /// The hold period starts at the win, or now if the event is late.
    pub clock: Clock,
}

#[async_trait::async_trait]
impl EventHandler for DealEvents {
    fn wants(&self, event_type: &str) -> bool {
        event_type == DealWon::full_name()
    }

    async fn handle(&self, tx: &mut PgConnection, event: &ReceivedEvent) -> anyhow::Result<()> {
        if !event.is::<DealWon>() {
            return Ok(());
        }
        let e: DealWon = event.decode()?;
        let deal = id("deal id", &e.deal_registration_id)?;
        let Some(partner) = store::partner(tx, id("partner id", &e.partner_id)?).await? else {
            return Ok(()); // not a partner of a commissions program
        };
        let amount =
            Money::parse(e.amount.as_ref(), false).map_err(|m| anyhow::anyhow!("amount {m}"))?;
        let won_at = from_timestamp(e.won_at.as_ref()).unwrap_or_else(Utc::now);
        let Some(plan) =
            store::plan_in_force(tx, partner.program_id, partner.tier_id, won_at).await?
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
            &self.outbox,
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
            self.clock.now(),
        )
        .await?;
        Ok(())
    }
}
