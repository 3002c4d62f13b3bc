//! The services behind the gateway, and how it calls them: one long-lived
//! HTTP/2 channel per service, and every outgoing request carrying the
//! service credential, the caller's principal and idempotency key, the
//! trace context and a deadline.
//!
//! The services the gateway knows are listed once, in
//! `routes::UPSTREAMS`, each with the module that holds its routes; the
//! gateway is built with their [`UpstreamSpec`]s.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::propagation::Injector;
use prm_runtime::Principal;
use prm_runtime::auth::authorize_request;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Channel, Endpoint};
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
    pub channel: Channel,
}

/// One long-lived HTTP/2 channel per upstream, connected lazily and
/// reconnected by tonic; calls multiplex over it.
pub fn channel(uri: &str, connect_timeout: Duration) -> anyhow::Result<Channel> {
    Ok(Endpoint::from_shared(uri.to_owned())
        .map_err(|e| anyhow::anyhow!("upstream address {uri:?}: {e}"))?
        .connect_timeout(connect_timeout)
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_while_idle(true)
        .connect_lazy())
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
    /// idempotency key, the caller's trace context and a deadline.
    pub fn request<T>(
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
            let _ = INBOUND_TRACE.try_with(|inbound| {
                for (k, v) in inbound {
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

tokio::task_local! {
    /// The request's inbound `traceparent` / `tracestate`, set by the trace
    /// middleware for the duration of the request.
    pub static INBOUND_TRACE: Vec<(String, String)>;
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
        let req = INBOUND_TRACE
            .scope(vec![("traceparent".into(), parent.into())], async {
                outbound.request((), None, Some("k-1"))
            })
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
