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

/// Add to the enablement library (staff: admin, partner manager, marketing).
#[utoipa::path(post, path = "/v1/content", tag = "enablement", security(("api_key" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key replay the first response")),
    request_body = NewContent,
    responses((status = 201, description = "Created", body = Content), (status = "4XX", description = "Problem", body = Problem, content_type = "application/problem+json")))]
pub async fn create_content(
    State(state): State<AppState>,
    Caller(p): Caller,
    idem: IdempotencyKey,
    JsonBody(b): JsonBody<NewContent>,
) -> Result<Response, Problem> {
    let req = pb::CreateContentRequest {
        title: b.title,
        kind: b.kind.to_proto(),
        url: b.url,
        visibility: b.visibility.as_ref().map(Visibility::to_proto),
    };
    let r = state
        .onboarding()
        .create_content(state.grpc(req, Some(&p), idem.as_deref()))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::CREATED,
        &Content::from(&r.content.ok_or_else(Problem::internal)?),
    ))
}

/// The library as the caller's partner sees it (by tier and partner type).
#[utoipa::path(get, path = "/v1/content", tag = "enablement", security(("api_key" = [])),
    params(LibraryQuery),
    responses((status = 200, description = "OK", body = ContentList), (status = "4XX", description = "Problem", body = Problem, content_type = "application/problem+json")))]
pub async fn list_content(
    State(state): State<AppState>,
    Caller(p): Caller,
    QueryParams(q): QueryParams<LibraryQuery>,
) -> Result<Response, Problem> {
    let req = pb::ListContentRequest {
        page_size: q.page_size.unwrap_or_default(),
        page_token: q.page_token.unwrap_or_default(),
        partner_id: q.partner_id.unwrap_or_default(),
    };
    let r = state
        .onboarding()
        .list_content(state.grpc(req, Some(&p), None))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::OK,
        &ContentList {
            items: r.content.iter().map(Content::from).collect(),
            next_page_token: token(r.next_page_token),
        },
    ))
}

/// Create a course (staff).
#[utoipa::path(post, path = "/v1/courses", tag = "enablement", security(("api_key" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key replay the first response")),
    request_body = NewCourse,
    responses((status = 201, description = "Created", body = Course), (status = "4XX", description = "Problem", body = Problem, content_type = "application/problem+json")))]
pub async fn create_course(
    State(state): State<AppState>,
    Caller(p): Caller,
    idem: IdempotencyKey,
    JsonBody(b): JsonBody<NewCourse>,
) -> Result<Response, Problem> {
    let req = pb::CreateCourseRequest {
        title: b.title,
        description: b.description,
        pass_mark_percent: b.pass_mark_percent,
        certification_valid_days: b.certification_valid_days,
        required_for_onboarding: b.required_for_onboarding,
        visibility: b.visibility.as_ref().map(Visibility::to_proto),
    };
    let r = state
        .onboarding()
        .create_course(state.grpc(req, Some(&p), idem.as_deref()))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::CREATED,
        &Course::from(&r.course.ok_or_else(Problem::internal)?),
    ))
}

/// Courses the caller's partner can take.
#[utoipa::path(get, path = "/v1/courses", tag = "enablement", security(("api_key" = [])),
    params(LibraryQuery),
    responses((status = 200, description = "OK", body = CourseList), (status = "4XX", description = "Problem", body = Problem, content_type = "application/problem+json")))]
pub async fn list_courses(
    State(state): State<AppState>,
    Caller(p): Caller,
    QueryParams(q): QueryParams<LibraryQuery>,
) -> Result<Response, Problem> {
    let req = pb::ListCoursesRequest {
        page_size: q.page_size.unwrap_or_default(),
        page_token: q.page_token.unwrap_or_default(),
        partner_id: q.partner_id.unwrap_or_default(),
    };
    let r = state
        .onboarding()
        .list_courses(state.grpc(req, Some(&p), None))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::OK,
        &CourseList {
            items: r.courses.iter().map(Course::from).collect(),
            next_page_token: token(r.next_page_token),
        },
    ))
}

/// Record an attempt at a course; a pass earns or renews the certification.
#[utoipa::path(post, path = "/v1/courses/{id}/attempts", tag = "enablement", security(("api_key" = [])),
    params(("id" = String, Path, description = "Course id"), ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key replay the first response")),
    request_body = NewAttempt,
    responses((status = 201, description = "Created", body = AttemptResult), (status = "4XX", description = "Problem", body = Problem, content_type = "application/problem+json")))]
pub async fn record_attempt(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    idem: IdempotencyKey,
    JsonBody(b): JsonBody<NewAttempt>,
) -> Result<Response, Problem> {
    let id = path_id("id", &id)?;
    let req = pb::RecordCourseAttemptRequest {
        course_id: id.to_string(),
        user_id: b.user_id.unwrap_or_default(),
        score_percent: b.score_percent,
    };
    let r = state
        .onboarding()
        .record_course_attempt(state.grpc(req, Some(&p), idem.as_deref()))
        .await?
        .into_inner();
    Ok(json(StatusCode::CREATED, &AttemptResult::from(&r)))
}

/// Certifications: a partner's own, or any for staff.
#[utoipa::path(get, path = "/v1/certifications", tag = "enablement", security(("api_key" = [])),
    params(CertificationQuery),
    responses((status = 200, description = "OK", body = CertificationList), (status = "4XX", description = "Problem", body = Problem, content_type = "application/problem+json")))]
pub async fn list_certifications(
    State(state): State<AppState>,
    Caller(p): Caller,
    QueryParams(q): QueryParams<CertificationQuery>,
) -> Result<Response, Problem> {
    let req = pb::ListCertificationsRequest {
        page_size: q.page_size.unwrap_or_default(),
        page_token: q.page_token.unwrap_or_default(),
        partner_id: q.partner_id.unwrap_or_default(),
        user_id: q.user_id.unwrap_or_default(),
        include_expired: q.include_expired.unwrap_or_default(),
    };
    let r = state
        .onboarding()
        .list_certifications(state.grpc(req, Some(&p), None))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::OK,
        &CertificationList {
            items: r.certifications.iter().map(Certification::from).collect(),
            next_page_token: token(r.next_page_token),
        },
    ))
}
