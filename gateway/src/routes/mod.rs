//! The REST routes. Each handler validates what the gateway can (JSON
//! shape, ids in the path), calls the owning service over gRPC with the
//! caller's principal, and renders the reply; the services enforce the
//! rules and the authorisation themselves.

mod applications;
mod enablement;
mod identity;
mod ops;
mod partners;
mod programs;
mod terms;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub use ops::docs_page;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "PRM API",
        description = "Partner Relationship Management: onboarding and enablement. Authenticate with `Authorization: Bearer <API key>`. Errors are RFC 9457 problem+json with a stable `code`. Every POST accepts `Idempotency-Key`.",
        version = "1.0.0",
        license(name = "Apache-2.0"),
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "applications", description = "Partner applications"),
        (name = "partners", description = "Partners, status and tiers"),
        (name = "identity", description = "Users, API keys and the caller"),
        (name = "terms", description = "Versioned terms and acceptance"),
        (name = "programs", description = "Programs, tiers, tier rules and the onboarding checklist"),
        (name = "enablement", description = "The library, courses and certifications"),
        (name = "operations", description = "Health and documentation"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A PRM API key"))
                    .build(),
            ),
        );
    }
}

/// The API router and its OpenAPI document, built from the same handlers
/// so they cannot drift apart.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(
            applications::submit_application,
            applications::list_applications
        ))
        .routes(routes!(applications::get_application))
        .routes(routes!(applications::approve_application))
        .routes(routes!(applications::reject_application))
        .routes(routes!(identity::me))
        .routes(routes!(partners::list_partners))
        .routes(routes!(partners::get_partner))
        .routes(routes!(partners::suspend_partner))
        .routes(routes!(partners::reactivate_partner))
        .routes(routes!(partners::terminate_partner))
        .routes(routes!(partners::set_partner_tier))
        .routes(routes!(partners::checklist))
        .routes(routes!(partners::tier_evaluation))
        .routes(routes!(partners::terms_status))
        .routes(routes!(
            identity::create_partner_user,
            identity::list_partner_users
        ))
        .routes(routes!(identity::create_api_key, identity::list_api_keys))
        .routes(routes!(identity::revoke_api_key))
        .routes(routes!(identity::deactivate_user))
        .routes(routes!(terms::publish_terms, terms::list_terms))
        .routes(routes!(terms::accept_terms))
        .routes(routes!(programs::create_program, programs::list_programs))
        .routes(routes!(programs::create_tier))
        .routes(routes!(programs::list_tiers))
        .routes(routes!(programs::update_tier))
        .routes(routes!(programs::run_tier_review))
        .routes(routes!(
            enablement::create_content,
            enablement::list_content
        ))
        .routes(routes!(enablement::create_course, enablement::list_courses))
        .routes(routes!(enablement::record_attempt))
        .routes(routes!(enablement::list_certifications))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .split_for_parts()
}

/// A JSON response with a status.
pub fn json<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
    (status, axum::Json(body)).into_response()
}
