//! What MDF consumes: deal registration's events. A won deal accrues into
//! the partner's accrual funds; registrations carrying a campaign code
//! (their `mdf_reference`) feed the ROI of the requests with that code.
//! What MDF publishes is staged by the handlers through the outbox; see
//! `proto/prm/events/v1/mdf.proto` for the list.

use chrono::Utc;
use prm_proto::events::{DealExpired, DealLost, DealRegistered, DealRejected, DealWon};
use prm_runtime::inbox::{EventHandler, ReceivedEvent};
use prm_runtime::wire::from_timestamp;
use prm_runtime::{Money, Outbox, validate};
use prost::Name;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::request::campaign_code;
use crate::{operations, store};

/// Reacts to `prm.dealreg.deal.*`.
pub struct DealEvents {
    pub outbox: Outbox,
}

fn id(what: &str, value: &str) -> anyhow::Result<Uuid> {
    validate::uuid(value).map_err(|m| anyhow::anyhow!("{what} {m}"))
}

/// The campaign code a registration carries, if it is one MDF could have
/// issued (anything else cannot match a request).
fn code(reference: &str) -> Option<String> {
    campaign_code(reference).ok().filter(|c| !c.is_empty())
}

#[async_trait::async_trait]
impl EventHandler for DealEvents {
    fn wants(&self, event_type: &str) -> bool {
        [
            DealRegistered::full_name(),
            DealWon::full_name(),
            DealRejected::full_name(),
            DealLost::full_name(),
            DealExpired::full_name(),
        ]
        .iter()
        .any(|t| t == event_type)
    }

    async fn handle(&self, tx: &mut PgConnection, event: &ReceivedEvent) -> anyhow::Result<()> {
        if event.is::<DealRegistered>() {
            let e: DealRegistered = event.decode()?;
            if let Some(code) = code(&e.mdf_reference) {
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
            }
        } else if event.is::<DealWon>() {
            let e: DealWon = event.decode()?;
            let deal = id("deal id", &e.deal_registration_id)?;
            let partner = id("partner id", &e.partner_id)?;
            let amount = Money::parse(e.amount.as_ref(), false)
                .map_err(|m| anyhow::anyhow!("amount {m}"))?;
            let won_at = from_timestamp(e.won_at.as_ref()).unwrap_or_else(Utc::now);
            operations::accrue_won_deal(tx, &self.outbox, deal, partner, &amount, won_at).await?;
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
        } else if event.is::<DealRejected>() {
            let e: DealRejected = event.decode()?;
            store::campaign_deal_closed(tx, id("deal id", &e.deal_registration_id)?).await?;
        } else if event.is::<DealLost>() {
            let e: DealLost = event.decode()?;
            store::campaign_deal_closed(tx, id("deal id", &e.deal_registration_id)?).await?;
        } else if event.is::<DealExpired>() {
            let e: DealExpired = event.decode()?;
            store::campaign_deal_closed(tx, id("deal id", &e.deal_registration_id)?).await?;
        }
        Ok(())
    }
}
