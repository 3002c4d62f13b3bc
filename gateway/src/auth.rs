//! Authentication: `Authorization: Bearer <API key>`, resolved through
//! onboarding's `Authenticate` and cached briefly (a revocation takes effect
//! within the cache TTL), then rate limited per key. Failed authentications
//! are throttled per client address before any lookup: an address that
//! spent its failures is answered 429 without onboarding being asked
//! (keys it used successfully before are still looked up, so a valid
//! integration behind the same address is not locked out).
//!
//! The [`Authenticator`] is given what it needs when it is built (the
//! identity owner's client, the outbound request builder, the per-key
//! limits); handlers reach it through [`Caller`], which any router state
//! that can lend an `Arc<Authenticator>` supports.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::upstream::UpstreamChannel;
use axum::extract::{FromRef, FromRequestParts, MatchedPath};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use prm_proto::onboarding::AuthenticateRequest;
use prm_proto::onboarding::onboarding_service_client::OnboardingServiceClient;
use prm_runtime::Principal;
use prm_runtime::auth::missing_scope;
use prm_runtime::throttle::FailureThrottle;
use sha2::{Digest, Sha256};

use crate::extract::client_ip;
use crate::problem::Problem;
use crate::rate_limit::{DecisionSlot, RateLimiter, refused};
use crate::scopes::RouteScopes;
use crate::upstream::Outbound;

/// A key's SHA-256: what the cache is keyed by (never the secret).
type KeyDigest = [u8; 32];

/// A bounded map that, when full, forgets its oldest entries first (by
/// the time each was last stored), one at a time, never all at once.
struct AgedMap<V> {
    entries: HashMap<KeyDigest, (V, Instant)>,
    /// Insertion order; records made stale by a later store are skipped.
    order: VecDeque<(KeyDigest, Instant)>,
    capacity: usize,
}

impl<V> AgedMap<V> {
    fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    fn get(&self, k: &KeyDigest) -> Option<&V> {
        self.entries.get(k).map(|(v, _)| v)
    }

    fn insert(&mut self, k: KeyDigest, v: V, now: Instant) {
        self.entries.insert(k, (v, now));
        self.order.push_back((k, now));
        while self.entries.len() > self.capacity {
            let Some((old, at)) = self.order.pop_front() else {
                break;
            };
            if self
                .entries
                .get(&old)
                .is_some_and(|(_, stored)| *stored == at)
            {
                self.entries.remove(&old);
            }
        }
        if self.order.len() > 2 * self.capacity {
            let entries = &self.entries;
            self.order
                .retain(|(k, at)| entries.get(k).is_some_and(|(_, stored)| stored == at));
        }
    }

    fn len(&self) -> usize {
        self.entries.len()
    }
}

/// A key onboarding accepted: the principal is served until `fresh_until`
/// (the cache TTL, so a revocation takes effect within it); the key stays
/// `known` longer, which only exempts it from the failure throttle (it is
/// still looked up).
#[derive(Clone)]
struct ValidKey {
    principal: Principal,
    fresh_until: Instant,
    known_until: Instant,
}

/// How long a key that was valid exempts its caller from the failure
/// throttle: a partner's integration keeps working while someone floods
/// the same address (an office's NAT) with bad keys.
const KNOWN_KEY: Duration = Duration::from_secs(24 * 3600);

/// What the authenticator did, for the metrics and for tests.
#[derive(Debug, Default)]
pub struct AuthStats {
    /// Keys sent to onboarding.
    pub lookups: AtomicU64,
    /// Requests answered from the cache of valid keys.
    pub cache_hits: AtomicU64,
    /// Failed authentications (unknown, revoked or malformed keys).
    pub failures: AtomicU64,
    /// Requests refused by the failure throttle without a lookup.
    pub throttled: AtomicU64,
}

/// Resolves API keys through the identity owner, caching results by the
/// SHA-256 of the key, throttles failed authentication per client address,
/// and holds the per-key rate limits.
pub struct Authenticator {
    identity: OnboardingServiceClient<UpstreamChannel>,
    outbound: Outbound,
    valid: Mutex<AgedMap<ValidKey>>,
    /// Keys onboarding refused, kept apart so that a flood of random keys
    /// can never push a valid key out.
    invalid: Mutex<AgedMap<Instant>>,
    ttl: Duration,
    key_limits: RateLimiter,
    failures: FailureThrottle,
    trusted_proxy_hops: usize,
    route_scopes: RouteScopes,
    stats: AuthStats,
}

/// How the [`Authenticator`] caches and throttles.
pub struct AuthPolicy {
    pub ttl: Duration,
    pub capacity: usize,
    pub negative_capacity: usize,
    pub key_limits: RateLimiter,
    pub failures: FailureThrottle,
    /// Proxies in front of the gateway that append to `X-Forwarded-For`.
    pub trusted_proxy_hops: usize,
    /// The scope each route needs.
    pub route_scopes: RouteScopes,
}

impl Authenticator {
    pub fn new(
        identity: OnboardingServiceClient<UpstreamChannel>,
        outbound: Outbound,
        policy: AuthPolicy,
    ) -> Self {
        Self {
            identity,
            outbound,
            valid: Mutex::new(AgedMap::new(policy.capacity)),
            invalid: Mutex::new(AgedMap::new(policy.negative_capacity)),
            ttl: policy.ttl,
            key_limits: policy.key_limits,
            failures: policy.failures,
            trusted_proxy_hops: policy.trusted_proxy_hops,
            route_scopes: policy.route_scopes,
            stats: AuthStats::default(),
        }
    }

    pub fn stats(&self) -> &AuthStats {
        &self.stats
    }

    /// Valid keys cached now (fresh or only known).
    pub fn cached_keys(&self) -> usize {
        self.valid.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn failed(&self, from: IpAddr) -> Problem {
        self.stats.failures.fetch_add(1, Ordering::Relaxed);
        self.failures.failed(from);
        invalid_key()
    }

    /// The principal of `secret`, presented from `from`. Answers are
    /// cached per key and address, since a key's allow-list makes its
    /// answer depend on where it comes from.
    pub async fn authenticate(&self, secret: &str, from: IpAddr) -> Result<Principal, Problem> {
        let address = match from {
            IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
            IpAddr::V6(v6) => v6.octets(),
        };
        let digest: KeyDigest = Sha256::new()
            .chain_update(secret.as_bytes())
            .chain_update([0])
            .chain_update(address)
            .finalize()
            .into();
        let now = Instant::now();
        let known = {
            let valid = self.valid.lock().unwrap_or_else(|e| e.into_inner());
            match valid.get(&digest) {
                Some(k) if k.fresh_until > now => {
                    self.stats.cache_hits.fetch_add(1, Ordering::Relaxed);
                    return Ok(k.principal.clone());
                }
                Some(k) => k.known_until > now,
                None => false,
            }
        };
        if !known && let Some(wait) = self.failures.refused(from) {
            self.stats.throttled.fetch_add(1, Ordering::Relaxed);
            return Err(throttled(wait));
        }
        let cached_invalid = self
            .invalid
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&digest)
            .is_some_and(|until| *until > now);
        if cached_invalid {
            return Err(self.failed(from));
        }
        // Authenticating only reads (and notes a key's first use, which
        // is idempotent): safe to send again whatever the caller's method.
        let req = self.outbound.read_request(AuthenticateRequest {
            secret: secret.to_owned(),
            client_ip: from.to_string(),
        });
        self.stats.lookups.fetch_add(1, Ordering::Relaxed);
        match self.identity.clone().authenticate(req).await {
            Ok(resp) => {
                let p = resp.into_inner().principal.ok_or_else(Problem::internal)?;
                let principal = Principal::from_proto(&p).map_err(|e| {
                    tracing::error!(error = %e, "onboarding returned an unreadable principal");
                    Problem::internal()
                })?;
                let now = Instant::now();
                self.valid.lock().unwrap_or_else(|e| e.into_inner()).insert(
                    digest,
                    ValidKey {
                        principal: principal.clone(),
                        fresh_until: now + self.ttl,
                        known_until: now + KNOWN_KEY,
                    },
                    now,
                );
                Ok(principal)
            }
            Err(s) if s.code() == tonic::Code::Unauthenticated => {
                let now = Instant::now();
                self.invalid
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(digest, now + self.ttl, now);
                Err(self.failed(from))
            }
            Err(s) => Err(Problem::from(s)),
        }
    }
}

fn invalid_key() -> Problem {
    Problem::unauthenticated("the API key is invalid or revoked")
}

fn throttled(wait: Duration) -> Problem {
    Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        "TOO_MANY_FAILED_ATTEMPTS",
        "too many failed authentications from this address; try again later",
    )
    .with_header(
        header::RETRY_AFTER,
        HeaderValue::from(wait.as_secs().max(1)),
    )
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
        let from = client_ip(
            authenticator.trusted_proxy_hops,
            &parts.headers,
            &parts.extensions,
        );
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
        let principal = authenticator.authenticate(secret, from).await?;
        let required = parts.extensions.get::<MatchedPath>().and_then(|m| {
            authenticator
                .route_scopes
                .required(&parts.method, m.as_str())
        });
        match required {
            Some(scope) if principal.scopes.allows(scope) => {}
            Some(scope) => return Err(Problem::from(tonic::Status::from(missing_scope(scope)))),
            None => {
                tracing::error!(method = %parts.method, "an authenticated route declares no scope");
                return Err(Problem::from(tonic::Status::from(missing_scope(
                    "(undeclared)",
                ))));
            }
        }
        let bucket = principal
            .api_key_id
            .unwrap_or(principal.user_id)
            .to_string();
        let decision = authenticator.key_limits.check(&bucket);
        if let Some(slot) = parts.extensions.get::<DecisionSlot>() {
            slot.set(decision);
        }
        if !decision.allowed {
            return Err(refused(
                &decision,
                "too many requests for this API key; slow down",
            ));
        }
        Ok(Caller(principal))
    }
}
