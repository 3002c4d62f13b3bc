//! REST tests through the gateway and the onboarding service, on real
//! PostgreSQL and NATS.

mod errors;
mod idempotency;
mod isolation;
mod openapi;
mod rate_limits;
mod walkthrough;
