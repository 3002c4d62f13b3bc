//! What the service knows of a partner, kept from onboarding's events.
//! Onboarding owns the status and its transitions; this is its copy.

pub use prm_runtime::PartnerStatus;
