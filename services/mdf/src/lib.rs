//! The MDF (marketing development funds) service. It owns budgets per
//! program and period, partners' funds within them (discretionary, or
//! accruing a tiered share of won revenue), the append-only ledger of every
//! movement of their money, requests for funds and claims against them with
//! proof of performance, and what deal registrations carrying a campaign
//! code brought in (ROI). No budget is over-allocated and no fund goes
//! below zero, even under concurrent approvals: the database refuses the
//! entry that would. It reacts to deal registration events (won deals
//! accrue; campaign codes feed ROI) and announces requests, claims,
//! reimbursements, accruals and expiries through the outbox.
//!
//! Layout: `domain` holds the rules and states, without I/O; `store` all
//! SQL; `api` the gRPC handlers; `events` what it consumes; `operations`
//! the steps they share; `jobs` the scheduled expiry of accrued funds and
//! lapsed requests; `app` declares it to the shared runtime.

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

pub use api::Mdf;
pub use config::Settings;

/// The service, ready to run (see [`prm_runtime::Application`]).
pub type Application = prm_runtime::Application<Mdf>;
