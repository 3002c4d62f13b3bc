//! The services behind the gateway, and how it calls them: one long-lived
//! HTTP/2 channel per service, and every outgoing request carrying the
//! service credential, the caller's principal and idempotency key, the
//! trace context and a deadline.
//!
//! Restarts, rollouts and connection recycling must not reach a partner as
//! an error: every upstream is an [`UpstreamChannel`] (the runtime's
//! `client`), which sends a call the upstream never ran again on a fresh
//! connection, and a call that may have run only when [`Outbound`] marked
//! it [`Repeatable`]: the caller's request was a GET or carried an
//! Idempotency-Key. Anything else reaches the handler as the transport's
//! `Status`, which `problem` answers with 503 and Retry-After.
//!
//! The services the gateway knows are listed once, in
//! `routes::UPSTREAMS`, each with the module that holds its routes; the
//! gateway is built with their [`UpstreamSpec`]s.

use prm_runtime::audit;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::propagation::Injector;
use prm_runtime::Principal;
use prm_runtime::auth::authorize_request;
pub use prm_runtime::client::{Repeatable, TransportFailure, UpstreamChannel};
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
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
        let _ = INBOUND.try_with(|inbound| {
            for (name, value) in [
                (audit::CLIENT_IP_HEADER, &inbound.client_ip),
                (audit::USER_AGENT_HEADER, &inbound.user_agent),
                (audit::REQUEST_ID_HEADER, &inbound.request_id),
            ] {
                if let Ok(v) = MetadataValue::try_from(value.as_str()) {
                    req.metadata_mut().insert(name, v);
                }
            }
        });
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
    /// The client's address (see `extract::client_ip`), user agent and
    /// the request's id, forwarded to the services for their audit log.
    pub client_ip: String,
    pub user_agent: String,
    pub request_id: String,
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
            client_ip: "203.0.113.9".into(),
            user_agent: "curl/8".into(),
            request_id: "req-1".into(),
        };
        let req = INBOUND
            .scope(inbound, async { outbound.request((), None, Some("k-1")) })
            .await;
        assert_eq!(
            req.metadata()
                .get(audit::CLIENT_IP_HEADER)
                .and_then(|v| v.to_str().ok()),
            Some("203.0.113.9"),
            "the client's address goes with the call, for the audit log"
        );
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
