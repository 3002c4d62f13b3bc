//! What every request handler shares: settings, the long-lived upstream
//! channels, the authentication cache and the rate limiters.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::propagation::Injector;
use prm_proto::onboarding::onboarding_service_client::OnboardingServiceClient;
use prm_runtime::Principal;
use prm_runtime::auth::authorize_request;
use secrecy::ExposeSecret;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Channel, Endpoint};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::auth::Authenticator;
use crate::config::GatewaySettings;
use crate::rate_limit::RateLimiter;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    settings: GatewaySettings,
    service_token: String,
    onboarding: OnboardingServiceClient<Channel>,
    onboarding_channel: Channel,
    authenticator: Authenticator,
    key_limits: RateLimiter,
    public_limits: RateLimiter,
    upstream_timeout: Duration,
}

/// One long-lived HTTP/2 channel per upstream, connected lazily and
/// reconnected by tonic; calls multiplex over it.
fn channel(uri: &str, settings: &GatewaySettings) -> anyhow::Result<Channel> {
    Ok(Endpoint::from_shared(uri.to_owned())
        .map_err(|e| anyhow::anyhow!("upstream address {uri:?}: {e}"))?
        .connect_timeout(Duration::from_millis(settings.upstreams.connect_timeout_ms))
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_while_idle(true)
        .connect_lazy())
}

impl AppState {
    pub fn new(settings: GatewaySettings) -> anyhow::Result<Self> {
        let onboarding_channel = channel(&settings.upstreams.onboarding, &settings)?;
        let rl = &settings.rate_limit;
        Ok(Self(Arc::new(Inner {
            service_token: settings.auth.service_token.expose_secret().to_owned(),
            onboarding: OnboardingServiceClient::new(onboarding_channel.clone()),
            onboarding_channel,
            authenticator: Authenticator::new(
                Duration::from_millis(settings.auth.cache_ttl_ms),
                settings.auth.cache_capacity,
            ),
            key_limits: RateLimiter::new(f64::from(rl.per_key_per_second), rl.per_key_burst, 1),
            public_limits: RateLimiter::new(
                f64::from(rl.public_per_minute) / 60.0,
                rl.public_per_minute,
                60,
            ),
            // Leave a little of the request's budget for the gateway's own work.
            upstream_timeout: Duration::from_millis(
                settings
                    .http
                    .request_timeout_ms
                    .saturating_sub(100)
                    .max(100),
            ),
            settings,
        })))
    }

    pub fn settings(&self) -> &GatewaySettings {
        &self.0.settings
    }

    pub fn onboarding(&self) -> OnboardingServiceClient<Channel> {
        self.0.onboarding.clone()
    }

    pub fn onboarding_channel(&self) -> Channel {
        self.0.onboarding_channel.clone()
    }

    pub fn authenticator(&self) -> &Authenticator {
        &self.0.authenticator
    }

    pub fn key_limits(&self) -> &RateLimiter {
        &self.0.key_limits
    }

    pub fn public_limits(&self) -> &RateLimiter {
        &self.0.public_limits
    }

    /// A gRPC request with the service credential, the principal, the
    /// idempotency key, the caller's trace context and a deadline.
    pub fn grpc<T>(
        &self,
        msg: T,
        principal: Option<&Principal>,
        idempotency_key: Option<&str>,
    ) -> tonic::Request<T> {
        let mut req = tonic::Request::new(msg);
        // Values were validated on the way in; a failure here is a bug, and
        // the service will refuse the call for lack of a credential.
        let _ = authorize_request(&mut req, &self.0.service_token, principal, idempotency_key);
        req.set_timeout(self.0.upstream_timeout);
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
        let state = AppState::new(GatewaySettings::default()).expect("state");
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let req = INBOUND_TRACE
            .scope(vec![("traceparent".into(), parent.into())], async {
                state.grpc((), None, Some("k-1"))
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
            !state
                .grpc((), None, None)
                .metadata()
                .contains_key("traceparent")
        );
    }
}
