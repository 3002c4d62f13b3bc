use prm_proto::onboarding as pb;

use super::programs::{Checklist, TierEvaluation, WhatIfQuery};
use super::terms::{RequiredTerms, Terms, TermsAcceptance, TermsStatus};
use crate::dto::*;
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::forward::{Call, Reply, ok, one};
use crate::problem::Problem;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// List partners: staff see every partner, a partner sees itself.
#[utoipa::path(get, path = "/v1/partners", tag = "partners", security(("api_key" = ["partners.read"])),
    params(PageQuery, PartnerQuery),
    responses((status = 200, description = "OK", body = PartnerList)))]
pub async fn list_partners(
    call: Call,
    QueryParams(page): QueryParams<PageQuery>,
    QueryParams(q): QueryParams<PartnerQuery>,
) -> Reply<PartnerList> {
    let req = pb::ListPartnersRequest {
        page_size: page.page_size.unwrap_or_default(),
        page_token: page.page_token.unwrap_or_default(),
        status: q.status.map(|s| s.to_proto()).unwrap_or_default(),
        program_id: q.program_id.unwrap_or_default().into(),
    };
    let r = call.send(req).await?;
    ok(List::of(&r.partners, r.next_page_token))
}

/// Get a partner.
#[utoipa::path(get, path = "/v1/partners/{id}", tag = "partners", security(("api_key" = ["partners.read"])),
    params(("id" = Uuid, Path, description = "Partner id")),
    responses((status = 200, description = "OK", body = Partner)))]
pub async fn get_partner(call: Call, PathId(id): PathId) -> Reply<Partner> {
    let r = call.send(pb::GetPartnerRequest { partner_id: id }).await?;
    ok(one(r.partner)?)
}

/// Suspend a partner (staff). Its users keep read access; it cannot act.
#[utoipa::path(post, path = "/v1/partners/{id}/suspend", tag = "partners", security(("api_key" = ["partners.write"])),
    params(("id" = Uuid, Path, description = "Partner id")),
    request_body = StatusChange,
    responses((status = 200, description = "OK", body = Partner)))]
pub async fn suspend_partner(
    call: Call,
    PathId(id): PathId,
    JsonBody(b): JsonBody<StatusChange>,
) -> Reply<Partner> {
    let req = pb::SuspendPartnerRequest {
        partner_id: id,
        reason: b.reason.into(),
    };
    let r = call.send(req).await?;
    ok(one(r.partner)?)
}

/// Reactivate a suspended partner (staff).
#[utoipa::path(post, path = "/v1/partners/{id}/reactivate", tag = "partners", security(("api_key" = ["partners.write"])),
    params(("id" = Uuid, Path, description = "Partner id")),
    responses((status = 200, description = "OK", body = Partner)))]
pub async fn reactivate_partner(call: Call, PathId(id): PathId) -> Reply<Partner> {
    let req = pb::ReactivatePartnerRequest { partner_id: id };
    let r = call.send(req).await?;
    ok(one(r.partner)?)
}

/// Terminate a partner (staff). Final: its keys stop working.
#[utoipa::path(post, path = "/v1/partners/{id}/terminate", tag = "partners", security(("api_key" = ["partners.write"])),
    params(("id" = Uuid, Path, description = "Partner id")),
    request_body = StatusChange,
    responses((status = 200, description = "OK", body = Partner)))]
pub async fn terminate_partner(
    call: Call,
    PathId(id): PathId,
    JsonBody(b): JsonBody<StatusChange>,
) -> Reply<Partner> {
    let req = pb::TerminatePartnerRequest {
        partner_id: id,
        reason: b.reason.into(),
    };
    let r = call.send(req).await?;
    ok(one(r.partner)?)
}

/// Set a partner's tier by hand (staff).
#[utoipa::path(post, path = "/v1/partners/{id}/tier", tag = "partners", security(("api_key" = ["partners.write"])),
    params(("id" = Uuid, Path, description = "Partner id")),
    request_body = TierAssignment,
    responses((status = 200, description = "OK", body = Partner)))]
pub async fn set_partner_tier(
    call: Call,
    PathId(id): PathId,
    JsonBody(b): JsonBody<TierAssignment>,
) -> Reply<Partner> {
    let req = pb::SetPartnerTierRequest {
        partner_id: id,
        tier_id: b.tier_id.into(),
        reason: b.reason.into(),
    };
    let r = call.send(req).await?;
    ok(one(r.partner)?)
}

/// The partner's onboarding checklist, with time-to-first-deal.
#[utoipa::path(get, path = "/v1/partners/{id}/checklist", tag = "programs", security(("api_key" = ["partners.read"])),
    params(("id" = Uuid, Path, description = "Partner id")),
    responses((status = 200, description = "OK", body = Checklist)))]
pub async fn checklist(call: Call, PathId(id): PathId) -> Reply<Checklist> {
    let req = pb::GetOnboardingChecklistRequest { partner_id: id };
    let r = call.send(req).await?;
    ok(one(r.checklist)?)
}

/// Where the partner stands against its tier rules, what it needs for the
/// next tier, and what-if figures.
#[utoipa::path(get, path = "/v1/partners/{id}/tier-evaluation", tag = "programs", security(("api_key" = ["partners.read"])),
    params(("id" = Uuid, Path, description = "Partner id"), WhatIfQuery),
    responses((status = 200, description = "OK", body = TierEvaluation)))]
pub async fn tier_evaluation(
    call: Call,
    PathId(id): PathId,
    QueryParams(q): QueryParams<WhatIfQuery>,
) -> Reply<TierEvaluation> {
    let any = q.what_if_revenue_minor.is_some()
        || q.what_if_certified_people.is_some()
        || q.what_if_deals_won.is_some();
    if q.what_if_revenue_minor.is_some() != q.what_if_currency.is_some() {
        return Err(Problem::bad_request(
            "what_if_currency",
            "give what_if_revenue_minor and what_if_currency together",
        ));
    }
    let what_if = any.then(|| pb::TierMetrics {
        revenue_won: q.what_if_revenue_minor.map(|a| prm_proto::common::Money {
            amount_minor: a,
            currency: q.what_if_currency.clone().unwrap_or_default(),
        }),
        certified_people: q.what_if_certified_people.unwrap_or_default(),
        deals_won: q.what_if_deals_won.unwrap_or_default(),
    });
    let req = pb::EvaluatePartnerTierRequest {
        partner_id: id,
        what_if,
    };
    let r = call.send(req).await?;
    ok(one(r.evaluation)?)
}

/// Which terms the partner must accept, and which it has.
#[utoipa::path(get, path = "/v1/partners/{id}/terms-status", tag = "terms", security(("api_key" = ["partners.read"])),
    params(("id" = Uuid, Path, description = "Partner id")),
    responses((status = 200, description = "OK", body = TermsStatus)))]
pub async fn terms_status(call: Call, PathId(id): PathId) -> Reply<TermsStatus> {
    let r = call
        .send(pb::GetTermsStatusRequest { partner_id: id })
        .await?;
    ok(TermsStatus {
        required: r
            .required
            .iter()
            .map(|t| RequiredTerms {
                terms: t.terms.as_ref().map(Terms::from),
                acceptance: t.acceptance.as_ref().map(TermsAcceptance::from),
            })
            .collect(),
        all_accepted: r.all_accepted,
    })
}

// ------------------------------------------------------------ JSON shapes

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Partner {
    pub id: String,
    pub application_id: String,
    pub company_name: String,
    pub domain: String,
    pub country: String,
    pub partner_type: Option<PartnerType>,
    pub program_id: String,
    pub tier_id: String,
    pub tier_name: String,
    pub status: Option<PartnerStatus>,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub status_reason: String,
    pub approved_at: Option<DateTime<Utc>>,
    /// Set while the partner is below its tier and due for demotion.
    pub demotion_due_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl From<&pb::Partner> for Partner {
    fn from(p: &pb::Partner) -> Self {
        Self {
            id: p.id.clone(),
            application_id: p.application_id.clone(),
            company_name: p.company_name.clone(),
            domain: p.domain.clone(),
            country: p.country.clone(),
            partner_type: PartnerType::from_proto(p.partner_type).ok(),
            program_id: p.program_id.clone(),
            tier_id: p.tier_id.clone(),
            tier_name: p.tier_name.clone(),
            status: PartnerStatus::from_proto(p.status).ok(),
            status_reason: p.status_reason.clone(),
            approved_at: time(&p.approved_at),
            demotion_due_at: time(&p.demotion_due_at),
            version: p.version,
        }
    }
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PartnerQuery {
    pub status: Option<PartnerStatus>,
    #[param(inline)]
    pub program_id: Option<Id>,
}

pub type PartnerList = List<Partner>;

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    pub reason: DecisionReason,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierAssignment {
    /// One of the tiers of the partner's program.
    pub tier_id: Id,
    pub reason: DecisionReason,
}
