//! One handler shape for every REST operation that forwards to a service:
//! a [`Call`] (the authenticated caller, its idempotency key, the
//! upstreams), the path's [`PathId`](crate::extract::PathId), perhaps a
//! body; the request message, sent with [`Call::send`] to the service that
//! serves it (each request message names its RPC, see `prm_proto::Rpc`);
//! and the reply as its JSON shape:
//!
//! ```ignore
//! #[utoipa::path(get, path = "/v1/mdf/requests/{id}", ...)]
//! pub async fn get_request(call: Call, PathId(id): PathId) -> Reply<MdfRequest> {
//!     ok(one(call.send(pb::GetMdfRequestRequest { request_id: id }).await?.request)?)
//! }
//! ```

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use prm_proto::Rpc;
use prm_runtime::Principal;
use serde::Serialize;

use crate::auth::Caller;
use crate::extract::IdempotencyKey;
use crate::problem::Problem;
use crate::state::AppState;

/// An authenticated caller's request, as its upstream calls carry it: the
/// principal, and the `Idempotency-Key` of a request that changes
/// something (POST, PUT, PATCH).
pub struct Call {
    state: AppState,
    principal: Principal,
    idempotency_key: Option<String>,
}

impl FromRequestParts<AppState> for Call {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Caller(principal) = Caller::from_request_parts(parts, state).await?;
        let idempotency_key = if [Method::POST, Method::PUT, Method::PATCH].contains(&parts.method)
        {
            IdempotencyKey::from_request_parts(parts, state).await?.0
        } else {
            None
        };
        Ok(Self {
            state: state.clone(),
            principal,
            idempotency_key,
        })
    }
}

impl Call {
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Sends `message` to the service that serves its RPC, as the caller.
    pub async fn send<R: Rpc>(&self, message: R) -> Result<R::Response, Problem> {
        let request = self.state.grpc(
            message,
            Some(&self.principal),
            self.idempotency_key.as_deref(),
        );
        self.state.send(request).await
    }

    /// Sends a read the route itself implies (the caller's own identity;
    /// the user a key is made for), as the caller but with only `scope`:
    /// the route's own scope was checked, and the service still applies
    /// the caller's roles and tenancy.
    pub async fn send_implied<R: Rpc>(
        &self,
        message: R,
        scope: &str,
    ) -> Result<R::Response, Problem> {
        let principal = Principal {
            scopes: prm_runtime::Scopes::parse(&[scope]).map_err(|e| {
                tracing::error!(error = %e, "a route implies an unknown scope");
                Problem::internal()
            })?,
            ..self.principal.clone()
        };
        let request = self.state.grpc(message, Some(&principal), None);
        self.state.send(request).await
    }
}

/// A handler's answer: a status and a JSON body.
#[derive(Debug)]
pub struct Answer<T>(pub StatusCode, pub T);

impl<T: Serialize> IntoResponse for Answer<T> {
    fn into_response(self) -> Response {
        (self.0, axum::Json(self.1)).into_response()
    }
}

/// What a forwarding handler returns.
pub type Reply<T> = Result<Answer<T>, Problem>;

/// 200 with `body`.
pub fn ok<T>(body: T) -> Reply<T> {
    Ok(Answer(StatusCode::OK, body))
}

/// 201 with `body`.
pub fn created<T>(body: T) -> Reply<T> {
    Ok(Answer(StatusCode::CREATED, body))
}

/// The resource a service's reply carries, as its JSON shape. A reply
/// without it is the service's bug: 500.
pub fn one<P, T: for<'a> From<&'a P>>(resource: Option<P>) -> Result<T, Problem> {
    resource.as_ref().map(T::from).ok_or_else(Problem::internal)
}
