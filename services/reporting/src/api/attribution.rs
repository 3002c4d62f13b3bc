//! Attribution: the credit models staff agree, and a won deal's shares.

use prm_proto::events as ev;
use prm_proto::reporting::*;
use prm_runtime::wire::{from_timestamp, timestamp};
use prm_runtime::{ApiError, CallContext, Idempotency, Page, begin_or_replay, validate};

use super::scorecards::require_staff;
use super::{Reporting, convert};
use crate::domain::access::MODEL_MANAGEMENT;
use crate::domain::attribution::{NewModel, ROUNDING};
use crate::store;

impl Reporting {
    pub(super) async fn create_attribution_model(
        &self,
        ctx: CallContext,
        req: CreateAttributionModelRequest,
    ) -> Result<CreateAttributionModelResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let now = self.clock.now();
        let new = NewModel::validate(
            &req.name,
            req.sourced_bps,
            req.influencer_bps,
            req.direct_bps,
            req.window_days,
            from_timestamp(req.effective_from.as_ref()),
            now,
        )?;
        principal.require_any_role(MODEL_MANAGEMENT)?;
        let idem = Idempotency::new(&ctx, "CreateAttributionModel", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let row = store::insert_model(&mut tx, &new, Some(principal.user_id), now).await?;
        // Deals won since the new model took effect (an effective date up
        // to a minute back) are credited under it, as a replay would.
        for deal in store::deals_won_since(&mut tx, row.effective_from).await? {
            store::credit_deal(&mut tx, deal).await?;
        }
        self.outbox
            .stage_for(
                &mut tx,
                "attribution_model.created",
                &row,
                &ev::AttributionModelCreated {
                    model_id: row.id.to_string(),
                    version: row.version,
                    name: row.name.clone(),
                    sourced_bps: row.sourced_bps,
                    influencer_bps: row.influencer_bps,
                    direct_bps: row.direct_bps,
                    window_days: row.window_days,
                    effective_from: Some(timestamp(row.effective_from)),
                },
            )
            .await?;
        let resp = CreateAttributionModelResponse {
            model: Some(convert::model(&row)),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn list_attribution_models(
        &self,
        ctx: CallContext,
        req: ListAttributionModelsRequest,
    ) -> Result<ListAttributionModelsResponse, ApiError> {
        let principal = ctx.principal()?;
        let page = Page::parse(req.page_size, &req.page_token, &[])?;
        require_staff(principal)?;
        let mut conn = self.db.acquire().await.map_err(anyhow::Error::from)?;
        let mut rows =
            store::list_models(&mut conn, page.after_or_nil(), page.fetch_limit()).await?;
        let next_page_token = page.finish(&mut rows, |m| m.id);
        Ok(ListAttributionModelsResponse {
            models: rows.iter().map(convert::model).collect(),
            next_page_token,
        })
    }

    pub(super) async fn get_deal_attribution(
        &self,
        ctx: CallContext,
        req: GetDealAttributionRequest,
    ) -> Result<GetDealAttributionResponse, ApiError> {
        let principal = ctx.principal()?;
        let deal = validate::uuid(&req.deal_registration_id)
            .map_err(|m| ApiError::invalid("deal_registration_id", m))?;
        let mut conn = self.db.acquire().await.map_err(anyhow::Error::from)?;
        let Some(won) = store::won_deal(&mut conn, deal).await? else {
            return Err(ApiError::not_found("won deal"));
        };
        let mut shares = store::deal_credits(&mut conn, deal).await?;
        // A partner sees a deal it holds a share of, and only its shares.
        if let Some(own) = principal.partner_id {
            shares.retain(|s| s.partner_id == Some(own));
            if shares.is_empty() {
                return Err(ApiError::not_found("won deal"));
            }
        } else {
            require_staff(principal)?;
        }
        let first = shares.first();
        Ok(GetDealAttributionResponse {
            attribution: Some(DealAttribution {
                deal_registration_id: deal.to_string(),
                customer_domain: won.customer_domain.clone().unwrap_or_default(),
                amount: Some(prm_proto::common::Money {
                    amount_minor: won.won_minor,
                    currency: won.won_currency.clone(),
                }),
                won_at: Some(timestamp(won.won_at)),
                model_id: prm_runtime::wire::opt_id(first.and_then(|s| s.model_id)),
                model_version: first.map_or(0, |s| s.model_version),
                shares: shares.iter().map(convert::share).collect(),
                rounding: ROUNDING.to_owned(),
            }),
        })
    }
}
