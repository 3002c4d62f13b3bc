//! The REST routes of the deal registration service: registrations and
//! their workflow, the vendor's direct accounts, and the policy. Each
//! module holds its handlers and, below them, its JSON shapes.

mod direct_accounts;
mod policy;
mod registrations;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Documented, UpstreamRoutes};
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
        .operations(routes!(
            registrations::submit_registration,
            registrations::list_registrations
        ))
        .operations(routes!(
            registrations::get_registration,
            registrations::update_registration
        ))
        .operations(routes!(registrations::approve_registration))
        .operations(routes!(registrations::reject_registration))
        .operations(routes!(registrations::return_registration))
        .operations(routes!(registrations::resubmit_registration))
        .operations(routes!(registrations::extend_protection))
        .operations(routes!(registrations::win_registration))
        .operations(routes!(registrations::lose_registration))
        .operations(routes!(registrations::registration_history))
        .operations(routes!(
            direct_accounts::create_direct_account,
            direct_accounts::list_direct_accounts
        ))
        .operations(routes!(direct_accounts::delete_direct_account))
        .operations(routes!(policy::get_policy, policy::update_policy))
}
