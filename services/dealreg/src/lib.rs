//! The deal registration service. It owns deal registrations (a partner's
//! claim on a named prospect), their product lines, history and near
//! matches, and the vendor's direct-sales accounts. It detects channel
//! conflict (the database lets exactly one active registration hold a
//! customer), runs the approval workflow with its SLA and protection
//! windows, and announces registered, approved, rejected, won and lost
//! deals through the outbox. It asks onboarding whether a partner may
//! register.
//!
//! Layout: `domain` holds the rules and states, without I/O; `store` all
//! SQL; `api` the gRPC handlers; `operations` the steps handlers and jobs
//! share; `jobs` the scheduled work (expiry, SLA); `onboarding` the one
//! call it makes to another service; `app` declares it to the shared
//! runtime.

pub mod api;
mod app;
pub mod config;
pub mod domain;
pub mod jobs;
pub mod onboarding;
pub mod operations;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use api::Dealreg;
pub use config::Settings;

/// The service, ready to run (see [`prm_runtime::Application`]).
pub type Application = prm_runtime::Application<Dealreg>;
