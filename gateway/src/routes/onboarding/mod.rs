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

use super::{Documented, UpstreamRoutes};
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
        .operations(routes!(
            applications::submit_application,
            applications::list_applications
        ))
        .operations(routes!(applications::get_application))
        .operations(routes!(applications::approve_application))
        .operations(routes!(applications::reject_application))
        .operations(routes!(identity::me))
        .operations(routes!(partners::list_partners))
        .operations(routes!(partners::get_partner))
        .operations(routes!(partners::suspend_partner))
        .operations(routes!(partners::reactivate_partner))
        .operations(routes!(partners::terminate_partner))
        .operations(routes!(partners::set_partner_tier))
        .operations(routes!(partners::checklist))
        .operations(routes!(partners::tier_evaluation))
        .operations(routes!(partners::terms_status))
        .operations(routes!(
            identity::create_partner_user,
            identity::list_partner_users
        ))
        .operations(routes!(identity::create_api_key, identity::list_api_keys))
        .operations(routes!(identity::revoke_api_key))
        .operations(routes!(identity::rotate_api_key))
        .operations(routes!(
            identity::get_staff_key_policy,
            identity::put_staff_key_policy
        ))
        .operations(routes!(
            identity::get_program_key_policy,
            identity::put_program_key_policy
        ))
        .operations(routes!(identity::deactivate_user))
        .operations(routes!(terms::publish_terms, terms::list_terms))
        .operations(routes!(terms::accept_terms))
        .operations(routes!(programs::create_program, programs::list_programs))
        .operations(routes!(programs::create_tier))
        .operations(routes!(programs::list_tiers))
        .operations(routes!(programs::update_tier))
        .operations(routes!(programs::run_tier_review))
        .operations(routes!(
            enablement::create_content,
            enablement::list_content
        ))
        .operations(routes!(enablement::create_course, enablement::list_courses))
        .operations(routes!(enablement::record_attempt))
        .operations(routes!(enablement::list_certifications))
}
