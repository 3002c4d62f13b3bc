//! The one error type service handlers return, and its faithful mapping to
//! gRPC status codes with `google.rpc` details: `BadRequest` field
//! violations, `PreconditionFailure` and an `ErrorInfo` with a stable
//! UPPER_SNAKE reason. Internal errors are logged and never leak.

use std::collections::HashMap;
use std::sync::OnceLock;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The `ErrorInfo.domain` of every error this process returns, e.g.
/// "prm.onboarding". Set once at start-up.
static ERROR_DOMAIN: OnceLock<String> = OnceLock::new();

pub fn set_error_domain(service: &str) {
    let _ = ERROR_DOMAIN.set(format!("prm.{service}"));
}

fn error_domain() -> &'static str {
    ERROR_DOMAIN.get().map(String::as_str).unwrap_or("prm")
}

/// One invalid field: its path in the request (e.g. `requirements.min_revenue_won.currency`)
/// and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

/// Collects every invalid field of a request, so the caller learns about all
/// of them at once.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldViolation>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation {
            field: field.into(),
            description: description.into(),
        });
    }

    /// Keeps the value of a successful parse, or records its error against `field`.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(v) => Some(v),
            Err(description) => {
                self.add(field, description);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn violations(&self) -> &[FieldViolation] {
        &self.0
    }

    /// `Ok` when nothing was recorded, otherwise an InvalidArgument error.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::InvalidArgument(self.0))
        }
    }

    /// As [`FieldErrors::finish`], then the parsed values: `values` gathers
    /// what [`FieldErrors::check`] kept (`|| Some((id?, amount?))`), which
    /// is all there when nothing was recorded. A check that recorded
    /// nothing yet kept no value is a bug, answered as Internal.
    pub fn finish_with<T>(self, values: impl FnOnce() -> Option<T>) -> Result<T, ApiError> {
        self.finish()?;
        values().ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "a request passed validation with a value missing"
            ))
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid argument: {}", describe(.0))]
    InvalidArgument(Vec<FieldViolation>),
    /// Also the answer for another partner's resource, so ids cannot be probed.
    #[error("{resource} not found")]
    NotFound { resource: &'static str },
    #[error("{message}")]
    AlreadyExists {
        reason: &'static str,
        message: String,
    },
    /// An illegal state transition, or a rule the current state forbids.
    #[error("{message}")]
    FailedPrecondition {
        reason: &'static str,
        /// What the precondition is about, e.g. "application/0192..." or a field.
        subject: String,
        message: String,
    },
    #[error("{message}")]
    PermissionDenied {
        reason: &'static str,
        message: String,
    },
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{message}")]
    ResourceExhausted {
        reason: &'static str,
        message: String,
    },
    #[error("{message}")]
    Aborted {
        reason: &'static str,
        message: String,
    },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

fn describe(v: &[FieldViolation]) -> String {
    v.iter()
        .map(|f| format!("{}: {}", f.field, f.description))
        .collect::<Vec<_>>()
        .join("; ")
}

impl ApiError {
    /// One invalid field.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self::InvalidArgument(vec![FieldViolation {
            field: field.into(),
            description: description.into(),
        }])
    }

    pub fn precondition(
        reason: &'static str,
        subject: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::FailedPrecondition {
            reason,
            subject: subject.into(),
            message: message.into(),
        }
    }

    pub fn permission_denied(reason: &'static str, message: impl Into<String>) -> Self {
        Self::PermissionDenied {
            reason,
            message: message.into(),
        }
    }

    pub fn already_exists(reason: &'static str, message: impl Into<String>) -> Self {
        Self::AlreadyExists {
            reason,
            message: message.into(),
        }
    }

    pub fn not_found(resource: &'static str) -> Self {
        Self::NotFound { resource }
    }

    /// The stable reason carried in `ErrorInfo`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::InvalidArgument(_) => "INVALID_ARGUMENT",
            Self::NotFound { .. } => "NOT_FOUND",
            Self::AlreadyExists { reason, .. }
            | Self::FailedPrecondition { reason, .. }
            | Self::PermissionDenied { reason, .. }
            | Self::ResourceExhausted { reason, .. }
            | Self::Aborted { reason, .. } => reason,
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Unavailable(_) => "UNAVAILABLE",
            Self::Internal(_) => "INTERNAL",
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                Self::Unavailable("database unreachable".into())
            }
            // Serialization failures and deadlocks are safe to retry.
            sqlx::Error::Database(ref db)
                if matches!(db.code().as_deref(), Some("40001") | Some("40P01")) =>
            {
                Self::Aborted {
                    reason: "CONCURRENT_UPDATE",
                    message: "a concurrent change conflicted; retry".into(),
                }
            }
            other => Self::Internal(other.into()),
        }
    }
}

impl From<ApiError> for Status {
    fn from(e: ApiError) -> Self {
        let reason = e.reason();
        let mut details = ErrorDetails::new();
        details.set_error_info(reason, error_domain(), HashMap::new());
        let (code, message) = match &e {
            ApiError::InvalidArgument(violations) => {
                for v in violations {
                    details.add_bad_request_violation(v.field.clone(), v.description.clone());
                }
                (Code::InvalidArgument, e.to_string())
            }
            ApiError::NotFound { .. } => (Code::NotFound, e.to_string()),
            ApiError::AlreadyExists { .. } => (Code::AlreadyExists, e.to_string()),
            ApiError::FailedPrecondition {
                reason,
                subject,
                message,
            } => {
                details.add_precondition_failure_violation(
                    *reason,
                    subject.clone(),
                    message.clone(),
                );
                (Code::FailedPrecondition, e.to_string())
            }
            ApiError::PermissionDenied { .. } => (Code::PermissionDenied, e.to_string()),
            ApiError::Unauthenticated(_) => (Code::Unauthenticated, e.to_string()),
            ApiError::ResourceExhausted { .. } => (Code::ResourceExhausted, e.to_string()),
            ApiError::Aborted { .. } => (Code::Aborted, e.to_string()),
            ApiError::Unavailable(_) => {
                tracing::warn!(error = %e, "dependency unavailable");
                (Code::Unavailable, e.to_string())
            }
            ApiError::Internal(inner) => {
                tracing::error!(error = ?inner, "internal error");
                (Code::Internal, "internal error".to_owned())
            }
        };
        Status::with_error_details(code, message, details)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_with_gives_the_values_or_every_error() {
        let mut errs = FieldErrors::new();
        let a = errs.check("a", Ok::<_, String>(1));
        let b = errs.check("b", Err::<i32, _>("bad".into()));
        match errs.finish_with(|| Some((a?, b?))) {
            Err(ApiError::InvalidArgument(v)) => assert_eq!(v[0].field, "b"),
            other => panic!("{other:?}"),
        }
        let mut errs = FieldErrors::new();
        let a = errs.check("a", Ok::<_, String>(1));
        assert_eq!(errs.finish_with(|| Some(a? + 1)).ok(), Some(2));
        assert!(matches!(
            FieldErrors::new().finish_with(|| None::<i32>),
            Err(ApiError::Internal(_))
        ));
    }

    #[test]
    fn invalid_argument_carries_every_field() {
        let mut errs = FieldErrors::new();
        errs.add("domain", "must be a domain name");
        errs.add("country", "must be an ISO 3166-1 alpha-2 code");
        let status: Status = errs.finish().expect_err("has errors").into();
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let bad = details.bad_request().expect("bad request details");
        let fields: Vec<_> = bad
            .field_violations
            .iter()
            .map(|v| v.field.as_str())
            .collect();
        assert_eq!(fields, ["domain", "country"]);
        assert_eq!(
            details.error_info().expect("info").reason,
            "INVALID_ARGUMENT"
        );
    }

    #[test]
    fn internal_errors_do_not_leak() {
        let e = ApiError::Internal(anyhow::anyhow!("relation \"partners\" does not exist"));
        let status: Status = e.into();
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("partners"));
    }

    #[test]
    fn precondition_has_a_stable_reason() {
        let status: Status = ApiError::precondition(
            "APPLICATION_ALREADY_DECIDED",
            "application/1",
            "already approved",
        )
        .into();
        assert_eq!(status.code(), Code::FailedPrecondition);
        let d = status.get_error_details();
        assert_eq!(
            d.error_info().expect("info").reason,
            "APPLICATION_ALREADY_DECIDED"
        );
        assert_eq!(
            d.precondition_failure().expect("pf").violations[0].subject,
            "application/1"
        );
    }
}

/// A state change the current state does not allow: a domain rule's
/// refusal, which the API answers as FailedPrecondition (409 over REST).
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
    pub fn about(self, subject: impl Into<String>) -> ApiError {
        ApiError::precondition(self.reason, subject, self.message)
    }
}
