//! Funds: staff allocate them; partners see their own balances, and the
//! ledger behind them.

use prm_proto::mdf::*;
use prm_runtime::{
    ApiError, CallContext, FieldErrors, Idempotency, OnConstraint, Page, Principal,
    begin_or_replay, validate,
};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Mdf, convert, ensure_visible};
use crate::domain::access::FUNDS_MANAGEMENT;
use crate::domain::fund::{Allocation, FundKind, accrual_expiry};
use crate::domain::ledger::EntryKind;
use crate::domain::same_currency;
use crate::store::{self, Entry, FundRow};

fn fund_id(value: &str) -> Result<Uuid, ApiError> {
    validate::uuid(value).map_err(|e| ApiError::invalid("fund_id", e))
}

/// The answer to an allocation the budget cannot cover.
pub(super) fn budget_exceeded(budget_left: i64, currency: &str) -> ApiError {
    ApiError::precondition(
        "BUDGET_EXCEEDED",
        "amount",
        format!("the budget has {budget_left} {currency} (minor units) left to allocate"),
    )
}

impl Mdf {
    /// The fund, if the principal may see it: its partner, or staff.
    pub(super) async fn visible_fund(
        &self,
        conn: &mut PgConnection,
        principal: &Principal,
        id: Uuid,
    ) -> Result<FundRow, ApiError> {
        let fund = store::fund(conn, id)
            .await?
            .ok_or(ApiError::not_found("fund"))?;
        ensure_visible(principal, fund.partner_id, "fund")?;
        Ok(fund)
    }

    pub(super) async fn allocate_funds(
        &self,
        ctx: CallContext,
        req: AllocateFundsRequest,
    ) -> Result<AllocateFundsResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let alloc = Allocation::parse(&req)?;
        principal.require_any_role(FUNDS_MANAGEMENT)?;
        let idem = Idempotency::new(&ctx, "AllocateFunds", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let budget = store::budget(&mut tx, alloc.budget_id)
            .await?
            .ok_or(ApiError::not_found("budget"))?;
        if let Some(amount) = &alloc.amount {
            same_currency(amount, &budget.currency)
                .map_err(|e| ApiError::invalid("amount.currency", e))?;
        }
        let now = self.clock.now();
        let existing =
            store::fund_in_budget_for_update(&mut tx, budget.id, alloc.partner_id).await?;
        let fund = match existing {
            Some(fund) => fund,
            None => {
                alloc.rules.ensure_complete()?;
                let expires_at = (alloc.rules.kind == FundKind::Accrual)
                    .then(|| accrual_expiry(budget.ends_on, alloc.rules.accrual_grace_days));
                let created = store::insert_fund(
                    &mut tx,
                    budget.id,
                    alloc.partner_id,
                    &budget.currency,
                    &alloc.rules,
                    expires_at,
                    now,
                )
                .await?;
                match created {
                    Some(fund) => fund,
                    // Created by a concurrent allocation since we looked.
                    None => store::fund_in_budget_for_update(&mut tx, budget.id, alloc.partner_id)
                        .await?
                        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("fund vanished")))?,
                }
            }
        };
        let rules = fund.rules()?;
        if rules.kind != alloc.rules.kind {
            return Err(ApiError::precondition(
                "FUND_KIND_MISMATCH",
                "kind",
                format!(
                    "the partner's fund in this budget is a {} fund",
                    rules.kind.as_str()
                ),
            ));
        }
        if alloc.rules_given && rules != alloc.rules {
            let field = if rules.accrual_tiers != alloc.rules.accrual_tiers {
                "accrual_tiers"
            } else if rules.reimbursement_rate_bps != alloc.rules.reimbursement_rate_bps {
                "reimbursement_rate_bps"
            } else {
                "accrual_grace_days"
            };
            return Err(ApiError::invalid(
                field,
                "a fund's rules are set by its first allocation; leave them unset to add funds",
            ));
        }
        let fund = match &alloc.amount {
            Some(amount) => store::write_entry(
                &mut tx,
                fund.id,
                &Entry::new(EntryKind::Allocated, amount.amount_minor)
                    .by(Some(principal.user_id))
                    .note(&alloc.note),
                now,
            )
            .await
            .on_constraint(store::BUDGET_NOT_OVERALLOCATED, || {
                budget_exceeded(budget.unallocated_minor(), &budget.currency)
            })?,
            None => fund,
        };
        let resp = AllocateFundsResponse {
            fund: Some(convert::fund(&fund)?),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn get_fund(
        &self,
        ctx: CallContext,
        req: GetFundRequest,
    ) -> Result<GetFundResponse, ApiError> {
        let principal = ctx.principal()?;
        let id = fund_id(&req.fund_id)?;
        let mut conn = self.db.acquire().await?;
        let fund = self.visible_fund(&mut conn, principal, id).await?;
        Ok(GetFundResponse {
            fund: Some(convert::fund(&fund)?),
        })
    }

    pub(super) async fn list_funds(
        &self,
        ctx: CallContext,
        req: ListFundsRequest,
    ) -> Result<ListFundsResponse, ApiError> {
        let principal = ctx.principal()?;
        let mut errs = FieldErrors::new();
        let requested = errs.check("partner_id", validate::optional_uuid(&req.partner_id));
        let budget = errs.check("budget_id", validate::optional_uuid(&req.budget_id));
        errs.finish()?;
        let partner = principal.partner_scope(requested.flatten())?;
        let budget = budget.flatten();
        let filters = [
            partner.map(|p| p.to_string()).unwrap_or_default(),
            budget.map(|b| b.to_string()).unwrap_or_default(),
        ];
        let page = Page::parse(req.page_size, &req.page_token, &[&filters[0], &filters[1]])?;
        let mut conn = self.db.acquire().await?;
        let mut rows = store::list_funds(
            &mut conn,
            partner,
            budget,
            page.after_or_nil(),
            page.fetch_limit(),
        )
        .await?;
        let next_page_token = page.finish(&mut rows, |f| f.id);
        Ok(ListFundsResponse {
            funds: rows.iter().map(convert::fund).collect::<Result<_, _>>()?,
            next_page_token,
        })
    }

    pub(super) async fn list_fund_entries(
        &self,
        ctx: CallContext,
        req: ListFundEntriesRequest,
    ) -> Result<ListFundEntriesResponse, ApiError> {
        let principal = ctx.principal()?;
        let id = fund_id(&req.fund_id)?;
        let page = Page::parse(req.page_size, &req.page_token, &[&req.fund_id])?;
        let mut conn = self.db.acquire().await?;
        let fund = self.visible_fund(&mut conn, principal, id).await?;
        let mut rows =
            store::entries(&mut conn, fund.id, page.after_or_nil(), page.fetch_limit()).await?;
        let next_page_token = page.finish(&mut rows, |e| e.id);
        Ok(ListFundEntriesResponse {
            entries: rows
                .iter()
                .map(|e| convert::entry(e, &fund.currency))
                .collect(),
            next_page_token,
        })
    }
}
