//! What the commissions service consumes: onboarding's partner events,
//! which say which program and tier each partner is in (plans are chosen
//! by them), its type and domain (for self-referral checks), and whether
//! it is active. What it publishes is staged by the handlers and jobs
//! through the outbox; see `proto/prm/events/v1/commissions.proto`.

use chrono::Utc;
use prm_proto::events::{
    PartnerApproved, PartnerReactivated, PartnerSuspended, PartnerTerminated, PartnerTierChanged,
};
use prm_runtime::inbox::{EventHandler, ReceivedEvent};
use prm_runtime::wire::from_timestamp;
use prm_runtime::{PartnerType, validate};
use prost::Name;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::store::{self, NewPartner};

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
                    partner_type: partner_type.as_str(),
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
            store::set_partner_status(tx, id("partner id", &e.partner_id)?, "suspended", now)
                .await?;
        } else if event.is::<PartnerReactivated>() {
            let e: PartnerReactivated = event.decode()?;
            store::set_partner_status(tx, id("partner id", &e.partner_id)?, "active", now).await?;
        } else if event.is::<PartnerTerminated>() {
            let e: PartnerTerminated = event.decode()?;
            store::set_partner_status(tx, id("partner id", &e.partner_id)?, "terminated", now)
                .await?;
        }
        Ok(())
    }
}
