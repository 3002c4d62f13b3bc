//! The REST routes of the MDF service: budgets and allocations (staff),
//! funds and their ledger, requests and their decisions, claims with proof
//! of performance, and a request's ROI. Each module holds its handlers and,
//! below them, its JSON shapes.

mod claims;
mod funds;
mod requests;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Documented, UpstreamRoutes};
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
        .operations(routes!(funds::create_budget, funds::list_budgets))
        .operations(routes!(funds::get_budget))
        .operations(routes!(funds::allocate_funds))
        .operations(routes!(funds::list_funds))
        .operations(routes!(funds::get_fund))
        .operations(routes!(funds::list_fund_entries))
        .operations(routes!(requests::submit_request, requests::list_requests))
        .operations(routes!(requests::get_request))
        .operations(routes!(requests::approve_request))
        .operations(routes!(requests::reject_request))
        .operations(routes!(requests::cancel_request))
        .operations(routes!(requests::request_roi))
        .operations(routes!(claims::submit_claim))
        .operations(routes!(claims::list_claims))
        .operations(routes!(claims::get_claim))
        .operations(routes!(claims::approve_claim))
        .operations(routes!(claims::reject_claim))
}
