use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use prm_proto::onboarding as pb;

use super::json;
use crate::auth::Caller;
use crate::dto::*;
use crate::extract::{ClientAddr, IdempotencyKey, JsonBody, QueryParams, path_id};
use crate::problem::Problem;
use crate::rate_limit::DecisionSlot;
use crate::state::AppState;

/// Apply to become a partner (public; rate-limited per client address).
#[utoipa::path(post, path = "/v1/applications", tag = "applications",
    request_body = ApplicationForm,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key replay the first response")),
    responses(
        (status = 201, description = "Submitted", body = Application),
        (status = "4XX", description = "Problem", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn submit_application(
    State(state): State<AppState>,
    ClientAddr(ip): ClientAddr,
    slot: Option<Extension<DecisionSlot>>,
    idem: IdempotencyKey,
    JsonBody(form): JsonBody<ApplicationForm>,
) -> Result<Response, Problem> {
    let decision = state.public_limits().check(&ip.to_string());
    if let Some(Extension(slot)) = slot {
        slot.set(decision);
    }
    if !decision.allowed {
        let mut p = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            "too many applications from this address; try again later",
        );
        for (k, v) in decision.headers() {
            p = p.with_header(k, v);
        }
        return Err(p);
    }
    let req = pb::SubmitApplicationRequest {
        company_name: form.company_name,
        domain: form.domain,
        country: form.country,
        partner_type: form.partner_type.to_proto(),
        contact_name: form.contact_name,
        contact_email: form.contact_email,
    };
    let resp = state
        .onboarding()
        .submit_application(state.grpc(req, None, idem.as_deref()))
        .await?
        .into_inner();
    let app = resp.application.ok_or_else(Problem::internal)?;
    Ok(json(StatusCode::CREATED, &Application::from(&app)))
}

/// List applications (staff).
#[utoipa::path(get, path = "/v1/applications", tag = "applications", security(("api_key" = [])),
    params(ApplicationQuery),
    responses(
        (status = 200, description = "OK", body = ApplicationList),
        (status = "4XX", description = "Problem", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_applications(
    State(state): State<AppState>,
    Caller(p): Caller,
    QueryParams(q): QueryParams<ApplicationQuery>,
) -> Result<Response, Problem> {
    let req = pb::ListApplicationsRequest {
        page_size: q.page_size.unwrap_or_default(),
        page_token: q.page_token.unwrap_or_default(),
        status: q.status.map(|s| s.to_proto()).unwrap_or_default(),
    };
    let r = state
        .onboarding()
        .list_applications(state.grpc(req, Some(&p), None))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::OK,
        &ApplicationList {
            items: r.applications.iter().map(Application::from).collect(),
            next_page_token: token(r.next_page_token),
        },
    ))
}

/// Get an application.
#[utoipa::path(get, path = "/v1/applications/{id}", tag = "applications", security(("api_key" = [])),
    params(("id" = String, Path, description = "Application id")),
    responses(
        (status = 200, description = "OK", body = Application),
        (status = "4XX", description = "Problem", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_application(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = path_id("id", &id)?;
    let req = pb::GetApplicationRequest {
        application_id: id.to_string(),
    };
    let r = state
        .onboarding()
        .get_application(state.grpc(req, Some(&p), None))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::OK,
        &Application::from(&r.application.ok_or_else(Problem::internal)?),
    ))
}

/// Approve an application: creates the partner and its admin user, and
/// returns the admin's API key secret once.
#[utoipa::path(post, path = "/v1/applications/{id}/approve", tag = "applications", security(("api_key" = [])),
    params(("id" = String, Path, description = "Application id"), ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key replay the first response")),
    request_body = Approval,
    responses(
        (status = 200, description = "OK", body = ApprovalResult),
        (status = "4XX", description = "Problem", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn approve_application(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    idem: IdempotencyKey,
    JsonBody(body): JsonBody<Approval>,
) -> Result<Response, Problem> {
    let id = path_id("id", &id)?;
    let req = pb::ApproveApplicationRequest {
        application_id: id.to_string(),
        program_id: body.program_id,
        tier_id: body.tier_id.unwrap_or_default(),
    };
    let r = state
        .onboarding()
        .approve_application(state.grpc(req, Some(&p), idem.as_deref()))
        .await?
        .into_inner();
    let key = r.admin_api_key.as_ref().ok_or_else(Problem::internal)?;
    Ok(json(
        StatusCode::OK,
        &ApprovalResult {
            application: Application::from(r.application.as_ref().ok_or_else(Problem::internal)?),
            partner: Partner::from(r.partner.as_ref().ok_or_else(Problem::internal)?),
            admin_user: User::from(r.admin_user.as_ref().ok_or_else(Problem::internal)?),
            admin_api_key: CreatedApiKey {
                key: ApiKey::from(key),
                secret: token(r.admin_api_key_secret),
            },
        },
    ))
}

/// Reject an application, with a reason.
#[utoipa::path(post, path = "/v1/applications/{id}/reject", tag = "applications", security(("api_key" = [])),
    params(("id" = String, Path, description = "Application id"), ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key replay the first response")),
    request_body = Rejection,
    responses(
        (status = 200, description = "OK", body = Application),
        (status = "4XX", description = "Problem", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn reject_application(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    idem: IdempotencyKey,
    JsonBody(body): JsonBody<Rejection>,
) -> Result<Response, Problem> {
    let id = path_id("id", &id)?;
    let req = pb::RejectApplicationRequest {
        application_id: id.to_string(),
        reason: body.reason,
    };
    let r = state
        .onboarding()
        .reject_application(state.grpc(req, Some(&p), idem.as_deref()))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::OK,
        &Application::from(&r.application.ok_or_else(Problem::internal)?),
    ))
}
