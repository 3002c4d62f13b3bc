//! The commissions service: the affiliate and referral layer. It owns each
//! program's commission settings (allowed link destinations, attribution,
//! fraud thresholds, postback credentials), versioned plans, partners'
//! tracking links and the clicks the gateway redirected, conversions
//! reported by server-to-server postback (the transaction id is the
//! idempotency key) with their attribution and fraud holds, the
//! commissions they earn, and the append-only ledger of every partner's
//! money, from which balances are derived. It reacts to onboarding's
//! partner events (which program and tier a partner is in) and announces
//! links, hourly click counts, conversions and commissions through the
//! outbox.
//!
//! Layout: `domain` holds the rules (plan arithmetic, attribution and
//! fraud checks, postback answers, the ledger), without I/O; `store` all
//! SQL; `api` the gRPC handlers; `events` what it consumes; `operations`
//! the steps handlers and jobs share; `jobs` the scheduled approval of
//! commissions after their hold and the hourly click counts; `app` declares
//! it to the shared runtime.

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

pub use api::Commissions;
pub use config::Settings;

/// The service, ready to run (see [`prm_runtime::Application`]).
pub type Application = prm_runtime::Application<Commissions>;
