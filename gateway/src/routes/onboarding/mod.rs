//! The REST routes of the onboarding service: applications, partners,
//! identity (users, API keys, the caller), terms, programs and tiers, and
//! enablement. Each module holds its handlers and, below them, its JSON
//! shapes.

mod applications;
mod enablement;
mod identity;
mod partners;
mod programs;
mod terms;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::UpstreamRoutes;
use crate::state::AppState;
use crate::upstream::UpstreamSpec;

pub const UPSTREAM: UpstreamRoutes = UpstreamRoutes {
    upstream: UpstreamSpec {
        name: "onboarding",
        default_port: 50051,
    },
    routes,
};

fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
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
}
