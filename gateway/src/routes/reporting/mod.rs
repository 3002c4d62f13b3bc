//! The REST routes of the reporting service: partner scorecards, the
//! program view, the CSV export, attribution credit and its models, and
//! the read models' lag and rebuild. Each module holds its handlers and,
//! below them, its JSON shapes.

mod attribution;
mod scorecards;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::UpstreamRoutes;
use crate::state::AppState;
use crate::upstream::UpstreamSpec;

pub const UPSTREAM: UpstreamRoutes = UpstreamRoutes {
    upstream: UpstreamSpec {
        name: "reporting",
        default_port: 50055,
    },
    routes,
};

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
