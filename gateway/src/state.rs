//! What every request handler shares: settings, the upstream channels,
//! the authenticator and the public rate limiter. Built once, from the
//! settings; the pieces it holds do not reach back into it.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use prm_proto::onboarding::onboarding_service_client::OnboardingServiceClient;
use prm_runtime::{Clock, Principal};
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;

use crate::auth::{AuthPolicy, Authenticator};
use crate::config::GatewaySettings;
use crate::rate_limit::RateLimiter;
use crate::routes::tracking::Tracking;
use crate::scopes::RouteScopes;
use crate::upstream::{IDENTITY_OWNER, Outbound, Upstream, UpstreamChannel, UpstreamSpec};
use prm_runtime::throttle::FailureThrottle;

/// The service that owns tracking links and clicks.
const TRACKING_OWNER: &str = "commissions";

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The limits of the public endpoints, keyed by client address (see
/// `prm_runtime::throttle::client_key`) or program.
pub struct PublicLimits {
    pub applications: RateLimiter,
    pub postbacks_by_address: RateLimiter,
    pub postbacks_by_program: RateLimiter,
    pub redirects_by_address: RateLimiter,
}

struct Inner {
    settings: GatewaySettings,
    upstreams: Vec<Upstream>,
    outbound: Outbound,
    authenticator: Arc<Authenticator>,
    public_limits: PublicLimits,
    /// Cancelled on SIGTERM: the gateway is draining (see `drain`).
    draining: CancellationToken,
    tracking: Arc<Tracking>,
    clock: Clock,
}

impl AppState {
    /// The state of a gateway calling `upstreams` (`routes::upstreams()`).
    pub fn new(settings: GatewaySettings, upstreams: &[UpstreamSpec]) -> anyhow::Result<Self> {
        let connect_timeout = Duration::from_millis(settings.upstream.connect_timeout_ms);
        if let Some(unknown) = settings
            .upstreams
            .keys()
            .find(|k| !upstreams.iter().any(|u| u.name == k.as_str()))
        {
            anyhow::bail!(
                "upstreams.{unknown} is not a service the gateway calls (known: {})",
                upstreams
                    .iter()
                    .map(|u| u.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let upstreams = upstreams
            .iter()
            .map(|spec| {
                let address = settings.upstream_address(spec);
                Ok(Upstream {
                    name: spec.name,
                    channel: UpstreamChannel::new(spec.name, &address, connect_timeout)?,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        // Leave a little of the request's budget for the gateway's own work.
        let timeout = Duration::from_millis(
            settings
                .http
                .request_timeout_ms
                .saturating_sub(100)
                .max(100),
        );
        let outbound = Outbound::new(settings.auth.service_token.expose_secret(), timeout);
        let identity = upstreams
            .iter()
            .find(|u| u.name == IDENTITY_OWNER)
            .map(|u| OnboardingServiceClient::new(u.channel.clone()))
            .ok_or_else(|| {
                anyhow::anyhow!("{IDENTITY_OWNER} (the identity owner) is not an upstream")
            })?;
        let rl = &settings.rate_limit;
        let auth = &settings.auth;
        let authenticator = Arc::new(Authenticator::new(
            identity,
            outbound.clone(),
            AuthPolicy {
                ttl: Duration::from_millis(auth.cache_ttl_ms),
                capacity: auth.cache_capacity,
                negative_capacity: auth.negative_cache_capacity,
                key_limits: RateLimiter::per_second(rl.per_key_per_second, rl.per_key_burst),
                failures: FailureThrottle::new(
                    auth.failure_burst,
                    Duration::from_secs(auth.failure_window_secs),
                ),
                trusted_proxy_hops: settings.http.trusted_proxy_hops,
                route_scopes: RouteScopes::from_openapi(&crate::routes::api().openapi),
            },
        ));
        let minute = Duration::from_secs(60);
        let public_limits = PublicLimits {
            applications: RateLimiter::new(rl.public_per_minute, minute),
            postbacks_by_address: RateLimiter::per_second(
                rl.postbacks_per_address_per_second,
                rl.postbacks_per_address_per_second.saturating_mul(2),
            ),
            postbacks_by_program: RateLimiter::per_second(
                rl.postbacks_per_program_per_second,
                rl.postbacks_per_program_per_second.saturating_mul(2),
            ),
            redirects_by_address: RateLimiter::new(rl.redirects_per_address_per_minute, minute),
        };
        let tracking = Arc::new(Tracking::new(
            settings.tracking.clone(),
            upstreams
                .iter()
                .find(|u| u.name == TRACKING_OWNER)
                .map(|u| u.channel.clone())
                .ok_or_else(|| anyhow::anyhow!("{TRACKING_OWNER} is not an upstream"))?,
            outbound.clone(),
        ));
        Ok(Self(Arc::new(Inner {
            tracking,
            settings,
            upstreams,
            outbound,
            authenticator,
            public_limits,
            draining: CancellationToken::new(),
            clock: Clock::system(),
        })))
    }

    pub fn settings(&self) -> &GatewaySettings {
        &self.0.settings
    }

    /// Every upstream, in the order the gateway was built with.
    pub fn upstreams(&self) -> &[Upstream] {
        &self.0.upstreams
    }

    /// The channel to the named upstream (one the gateway was built with).
    pub fn channel(&self, name: &str) -> UpstreamChannel {
        self.0
            .upstreams
            .iter()
            .find(|u| u.name == name)
            .map(|u| u.channel.clone())
            .unwrap_or_else(|| panic!("{name} is not an upstream of this gateway"))
    }

    pub fn authenticator(&self) -> &Authenticator {
        &self.0.authenticator
    }

    /// Cancelled when the gateway starts shutting down.
    pub fn draining(&self) -> &CancellationToken {
        &self.0.draining
    }

    /// Tracking-link redirects: the link cache and the click buffer.
    pub fn tracking(&self) -> &Arc<Tracking> {
        &self.0.tracking
    }

    /// The time the gateway stamps (a click's).
    pub fn clock(&self) -> &Clock {
        &self.0.clock
    }

    /// The limits of the public (unauthenticated) endpoints.
    pub fn public_limits(&self) -> &PublicLimits {
        &self.0.public_limits
    }

    pub fn authenticator_arc(&self) -> Arc<Authenticator> {
        self.0.authenticator.clone()
    }

    /// A gRPC request without a principal that is safe to send again
    /// whatever the caller's method, because the service deduplicates it
    /// (a postback, by its transaction id).
    pub fn grpc_repeatable<T>(&self, msg: T) -> tonic::Request<T> {
        self.0.outbound.read_request(msg)
    }

    /// Sends `request` to the service that serves its RPC.
    pub async fn send<R: prm_proto::Rpc>(
        &self,
        request: tonic::Request<R>,
    ) -> Result<R::Response, crate::problem::Problem> {
        Ok(prm_runtime::client::call(self.channel(R::SERVICE), request).await?)
    }

    /// A gRPC request for an upstream call (see [`Outbound::request`]).
    pub fn grpc<T>(
        &self,
        msg: T,
        principal: Option<&Principal>,
        idempotency_key: Option<&str>,
    ) -> tonic::Request<T> {
        self.0.outbound.request(msg, principal, idempotency_key)
    }
}

impl FromRef<AppState> for Arc<Authenticator> {
    fn from_ref(state: &AppState) -> Self {
        state.0.authenticator.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_listed_upstream_gets_a_channel_and_unknown_ones_are_refused() {
        let specs = crate::routes::upstreams();
        let state = AppState::new(GatewaySettings::default(), &specs).expect("defaults build");
        let names: Vec<_> = state.upstreams().iter().map(|u| u.name).collect();
        let listed: Vec<_> = specs.iter().map(|u| u.name).collect();
        assert_eq!(names, listed);

        let mut typo = GatewaySettings::default();
        typo.upstreams
            .insert("onbording".into(), "http://127.0.0.1:1".into());
        let err = AppState::new(typo, &specs)
            .err()
            .expect("an unknown upstream is refused");
        assert!(err.to_string().contains("upstreams.onbording"), "{err}");
    }
}
