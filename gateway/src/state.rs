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

use crate::auth::Authenticator;
use crate::config::GatewaySettings;
use crate::rate_limit::RateLimiter;
use crate::routes::tracking::Tracking;
use crate::upstream::{IDENTITY_OWNER, Outbound, Upstream, UpstreamChannel, UpstreamSpec};

/// The service that owns tracking links and clicks.
const TRACKING_OWNER: &str = "commissions";

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    settings: GatewaySettings,
    upstreams: Vec<Upstream>,
    outbound: Outbound,
    authenticator: Arc<Authenticator>,
    public_limits: RateLimiter,
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
        let authenticator = Arc::new(Authenticator::new(
            identity,
            outbound.clone(),
            Duration::from_millis(settings.auth.cache_ttl_ms),
            settings.auth.cache_capacity,
            RateLimiter::new(f64::from(rl.per_key_per_second), rl.per_key_burst, 1),
        ));
        let public_limits = RateLimiter::new(
            f64::from(rl.public_per_minute) / 60.0,
            rl.public_per_minute,
            60,
        );
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

    pub fn public_limits(&self) -> &RateLimiter {
        &self.0.public_limits
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
