//! Assembles the router (routes, OpenAPI, docs, middleware) and serves it,
//! stopping in the order that fails no request (see [`crate::drain`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tracing::Instrument;

use crate::config::GatewaySettings;
use crate::drain::DrainingListener;
use crate::problem::Problem;
use crate::state::AppState;
use crate::{drain, rate_limit, routes};

/// The OpenAPI document, pretty-printed (what `/openapi.json` serves).
pub fn openapi_json() -> String {
    let openapi = routes::api().openapi;
    serde_json::to_string_pretty(&openapi).unwrap_or_default()
}

/// The whole HTTP application, for serving or for tests.
pub fn router(state: AppState) -> Router {
    let settings = state.settings().clone();
    let routes::Api {
        router: api, bare, ..
    } = routes::api();
    let openapi_json: Arc<Vec<u8>> = Arc::new(openapi_json().into_bytes());
    let router = api
        .route(
            "/openapi.json",
            get(move || {
                let body = openapi_json.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        body.as_ref().clone(),
                    )
                }
            }),
        )
        .route("/docs", get(routes::docs_page))
        .fallback(|| async { Problem::not_found("route") })
        .method_not_allowed_fallback(|| async {
            Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                "this route does not take that method",
            )
        })
        .layer(middleware::from_fn(rate_limit::add_headers))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            drain::close_connections_while_draining,
        ))
        .layer(DefaultBodyLimit::max(settings.http.body_limit_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), deadline))
        .layer(cors(&settings))
        .layer(middleware::from_fn_with_state(state.clone(), trace));
    router.merge(bare).with_state(state)
}

/// Every request finishes within the configured timeout.
async fn deadline(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = Duration::from_millis(state.settings().http.request_timeout_ms);
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => Problem::new(
            StatusCode::GATEWAY_TIMEOUT,
            "TIMEOUT",
            "the request took too long",
        )
        .into_response(),
    }
}

/// One span per request, continuing the caller's `traceparent`; the
/// request's id (the caller's `X-Request-Id`, or a new one), echoed in
/// the response; and what upstream calls forward of the request (trace
/// context, client address, user agent and id, which audit events record).
async fn trace(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let span = tracing::info_span!(
        "http.request",
        otel.kind = "server",
        otel.name = %format!("{} {}", req.method(), route),
        http.method = %req.method(),
        http.route = %route,
        http.status = tracing::field::Empty,
    );
    prm_runtime::telemetry::adopt_remote_parent(&span, req.headers());
    let trace: Vec<(String, String)> = ["traceparent", "tracestate"]
        .into_iter()
        .filter_map(|h| {
            req.headers()
                .get(h)
                .and_then(|v| v.to_str().ok())
                .map(|v| (h.to_owned(), v.to_owned()))
        })
        .collect();
    let started = std::time::Instant::now();
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let inbound = crate::upstream::Inbound {
        trace,
        safe_method: req.method().is_safe(),
        client_ip: crate::extract::client_ip(
            state.settings().http.trusted_proxy_hops,
            req.headers(),
            req.extensions(),
        )
        .to_string(),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .chars()
            .take(512)
            .collect(),
        request_id: request_id.clone(),
    };
    let mut res = crate::upstream::INBOUND
        .scope(inbound, next.run(req).instrument(span.clone()))
        .await;
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert("x-request-id", v);
    }
    span.record("http.status", res.status().as_u16());
    if res.status().is_server_error() {
        tracing::warn!(parent: &span, status = res.status().as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "request failed");
    } else {
        tracing::debug!(parent: &span, status = res.status().as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "request");
    }
    res
}

fn cors(settings: &GatewaySettings) -> CorsLayer {
    let origins = &settings.cors.allowed_origins;
    if origins.is_empty() {
        return CorsLayer::new();
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            "idempotency-key".parse().expect("header name"),
            "traceparent".parse().expect("header name"),
        ])
        .expose_headers([
            "ratelimit-limit".parse().expect("header name"),
            "ratelimit-remaining".parse().expect("header name"),
            "ratelimit-reset".parse().expect("header name"),
            header::RETRY_AFTER,
        ])
        .max_age(Duration::from_secs(600))
}

/// The gateway process: a bound listener and the app.
pub struct Gateway {
    listener: TcpListener,
    router: Router,
    /// Cancelled by SIGTERM: the gateway starts draining.
    shutdown: CancellationToken,
    drain_delay: Duration,
    grace: Duration,
    tracking: Arc<crate::routes::tracking::Tracking>,
    tracking_tasks: crate::routes::tracking::TrackingTasks,
    authenticator: Arc<crate::auth::Authenticator>,
}

impl Gateway {
    pub async fn build(settings: GatewaySettings) -> anyhow::Result<Self> {
        let addr = format!("{}:{}", settings.http.host, settings.http.port);
        let listener = TcpListener::bind(&addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
        let grace = Duration::from_secs(settings.http.grace_period_secs);
        let drain_delay = Duration::from_millis(settings.http.drain_delay_ms);
        let state = AppState::new(settings, &routes::upstreams())?;
        let tracking = state.tracking().clone();
        let tracking_tasks = tracking.start();
        Ok(Self {
            authenticator: state.authenticator_arc(),
            tracking,
            tracking_tasks,
            listener,
            shutdown: state.draining().clone(),
            router: router(state),
            drain_delay,
            grace,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// The authenticator: what it looked up, served from its cache,
    /// refused and throttled.
    pub fn authenticator(&self) -> Arc<crate::auth::Authenticator> {
        self.authenticator.clone()
    }

    /// Serves until the shutdown token is cancelled, then stops in order:
    /// `/readyz` answers 503 and responses close their connections for the
    /// drain delay; the listener closes, serving what the kernel had
    /// already accepted; in-flight requests get the grace period; the
    /// buffered clicks are handed to the commissions service.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let addr = self.local_addr();
        tracing::info!(%addr, "gateway listening");
        let (listener, control) = DrainingListener::new(self.listener);
        let stop_serving = CancellationToken::new();
        let server = axum::serve(
            listener.tap_io(|_| {}),
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(stop_serving.clone().cancelled_owned());
        let mut server = tokio::spawn(async move { server.await });
        let ended = |r: Result<std::io::Result<()>, tokio::task::JoinError>| -> anyhow::Result<()> {
            r.map_err(|e| anyhow::anyhow!("{e}"))?
                .map_err(|e| anyhow::anyhow!("{e}"))
        };
        tokio::select! {
            r = &mut server => return ended(r),
            _ = self.shutdown.cancelled() => {}
        }
        // 1. Draining: /readyz is 503 and responses close their connections.
        tracing::info!(
            drain_delay_ms = self.drain_delay.as_millis() as u64,
            "shutting down: /readyz answers 503; serving for the drain delay"
        );
        tokio::select! {
            r = &mut server => return ended(r),
            _ = tokio::time::sleep(self.drain_delay) => {}
        }
        // 2. The listener closes once its backlog is handed over.
        tokio::select! {
            r = &mut server => return ended(r),
            _ = control.close(Duration::from_secs(1)) => {}
        }
        // 3. Idle connections close; in-flight requests get the grace period.
        stop_serving.cancel();
        match tokio::time::timeout(self.grace, &mut server).await {
            Ok(r) => r
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .map_err(|e| anyhow::anyhow!("{e}"))?,
            Err(_) => {
                tracing::warn!(
                    grace_secs = self.grace.as_secs(),
                    "requests outlived the grace period; closing"
                );
                server.abort();
            }
        }
        // 4. No more redirects: hand the buffered clicks over.
        self.tracking
            .stop_and_flush(self.tracking_tasks, self.grace)
            .await;
        tracing::info!("gateway stopped");
        Ok(())
    }
}
