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
//! SQL; `api` the gRPC handlers; `sweep` the scheduled work (expiry, SLA);
//! `onboarding` the one call it makes to another service; `app` wires it
//! all into the shared runtime.

pub mod api;
pub mod app;
pub mod config;
pub mod domain;
pub mod onboarding;
pub mod store;
pub mod sweep;
#[cfg(feature = "testing")]
pub mod testing;

pub use app::Application;
pub use config::Settings;
