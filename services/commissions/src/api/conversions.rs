//! Staff's decisions on held conversions: release one (credited to its
//! partner as if it had passed its checks) or reject it, with a reason.
//! Only a held conversion can be decided, and only once.

use prm_proto::commissions::*;
use prm_proto::events as ev;
use prm_runtime::fields::DecisionReason;
use prm_runtime::wire::{opt_id, timestamp};
use prm_runtime::{ApiError, CallContext, FieldErrors, Idempotency, begin_or_replay, validate};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Commissions, convert};
use crate::domain::access::CONVERSION_REVIEW;
use crate::domain::postback::ConversionStatus;
use crate::operations;
use crate::store::{self, ConversionRow};

/// The conversion and the reason of a decision, validated together.
fn decision(conversion_id: &str, reason: &str) -> Result<(Uuid, String), ApiError> {
    let mut errs = FieldErrors::new();
    let id = errs.check("conversion_id", validate::uuid(conversion_id));
    let reason = errs.check("reason", DecisionReason::check(reason));
    errs.finish_with(|| Some((id?, reason?)))
}

/// The held conversion `id`, locked.
async fn held(tx: &mut PgConnection, id: Uuid) -> Result<ConversionRow, ApiError> {
    let row = store::conversion_for_update(tx, id)
        .await?
        .ok_or(ApiError::not_found("conversion"))?;
    if row.status != ConversionStatus::Held {
        return Err(ApiError::precondition(
            "CONVERSION_NOT_HELD",
            format!("conversion/{id}"),
            format!(
                "the conversion is {}; only a held one can be decided",
                row.status
            ),
        ));
    }
    Ok(row)
}

impl Commissions {
    pub(super) async fn release_conversion(
        &self,
        ctx: CallContext,
        req: ReleaseConversionRequest,
    ) -> Result<ReleaseConversionResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let (id, reason) = decision(&req.conversion_id, &req.reason)?;
        principal.require_any_role(CONVERSION_REVIEW)?;
        let idem = Idempotency::new(&ctx, "ReleaseConversion", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let row = held(&mut tx, id).await?;
        let subject = format!("conversion/{id}");
        let partner_id = row.partner_id.ok_or_else(|| {
            ApiError::precondition(
                "NO_PARTNER_TO_CREDIT",
                subject.clone(),
                format!(
                    "the conversion is held for {}: no partner to credit; reject it",
                    row.hold_reason.map_or("", |h| h.as_str())
                ),
            )
        })?;
        let partner = store::partner(&mut tx, partner_id)
            .await?
            .ok_or(ApiError::not_found("partner"))?;
        partner.status.ensure_active(partner_id)?;
        let plan = store::plan_in_force(&mut tx, row.program_id, partner.tier_id, row.occurred_at)
            .await?
            .ok_or_else(|| {
                ApiError::precondition(
                    "NO_PLAN",
                    subject.clone(),
                    "no plan of the program was in force when the conversion occurred",
                )
            })?;
        let now = self.clock.now();
        let row =
            store::decide_conversion(&mut tx, id, ConversionStatus::Pending, &reason, now).await?;
        self.outbox
            .stage_for(
                &mut tx,
                "conversion.recorded",
                &row,
                &ev::ConversionRecorded {
                    conversion_id: row.id.to_string(),
                    program_id: row.program_id.to_string(),
                    partner_id: partner_id.to_string(),
                    link_id: opt_id(row.link_id),
                    click_id: opt_id(row.click_id),
                    transaction_id: row.transaction_id.clone(),
                    kind: row.kind.as_str().to_owned(),
                    event_type: row.event_type.clone(),
                    amount: row.amount().map(|m| m.to_proto()),
                    customer_id: row.customer_id.clone().unwrap_or_default(),
                    customer_domain: row.customer_domain.clone().unwrap_or_default(),
                    hold_reason: String::new(),
                    occurred_at: Some(timestamp(row.occurred_at)),
                },
            )
            .await?;
        let outcome =
            operations::credit_conversion(&mut tx, &self.outbox, &row, &partner, &plan, now)
                .await?;
        let resp = ReleaseConversionResponse {
            conversion: Some(convert::conversion(&row)),
            outcome,
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn reject_conversion(
        &self,
        ctx: CallContext,
        req: RejectConversionRequest,
    ) -> Result<RejectConversionResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let (id, reason) = decision(&req.conversion_id, &req.reason)?;
        principal.require_any_role(CONVERSION_REVIEW)?;
        let idem = Idempotency::new(&ctx, "RejectConversion", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        held(&mut tx, id).await?;
        let now = self.clock.now();
        let row =
            store::decide_conversion(&mut tx, id, ConversionStatus::Rejected, &reason, now).await?;
        self.outbox
            .stage_for(
                &mut tx,
                "conversion.status_changed",
                &row,
                &ev::ConversionStatusChanged {
                    conversion_id: row.id.to_string(),
                    partner_id: opt_id(row.partner_id),
                    transaction_id: row.transaction_id.clone(),
                    status: row.status.as_str().to_owned(),
                    refunded_minor: row.refunded_minor,
                    changed_at: Some(timestamp(now)),
                },
            )
            .await?;
        let resp = RejectConversionResponse {
            conversion: Some(convert::conversion(&row)),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }
}
