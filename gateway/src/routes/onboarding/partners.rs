use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use prm_proto::onboarding as pb;

use super::client;
use super::programs::{Checklist, TierEvaluation, WhatIfQuery};
use super::terms::{RequiredTerms, Terms, TermsAcceptance, TermsStatus};
use crate::auth::Caller;
use crate::dto::*;
use crate::extract::{IdempotencyKey, JsonBody, QueryParams, path_id};
use crate::problem::Problem;
use crate::routes::json;
use crate::state::AppState;
use crate::wire_enum;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// List partners: staff see every partner, a partner sees itself.
#[utoipa::path(get, path = "/v1/partners", tag = "partners", security(("api_key" = [])),
    params(PageQuery, PartnerQuery),
    responses((status = 200, description = "OK", body = PartnerList)))]
pub async fn list_partners(
    State(state): State<AppState>,
    Caller(p): Caller,
    QueryParams(page): QueryParams<PageQuery>,
    QueryParams(q): QueryParams<PartnerQuery>,
) -> Result<Response, Problem> {
    let req = pb::ListPartnersRequest {
        page_size: page.page_size.unwrap_or_default(),
        page_token: page.page_token.unwrap_or_default(),
        status: q.status.map(|s| s.to_proto()).unwrap_or_default(),
        program_id: q.program_id.unwrap_or_default(),
    };
    let r = client(&state)
        .list_partners(state.grpc(req, Some(&p), None))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::OK,
        &PartnerList::page(
            r.partners.iter().map(Partner::from).collect(),
            r.next_page_token,
        ),
    ))
}

/// Get a partner.
#[utoipa::path(get, path = "/v1/partners/{id}", tag = "partners", security(("api_key" = [])),
    params(("id" = String, Path, description = "Partner id")),
    responses((status = 200, description = "OK", body = Partner)))]
pub async fn get_partner(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = path_id("id", &id)?;
    let r = client(&state)
        .get_partner(state.grpc(
            pb::GetPartnerRequest {
                partner_id: id.to_string(),
            },
            Some(&p),
            None,
        ))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::OK,
        &Partner::from(&r.partner.ok_or_else(Problem::internal)?),
    ))
}

/// Suspend a partner (staff). Its users keep read access; it cannot act.
#[utoipa::path(post, path = "/v1/partners/{id}/suspend", tag = "partners", security(("api_key" = [])),
    params(("id" = String, Path, description = "Partner id")),
    request_body = StatusChange,
    responses((status = 200, description = "OK", body = Partner)))]
pub async fn suspend_partner(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    idem: IdempotencyKey,
    JsonBody(b): JsonBody<StatusChange>,
) -> Result<Response, Problem> {
    let id = path_id("id", &id)?;
    let req = pb::SuspendPartnerRequest {
        partner_id: id.to_string(),
        reason: b.reason,
    };
    let r = client(&state)
        .suspend_partner(state.grpc(req, Some(&p), idem.as_deref()))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::OK,
        &Partner::from(&r.partner.ok_or_else(Problem::internal)?),
    ))
}

/// Reactivate a suspended partner (staff).
#[utoipa::path(post, path = "/v1/partners/{id}/reactivate", tag = "partners", security(("api_key" = [])),
    params(("id" = String, Path, description = "Partner id")),
    responses((status = 200, description = "OK", body = Partner)))]
pub async fn reactivate_partner(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    idem: IdempotencyKey,
) -> Result<Response, Problem> {
    let id = path_id("id", &id)?;
    let req = pb::ReactivatePartnerRequest {
        partner_id: id.to_string(),
    };
    let r = client(&state)
        .reactivate_partner(state.grpc(req, Some(&p), idem.as_deref()))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::OK,
        &Partner::from(&r.partner.ok_or_else(Problem::internal)?),
    ))
}

/// Terminate a partner (staff). Final: its keys stop working.
#[utoipa::path(post, path = "/v1/partners/{id}/terminate", tag = "partners", security(("api_key" = [])),
    params(("id" = String, Path, description = "Partner id")),
    request_body = StatusChange,
    responses((status = 200, description = "OK", body = Partner)))]
pub async fn terminate_partner(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    idem: IdempotencyKey,
    JsonBody(b): JsonBody<StatusChange>,
) -> Result<Response, Problem> {
    let id = path_id("id", &id)?;
    let req = pb::TerminatePartnerRequest {
        partner_id: id.to_string(),
        reason: b.reason,
    };
    let r = client(&state)
        .terminate_partner(state.grpc(req, Some(&p), idem.as_deref()))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::OK,
        &Partner::from(&r.partner.ok_or_else(Problem::internal)?),
    ))
}

/// Set a partner's tier by hand (staff).
#[utoipa::path(post, path = "/v1/partners/{id}/tier", tag = "partners", security(("api_key" = [])),
    params(("id" = String, Path, description = "Partner id")),
    request_body = TierAssignment,
    responses((status = 200, description = "OK", body = Partner)))]
pub async fn set_partner_tier(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    idem: IdempotencyKey,
    JsonBody(b): JsonBody<TierAssignment>,
) -> Result<Response, Problem> {
    let id = path_id("id", &id)?;
    let req = pb::SetPartnerTierRequest {
        partner_id: id.to_string(),
        tier_id: b.tier_id,
        reason: b.reason,
    };
    let r = client(&state)
        .set_partner_tier(state.grpc(req, Some(&p), idem.as_deref()))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::OK,
        &Partner::from(&r.partner.ok_or_else(Problem::internal)?),
    ))
}

/// The partner's onboarding checklist, with time-to-first-deal.
#[utoipa::path(get, path = "/v1/partners/{id}/checklist", tag = "programs", security(("api_key" = [])),
    params(("id" = String, Path, description = "Partner id")),
    responses((status = 200, description = "OK", body = Checklist)))]
pub async fn checklist(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = path_id("id", &id)?;
    let req = pb::GetOnboardingChecklistRequest {
        partner_id: id.to_string(),
    };
    let r = client(&state)
        .get_onboarding_checklist(state.grpc(req, Some(&p), None))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::OK,
        &Checklist::from(&r.checklist.ok_or_else(Problem::internal)?),
    ))
}

/// Where the partner stands against its tier rules, what it needs for the
/// next tier, and what-if figures.
#[utoipa::path(get, path = "/v1/partners/{id}/tier-evaluation", tag = "programs", security(("api_key" = [])),
    params(("id" = String, Path, description = "Partner id"), WhatIfQuery),
    responses((status = 200, description = "OK", body = TierEvaluation)))]
pub async fn tier_evaluation(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<WhatIfQuery>,
) -> Result<Response, Problem> {
    let id = path_id("id", &id)?;
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
        partner_id: id.to_string(),
        what_if,
    };
    let r = client(&state)
        .evaluate_partner_tier(state.grpc(req, Some(&p), None))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::OK,
        &TierEvaluation::from(&r.evaluation.ok_or_else(Problem::internal)?),
    ))
}

/// Which terms the partner must accept, and which it has.
#[utoipa::path(get, path = "/v1/partners/{id}/terms-status", tag = "terms", security(("api_key" = [])),
    params(("id" = String, Path, description = "Partner id")),
    responses((status = 200, description = "OK", body = TermsStatus)))]
pub async fn terms_status(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = path_id("id", &id)?;
    let r = client(&state)
        .get_terms_status(state.grpc(
            pb::GetTermsStatusRequest {
                partner_id: id.to_string(),
            },
            Some(&p),
            None,
        ))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::OK,
        &TermsStatus {
            required: r
                .required
                .iter()
                .map(|t| RequiredTerms {
                    terms: t.terms.as_ref().map(Terms::from),
                    acceptance: t.acceptance.as_ref().map(TermsAcceptance::from),
                })
                .collect(),
            all_accepted: r.all_accepted,
        },
    ))
}

// ------------------------------------------------------------ JSON shapes

wire_enum!(PartnerStatus: pb::PartnerStatus { Active = "active" => Active, Suspended = "suspended" => Suspended, Terminated = "terminated" => Terminated });

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
            status: PartnerStatus::from_proto(p.status),
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
    pub program_id: Option<String>,
}

pub type PartnerList = List<Partner>;

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    pub reason: String,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierAssignment {
    pub tier_id: String,
    pub reason: String,
}
