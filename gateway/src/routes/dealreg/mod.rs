//! The REST routes of the deal registration service: registrations and
//! their workflow, the vendor's direct accounts, and the policy. Each
//! module holds its handlers and, below them, its JSON shapes.

mod direct_accounts;
mod policy;
mod registrations;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::UpstreamRoutes;
use crate::state::AppState;
use crate::upstream::UpstreamSpec;

pub const UPSTREAM: UpstreamRoutes = UpstreamRoutes {
    upstream: UpstreamSpec {
        name: "dealreg",
        default_port: 50052,
    },
    routes,
};

fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            registrations::submit_registration,
            registrations::list_registrations
        ))
        .routes(routes!(
            registrations::get_registration,
            registrations::update_registration
        ))
        .routes(routes!(registrations::approve_registration))
        .routes(routes!(registrations::reject_registration))
        .routes(routes!(registrations::return_registration))
        .routes(routes!(registrations::resubmit_registration))
        .routes(routes!(registrations::extend_protection))
        .routes(routes!(registrations::win_registration))
        .routes(routes!(registrations::lose_registration))
        .routes(routes!(registrations::registration_history))
        .routes(routes!(
            direct_accounts::create_direct_account,
            direct_accounts::list_direct_accounts
        ))
        .routes(routes!(direct_accounts::delete_direct_account))
        .routes(routes!(policy::get_policy, policy::update_policy))
}
