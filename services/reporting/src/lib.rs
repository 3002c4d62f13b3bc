//! The reporting service: partner scorecards, the program view by tier
//! and partner type, and attribution credit on won deals.
//!
//! It owns read models only, built solely from the events of onboarding,
//! deal registration, MDF and commissions (durable JetStream consumers,
//! each event applied once through the inbox), plus the attribution
//! models staff agree. The read models can be dropped and rebuilt by
//! replaying the streams, and the service reports how far it lags behind
//! each one.

//!
//! Layout: `domain` holds the rules (periods, attribution shares), without
//! I/O; `store` all SQL; `api` the gRPC handlers; `events` what it applies
//! from each stream; `app` declares it to the shared runtime.

pub mod api;
mod app;
pub mod config;
pub mod domain;
pub mod events;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use api::Reporting;

/// The service, ready to run (see [`prm_runtime::Application`]).
pub type Application = prm_runtime::Application<Reporting>;
