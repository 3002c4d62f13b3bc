//! Health and documentation: the only routes besides the application form
//! that need no API key.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use utoipa::ToSchema;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Documented, json};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .operations(routes!(healthz))
        .operations(routes!(readyz))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
    /// Per upstream: "serving" or what is wrong.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub upstreams: Vec<UpstreamHealth>,
}

#[derive(Serialize, ToSchema)]
pub struct UpstreamHealth {
    pub name: &'static str,
    pub status: String,
}

/// Liveness: the process is up. Cheap; touches nothing else.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "OK", body = Health)))]
pub async fn healthz() -> Response {
    json(
        StatusCode::OK,
        &Health {
            status: "ok",
            upstreams: vec![],
        },
    )
}

/// Readiness: every upstream service reports SERVING, and the gateway is
/// not shutting down (from SIGTERM on it answers 503 while it drains).
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, description = "OK", body = Health), (status = 503, description = "Not ready, or draining before shutdown", body = Health)))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.draining().is_cancelled() {
        return json(
            StatusCode::SERVICE_UNAVAILABLE,
            &Health {
                status: "draining",
                upstreams: vec![],
            },
        );
    }
    let checks = state.upstreams().iter().map(|u| async move {
        let mut health = HealthClient::new(u.channel.clone());
        let mut req = tonic::Request::new(HealthCheckRequest {
            service: String::new(),
        });
        req.set_timeout(std::time::Duration::from_secs(2));
        let status = match health.check(req).await {
            Ok(r) if r.get_ref().status == ServingStatus::Serving as i32 => SERVING.to_owned(),
            Ok(r) => format!("not serving ({})", r.get_ref().status),
            Err(e) => format!("unreachable ({})", e.code()),
        };
        UpstreamHealth {
            name: u.name,
            status,
        }
    });
    let upstreams = futures::future::join_all(checks).await;
    let ready = upstreams.iter().all(|u| u.status == SERVING);
    json(
        if ready {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        &Health {
            status: if ready { "ready" } else { "not_ready" },
            upstreams,
        },
    )
}

const SERVING: &str = "serving";

/// A self-contained page that renders `/openapi.json` (no CDN needed).
pub async fn docs_page() -> impl IntoResponse {
    Html(include_str!("../docs.html"))
}
