//! The services behind the gateway, and how it calls them: one long-lived
//! HTTP/2 channel per service, and every outgoing request carrying the
//! service credential, the caller's principal and idempotency key, the
//! trace context and a deadline.
//!
//! Restarts, rollouts and connection recycling must not reach a partner as
//! an error, so an [`UpstreamChannel`] sends a call again, once, on a fresh
//! connection when the first attempt failed in transport and
//! - the upstream provably never ran it (refused by GOAWAY or
//!   REFUSED_STREAM, or the connection closed before it was sent, or could
//!   not be made), whatever the call; or
//! - it may have run, but repeating it is safe: the caller's request was a
//!   GET, or carried an Idempotency-Key ([`Repeatable`]).
//!
//! Anything else reaches the handler as the transport's `Status`, which
//! `problem` answers with 503 and Retry-After. A status the upstream itself
//! returned is never retried here.
//!
//! The services the gateway knows are listed once, in
//! `routes::UPSTREAMS`, each with the module that holds its routes; the
//! gateway is built with their [`UpstreamSpec`]s.

use std::error::Error as StdError;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::BodyExt;
use opentelemetry::propagation::Injector;
use prm_runtime::Principal;
use prm_runtime::auth::authorize_request;
use tonic::body::Body;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Channel, Endpoint};
use tower::{Service, ServiceExt};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The service that resolves API keys to principals.
pub const IDENTITY_OWNER: &str = "onboarding";

/// A service the gateway calls.
#[derive(Clone, Copy, Debug)]
pub struct UpstreamSpec {
    /// The service's name, e.g. "onboarding"; its address is the setting
    /// `upstreams.<name>` (`PRM_UPSTREAMS__<NAME>`).
    pub name: &'static str,
    /// Its gRPC port in the platform's port table; the default address is
    /// `http://127.0.0.1:<port>`.
    pub default_port: u16,
}

impl UpstreamSpec {
    pub fn default_address(&self) -> String {
        format!("http://127.0.0.1:{}", self.default_port)
    }
}

/// A connected upstream: its name and channel.
#[derive(Clone)]
pub struct Upstream {
    pub name: &'static str,
    pub channel: UpstreamChannel,
}

/// Marks a call the upstream may run twice without harm: the caller's
/// request was safe (GET) or carried an Idempotency-Key. Set by
/// [`Outbound`]; read by [`UpstreamChannel`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repeatable;

/// How a call that failed in transport failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportFailure {
    /// The upstream provably never ran it: HTTP/2 GOAWAY or REFUSED_STREAM
    /// refused the stream, the request was dropped before it was sent
    /// (hyper's "canceled"), or no connection could be made.
    NotSent,
    /// It was sent and the answer was lost: the upstream may have run it.
    MaybeRan,
}

impl TransportFailure {
    /// Reads the error chain of a failed call.
    pub fn of(err: &(dyn StdError + 'static)) -> Self {
        let mut cause = Some(err);
        while let Some(e) = cause {
            if let Some(h2) = e.downcast_ref::<h2::Error>() {
                // Streams above a GOAWAY's last-stream-id, and streams reset
                // with REFUSED_STREAM, were not processed (RFC 9113 §8.7).
                // tonic reports the first as `Internal` ("h2 protocol
                // error", reason NO_ERROR on a graceful GOAWAY).
                if (h2.is_go_away() && h2.is_remote())
                    || h2.reason() == Some(h2::Reason::REFUSED_STREAM)
                {
                    return Self::NotSent;
                }
            }
            if let Some(hyper) = e.downcast_ref::<hyper::Error>() {
                // The connection went away before hyper handed the request
                // to it; tonic reports this as `Cancelled`.
                if hyper.is_canceled() {
                    return Self::NotSent;
                }
            }
            if e.is::<tonic::ConnectError>() {
                return Self::NotSent;
            }
            cause = e.source();
        }
        Self::MaybeRan
    }
}

/// The channel to one upstream: a long-lived HTTP/2 connection, connected
/// lazily, that sends a failed call once more on a fresh connection when
/// that is safe (see the module documentation).
#[derive(Clone)]
pub struct UpstreamChannel {
    name: &'static str,
    inner: Arc<Connections>,
}

struct Connections {
    endpoint: Endpoint,
    /// The channel in use, and its generation: a failed call renews the
    /// channel it failed on, once, however many calls failed with it.
    current: RwLock<(u64, Channel)>,
}

impl UpstreamChannel {
    pub fn new(name: &'static str, uri: &str, connect_timeout: Duration) -> anyhow::Result<Self> {
        let endpoint = Endpoint::from_shared(uri.to_owned())
            .map_err(|e| anyhow::anyhow!("upstream address {uri:?}: {e}"))?
            .connect_timeout(connect_timeout)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_while_idle(true);
        let channel = endpoint.connect_lazy();
        Ok(Self {
            name,
            inner: Arc::new(Connections {
                endpoint,
                current: RwLock::new((0, channel)),
            }),
        })
    }

    fn current(&self) -> (u64, Channel) {
        let guard = self.inner.current.read().unwrap_or_else(|e| e.into_inner());
        (guard.0, guard.1.clone())
    }

    /// Replaces the channel of generation `failed` with a new one (a new
    /// connection); calls already in flight on the old one finish there.
    fn renew(&self, failed: u64) {
        let mut guard = self
            .inner
            .current
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if guard.0 == failed {
            *guard = (failed + 1, self.inner.endpoint.connect_lazy());
        }
    }

    async fn send(
        channel: Channel,
        parts: &http::request::Parts,
        body: Bytes,
    ) -> Result<http::Response<Body>, tonic::transport::Error> {
        let mut req = http::Request::new(Body::new(
            http_body_util::Full::new(body).map_err(|never| match never {}),
        ));
        *req.method_mut() = parts.method.clone();
        *req.uri_mut() = parts.uri.clone();
        *req.version_mut() = parts.version;
        *req.headers_mut() = parts.headers.clone();
        *req.extensions_mut() = parts.extensions.clone();
        channel.oneshot(req).await
    }

    async fn call_with_retry(
        self,
        req: http::Request<Body>,
    ) -> Result<http::Response<Body>, tonic::codegen::StdError> {
        let (parts, body) = req.into_parts();
        // A unary request body is one small message; kept so that it can
        // be sent again.
        let body = body.collect().await?.to_bytes();
        let repeatable = parts.extensions.get::<Repeatable>().is_some();
        let (generation, channel) = self.current();
        let err = match Self::send(channel, &parts, body.clone()).await {
            Ok(res) => return Ok(res),
            Err(err) => err,
        };
        let failure = TransportFailure::of(&err);
        self.renew(generation);
        if failure == TransportFailure::MaybeRan && !repeatable {
            tracing::warn!(upstream = self.name, path = %parts.uri.path(), error = %DisplayChain(&err), "upstream call failed and may have run; not repeated");
            return Err(err.into());
        }
        tracing::info!(upstream = self.name, path = %parts.uri.path(), ?failure, error = %DisplayChain(&err), "upstream call failed in transport; sending it again on a fresh connection");
        let (_, channel) = self.current();
        Ok(Self::send(channel, &parts, body).await?)
    }
}

impl Service<http::Request<Body>> for UpstreamChannel {
    type Response = http::Response<Body>;
    type Error = tonic::codegen::StdError;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    /// Always ready: each attempt waits for its own channel's readiness.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        Box::pin(self.clone().call_with_retry(req))
    }
}

/// An error and its sources, on one line.
struct DisplayChain<'a>(&'a (dyn StdError + 'static));

impl std::fmt::Display for DisplayChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(e) = cause {
            write!(f, ": {e}")?;
            cause = e.source();
        }
        Ok(())
    }
}

/// Builds the gRPC requests the gateway sends.
#[derive(Clone)]
pub struct Outbound {
    service_token: Arc<str>,
    timeout: Duration,
}

impl Outbound {
    /// `timeout` is each call's deadline.
    pub fn new(service_token: &str, timeout: Duration) -> Self {
        Self {
            service_token: Arc::from(service_token),
            timeout,
        }
    }

    /// A gRPC request with the service credential, the principal, the
    /// idempotency key, the caller's trace context and a deadline. It is
    /// [`Repeatable`] when it carries an idempotency key or the caller's
    /// request is a GET.
    pub fn request<T>(
        &self,
        msg: T,
        principal: Option<&Principal>,
        idempotency_key: Option<&str>,
    ) -> tonic::Request<T> {
        let safe_method = INBOUND
            .try_with(|inbound| inbound.safe_method)
            .unwrap_or(false);
        let mut req = self.build(msg, principal, idempotency_key);
        if safe_method || idempotency_key.is_some() {
            req.extensions_mut().insert(Repeatable);
        }
        req
    }

    /// A request for a call that only reads, whatever the caller's method
    /// (authenticating a key): [`Repeatable`].
    pub fn read_request<T>(&self, msg: T) -> tonic::Request<T> {
        let mut req = self.build(msg, None, None);
        req.extensions_mut().insert(Repeatable);
        req
    }

    fn build<T>(
        &self,
        msg: T,
        principal: Option<&Principal>,
        idempotency_key: Option<&str>,
    ) -> tonic::Request<T> {
        let mut req = tonic::Request::new(msg);
        // Values were validated on the way in; a failure here is a bug, and
        // the service will refuse the call for lack of a credential.
        let _ = authorize_request(&mut req, &self.service_token, principal, idempotency_key);
        req.set_timeout(self.timeout);
        let cx = tracing::Span::current().context();
        opentelemetry::global::get_text_map_propagator(|p| {
            p.inject_context(&cx, &mut MetadataInjector(req.metadata_mut()))
        });
        // Without a tracer (no OTLP endpoint) there is no span context to
        // inject; pass the caller's trace context on unchanged instead.
        if !req.metadata().contains_key("traceparent") {
            let _ = INBOUND.try_with(|inbound| {
                for (k, v) in &inbound.trace {
                    if let (Ok(k), Ok(v)) = (
                        MetadataKey::from_bytes(k.as_bytes()),
                        MetadataValue::try_from(v.as_str()),
                    ) {
                        req.metadata_mut().insert(k, v);
                    }
                }
            });
        }
        req
    }
}

/// What upstream calls need to know of the HTTP request they serve.
#[derive(Clone, Debug, Default)]
pub struct Inbound {
    /// Its `traceparent` / `tracestate` headers.
    pub trace: Vec<(String, String)>,
    /// Its method is safe to repeat (GET, HEAD, OPTIONS).
    pub safe_method: bool,
}

tokio::task_local! {
    /// The HTTP request being served, set by the trace middleware for the
    /// duration of the request.
    pub static INBOUND: Inbound;
}

struct MetadataInjector<'a>(&'a mut MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(k), Ok(v)) = (
            MetadataKey::from_bytes(key.as_bytes()),
            MetadataValue::try_from(value.as_str()),
        ) {
            self.0.insert(k, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_callers_trace_context_is_passed_on() {
        let outbound = Outbound::new("token", Duration::from_secs(1));
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let inbound = Inbound {
            trace: vec![("traceparent".into(), parent.into())],
            safe_method: false,
        };
        let req = INBOUND
            .scope(inbound, async { outbound.request((), None, Some("k-1")) })
            .await;
        assert_eq!(
            req.metadata()
                .get("traceparent")
                .and_then(|v| v.to_str().ok()),
            Some(parent)
        );
        assert_eq!(
            req.metadata()
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok()),
            Some("k-1")
        );
        assert!(
            req.metadata()
                .contains_key(prm_runtime::auth::SERVICE_TOKEN_HEADER)
        );
        // Outside a request there is nothing to pass on.
        assert!(
            !outbound
                .request((), None, None)
                .metadata()
                .contains_key("traceparent")
        );
    }
}
