//! Deal registration's rules, free of I/O: who the customer is (domain and
//! company-name normalisation), the registration's states and transitions,
//! what a submission and an edit must contain, and the program policy
//! (approval SLA in business hours, protection windows, extensions).
//! Each module is unit-tested beside its code.

pub mod customer;
pub mod policy;
pub mod registration;

pub use prm_runtime::IllegalTransition;
