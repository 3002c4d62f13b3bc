//! The REST routes of the reporting service: partner scorecards, the
//! program view, the CSV export, attribution credit and its models, and
//! the read models' lag and rebuild. Each module holds its handlers and,
//! below them, its JSON shapes.

mod attribution;
mod scorecards;

use prm_proto::reporting::reporting_service_client::ReportingServiceClient;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::UpstreamRoutes;
use crate::state::AppState;
use crate::upstream::{UpstreamChannel, UpstreamSpec};

pub const UPSTREAM: UpstreamRoutes = UpstreamRoutes {
    upstream: UpstreamSpec {
        name: "reporting",
        default_port: 50055,
    },
    routes,
};

/// A client of the reporting service for one request.
fn client(state: &AppState) -> ReportingServiceClient<UpstreamChannel> {
    ReportingServiceClient::new(state.channel(UPSTREAM.upstream.name))
}

fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(scorecards::scorecard))
        .routes(routes!(scorecards::program))
        .routes(routes!(scorecards::export))
        .routes(routes!(scorecards::lag))
        .routes(routes!(scorecards::rebuild))
        .routes(routes!(attribution::deal_attribution))
        .routes(routes!(attribution::create_model, attribution::list_models))
}
