//! REST tests through the gateway and the services behind it, on real
//! PostgreSQL and NATS.

mod commissions;
mod errors;
mod idempotency;
mod isolation;
mod mdf;
mod openapi;
mod partner_status;
mod rate_limits;
mod reporting;
mod scopes;
mod walkthrough;
