//! Budgets (staff only): what a program may spend in a period, and what
//! its money is doing.

use prm_proto::mdf::*;
use prm_runtime::auth::STAFF;
use prm_runtime::fields::{BudgetName, ClaimWindowDays};
use prm_runtime::{
    ApiError, CallContext, FieldErrors, Idempotency, OnConstraint, Page, begin_or_replay, validate,
};
use sqlx::PgConnection;

use super::{Mdf, convert};
use crate::domain::access::FUNDS_MANAGEMENT;
use crate::domain::period::Period;
use crate::domain::positive_money;
use crate::domain::request::DEFAULT_CLAIM_WINDOW_DAYS;
use crate::store::{self, BudgetRow};

/// Budgets with their totals.
async fn views(conn: &mut PgConnection, rows: &[BudgetRow]) -> Result<Vec<Budget>, ApiError> {
    let ids: Vec<_> = rows.iter().map(|b| b.id).collect();
    let totals = store::budget_totals(conn, &ids).await?;
    Ok(rows
        .iter()
        .map(|b| {
            let t = totals
                .iter()
                .find(|t| t.budget_id == b.id)
                .cloned()
                .unwrap_or_default();
            convert::budget(b, &t)
        })
        .collect())
}

impl Mdf {
    pub(super) async fn create_budget(
        &self,
        ctx: CallContext,
        req: CreateBudgetRequest,
    ) -> Result<CreateBudgetResponse, ApiError> {
        let principal = ctx.principal()?;
        let mut errs = FieldErrors::new();
        let program_id = errs.check("program_id", validate::uuid(&req.program_id));
        let name = errs.check("name", BudgetName::check(&req.name));
        let period = errs.check("period", Period::parse(&req.period));
        let amount = errs.check("amount", positive_money(req.amount.as_ref()));
        let claim_window_days = match errs.check(
            "claim_window_days",
            ClaimWindowDays::check(req.claim_window_days),
        ) {
            Some(0) | None => DEFAULT_CLAIM_WINDOW_DAYS,
            Some(d) => d,
        };
        let (program_id, name, period, amount) =
            errs.finish_with(|| Some((program_id?, name?, period?, amount?)))?;
        principal.require_any_role(FUNDS_MANAGEMENT)?;
        let idem = Idempotency::new(&ctx, "CreateBudget", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let row = store::insert_budget(
            &mut tx,
            &store::NewBudget {
                program_id,
                name: &name,
                period: &period,
                amount: &amount,
                claim_window_days,
            },
            self.clock.now(),
        )
        .await
        .on_constraint(store::BUDGET_PROGRAM_PERIOD, || {
            ApiError::already_exists(
                "BUDGET_EXISTS",
                format!("the program already has a budget for {}", period.name),
            )
        })
        .on_constraint(store::BUDGET_PERIODS_DO_NOT_OVERLAP, || {
            ApiError::already_exists(
                "BUDGET_EXISTS",
                format!(
                    "the program already has a budget for a period overlapping {} ({} to {})",
                    period.name, period.starts_on, period.ends_on
                ),
            )
        })?;
        let resp = CreateBudgetResponse {
            budget: views(&mut tx, std::slice::from_ref(&row)).await?.pop(),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn get_budget(
        &self,
        ctx: CallContext,
        req: GetBudgetRequest,
    ) -> Result<GetBudgetResponse, ApiError> {
        let principal = ctx.principal()?;
        let id = validate::uuid(&req.budget_id).map_err(|e| ApiError::invalid("budget_id", e))?;
        principal.require_any_role(STAFF)?;
        let mut conn = self.db.acquire().await?;
        let row = store::budget(&mut conn, id)
            .await?
            .ok_or(ApiError::not_found("budget"))?;
        Ok(GetBudgetResponse {
            budget: views(&mut conn, std::slice::from_ref(&row)).await?.pop(),
        })
    }

    pub(super) async fn list_budgets(
        &self,
        ctx: CallContext,
        req: ListBudgetsRequest,
    ) -> Result<ListBudgetsResponse, ApiError> {
        let principal = ctx.principal()?;
        let program = validate::optional_uuid(&req.program_id)
            .map_err(|e| ApiError::invalid("program_id", e))?;
        principal.require_any_role(STAFF)?;
        let program_filter = program.map(|p| p.to_string()).unwrap_or_default();
        let page = Page::parse(req.page_size, &req.page_token, &[&program_filter])?;
        let mut conn = self.db.acquire().await?;
        let mut rows =
            store::list_budgets(&mut conn, program, page.after_or_nil(), page.fetch_limit())
                .await?;
        let next_page_token = page.finish(&mut rows, |b| b.id);
        Ok(ListBudgetsResponse {
            budgets: views(&mut conn, &rows).await?,
            next_page_token,
        })
    }
}
