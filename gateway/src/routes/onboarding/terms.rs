use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use prm_proto::onboarding as pb;

use super::json;
use crate::auth::Caller;
use crate::dto::*;
use crate::extract::{IdempotencyKey, JsonBody, parse_json};
use crate::problem::Problem;
use crate::state::AppState;

/// Publish a new version of terms (admins).
#[utoipa::path(post, path = "/v1/terms", tag = "terms", security(("api_key" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key replay the first response")),
    request_body = NewTerms,
    responses((status = 201, description = "Created", body = Terms), (status = "4XX", description = "Problem", body = Problem, content_type = "application/problem+json")))]
pub async fn publish_terms(
    State(state): State<AppState>,
    Caller(p): Caller,
    idem: IdempotencyKey,
    JsonBody(b): JsonBody<NewTerms>,
) -> Result<Response, Problem> {
    let req = pb::PublishTermsRequest {
        kind: b.kind.to_proto(),
        version: b.version,
        title: b.title,
        body: b.body,
    };
    let r = state
        .onboarding()
        .publish_terms(state.grpc(req, Some(&p), idem.as_deref()))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::CREATED,
        &Terms::from(&r.terms.ok_or_else(Problem::internal)?),
    ))
}

/// Every published version of the terms.
#[utoipa::path(get, path = "/v1/terms", tag = "terms", security(("api_key" = [])),
    responses((status = 200, description = "OK", body = TermsList), (status = "4XX", description = "Problem", body = Problem, content_type = "application/problem+json")))]
pub async fn list_terms(
    State(state): State<AppState>,
    Caller(p): Caller,
) -> Result<Response, Problem> {
    let r = state
        .onboarding()
        .list_terms(state.grpc(pb::ListTermsRequest { kind: 0 }, Some(&p), None))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::OK,
        &TermsList {
            items: r.terms.iter().map(Terms::from).collect(),
        },
    ))
}

/// Accept a version of the terms for the caller's partner (partner admins).
/// The body is optional; `kind` defaults to the partner agreement.
#[utoipa::path(post, path = "/v1/terms/{version}/accept", tag = "terms", security(("api_key" = [])),
    params(("version" = String, Path, description = "Terms version, e.g. 2026-11"), ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key replay the first response")),
    request_body(content = Option<TermsAcceptanceRequest>),
    responses((status = 200, description = "OK", body = TermsAcceptance), (status = "4XX", description = "Problem", body = Problem, content_type = "application/problem+json")))]
pub async fn accept_terms(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(version): Path<String>,
    idem: IdempotencyKey,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, Problem> {
    let body = body.map_err(|_| {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            "the request body is too large",
        )
    })?;
    let body: TermsAcceptanceRequest = if body.iter().all(u8::is_ascii_whitespace) {
        TermsAcceptanceRequest::default()
    } else {
        parse_json(&body)?
    };
    let Some(partner_id) = p.partner_id else {
        return Err(Problem::forbidden(
            "PARTNER_ADMIN_REQUIRED",
            "only a partner's own admin can accept its terms",
        ));
    };
    let kind = body.kind.unwrap_or(TermsKind::PartnerAgreement);
    let req = pb::AcceptTermsRequest {
        partner_id: partner_id.to_string(),
        kind: kind.to_proto(),
        version,
    };
    let r = state
        .onboarding()
        .accept_terms(state.grpc(req, Some(&p), idem.as_deref()))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::OK,
        &TermsAcceptance::from(&r.acceptance.ok_or_else(Problem::internal)?),
    ))
}
