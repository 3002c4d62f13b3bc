//! The onboarding and enablement service. It owns partners, applications,
//! programs, tiers and tier rules, terms and their acceptance, partner and
//! staff users and their API keys (it is the platform's identity owner),
//! the onboarding checklist, the enablement library, courses and
//! certifications. It reacts to deal registration outcomes.
//!
//! Layout: `domain` holds the rules and states, without I/O; `store` all
//! SQL, one module per area; `api` the gRPC handlers, one module per area;
//! `operations` the transactional steps that handlers, the consumer
//! (`events`) and the scheduled work (`jobs`) share; `app` declares it to
//! the shared runtime (`prm_runtime`), which owns everything that is not
//! onboarding's own.

pub mod api;
mod app;
pub mod config;
pub mod domain;
pub mod events;
pub mod jobs;
pub mod operations;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use api::Onboarding;
pub use config::Settings;

/// The service, ready to run (see [`prm_runtime::Application`]).
pub type Application = prm_runtime::Application<Onboarding>;
