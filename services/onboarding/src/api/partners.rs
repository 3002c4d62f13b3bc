//! Partners: reads, status changes and manual tier changes.

use prm_proto::events as ev;
use prm_proto::onboarding::*;
use prm_runtime::auth::{PARTNER_MANAGEMENT, STAFF};
use prm_runtime::fields::DecisionReason;
use prm_runtime::{
    ApiError, Begun, CallContext, FieldErrors, Idempotency, Page, begin_or_replay, validate,
};

use super::{Onboarding, convert, ensure_not_terminated};
use crate::domain::partner::PartnerStatus;
use crate::domain::partner::PartnerStatusRules;
use crate::store;

/// Which status change a call asks for.
#[derive(Clone, Copy)]
enum StatusChange {
    Suspend,
    Reactivate,
    Terminate,
}

impl Onboarding {
    pub(super) async fn get_partner(
        &self,
        ctx: CallContext,
        req: GetPartnerRequest,
    ) -> Result<GetPartnerResponse, ApiError> {
        let principal = ctx.principal()?;
        let id = validate::uuid(&req.partner_id).map_err(|e| ApiError::invalid("partner_id", e))?;
        let partner = self.visible_partner(principal, id).await?;
        Ok(GetPartnerResponse {
            partner: Some(convert::partner(&partner)),
        })
    }

    pub(super) async fn list_partners(
        &self,
        ctx: CallContext,
        req: ListPartnersRequest,
    ) -> Result<ListPartnersResponse, ApiError> {
        let principal = ctx.principal()?;
        let mut errs = FieldErrors::new();
        let status = errs.check("status", PartnerStatus::filter_from_proto(req.status));
        let program_id = errs.check("program_id", validate::optional_uuid(&req.program_id));
        errs.finish()?;
        let status = status.flatten();
        let program_id = program_id.flatten();
        let program_filter = prm_runtime::wire::opt_id(program_id);
        let page = Page::parse(
            req.page_size,
            &req.page_token,
            &[status.map_or("", PartnerStatus::as_str), &program_filter],
        )?;
        // A partner's list holds itself only.
        let only = match principal.partner_id {
            Some(pid) => Some(pid),
            None => {
                principal.require_any_role(STAFF)?;
                None
            }
        };
        let mut conn = self.db.acquire().await?;
        let mut rows = store::list_partners(
            &mut conn,
            only,
            status,
            program_id,
            page.after_or_nil(),
            page.fetch_limit(),
        )
        .await?;
        let next_page_token = page.finish(&mut rows, |r| r.id);
        Ok(ListPartnersResponse {
            partners: rows.iter().map(convert::partner).collect(),
            next_page_token,
        })
    }

    pub(super) async fn suspend_partner(
        &self,
        ctx: CallContext,
        req: SuspendPartnerRequest,
    ) -> Result<SuspendPartnerResponse, ApiError> {
        let partner = self
            .change_status(
                &ctx,
                "SuspendPartner",
                &req,
                &req.partner_id,
                Some(&req.reason),
                StatusChange::Suspend,
            )
            .await?;
        Ok(SuspendPartnerResponse { partner })
    }

    pub(super) async fn reactivate_partner(
        &self,
        ctx: CallContext,
        req: ReactivatePartnerRequest,
    ) -> Result<ReactivatePartnerResponse, ApiError> {
        let partner = self
            .change_status(
                &ctx,
                "ReactivatePartner",
                &req,
                &req.partner_id,
                None,
                StatusChange::Reactivate,
            )
            .await?;
        Ok(ReactivatePartnerResponse { partner })
    }

    pub(super) async fn terminate_partner(
        &self,
        ctx: CallContext,
        req: TerminatePartnerRequest,
    ) -> Result<TerminatePartnerResponse, ApiError> {
        let partner = self
            .change_status(
                &ctx,
                "TerminatePartner",
                &req,
                &req.partner_id,
                Some(&req.reason),
                StatusChange::Terminate,
            )
            .await?;
        Ok(TerminatePartnerResponse { partner })
    }

    /// Suspend, reactivate and terminate share their shape: validate, lock,
    /// transition, record, announce. The response body is a `Partner`.
    async fn change_status<Req: prost::Message>(
        &self,
        ctx: &CallContext,
        method: &'static str,
        req: &Req,
        partner_id: &str,
        reason: Option<&str>,
        change: StatusChange,
    ) -> Result<Option<Partner>, ApiError> {
        let principal = ctx.principal()?.clone();
        // Staff-only: a partner never changes its own status.
        principal.require_any_role(PARTNER_MANAGEMENT)?;
        let mut errs = FieldErrors::new();
        let id = errs.check("partner_id", validate::uuid(partner_id));
        let reason = match reason {
            Some(r) => errs.check("reason", DecisionReason::check(r)),
            None => Some(String::new()),
        };
        let (id, reason) = errs.finish_with(|| Some((id?, reason?)))?;

        let idem = Idempotency::new(ctx, method, req);
        let mut tx = match idem.begin::<PartnerEnvelope>(&self.db).await? {
            Begun::Replay(r) => return Ok(r.partner),
            Begun::Fresh(tx) => tx,
        };
        let current = store::partner_for_update(&mut tx, id)
            .await?
            .ok_or(ApiError::not_found("partner"))?;
        let next = match change {
            StatusChange::Suspend => current.status.suspend(),
            StatusChange::Reactivate => current.status.reactivate(),
            StatusChange::Terminate => current.status.terminate(),
        }
        .map_err(|e| e.about(format!("partner/{id}")))?;
        let updated = store::set_partner_status(&mut tx, id, next, &reason).await?;
        let actor = principal.user_id.to_string();
        let pid = id.to_string();
        match change {
            StatusChange::Suspend => {
                self.outbox
                    .stage_for(
                        &mut tx,
                        "partner.suspended",
                        &updated,
                        &ev::PartnerSuspended {
                            partner_id: pid,
                            reason,
                            actor_user_id: actor,
                        },
                    )
                    .await?
            }
            StatusChange::Reactivate => {
                self.outbox
                    .stage_for(
                        &mut tx,
                        "partner.reactivated",
                        &updated,
                        &ev::PartnerReactivated {
                            partner_id: pid,
                            actor_user_id: actor,
                        },
                    )
                    .await?
            }
            StatusChange::Terminate => {
                self.outbox
                    .stage_for(
                        &mut tx,
                        "partner.terminated",
                        &updated,
                        &ev::PartnerTerminated {
                            partner_id: pid,
                            reason,
                            actor_user_id: actor,
                        },
                    )
                    .await?
            }
        };
        let resp = PartnerEnvelope {
            partner: Some(convert::partner(&updated)),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp.partner)
    }

    pub(super) async fn set_partner_tier(
        &self,
        ctx: CallContext,
        req: SetPartnerTierRequest,
    ) -> Result<SetPartnerTierResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        principal.require_any_role(PARTNER_MANAGEMENT)?;
        let mut errs = FieldErrors::new();
        let id = errs.check("partner_id", validate::uuid(&req.partner_id));
        let tier_id = errs.check("tier_id", validate::uuid(&req.tier_id));
        let reason = errs.check("reason", DecisionReason::check(&req.reason));
        let (id, tier_id, reason) = errs.finish_with(|| Some((id?, tier_id?, reason?)))?;

        let idem = Idempotency::new(&ctx, "SetPartnerTier", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let mut partner = store::partner_for_update(&mut tx, id)
            .await?
            .ok_or(ApiError::not_found("partner"))?;
        ensure_not_terminated(&partner)?;
        let (from_tier_id, from_tier_name) = (partner.tier_id, partner.tier_name.clone());
        let tier = store::tier(&mut tx, tier_id)
            .await?
            .filter(|t| t.program_id == partner.program_id)
            .ok_or_else(|| {
                ApiError::invalid("tier_id", "is not a tier of the partner's program")
            })?;
        if tier.id != from_tier_id {
            partner = store::set_partner_tier(&mut tx, id, tier.id, None).await?;
            self.outbox
                .stage_for(
                    &mut tx,
                    "partner.tier_changed",
                    &partner,
                    &ev::PartnerTierChanged {
                        partner_id: id.to_string(),
                        program_id: partner.program_id.to_string(),
                        from_tier_id: from_tier_id.to_string(),
                        from_tier_name,
                        to_tier_id: tier.id.to_string(),
                        to_tier_name: tier.name.clone(),
                        kind: ev::TierChangeKind::Manual as i32,
                        reason,
                    },
                )
                .await?;
        }
        let resp = SetPartnerTierResponse {
            partner: Some(convert::partner(&partner)),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }
}

/// The common body of the status-change responses, which all carry only a
/// `partner` in field 1 (so one stored encoding replays as any of them).
#[derive(Clone, PartialEq, prost::Message)]
struct PartnerEnvelope {
    #[prost(message, optional, tag = "1")]
    partner: Option<Partner>,
}
