//! The REST routes of the reporting service: partner scorecards, the
//! program view, the CSV export, attribution credit and its models, and
//! the read models' lag and rebuild. Each module holds its handlers and,
//! below them, its JSON shapes.

mod attribution;
mod scorecards;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Documented, UpstreamRoutes};
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
        .operations(routes!(scorecards::scorecard))
        .operations(routes!(scorecards::program))
        .operations(routes!(scorecards::export))
        .operations(routes!(scorecards::lag))
        .operations(routes!(scorecards::rebuild))
        .operations(routes!(attribution::deal_attribution))
        .operations(routes!(attribution::create_model, attribution::list_models))
}
