use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use prm_proto::onboarding as pb;

use super::json;
use crate::auth::Caller;
use crate::dto::*;
use crate::extract::{IdempotencyKey, JsonBody, QueryParams, path_id};
use crate::problem::Problem;
use crate::state::AppState;

/// Create a partner program (staff).
#[utoipa::path(post, path = "/v1/programs", tag = "programs", security(("api_key" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key replay the first response")),
    request_body = NewProgram,
    responses((status = 201, description = "Created", body = Program), (status = "4XX", description = "Problem", body = Problem, content_type = "application/problem+json")))]
pub async fn create_program(
    State(state): State<AppState>,
    Caller(p): Caller,
    idem: IdempotencyKey,
    JsonBody(b): JsonBody<NewProgram>,
) -> Result<Response, Problem> {
    let grace = match b.demotion_grace_days {
        Some(0) => -1,
        Some(d) => d,
        None => 0,
    };
    let req = pb::CreateProgramRequest {
        name: b.name,
        description: b.description,
        currency: b.currency,
        tier_window_days: b.tier_window_days.unwrap_or_default(),
        demotion_grace_days: grace,
    };
    let r = state
        .onboarding()
        .create_program(state.grpc(req, Some(&p), idem.as_deref()))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::CREATED,
        &Program::from(&r.program.ok_or_else(Problem::internal)?),
    ))
}

/// Programs: staff see all, a partner its own.
#[utoipa::path(get, path = "/v1/programs", tag = "programs", security(("api_key" = [])),
    params(PageQuery),
    responses((status = 200, description = "OK", body = ProgramList), (status = "4XX", description = "Problem", body = Problem, content_type = "application/problem+json")))]
pub async fn list_programs(
    State(state): State<AppState>,
    Caller(p): Caller,
    QueryParams(q): QueryParams<PageQuery>,
) -> Result<Response, Problem> {
    let req = pb::ListProgramsRequest {
        page_size: q.page_size.unwrap_or_default(),
        page_token: q.page_token.unwrap_or_default(),
    };
    let r = state
        .onboarding()
        .list_programs(state.grpc(req, Some(&p), None))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::OK,
        &ProgramList {
            items: r.programs.iter().map(Program::from).collect(),
            next_page_token: token(r.next_page_token),
        },
    ))
}

/// Add a tier to a program (staff).
#[utoipa::path(post, path = "/v1/programs/{id}/tiers", tag = "programs", security(("api_key" = [])),
    params(("id" = String, Path, description = "Program id"), ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key replay the first response")),
    request_body = NewTier,
    responses((status = 201, description = "Created", body = Tier), (status = "4XX", description = "Problem", body = Problem, content_type = "application/problem+json")))]
pub async fn create_tier(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    idem: IdempotencyKey,
    JsonBody(b): JsonBody<NewTier>,
) -> Result<Response, Problem> {
    let id = path_id("id", &id)?;
    let req = pb::CreateTierRequest {
        program_id: id.to_string(),
        name: b.name,
        rank: b.rank,
        requirements: b.requirements.as_ref().map(TierRequirements::to_proto),
    };
    let r = state
        .onboarding()
        .create_tier(state.grpc(req, Some(&p), idem.as_deref()))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::CREATED,
        &Tier::from(&r.tier.ok_or_else(Problem::internal)?),
    ))
}

/// Tiers and their rules: staff see every program's, a partner its own program's.
#[utoipa::path(get, path = "/v1/tiers", tag = "programs", security(("api_key" = [])),
    params(TierQuery),
    responses((status = 200, description = "OK", body = TierList), (status = "4XX", description = "Problem", body = Problem, content_type = "application/problem+json")))]
pub async fn list_tiers(
    State(state): State<AppState>,
    Caller(p): Caller,
    QueryParams(q): QueryParams<TierQuery>,
) -> Result<Response, Problem> {
    let r = state
        .onboarding()
        .list_tiers(state.grpc(
            pb::ListTiersRequest {
                program_id: q.program_id.unwrap_or_default(),
            },
            Some(&p),
            None,
        ))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::OK,
        &TierList {
            items: r.tiers.iter().map(Tier::from).collect(),
        },
    ))
}

/// Replace a tier's requirements (staff); applies from the next review.
#[utoipa::path(patch, path = "/v1/tiers/{id}", tag = "programs", security(("api_key" = [])),
    params(("id" = String, Path, description = "Tier id")),
    request_body = TierUpdate,
    responses((status = 200, description = "OK", body = Tier), (status = "4XX", description = "Problem", body = Problem, content_type = "application/problem+json")))]
pub async fn update_tier(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<TierUpdate>,
) -> Result<Response, Problem> {
    let id = path_id("id", &id)?;
    let req = pb::UpdateTierRequest {
        tier_id: id.to_string(),
        requirements: Some(b.requirements.to_proto()),
    };
    let r = state
        .onboarding()
        .update_tier(state.grpc(req, Some(&p), None))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::OK,
        &Tier::from(&r.tier.ok_or_else(Problem::internal)?),
    ))
}

/// Apply the tier rules now (staff). They also run periodically.
#[utoipa::path(post, path = "/v1/tier-reviews", tag = "programs", security(("api_key" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key replay the first response")),
    request_body = TierReviewRequest,
    responses((status = 200, description = "OK", body = TierReview), (status = "4XX", description = "Problem", body = Problem, content_type = "application/problem+json")))]
pub async fn run_tier_review(
    State(state): State<AppState>,
    Caller(p): Caller,
    idem: IdempotencyKey,
    JsonBody(b): JsonBody<TierReviewRequest>,
) -> Result<Response, Problem> {
    let req = pb::RunTierReviewRequest {
        partner_id: b.partner_id.unwrap_or_default(),
    };
    let r = state
        .onboarding()
        .run_tier_review(state.grpc(req, Some(&p), idem.as_deref()))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::OK,
        &TierReview {
            outcomes: r
                .outcomes
                .iter()
                .map(|o| TierReviewOutcome {
                    partner_id: o.partner_id.clone(),
                    from_tier_id: o.from_tier_id.clone(),
                    to_tier_id: o.to_tier_id.clone(),
                    action: o.action.clone(),
                    demotion_due_at: time(&o.demotion_due_at),
                })
                .collect(),
        },
    ))
}
