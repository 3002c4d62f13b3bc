use chrono::{DateTime, Utc};
use prm_proto::mdf as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::dto::*;
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::forward::{Call, Reply, created, ok, one};

/// Set a program's MDF budget for a period (marketing staff). Allocations
/// and accruals never exceed it. A program's budgets may not overlap
/// ("2026" and "2026-Q1"): 409 `BUDGET_EXISTS`.
#[utoipa::path(post, path = "/v1/mdf/budgets", tag = "mdf", security(("api_key" = ["mdf_budgets.write"])),
    request_body = NewBudget,
    responses((status = 201, description = "Created", body = Budget)))]
pub async fn create_budget(call: Call, JsonBody(body): JsonBody<NewBudget>) -> Reply<Budget> {
    let req = pb::CreateBudgetRequest {
        program_id: body.program_id.into(),
        name: body.name.into(),
        period: body.period.into(),
        amount: Some(body.amount.to_proto()),
        claim_window_days: body.claim_window_days.unwrap_or_default().into(),
    };
    let r = call.send(req).await?;
    created(one(r.budget)?)
}

/// Budgets with what their money is doing (staff).
#[utoipa::path(get, path = "/v1/mdf/budgets", tag = "mdf", security(("api_key" = ["mdf_budgets.read"])),
    params(PageQuery, BudgetQuery),
    responses((status = 200, description = "OK", body = BudgetList)))]
pub async fn list_budgets(
    call: Call,
    QueryParams(page): QueryParams<PageQuery>,
    QueryParams(q): QueryParams<BudgetQuery>,
) -> Reply<BudgetList> {
    let req = pb::ListBudgetsRequest {
        program_id: q.program_id.unwrap_or_default().into(),
        page_size: page.page_size.unwrap_or_default(),
        page_token: page.page_token.unwrap_or_default(),
    };
    let r = call.send(req).await?;
    ok(List::of(&r.budgets, r.next_page_token))
}

/// A budget and its totals: allocated, requested, approved, claimed and
/// reimbursed (staff).
#[utoipa::path(get, path = "/v1/mdf/budgets/{id}", tag = "mdf", security(("api_key" = ["mdf_budgets.read"])),
    params(("id" = Uuid, Path, description = "Budget id")),
    responses((status = 200, description = "OK", body = Budget)))]
pub async fn get_budget(call: Call, PathId(id): PathId) -> Reply<Budget> {
    let req = pb::GetBudgetRequest { budget_id: id };
    let r = call.send(req).await?;
    ok(one(r.budget)?)
}

/// Allocate funds to a partner within a budget (marketing staff): creates
/// the partner's fund with its rules, or adds to it. A discretionary fund
/// gets the amount; an accrual fund accrues a share of the partner's won
/// deals.
#[utoipa::path(post, path = "/v1/mdf/allocations", tag = "mdf", security(("api_key" = ["mdf_allocations.write"])),
    request_body = NewAllocation,
    responses((status = 201, description = "Allocated", body = Fund)))]
pub async fn allocate_funds(call: Call, JsonBody(body): JsonBody<NewAllocation>) -> Reply<Fund> {
    let req = pb::AllocateFundsRequest {
        budget_id: body.budget_id.into(),
        partner_id: body.partner_id.into(),
        kind: body.kind.to_proto(),
        amount: body.amount.as_ref().map(PositiveAmount::to_proto),
        reimbursement_rate_bps: body.reimbursement_rate_bps.unwrap_or_default().into(),
        accrual_tiers: body
            .accrual_tiers
            .iter()
            .map(|t| pb::AccrualTier {
                from_revenue_minor: t.from_revenue_minor.into(),
                rate_bps: t.rate_bps.into(),
            })
            .collect(),
        accrual_grace_days: body.accrual_grace_days.unwrap_or_default().into(),
        note: body.note.unwrap_or_default().into(),
    };
    let r = call.send(req).await?;
    created(one(r.fund)?)
}

/// Funds and their balances: a partner sees its own, staff every partner's.
#[utoipa::path(get, path = "/v1/mdf/funds", tag = "mdf", security(("api_key" = ["mdf_funds.read"])),
    params(PageQuery, FundQuery),
    responses((status = 200, description = "OK", body = FundList)))]
pub async fn list_funds(
    call: Call,
    QueryParams(page): QueryParams<PageQuery>,
    QueryParams(q): QueryParams<FundQuery>,
) -> Reply<FundList> {
    let req = pb::ListFundsRequest {
        partner_id: q.partner_id.unwrap_or_default().into(),
        budget_id: q.budget_id.unwrap_or_default().into(),
        page_size: page.page_size.unwrap_or_default(),
        page_token: page.page_token.unwrap_or_default(),
    };
    let r = call.send(req).await?;
    ok(List::of(&r.funds, r.next_page_token))
}

/// A fund and its balance.
#[utoipa::path(get, path = "/v1/mdf/funds/{id}", tag = "mdf", security(("api_key" = ["mdf_funds.read"])),
    params(("id" = Uuid, Path, description = "Fund id")),
    responses((status = 200, description = "OK", body = Fund)))]
pub async fn get_fund(call: Call, PathId(id): PathId) -> Reply<Fund> {
    let req = pb::GetFundRequest { fund_id: id };
    let r = call.send(req).await?;
    ok(one(r.fund)?)
}

/// A fund's ledger, oldest first: every movement of its money.
#[utoipa::path(get, path = "/v1/mdf/funds/{id}/entries", tag = "mdf", security(("api_key" = ["mdf_funds.read"])),
    params(("id" = Uuid, Path, description = "Fund id"), PageQuery),
    responses((status = 200, description = "OK", body = FundEntryList)))]
pub async fn list_fund_entries(
    call: Call,
    PathId(id): PathId,
    QueryParams(page): QueryParams<PageQuery>,
) -> Reply<FundEntryList> {
    let req = pb::ListFundEntriesRequest {
        fund_id: id,
        page_size: page.page_size.unwrap_or_default(),
        page_token: page.page_token.unwrap_or_default(),
    };
    let r = call.send(req).await?;
    ok(List::of(&r.entries, r.next_page_token))
}

// ------------------------------------------------------------ JSON shapes

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBudget {
    /// The partner program it funds.
    pub program_id: Id,
    pub name: BudgetName,
    pub period: BudgetPeriod,
    pub amount: PositiveAmount,
    pub claim_window_days: Option<ClaimWindowDays>,
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BudgetQuery {
    #[param(inline)]
    pub program_id: Option<Id>,
}

/// What a budget's money is doing, summed over its funds.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BudgetTotals {
    /// Allocated and accrued into its funds.
    pub allocated: Option<Money>,
    pub unallocated: Option<Money>,
    /// Asked for by requests submitted, approved, completed or lapsed (not
    /// rejected or cancelled).
    pub requested: Option<Money>,
    /// Approved on requests approved, completed or lapsed (not cancelled),
    /// before any release.
    pub approved: Option<Money>,
    /// Reimbursable amounts of submitted and approved claims.
    pub claimed: Option<Money>,
    /// Paid on approved claims.
    pub reimbursed: Option<Money>,
    /// Accrued funds that expired unused.
    pub expired: Option<Money>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Budget {
    pub id: String,
    pub program_id: String,
    pub name: String,
    pub period: String,
    #[schema(format = Date)]
    pub starts_on: String,
    #[schema(format = Date)]
    pub ends_on: String,
    pub amount: Option<Money>,
    pub claim_window_days: i32,
    pub totals: Option<BudgetTotals>,
    pub created_at: Option<DateTime<Utc>>,
}

pub type BudgetList = List<Budget>;

impl From<&pb::Budget> for Budget {
    fn from(b: &pb::Budget) -> Self {
        Self {
            id: b.id.clone(),
            program_id: b.program_id.clone(),
            name: b.name.clone(),
            period: b.period.clone(),
            starts_on: b.starts_on.clone(),
            ends_on: b.ends_on.clone(),
            amount: Money::from_proto(&b.amount),
            claim_window_days: b.claim_window_days,
            totals: b.totals.as_ref().map(|t| BudgetTotals {
                allocated: Money::from_proto(&t.allocated),
                unallocated: Money::from_proto(&t.unallocated),
                requested: Money::from_proto(&t.requested),
                approved: Money::from_proto(&t.approved),
                claimed: Money::from_proto(&t.claimed),
                reimbursed: Money::from_proto(&t.reimbursed),
                expired: Money::from_proto(&t.expired),
            }),
            created_at: time(&b.created_at),
        }
    }
}

/// Accrual rate (basis points) for a period's won revenue from
/// `from_revenue_minor` up to the next tier's threshold.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccrualTier {
    pub from_revenue_minor: FromRevenueMinor,
    pub rate_bps: BasisPoints,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAllocation {
    pub budget_id: Id,
    pub partner_id: Id,
    pub kind: FundKind,
    /// Required for a discretionary fund; optional for an accrual fund.
    pub amount: Option<PositiveAmount>,
    /// Set by the fund's first allocation only.
    pub reimbursement_rate_bps: Option<ReimbursementRateBps>,
    /// Accrual funds only: marginal tiers, the first from 0, each from
    /// more revenue than the one before. A new accrual fund needs one.
    #[schema(max_items = 10)]
    #[serde(default)]
    pub accrual_tiers: Vec<AccrualTier>,
    /// Accrual funds only: days after the period before the balance expires.
    pub accrual_grace_days: Option<AccrualGraceDays>,
    pub note: Option<AllocationNote>,
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FundQuery {
    /// Staff only; a partner always sees its own.
    #[param(inline)]
    pub partner_id: Option<Id>,
    #[param(inline)]
    pub budget_id: Option<Id>,
}

/// A fund's balance, derived from its ledger entries.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FundBalance {
    pub allocated: Option<Money>,
    pub accrued: Option<Money>,
    /// Reserved by approved requests, not yet reimbursed or released.
    pub reserved: Option<Money>,
    pub reimbursed: Option<Money>,
    pub expired: Option<Money>,
    /// allocated + accrued - reserved - reimbursed - expired; never negative.
    pub available: Option<Money>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Fund {
    pub id: String,
    pub budget_id: String,
    pub partner_id: String,
    pub kind: Option<FundKind>,
    pub currency: String,
    pub reimbursement_rate_bps: i32,
    pub accrual_tiers: Vec<AccrualTier>,
    pub accrual_grace_days: i32,
    pub expires_at: Option<DateTime<Utc>>,
    pub balance: Option<FundBalance>,
    /// Accrual funds: the partner's won revenue in the period so far.
    pub won_revenue: Option<Money>,
    pub created_at: Option<DateTime<Utc>>,
}

pub type FundList = List<Fund>;

impl From<&pb::Fund> for Fund {
    fn from(f: &pb::Fund) -> Self {
        Self {
            id: f.id.clone(),
            budget_id: f.budget_id.clone(),
            partner_id: f.partner_id.clone(),
            kind: FundKind::from_proto(f.kind).ok(),
            currency: f.currency.clone(),
            reimbursement_rate_bps: f.reimbursement_rate_bps,
            accrual_tiers: f
                .accrual_tiers
                .iter()
                .map(|t| AccrualTier {
                    from_revenue_minor: FromRevenueMinor(t.from_revenue_minor),
                    rate_bps: BasisPoints(t.rate_bps),
                })
                .collect(),
            accrual_grace_days: f.accrual_grace_days,
            expires_at: time(&f.expires_at),
            balance: f.balance.as_ref().map(|b| FundBalance {
                allocated: Money::from_proto(&b.allocated),
                accrued: Money::from_proto(&b.accrued),
                reserved: Money::from_proto(&b.reserved),
                reimbursed: Money::from_proto(&b.reimbursed),
                expired: Money::from_proto(&b.expired),
                available: Money::from_proto(&b.available),
            }),
            won_revenue: Money::from_proto(&f.won_revenue),
            created_at: time(&f.created_at),
        }
    }
}

/// One movement of a fund's money; never changed or removed.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FundEntry {
    pub id: String,
    pub fund_id: String,
    pub kind: Option<EntryKind>,
    /// Always positive; the kind says which way it moves.
    pub amount: Option<Money>,
    pub request_id: Option<String>,
    pub claim_id: Option<String>,
    pub deal_registration_id: Option<String>,
    pub actor_user_id: Option<String>,
    pub note: String,
    pub at: Option<DateTime<Utc>>,
}

pub type FundEntryList = List<FundEntry>;

impl From<&pb::FundEntry> for FundEntry {
    fn from(e: &pb::FundEntry) -> Self {
        Self {
            id: e.id.clone(),
            fund_id: e.fund_id.clone(),
            kind: EntryKind::from_proto(e.kind).ok(),
            amount: Money::from_proto(&e.amount),
            request_id: id(&e.request_id),
            claim_id: id(&e.claim_id),
            deal_registration_id: id(&e.deal_registration_id),
            actor_user_id: id(&e.actor_user_id),
            note: e.note.clone(),
            at: time(&e.at),
        }
    }
}
