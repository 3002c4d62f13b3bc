//! Claims: the partner claims an approved request with proof of
//! performance before the claim deadline; staff approve (reimbursing and
//! releasing the rest of the reservation), partially approve or reject.

use prm_proto::events as ev;
use prm_proto::mdf::*;
use prm_runtime::fields::{MdfReason, OptionalMdfReason};
use prm_runtime::wire::timestamp;
use prm_runtime::{
    ApiError, CallContext, FieldErrors, Idempotency, OnConstraint, Page, Principal,
    begin_or_replay, validate,
};
use sqlx::PgConnection;
use uuid::Uuid;

use super::requests::ensure_may_act_for_partner;
use super::{Mdf, convert, ensure_visible};
use crate::domain::access::CLAIM_DECISIONS;
use crate::domain::claim::ClaimStatusRules;
use crate::domain::claim::{ClaimStatus, NewClaim};
use crate::domain::ledger::{EntryKind, reimbursable};
use crate::domain::request::MdfRequestStatusRules;
use crate::domain::request::{MdfRequestStatus, deadline_passed};
use crate::domain::{optional_positive_money, same_currency};
use crate::operations;
use crate::store::{self, ClaimRow, Entry, RequestRow};

impl Mdf {
    /// The claim, if the principal may see it: its partner, or staff.
    async fn visible_claim(
        &self,
        conn: &mut PgConnection,
        principal: &Principal,
        id: Uuid,
        lock: bool,
    ) -> Result<ClaimRow, ApiError> {
        let row = if lock {
            store::claim_for_update(conn, id).await?
        } else {
            store::claim(conn, id).await?
        };
        let row = row.ok_or(ApiError::not_found("claim"))?;
        ensure_visible(principal, row.partner_id, "claim")?;
        Ok(row)
    }

    /// The claim and its request, both locked in the order every handler
    /// takes them (request, then claim), for a decision.
    async fn claim_and_request(
        &self,
        tx: &mut PgConnection,
        principal: &Principal,
        id: Uuid,
    ) -> Result<(ClaimRow, RequestRow), ApiError> {
        let seen = self.visible_claim(tx, principal, id, false).await?;
        let request = store::request_for_update(tx, seen.request_id)
            .await?
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("claim without its request")))?;
        let claim = self.visible_claim(tx, principal, id, true).await?;
        Ok((claim, request))
    }

    pub(super) async fn submit_claim(
        &self,
        ctx: CallContext,
        req: SubmitClaimRequest,
    ) -> Result<SubmitClaimResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let new = NewClaim::parse(&req)?;
        let idem = Idempotency::new(&ctx, "SubmitClaim", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        // Locked, so claims on one request are decided one at a time.
        let request = self
            .visible_request(&mut tx, &principal, new.request_id, true)
            .await?;
        ensure_may_act_for_partner(&principal)?;
        operations::ensure_partner_active(&mut tx, request.partner_id).await?;
        let subject = format!("request/{}", request.id);
        request
            .status
            .ensure_claimable()
            .map_err(|e| e.about(subject.clone()))?;
        let now = self.clock.now();
        if now.date_naive() < request.ends_on {
            return Err(ApiError::precondition(
                "ACTIVITY_NOT_ENDED",
                subject,
                format!(
                    "the activity ends on {}; claim after it has taken place",
                    request.ends_on
                ),
            ));
        }
        if deadline_passed(request.claim_deadline, now) {
            return Err(ApiError::precondition(
                "CLAIM_DEADLINE_PASSED",
                subject,
                format!(
                    "the claim deadline was {} (the activity ended on {})",
                    request.claim_deadline, request.ends_on
                ),
            ));
        }
        same_currency(&new.proven_cost, &request.currency)
            .map_err(|e| ApiError::invalid("proven_cost.currency", e))?;
        let fund = store::fund(&mut tx, request.fund_id)
            .await?
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("request without its fund")))?;
        let due = reimbursable(new.proven_cost.amount_minor, fund.reimbursement_rate_bps);
        let approved = request.approved_minor.unwrap_or(0);
        if due > approved {
            return Err(ApiError::invalid(
                "proven_cost",
                format!(
                    "at the fund's reimbursement rate ({} bps) this claims {due}, more than the \
                     {approved} (minor units) approved for the request",
                    fund.reimbursement_rate_bps
                ),
            ));
        }
        let row = store::insert_claim(&mut tx, &new, request.fund_id, request.partner_id, due, now)
            .await
            .on_constraint(store::CLAIM_PARTNER_INVOICE, || {
                ApiError::already_exists(
                    "DUPLICATE_INVOICE",
                    format!(
                        "invoice {} has already been claimed by this partner",
                        new.invoice_number
                    ),
                )
            })
            .on_constraint(store::CLAIM_REQUEST_OPEN, || {
                ApiError::already_exists(
                    "CLAIM_EXISTS",
                    "the request already has a claim awaiting a decision or approved",
                )
            })?;
        self.outbox
            .stage_for(
                &mut tx,
                "claim.submitted",
                &row,
                &ev::MdfClaimSubmitted {
                    claim_id: row.id.to_string(),
                    request_id: row.request_id.to_string(),
                    partner_id: row.partner_id.to_string(),
                    proven_cost: Some(row.money(row.proven_cost_minor).to_proto()),
                    reimbursable: Some(row.money(row.reimbursable_minor).to_proto()),
                    invoice_number: row.invoice_number.clone(),
                    submitted_at: Some(timestamp(now)),
                },
            )
            .await?;
        let resp = SubmitClaimResponse {
            claim: Some(convert::claim(&row)?),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn get_claim(
        &self,
        ctx: CallContext,
        req: GetClaimRequest,
    ) -> Result<GetClaimResponse, ApiError> {
        let principal = ctx.principal()?;
        let id = validate::uuid(&req.claim_id).map_err(|e| ApiError::invalid("claim_id", e))?;
        let mut conn = self.db.acquire().await?;
        let row = self.visible_claim(&mut conn, principal, id, false).await?;
        Ok(GetClaimResponse {
            claim: Some(convert::claim(&row)?),
        })
    }

    pub(super) async fn list_claims(
        &self,
        ctx: CallContext,
        req: ListClaimsRequest,
    ) -> Result<ListClaimsResponse, ApiError> {
        let principal = ctx.principal()?;
        let mut errs = FieldErrors::new();
        let requested = errs.check("partner_id", validate::optional_uuid(&req.partner_id));
        let request = errs.check("request_id", validate::optional_uuid(&req.request_id));
        let status = errs.check("status", ClaimStatus::filter_from_proto(req.status));
        errs.finish()?;
        let partner = principal.partner_scope(requested.flatten())?;
        let (request, status) = (request.flatten(), status.flatten());
        let partner_filter = partner.map(|p| p.to_string()).unwrap_or_default();
        let request_filter = request.map(|r| r.to_string()).unwrap_or_default();
        let page = Page::parse(
            req.page_size,
            &req.page_token,
            &[
                &partner_filter,
                &request_filter,
                status.map_or("", ClaimStatus::as_str),
            ],
        )?;
        let mut conn = self.db.acquire().await?;
        let mut rows = store::list_claims(
            &mut conn,
            partner,
            request,
            status,
            page.after_or_nil(),
            page.fetch_limit(),
        )
        .await?;
        let next_page_token = page.finish(&mut rows, |c| c.id);
        Ok(ListClaimsResponse {
            claims: rows.iter().map(convert::claim).collect::<Result<_, _>>()?,
            next_page_token,
        })
    }

    pub(super) async fn approve_claim(
        &self,
        ctx: CallContext,
        req: ApproveClaimRequest,
    ) -> Result<ApproveClaimResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let mut errs = FieldErrors::new();
        let id = errs.check("claim_id", validate::uuid(&req.claim_id));
        let amount = errs.check("amount", optional_positive_money(req.amount.as_ref()));
        let reason = errs.check("reason", OptionalMdfReason::check(&req.reason));
        let (id, amount, reason) = errs.finish_with(|| Some((id?, amount?, reason?)))?;
        principal.require_any_role(CLAIM_DECISIONS)?;
        let idem = Idempotency::new(&ctx, "ApproveClaim", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let (mut claim, mut request) = self.claim_and_request(&mut tx, &principal, id).await?;
        claim
            .status
            .decide()
            .map_err(|e| e.about(format!("claim/{id}")))?;
        let paid = match amount {
            None => claim.reimbursable_minor,
            Some(a) => {
                same_currency(&a, &claim.currency)
                    .map_err(|e| ApiError::invalid("amount.currency", e))?;
                if a.amount_minor > claim.reimbursable_minor {
                    return Err(ApiError::invalid(
                        "amount",
                        format!(
                            "more than the {} (minor units) the claim may be reimbursed",
                            claim.reimbursable_minor
                        ),
                    ));
                }
                a.amount_minor
            }
        };
        let reserved = request.approved_minor.unwrap_or(0);
        let released = reserved - paid;
        let now = self.clock.now();
        let actor = Some(principal.user_id);
        claim.status = ClaimStatus::Approved;
        claim.reimbursed_minor = Some(paid);
        claim.decision_reason = reason;
        claim.decided_by = actor;
        claim.decided_at = Some(now);
        let claim = store::save_claim(&mut tx, &claim).await?;
        request.status = MdfRequestStatus::Completed;
        let request = store::save_request(&mut tx, &request).await?;
        self.outbox
            .stage_for(
                &mut tx,
                "claim.approved",
                &claim,
                &ev::MdfClaimApproved {
                    claim_id: claim.id.to_string(),
                    request_id: claim.request_id.to_string(),
                    partner_id: claim.partner_id.to_string(),
                    approved: Some(claim.money(paid).to_proto()),
                    approved_at: Some(timestamp(now)),
                },
            )
            .await?;
        self.outbox
            .stage_for(
                &mut tx,
                "claim.reimbursed",
                &claim,
                &ev::MdfClaimReimbursed {
                    claim_id: claim.id.to_string(),
                    request_id: request.id.to_string(),
                    fund_id: claim.fund_id.to_string(),
                    partner_id: claim.partner_id.to_string(),
                    reimbursed: Some(claim.money(paid).to_proto()),
                    released: Some(claim.money(released).to_proto()),
                    campaign_code: request.campaign_code.clone(),
                    reimbursed_at: Some(timestamp(now)),
                },
            )
            .await?;
        // Last, as they take the fund's row lock until the commit.
        if paid > 0 {
            store::append_entry(
                &mut tx,
                claim.fund_id,
                &Entry::new(EntryKind::Reimbursed, paid)
                    .request(request.id)
                    .claim(claim.id)
                    .by(actor)
                    .note(&claim.decision_reason),
                now,
            )
            .await?;
        }
        if released > 0 {
            store::append_entry(
                &mut tx,
                claim.fund_id,
                &Entry::new(EntryKind::Released, released)
                    .request(request.id)
                    .claim(claim.id)
                    .by(actor)
                    .note("unclaimed rest of the reservation"),
                now,
            )
            .await?;
        }
        let resp = ApproveClaimResponse {
            claim: Some(convert::claim(&claim)?),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn reject_claim(
        &self,
        ctx: CallContext,
        req: RejectClaimRequest,
    ) -> Result<RejectClaimResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let mut errs = FieldErrors::new();
        let id = errs.check("claim_id", validate::uuid(&req.claim_id));
        let reason = errs.check("reason", MdfReason::check(&req.reason));
        let (id, reason) = errs.finish_with(|| Some((id?, reason?)))?;
        principal.require_any_role(CLAIM_DECISIONS)?;
        let idem = Idempotency::new(&ctx, "RejectClaim", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let (mut claim, _) = self.claim_and_request(&mut tx, &principal, id).await?;
        claim
            .status
            .decide()
            .map_err(|e| e.about(format!("claim/{id}")))?;
        let now = self.clock.now();
        claim.status = ClaimStatus::Rejected;
        claim.decision_reason = reason;
        claim.decided_by = Some(principal.user_id);
        claim.decided_at = Some(now);
        let claim = store::save_claim(&mut tx, &claim).await?;
        self.outbox
            .stage_for(
                &mut tx,
                "claim.rejected",
                &claim,
                &ev::MdfClaimRejected {
                    claim_id: claim.id.to_string(),
                    request_id: claim.request_id.to_string(),
                    partner_id: claim.partner_id.to_string(),
                    reason: claim.decision_reason.clone(),
                    rejected_at: Some(timestamp(now)),
                },
            )
            .await?;
        let resp = RejectClaimResponse {
            claim: Some(convert::claim(&claim)?),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }
}
