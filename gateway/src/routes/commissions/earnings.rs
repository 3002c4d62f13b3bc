use chrono::{DateTime, Utc};
use prm_proto::commissions as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::dto::*;
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::forward::{Call, Reply, ok, one};

/// Conversions reported by postback: a partner sees its own, staff every
/// partner's (held ones with their reason).
#[utoipa::path(get, path = "/v1/conversions", tag = "commissions", security(("api_key" = ["conversions.read"])),
    params(PageQuery, ConversionQuery),
    responses((status = 200, description = "OK", body = ConversionList)))]
pub async fn list_conversions(
    call: Call,
    QueryParams(page): QueryParams<PageQuery>,
    QueryParams(q): QueryParams<ConversionQuery>,
) -> Reply<ConversionList> {
    let req = pb::ListConversionsRequest {
        partner_id: q.partner_id.unwrap_or_default().into(),
        status: q.status.map_or(0, ConversionStatus::to_proto),
        page_size: page.page_size.unwrap_or_default(),
        page_token: page.page_token.unwrap_or_default(),
    };
    let r = call.send(req).await?;
    ok(List::of(&r.conversions, r.next_page_token))
}

/// Release a held conversion, with a reason (partner managers, finance):
/// it is credited to its partner as if it had passed its checks, earning
/// what the plan in force when it occurred pays. The partner must be
/// active; a conversion held for want of a click has no partner and can
/// only be rejected.
#[utoipa::path(post, path = "/v1/conversions/{id}/release", tag = "commissions", security(("api_key" = ["conversions.write"])),
    params(("id" = Uuid, Path, description = "Conversion id")),
    request_body = ConversionDecision,
    responses((status = 200, description = "Released and credited", body = ReleasedConversion)))]
pub async fn release_conversion(
    call: Call,
    PathId(id): PathId,
    JsonBody(body): JsonBody<ConversionDecision>,
) -> Reply<ReleasedConversion> {
    let req = pb::ReleaseConversionRequest {
        conversion_id: id,
        reason: body.reason.into(),
    };
    let r = call.send(req).await?;
    ok(ReleasedConversion {
        conversion: one(r.conversion)?,
        outcome: r.outcome,
    })
}

/// Reject a held conversion, with a reason (partner managers, finance):
/// it earns nothing.
#[utoipa::path(post, path = "/v1/conversions/{id}/reject", tag = "commissions", security(("api_key" = ["conversions.write"])),
    params(("id" = Uuid, Path, description = "Conversion id")),
    request_body = ConversionDecision,
    responses((status = 200, description = "Rejected", body = Conversion)))]
pub async fn reject_conversion(
    call: Call,
    PathId(id): PathId,
    JsonBody(body): JsonBody<ConversionDecision>,
) -> Reply<Conversion> {
    let req = pb::RejectConversionRequest {
        conversion_id: id,
        reason: body.reason.into(),
    };
    ok(one(call.send(req).await?.conversion)?)
}

/// Commissions, with the plan version that produced each and how.
#[utoipa::path(get, path = "/v1/commissions", tag = "commissions", security(("api_key" = ["commissions.read"])),
    params(PageQuery, CommissionQuery),
    responses((status = 200, description = "OK", body = CommissionList)))]
pub async fn list_commissions(
    call: Call,
    QueryParams(page): QueryParams<PageQuery>,
    QueryParams(q): QueryParams<CommissionQuery>,
) -> Reply<CommissionList> {
    let req = pb::ListCommissionsRequest {
        partner_id: q.partner_id.unwrap_or_default().into(),
        status: q.status.map_or(0, CommissionStatus::to_proto),
        page_size: page.page_size.unwrap_or_default(),
        page_token: page.page_token.unwrap_or_default(),
    };
    let r = call.send(req).await?;
    ok(List::of(&r.commissions, r.next_page_token))
}

/// A partner's ledger: its balances per currency (pending, payable, paid)
/// and its entries, oldest first. A partner sees its own; staff name one.
#[utoipa::path(get, path = "/v1/ledger", tag = "commissions", security(("api_key" = ["ledger.read"])),
    params(PageQuery, LedgerQuery),
    responses((status = 200, description = "OK", body = Ledger)))]
pub async fn ledger(
    call: Call,
    QueryParams(page): QueryParams<PageQuery>,
    QueryParams(q): QueryParams<LedgerQuery>,
) -> Reply<Ledger> {
    let req = pb::GetLedgerRequest {
        partner_id: q.partner_id.unwrap_or_default().into(),
        page_size: page.page_size.unwrap_or_default(),
        page_token: page.page_token.unwrap_or_default(),
    };
    let r = call.send(req).await?;
    ok(Ledger {
        balances: r
            .balances
            .iter()
            .map(|b| Balance {
                currency: b.currency.clone(),
                pending_minor: b.pending_minor,
                available_minor: b.available_minor,
                paid_minor: b.paid_minor,
            })
            .collect(),
        items: r.entries.iter().map(LedgerEntry::from).collect(),
        next_page_token: token(r.next_page_token),
    })
}

// ------------------------------------------------------------ JSON shapes

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConversionQuery {
    /// Staff only; a partner always sees its own.
    #[param(inline)]
    pub partner_id: Option<Id>,
    pub status: Option<ConversionStatus>,
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CommissionQuery {
    /// Staff only; a partner always sees its own.
    #[param(inline)]
    pub partner_id: Option<Id>,
    pub status: Option<CommissionStatus>,
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LedgerQuery {
    /// Required for staff; a partner always sees its own.
    #[param(inline)]
    pub partner_id: Option<Id>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Conversion {
    pub id: String,
    pub program_id: String,
    /// Null when no click could be attributed.
    pub partner_id: Option<String>,
    pub link_id: Option<String>,
    pub click_id: Option<String>,
    pub transaction_id: String,
    pub kind: Option<ConversionKind>,
    pub event_type: String,
    pub amount: Option<Money>,
    pub status: Option<ConversionStatus>,
    /// Why a held conversion earns nothing.
    pub hold_reason: Option<HoldReason>,
    pub refunded_minor: i64,
    pub customer_id: String,
    pub customer_domain: String,
    pub occurred_at: Option<DateTime<Utc>>,
    pub created_at: Option<DateTime<Utc>>,
    /// Staff's reason, once they released or rejected a held conversion.
    pub decision_reason: String,
}

pub type ConversionList = List<Conversion>;

/// Staff's decision on a held conversion.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversionDecision {
    pub reason: DecisionReason,
}

/// A released conversion and what it earned.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReleasedConversion {
    pub conversion: Conversion,
    /// What the plan paid, e.g. "plan Standard v2: 10% of 125.00 EUR".
    pub outcome: String,
}

impl From<&pb::Conversion> for Conversion {
    fn from(c: &pb::Conversion) -> Self {
        Self {
            id: c.conversion_id.clone(),
            program_id: c.program_id.clone(),
            partner_id: id(&c.partner_id),
            link_id: id(&c.link_id),
            click_id: id(&c.click_id),
            transaction_id: c.transaction_id.clone(),
            kind: ConversionKind::from_proto(c.kind).ok(),
            event_type: c.event_type.clone(),
            amount: Money::from_proto(&c.amount),
            status: ConversionStatus::from_proto(c.status).ok(),
            hold_reason: HoldReason::from_proto(c.hold_reason).ok(),
            refunded_minor: c.refunded_minor,
            customer_id: c.customer_id.clone(),
            customer_domain: c.customer_domain.clone(),
            occurred_at: time(&c.occurred_at),
            created_at: time(&c.created_at),
            decision_reason: c.decision_reason.clone(),
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Commission {
    pub id: String,
    pub partner_id: String,
    pub program_id: String,
    /// The conversion that earned it, or the won deal.
    pub conversion_id: Option<String>,
    pub deal_registration_id: Option<String>,
    pub plan_id: String,
    pub plan_version: i32,
    pub amount: Option<Money>,
    pub reversed_minor: i64,
    pub status: Option<CommissionStatus>,
    /// How the amount was computed.
    #[schema(example = "revshare 2000 bps of 12345 USD = 2469")]
    pub basis: String,
    /// Approved (payable) after this.
    pub hold_until: Option<DateTime<Utc>>,
    pub created_at: Option<DateTime<Utc>>,
    pub approved_at: Option<DateTime<Utc>>,
}

pub type CommissionList = List<Commission>;

impl From<&pb::Commission> for Commission {
    fn from(c: &pb::Commission) -> Self {
        Self {
            id: c.commission_id.clone(),
            partner_id: c.partner_id.clone(),
            program_id: c.program_id.clone(),
            conversion_id: id(&c.conversion_id),
            deal_registration_id: id(&c.deal_registration_id),
            plan_id: c.plan_id.clone(),
            plan_version: c.plan_version,
            amount: Money::from_proto(&c.amount),
            reversed_minor: c.reversed_minor,
            status: CommissionStatus::from_proto(c.status).ok(),
            basis: c.basis.clone(),
            hold_until: time(&c.hold_until),
            created_at: time(&c.created_at),
            approved_at: time(&c.approved_at),
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Balance {
    pub currency: String,
    /// Earned, in its hold period.
    pub pending_minor: i64,
    /// Payable; negative when reversals after a payout are carried.
    pub available_minor: i64,
    pub paid_minor: i64,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LedgerEntry {
    pub id: String,
    pub currency: String,
    pub kind: Option<LedgerEntryKind>,
    pub pending_delta_minor: i64,
    pub available_delta_minor: i64,
    pub commission_id: Option<String>,
    pub payout_id: Option<String>,
    pub note: String,
    pub created_at: Option<DateTime<Utc>>,
}

impl From<&pb::LedgerEntry> for LedgerEntry {
    fn from(e: &pb::LedgerEntry) -> Self {
        Self {
            id: e.entry_id.clone(),
            currency: e.currency.clone(),
            kind: LedgerEntryKind::from_proto(e.kind).ok(),
            pending_delta_minor: e.pending_delta_minor,
            available_delta_minor: e.available_delta_minor,
            commission_id: id(&e.commission_id),
            payout_id: id(&e.payout_id),
            note: e.note.clone(),
            created_at: time(&e.created_at),
        }
    }
}

/// Balances, and one page of entries.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Ledger {
    pub balances: Vec<Balance>,
    pub items: Vec<LedgerEntry>,
    pub next_page_token: Option<String>,
}
