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

/// A state change the current state does not allow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IllegalTransition {
    /// Stable UPPER_SNAKE reason for `ErrorInfo`.
    pub reason: &'static str,
    pub message: String,
}

impl IllegalTransition {
    pub fn new(reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }

    /// As an API error about `subject`, e.g. "partner/0192...".
    pub fn about(self, subject: impl Into<String>) -> prm_runtime::ApiError {
        prm_runtime::ApiError::precondition(self.reason, subject, self.message)
    }
}
