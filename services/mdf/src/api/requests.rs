//! MDF requests: submitted by partners, decided by staff (approval
//! reserves funds), cancelled by either; and their return on investment.

use chrono::{DateTime, Utc};
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

use super::{Mdf, convert, ensure_visible};
use crate::domain::access::{ACT_FOR_PARTNER, FUNDS_MANAGEMENT};
use crate::domain::ledger::EntryKind;
use crate::domain::request::MdfRequestStatusRules;
use crate::domain::request::{MdfRequestStatus, NewRequest, claim_deadline};
use crate::domain::{optional_positive_money, same_currency};
use crate::operations;
use crate::store::{self, Entry, FundRow, RequestRow};

pub(super) fn request_id(value: &str) -> Result<Uuid, ApiError> {
    validate::uuid(value).map_err(|e| ApiError::invalid("request_id", e))
}

/// Staff act for a partner only with a role that may.
pub(super) fn ensure_may_act_for_partner(principal: &Principal) -> Result<(), ApiError> {
    if principal.partner_id.is_none() {
        principal.require_any_role(ACT_FOR_PARTNER)?;
    }
    Ok(())
}

/// An accrual fund past its expiry takes no more requests or approvals.
fn ensure_not_expired(fund: &FundRow, now: DateTime<Utc>) -> Result<(), ApiError> {
    match fund.expires_at {
        Some(expired) if expired <= now => Err(ApiError::precondition(
            "FUND_EXPIRED",
            format!("fund/{}", fund.id),
            format!(
                "the fund's unspent money expired at {}",
                expired.to_rfc3339()
            ),
        )),
        _ => Ok(()),
    }
}

/// The answer to an approval the fund cannot cover. (The balance is not
/// quoted: under concurrent approvals any figure read here is stale.)
fn insufficient_funds(asked: i64, currency: &str) -> ApiError {
    ApiError::precondition(
        "INSUFFICIENT_FUNDS",
        "amount",
        format!("the fund's available balance does not cover {asked} {currency} (minor units)"),
    )
}

impl Mdf {
    /// The request, if the principal may see it: its partner, or staff.
    pub(super) async fn visible_request(
        &self,
        conn: &mut PgConnection,
        principal: &Principal,
        id: Uuid,
        lock: bool,
    ) -> Result<RequestRow, ApiError> {
        let row = if lock {
            store::request_for_update(conn, id).await?
        } else {
            store::request(conn, id).await?
        };
        let row = row.ok_or(ApiError::not_found("request"))?;
        ensure_visible(principal, row.partner_id, "request")?;
        Ok(row)
    }

    pub(super) async fn submit_mdf_request(
        &self,
        ctx: CallContext,
        req: SubmitMdfRequestRequest,
    ) -> Result<SubmitMdfRequestResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let new = NewRequest::parse(&req)?;
        let idem = Idempotency::new(&ctx, "SubmitMdfRequest", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let fund = self.visible_fund(&mut tx, &principal, new.fund_id).await?;
        ensure_may_act_for_partner(&principal)?;
        operations::ensure_partner_active(&mut tx, fund.partner_id).await?;
        same_currency(&new.amount, &fund.currency)
            .map_err(|e| ApiError::invalid("amount.currency", e))?;
        let budget = store::budget(&mut tx, fund.budget_id)
            .await?
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("fund without its budget")))?;
        let now = self.clock.now();
        ensure_not_expired(&fund, now)?;
        let deadline = claim_deadline(new.ends_on, budget.claim_window_days);
        let row = store::insert_request(&mut tx, fund.partner_id, &new, deadline, now).await?;
        self.outbox
            .stage_for(
                &mut tx,
                "request.submitted",
                &row,
                &ev::MdfRequestSubmitted {
                    request_id: row.id.to_string(),
                    fund_id: row.fund_id.to_string(),
                    partner_id: row.partner_id.to_string(),
                    activity_type: row.activity_type.as_str().to_owned(),
                    campaign_code: row.campaign_code.clone(),
                    requested: Some(row.requested().to_proto()),
                    submitted_at: Some(timestamp(now)),
                },
            )
            .await?;
        let resp = SubmitMdfRequestResponse {
            request: Some(convert::request(&row)),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn get_mdf_request(
        &self,
        ctx: CallContext,
        req: GetMdfRequestRequest,
    ) -> Result<GetMdfRequestResponse, ApiError> {
        let principal = ctx.principal()?;
        let id = request_id(&req.request_id)?;
        let mut conn = self.db.acquire().await?;
        let row = self
            .visible_request(&mut conn, principal, id, false)
            .await?;
        Ok(GetMdfRequestResponse {
            request: Some(convert::request(&row)),
        })
    }

    pub(super) async fn list_mdf_requests(
        &self,
        ctx: CallContext,
        req: ListMdfRequestsRequest,
    ) -> Result<ListMdfRequestsResponse, ApiError> {
        let principal = ctx.principal()?;
        let mut errs = FieldErrors::new();
        let requested = errs.check("partner_id", validate::optional_uuid(&req.partner_id));
        let fund = errs.check("fund_id", validate::optional_uuid(&req.fund_id));
        let status = errs.check("status", MdfRequestStatus::filter_from_proto(req.status));
        errs.finish()?;
        let partner = principal.partner_scope(requested.flatten())?;
        let (fund, status) = (fund.flatten(), status.flatten());
        let partner_filter = partner.map(|p| p.to_string()).unwrap_or_default();
        let fund_filter = fund.map(|f| f.to_string()).unwrap_or_default();
        let page = Page::parse(
            req.page_size,
            &req.page_token,
            &[
                &partner_filter,
                &fund_filter,
                status.map_or("", MdfRequestStatus::as_str),
            ],
        )?;
        let mut conn = self.db.acquire().await?;
        let mut rows = store::list_requests(
            &mut conn,
            partner,
            fund,
            status,
            page.after_or_nil(),
            page.fetch_limit(),
        )
        .await?;
        let next_page_token = page.finish(&mut rows, |r| r.id);
        Ok(ListMdfRequestsResponse {
            requests: rows.iter().map(convert::request).collect(),
            next_page_token,
        })
    }

    pub(super) async fn approve_mdf_request(
        &self,
        ctx: CallContext,
        req: ApproveMdfRequestRequest,
    ) -> Result<ApproveMdfRequestResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let mut errs = FieldErrors::new();
        let id = errs.check("request_id", validate::uuid(&req.request_id));
        let amount = errs.check("amount", optional_positive_money(req.amount.as_ref()));
        let reason = errs.check("reason", OptionalMdfReason::check(&req.reason));
        let (id, amount, reason) = errs.finish_with(|| Some((id?, amount?, reason?)))?;
        principal.require_any_role(FUNDS_MANAGEMENT)?;
        let idem = Idempotency::new(&ctx, "ApproveMdfRequest", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let mut row = self.visible_request(&mut tx, &principal, id, true).await?;
        row.status
            .decide()
            .map_err(|e| e.about(format!("request/{id}")))?;
        let approved = match amount {
            None => row.requested_minor,
            Some(a) => {
                same_currency(&a, &row.currency)
                    .map_err(|e| ApiError::invalid("amount.currency", e))?;
                if a.amount_minor > row.requested_minor {
                    return Err(ApiError::invalid(
                        "amount",
                        format!(
                            "more than the {} (minor units) requested",
                            row.requested_minor
                        ),
                    ));
                }
                a.amount_minor
            }
        };
        let fund = store::fund(&mut tx, row.fund_id)
            .await?
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("request without its fund")))?;
        let now = self.clock.now();
        ensure_not_expired(&fund, now)?;
        row.status = MdfRequestStatus::Approved;
        row.approved_minor = Some(approved);
        row.decision_reason = reason;
        row.decided_by = Some(principal.user_id);
        row.decided_at = Some(now);
        let row = store::save_request(&mut tx, &row).await?;
        self.outbox
            .stage_for(
                &mut tx,
                "request.approved",
                &row,
                &ev::MdfRequestApproved {
                    request_id: row.id.to_string(),
                    fund_id: row.fund_id.to_string(),
                    partner_id: row.partner_id.to_string(),
                    requested: Some(row.requested().to_proto()),
                    approved: Some(row.money(approved).to_proto()),
                    campaign_code: row.campaign_code.clone(),
                    approved_at: Some(timestamp(now)),
                },
            )
            .await?;
        // Last: the reservation takes the fund's row lock, which every
        // approval on the fund waits for, until the commit.
        store::append_entry(
            &mut tx,
            row.fund_id,
            &Entry::new(EntryKind::Reserved, approved)
                .request(row.id)
                .by(Some(principal.user_id))
                .note(&row.decision_reason),
            now,
        )
        .await
        .on_constraint(store::FUND_AVAILABLE_NONNEGATIVE, || {
            insufficient_funds(approved, &fund.currency)
        })?;
        let resp = ApproveMdfRequestResponse {
            request: Some(convert::request(&row)),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn reject_mdf_request(
        &self,
        ctx: CallContext,
        req: RejectMdfRequestRequest,
    ) -> Result<RejectMdfRequestResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let mut errs = FieldErrors::new();
        let id = errs.check("request_id", validate::uuid(&req.request_id));
        let reason = errs.check("reason", MdfReason::check(&req.reason));
        let (id, reason) = errs.finish_with(|| Some((id?, reason?)))?;
        principal.require_any_role(FUNDS_MANAGEMENT)?;
        let idem = Idempotency::new(&ctx, "RejectMdfRequest", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let mut row = self.visible_request(&mut tx, &principal, id, true).await?;
        row.status
            .decide()
            .map_err(|e| e.about(format!("request/{id}")))?;
        let now = self.clock.now();
        row.status = MdfRequestStatus::Rejected;
        row.decision_reason = reason;
        row.decided_by = Some(principal.user_id);
        row.decided_at = Some(now);
        let row = store::save_request(&mut tx, &row).await?;
        self.outbox
            .stage_for(
                &mut tx,
                "request.rejected",
                &row,
                &ev::MdfRequestRejected {
                    request_id: row.id.to_string(),
                    fund_id: row.fund_id.to_string(),
                    partner_id: row.partner_id.to_string(),
                    reason: row.decision_reason.clone(),
                    rejected_at: Some(timestamp(now)),
                },
            )
            .await?;
        let resp = RejectMdfRequestResponse {
            request: Some(convert::request(&row)),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn cancel_mdf_request(
        &self,
        ctx: CallContext,
        req: CancelMdfRequestRequest,
    ) -> Result<CancelMdfRequestResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let mut errs = FieldErrors::new();
        let id = errs.check("request_id", validate::uuid(&req.request_id));
        let reason = errs.check("reason", OptionalMdfReason::check(&req.reason));
        let (id, reason) = errs.finish_with(|| Some((id?, reason?)))?;
        let idem = Idempotency::new(&ctx, "CancelMdfRequest", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let row = self.visible_request(&mut tx, &principal, id, true).await?;
        ensure_may_act_for_partner(&principal)?;
        row.status
            .cancel()
            .map_err(|e| e.about(format!("request/{id}")))?;
        if store::open_claim_on(&mut tx, row.id).await? {
            return Err(ApiError::precondition(
                "CLAIM_IN_PROGRESS",
                format!("request/{id}"),
                "a claim on this request awaits a decision; it cannot be cancelled",
            ));
        }
        let row = operations::close_request(
            &mut tx,
            &self.outbox,
            row,
            MdfRequestStatus::Cancelled,
            "request.cancelled",
            &reason,
            Some(principal.user_id),
            self.clock.now(),
        )
        .await?;
        let resp = CancelMdfRequestResponse {
            request: Some(convert::request(&row)),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn get_request_roi(
        &self,
        ctx: CallContext,
        req: GetRequestRoiRequest,
    ) -> Result<GetRequestRoiResponse, ApiError> {
        let principal = ctx.principal()?;
        let id = request_id(&req.request_id)?;
        let mut conn = self.db.acquire().await?;
        let row = self
            .visible_request(&mut conn, principal, id, false)
            .await?;
        let totals = if row.campaign_code.is_empty() {
            store::CampaignTotals::default()
        } else {
            store::campaign_totals(&mut conn, row.partner_id, &row.campaign_code, &row.currency)
                .await?
        };
        let paid = store::reimbursed_on(&mut conn, row.id).await?;
        let return_bps = if paid > 0 {
            i64::try_from(i128::from(totals.won_revenue) * 10_000 / i128::from(paid))
                .unwrap_or(i64::MAX)
        } else {
            0
        };
        let count = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
        Ok(GetRequestRoiResponse {
            request_id: row.id.to_string(),
            campaign_code: row.campaign_code.clone(),
            registrations: count(totals.registrations),
            open_pipeline: Some(row.money(totals.open_pipeline).to_proto()),
            won_deals: count(totals.won_deals),
            won_revenue: Some(row.money(totals.won_revenue).to_proto()),
            paid: Some(row.money(paid).to_proto()),
            return_bps,
            other_currency_registrations: count(totals.other_currency),
        })
    }
}
