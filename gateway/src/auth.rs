//! Authentication: `Authorization: Bearer <API key>`, resolved through
//! onboarding's `Authenticate` and cached briefly (a revocation takes effect
//! within the cache TTL), then rate limited per key.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use prm_proto::onboarding::AuthenticateRequest;
use prm_runtime::{Principal, Role};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::problem::Problem;
use crate::rate_limit::DecisionSlot;
use crate::state::AppState;

#[derive(Clone)]
enum Cached {
    Valid(Principal, Instant),
    Invalid(Instant),
}

/// Caches `Authenticate` results by the SHA-256 of the key.
pub struct Authenticator {
    cache: RwLock<HashMap<[u8; 32], Cached>>,
    ttl: Duration,
    capacity: usize,
}

impl Authenticator {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            cache: RwLock::new(HashMap::new()),
            ttl,
            capacity: capacity.max(1),
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

    pub async fn authenticate(&self, state: &AppState, secret: &str) -> Result<Principal, Problem> {
        let digest: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        match self.cached(&digest) {
            Some(Ok(p)) => return Ok(p),
            Some(Err(())) => return Err(invalid_key()),
            None => {}
        }
        let req = state.grpc(
            AuthenticateRequest {
                secret: secret.to_owned(),
            },
            None,
            None,
        );
        match state.onboarding().authenticate(req).await {
            Ok(resp) => {
                let p = resp.into_inner().principal.ok_or_else(Problem::internal)?;
                let principal = principal_from_proto(&p).ok_or_else(Problem::internal)?;
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

pub fn role_from_proto(r: i32) -> Option<Role> {
    use prm_proto::onboarding::Role as R;
    Some(match R::try_from(r).ok()? {
        R::Admin => Role::Admin,
        R::PartnerManager => Role::PartnerManager,
        R::Finance => Role::Finance,
        R::Marketing => Role::Marketing,
        R::Analyst => Role::Analyst,
        R::PartnerAdmin => Role::PartnerAdmin,
        R::PartnerUser => Role::PartnerUser,
        R::Unspecified => return None,
    })
}

fn principal_from_proto(p: &prm_proto::onboarding::Principal) -> Option<Principal> {
    Some(Principal {
        user_id: Uuid::parse_str(&p.user_id).ok()?,
        partner_id: if p.partner_id.is_empty() {
            None
        } else {
            Some(Uuid::parse_str(&p.partner_id).ok()?)
        },
        roles: p.roles.iter().filter_map(|r| role_from_proto(*r)).collect(),
        api_key_id: Uuid::parse_str(&p.api_key_id).ok(),
    })
}

/// An authenticated caller within its rate limit. Handlers that take a
/// `Caller` are authenticated routes; the few public routes do not.
#[derive(Clone, Debug)]
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
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
        let principal = state.authenticator().authenticate(state, secret).await?;
        let bucket = principal
            .api_key_id
            .unwrap_or(principal.user_id)
            .to_string();
        let decision = state.key_limits().check(&bucket);
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
