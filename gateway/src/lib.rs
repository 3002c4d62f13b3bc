//! The REST gateway: the platform's front door for partners and staff. It
//! owns nothing durable and scales freely. It authenticates API keys
//! through onboarding (with a short cache), calls the services over gRPC
//! with the caller's principal and the service credential, renders RFC 9457
//! problems, enforces per-key rate limits, body limits and timeouts, and
//! serves its OpenAPI 3.1 document and docs page. The services enforce
//! authorisation themselves; the gateway is not the only line of defence.

// `Problem` is the error of every handler and is turned into one response
// per failed request; boxing it would buy nothing measurable.
#![allow(clippy::result_large_err)]

pub mod app;
pub mod auth;
pub mod config;
pub mod drain;
pub mod dto;
pub mod extract;
pub mod forward;
pub mod problem;
pub mod rate_limit;
pub mod routes;
pub mod scopes;
pub mod state;
pub mod upstream;

pub use app::{Gateway, openapi_json, router};
pub use config::GatewaySettings;
pub use state::AppState;
