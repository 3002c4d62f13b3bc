//! Onboarding's rules, free of I/O: the application, partner and user
//! states, who may see and manage users, tier rules, the checklist, terms,
//! API key credentials and enablement visibility. Each module is
//! unit-tested beside its code. Handlers and the store use these types;
//! no rule is written a second time as a string comparison or in SQL.

pub mod application;
pub mod checklist;
pub mod credentials;
pub mod enablement;
pub mod identity;
pub mod partner;
pub mod terms;
pub mod tiering;

pub use prm_runtime::IllegalTransition;
