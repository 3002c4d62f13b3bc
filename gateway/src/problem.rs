//! RFC 9457 `application/problem+json` errors with stable codes.
//!
//! Every error the gateway returns is a [`Problem`]: the HTTP status, a
//! stable UPPER_SNAKE `code` (the service's `ErrorInfo` reason where there is
//! one), a human `detail`, and per-field `errors`. gRPC status codes map
//! faithfully; internal details never leak.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tonic::Code;
use tonic_types::StatusExt;
use utoipa::ToSchema;

pub const CONTENT_TYPE: &str = "application/problem+json";

/// One invalid field of a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's name, e.g. `domain` or `requirements.min_deals_won`.
    pub field: String,
    pub message: String,
}

/// An RFC 9457 problem document.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code, e.g. `APPLICATION_ALREADY_APPROVED`.
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(skip)]
    #[schema(ignore)]
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        Self {
            problem_type: format!(
                "https://prm.dev/problems/{}",
                code.to_ascii_lowercase().replace('_', "-")
            ),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            code: code.to_owned(),
            errors: Vec::new(),
            headers: Vec::new(),
        }
    }

    pub fn bad_request(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut p = Self::new(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            format!("{field}: {message}"),
        );
        p.errors.push(FieldError {
            field: field.to_owned(),
            message,
        });
        p
    }

    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", detail)
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
    }

    pub fn forbidden(code: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, detail)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("{what} not found"),
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "internal error",
        )
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        for (k, v) in &self.headers {
            headers.insert(k.clone(), v.clone());
        }
        let body = serde_json::to_vec(&self).unwrap_or_default();
        (status, headers, body).into_response()
    }
}

/// The HTTP status for a gRPC code.
pub fn http_status(code: Code, reason: &str) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::InvalidArgument | Code::OutOfRange => StatusCode::BAD_REQUEST,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        // Reusing an idempotency key with another body is an unprocessable request.
        Code::FailedPrecondition if reason == "IDEMPOTENCY_KEY_REUSED" => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Code::FailedPrecondition => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded | Code::Cancelled => StatusCode::GATEWAY_TIMEOUT,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<tonic::Status> for Problem {
    fn from(s: tonic::Status) -> Self {
        if let Some(source) = std::error::Error::source(&s) {
            return transport_failure(&s, source);
        }
        let details = s.get_error_details();
        let reason = details
            .error_info()
            .map(|i| i.reason.clone())
            .unwrap_or_else(|| default_code(s.code()).to_owned());
        let status = http_status(s.code(), &reason);
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(code = ?s.code(), message = %s.message(), "upstream error");
            return Problem::internal();
        }
        let detail = match s.code() {
            Code::Unavailable => "a service is temporarily unavailable; retry shortly".to_owned(),
            Code::DeadlineExceeded | Code::Cancelled => "the request took too long".to_owned(),
            _ => s.message().to_owned(),
        };
        let mut p = Problem::new(status, &reason, detail);
        if let Some(bad) = details.bad_request() {
            p.errors = bad
                .field_violations
                .iter()
                .map(|v| FieldError {
                    field: v.field.clone(),
                    message: v.description.clone(),
                })
                .collect();
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            p = p.with_header(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        p
    }
}

/// A call that failed in transport: the upstream gave no answer (the
/// connection was refused, reset or closed). tonic names these with
/// borrowed gRPC codes (`Internal` for a GOAWAY, `Cancelled` for a request
/// dropped before it was sent, `Unknown` for a broken pipe); none is the
/// upstream's verdict on the request, so none is a 500. A timeout is a 504;
/// anything else a 503 with Retry-After. The upstream channel has already
/// sent the call again where that was safe.
fn transport_failure(s: &tonic::Status, source: &(dyn std::error::Error + 'static)) -> Problem {
    if s.code() == Code::DeadlineExceeded {
        return Problem::new(
            StatusCode::GATEWAY_TIMEOUT,
            "TIMEOUT",
            "the request took too long",
        );
    }
    tracing::warn!(code = ?s.code(), message = %s.message(), error = %source, "upstream unreachable");
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "UPSTREAM_UNAVAILABLE",
        "a service could not be reached; retry shortly",
    )
    .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
}

fn default_code(code: Code) -> &'static str {
    match code {
        Code::InvalidArgument | Code::OutOfRange => "INVALID_ARGUMENT",
        Code::Unauthenticated => "UNAUTHENTICATED",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::Aborted => "ABORTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::Unavailable => "UNAVAILABLE",
        Code::DeadlineExceeded | Code::Cancelled => "TIMEOUT",
        _ => "INTERNAL",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use tonic_types::ErrorDetails;

    fn status(code: Code, reason: &str) -> tonic::Status {
        let mut d = ErrorDetails::new();
        d.set_error_info(reason, "prm.onboarding", HashMap::new());
        tonic::Status::with_error_details(code, "msg", d)
    }

    #[test]
    fn grpc_codes_map_faithfully() {
        let cases = [
            (Code::InvalidArgument, "INVALID_ARGUMENT", 400),
            (Code::Unauthenticated, "UNAUTHENTICATED", 401),
            (Code::PermissionDenied, "ROLE_REQUIRED", 403),
            (Code::NotFound, "NOT_FOUND", 404),
            (Code::AlreadyExists, "USER_EMAIL_TAKEN", 409),
            (
                Code::FailedPrecondition,
                "APPLICATION_ALREADY_APPROVED",
                409,
            ),
            (Code::FailedPrecondition, "IDEMPOTENCY_KEY_REUSED", 422),
            (Code::ResourceExhausted, "RESOURCE_EXHAUSTED", 429),
            (Code::Unavailable, "UNAVAILABLE", 503),
            (Code::DeadlineExceeded, "TIMEOUT", 504),
            (Code::OutOfRange, "INVALID_ARGUMENT", 400),
            (Code::Aborted, "ABORTED", 409),
            (Code::Cancelled, "TIMEOUT", 504),
            (Code::Unimplemented, "UNIMPLEMENTED", 501),
        ];
        for (code, reason, http) in cases {
            let p = Problem::from(status(code, reason));
            assert_eq!(p.status, http, "{code:?}");
            assert_eq!(p.code, reason);
        }
    }

    /// The upstream's own Internal, Unknown and DataLoss are 500s, and say
    /// nothing of the cause; failures in transport never are (see
    /// `tests/upstream_failures.rs`).
    #[test]
    fn upstream_failures_are_500s_without_detail() {
        for code in [Code::Internal, Code::Unknown, Code::DataLoss] {
            let p = Problem::from(tonic::Status::new(code, "disk on fire"));
            assert_eq!((p.status, p.code.as_str()), (500, "INTERNAL"), "{code:?}");
            assert!(!p.detail.contains("disk"));
        }
    }

    #[test]
    fn field_violations_become_errors_and_internals_do_not_leak() {
        let mut d = ErrorDetails::new();
        d.add_bad_request_violation("domain", "must be a domain");
        d.set_error_info("INVALID_ARGUMENT", "prm.onboarding", HashMap::new());
        let p = Problem::from(tonic::Status::with_error_details(
            Code::InvalidArgument,
            "bad",
            d,
        ));
        assert_eq!(
            p.errors,
            [FieldError {
                field: "domain".into(),
                message: "must be a domain".into()
            }]
        );
        let p = Problem::from(tonic::Status::internal(
            "relation \"partners\" does not exist",
        ));
        assert_eq!(p.status, 500);
        assert!(!p.detail.contains("partners"));
    }
}
