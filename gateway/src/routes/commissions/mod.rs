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

use super::{Documented, UpstreamRoutes};
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
    OpenApiRouter::new().operations(routes!(links::redirect))
}

fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .operations(routes!(links::create_link, links::list_links))
        .operations(routes!(links::disable_link))
        .operations(routes!(postbacks::postback_get, postbacks::postback_post))
        .operations(routes!(postbacks::postback_log))
        .operations(routes!(earnings::list_conversions))
        .operations(routes!(earnings::release_conversion))
        .operations(routes!(earnings::reject_conversion))
        .operations(routes!(earnings::list_commissions))
        .operations(routes!(earnings::ledger))
        .operations(routes!(plans::create_plan, plans::list_plans))
        .operations(routes!(plans::get_settings, plans::put_settings))
        .operations(routes!(payouts::create_payout))
        .operations(routes!(payouts::get_payout))
        .operations(routes!(payouts::export_payout))
        .operations(routes!(payouts::cancel_payout))
        .operations(routes!(payouts::mark_processing))
        .operations(routes!(payouts::mark_paid))
        .operations(routes!(payouts::mark_failed))
        .operations(routes!(payouts::get_profile, payouts::put_profile))
}
