//! Authentication: `Authorization: Bearer <API key>`, resolved through
//! onboarding's `Authenticate` and cached briefly (a revocation takes effect
//! within the cache TTL), then rate limited per key.
//!
//! The [`Authenticator`] is given what it needs when it is built (the
//! identity owner's client, the outbound request builder, the per-key
//! limits); handlers reach it through [`Caller`], which any router state
//! that can lend an `Arc<Authenticator>` supports.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::upstream::UpstreamChannel;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use prm_proto::onboarding::AuthenticateRequest;
use prm_proto::onboarding::onboarding_service_client::OnboardingServiceClient;
use prm_runtime::Principal;
use sha2::{Digest, Sha256};

use crate::problem::Problem;
use crate::rate_limit::{DecisionSlot, RateLimiter};
use crate::upstream::Outbound;

#[derive(Clone)]
enum Cached {
    Valid(Principal, Instant),
    Invalid(Instant),
}

/// Resolves API keys through the identity owner, caching results by the
/// SHA-256 of the key, and holds the per-key rate limits.
pub struct Authenticator {
    identity: OnboardingServiceClient<UpstreamChannel>,
    outbound: Outbound,
    cache: RwLock<HashMap<[u8; 32], Cached>>,
    ttl: Duration,
    capacity: usize,
    key_limits: RateLimiter,
}

impl Authenticator {
    pub fn new(
        identity: OnboardingServiceClient<UpstreamChannel>,
        outbound: Outbound,
        ttl: Duration,
        capacity: usize,
        key_limits: RateLimiter,
    ) -> Self {
        Self {
            identity,
            outbound,
            cache: RwLock::new(HashMap::new()),
            ttl,
            capacity: capacity.max(1),
            key_limits,
        }
    }

    fn cached(&self, digest: &[u8; 32]) -> Option<Result<Principal, ()>> {
        let now = Instant::now();
        match self
            .cache
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(digest)
        {
            Some(Cached::Valid(p, until)) if *until > now => Some(Ok(p.clone())),
            Some(Cached::Invalid(until)) if *until > now => Some(Err(())),
            _ => None,
        }
    }

    fn remember(&self, digest: [u8; 32], entry: Cached) {
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= self.capacity {
            let now = Instant::now();
            cache.retain(|_, c| match c {
                Cached::Valid(_, until) | Cached::Invalid(until) => *until > now,
            });
            if cache.len() >= self.capacity {
                cache.clear();
            }
        }
        cache.insert(digest, entry);
    }

    pub async fn authenticate(&self, secret: &str) -> Result<Principal, Problem> {
        let digest: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        match self.cached(&digest) {
            Some(Ok(p)) => return Ok(p),
            Some(Err(())) => return Err(invalid_key()),
            None => {}
        }
        // Authenticating only reads (and notes a key's first use, which
        // is idempotent): safe to send again whatever the caller's method.
        let req = self.outbound.read_request(AuthenticateRequest {
            secret: secret.to_owned(),
        });
        match self.identity.clone().authenticate(req).await {
            Ok(resp) => {
                let p = resp.into_inner().principal.ok_or_else(Problem::internal)?;
                let principal = Principal::from_proto(&p).map_err(|e| {
                    tracing::error!(error = %e, "onboarding returned an unreadable principal");
                    Problem::internal()
                })?;
                self.remember(
                    digest,
                    Cached::Valid(principal.clone(), Instant::now() + self.ttl),
                );
                Ok(principal)
            }
            Err(s) if s.code() == tonic::Code::Unauthenticated => {
                self.remember(digest, Cached::Invalid(Instant::now() + self.ttl));
                Err(invalid_key())
            }
            Err(s) => Err(Problem::from(s)),
        }
    }
}

fn invalid_key() -> Problem {
    Problem::unauthenticated("the API key is invalid or revoked")
}

/// An authenticated caller within its rate limit. Handlers that take a
/// `Caller` are authenticated routes; the few public routes do not.
#[derive(Clone, Debug)]
pub struct Caller(pub Principal);

impl<S> FromRequestParts<S> for Caller
where
    S: Send + Sync,
    Arc<Authenticator>: FromRef<S>,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let authenticator = Arc::<Authenticator>::from_ref(state);
        let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            Problem::unauthenticated("send an API key as `Authorization: Bearer <key>`")
        })?;
        let value = value
            .to_str()
            .map_err(|_| Problem::unauthenticated("the Authorization header is not text"))?;
        let secret = match value.split_once(' ') {
            Some((scheme, rest))
                if scheme.eq_ignore_ascii_case("bearer") && !rest.trim().is_empty() =>
            {
                rest.trim()
            }
            _ => {
                return Err(Problem::unauthenticated(
                    "the Authorization header must be `Bearer <key>`",
                ));
            }
        };
        let principal = authenticator.authenticate(secret).await?;
        let bucket = principal
            .api_key_id
            .unwrap_or(principal.user_id)
            .to_string();
        let decision = authenticator.key_limits.check(&bucket);
        if let Some(slot) = parts.extensions.get::<DecisionSlot>() {
            slot.set(decision);
        }
        if !decision.allowed {
            let mut p = Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                "too many requests for this API key; slow down",
            );
            for (k, v) in decision.headers() {
                p = p.with_header(k, v);
            }
            return Err(p);
        }
        Ok(Caller(principal))
    }
}
