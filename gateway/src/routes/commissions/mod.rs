//! The REST routes of the commissions service: tracking links and the
//! public redirect, server-to-server postbacks and their log, conversions,
//! commissions and the ledger, plans and program settings, payout batches
//! and payout profiles. Each module holds its handlers and, below them,
//! its JSON shapes.

mod earnings;
mod links;
mod payouts;
mod plans;
mod postbacks;
pub mod tracking;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::UpstreamRoutes;
use crate::state::AppState;
use crate::upstream::UpstreamSpec;

pub const UPSTREAM: UpstreamRoutes = UpstreamRoutes {
    upstream: UpstreamSpec {
        name: "commissions",
        default_port: 50054,
    },
    routes,
};

/// The redirect, served outside the API's middleware (see
/// `routes::Api::bare`).
pub fn bare_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(links::redirect))
}

fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(links::create_link, links::list_links))
        .routes(routes!(links::disable_link))
        .routes(routes!(postbacks::postback_get, postbacks::postback_post))
        .routes(routes!(postbacks::postback_log))
        .routes(routes!(earnings::list_conversions))
        .routes(routes!(earnings::list_commissions))
        .routes(routes!(earnings::ledger))
        .routes(routes!(plans::create_plan, plans::list_plans))
        .routes(routes!(plans::get_settings, plans::put_settings))
        .routes(routes!(payouts::create_payout))
        .routes(routes!(payouts::get_payout))
        .routes(routes!(payouts::export_payout))
        .routes(routes!(payouts::cancel_payout))
        .routes(routes!(payouts::mark_processing))
        .routes(routes!(payouts::mark_paid))
        .routes(routes!(payouts::mark_failed))
        .routes(routes!(payouts::get_profile, payouts::put_profile))
}
