//! The onboarding and enablement service. It owns partners, applications,
//! programs, tiers and tier rules, terms and their acceptance, partner and
//! staff users and their API keys (it is the platform's identity owner),
//! the onboarding checklist, the enablement library, courses and
//! certifications. It reacts to deal registration outcomes.
//!
//! Layout: `domain` holds the rules without I/O; `store` all SQL; `api`
//! the gRPC handlers; `operations` transactional steps shared by handlers,
//! the consumer (`events`) and periodic `jobs`; `app` wires it all into
//! the shared runtime.

pub mod api;
pub mod app;
pub mod config;
pub mod domain;
pub mod events;
pub mod jobs;
pub mod operations;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use app::Application;
pub use config::Settings;
