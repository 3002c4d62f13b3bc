//! The REST routes of the MDF service: budgets and allocations (staff),
//! funds and their ledger, requests and their decisions, claims with proof
//! of performance, and a request's ROI. Each module holds its handlers and,
//! below them, its JSON shapes.

mod claims;
mod funds;
mod requests;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::UpstreamRoutes;
use crate::state::AppState;
use crate::upstream::UpstreamSpec;

pub const UPSTREAM: UpstreamRoutes = UpstreamRoutes {
    upstream: UpstreamSpec {
        name: "mdf",
        default_port: 50053,
    },
    routes,
};

fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(funds::create_budget, funds::list_budgets))
        .routes(routes!(funds::get_budget))
        .routes(routes!(funds::allocate_funds))
        .routes(routes!(funds::list_funds))
        .routes(routes!(funds::get_fund))
        .routes(routes!(funds::list_fund_entries))
        .routes(routes!(requests::submit_request, requests::list_requests))
        .routes(routes!(requests::get_request))
        .routes(routes!(requests::approve_request))
        .routes(routes!(requests::reject_request))
        .routes(routes!(requests::cancel_request))
        .routes(routes!(requests::request_roi))
        .routes(routes!(claims::submit_claim))
        .routes(routes!(claims::list_claims))
        .routes(routes!(claims::get_claim))
        .routes(routes!(claims::approve_claim))
        .routes(routes!(claims::reject_claim))
}
