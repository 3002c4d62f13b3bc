//! Rate limits: per API key for authenticated calls, per client address
//! (and per program) for the public endpoints. Limits are kept per
//! gateway replica (the gateway holds no shared state), so a key's
//! effective limit is the configured one times the replica count.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

pub use prm_runtime::throttle::Decision;
use prm_runtime::throttle::KeyedLimit;

use crate::problem::Problem;

/// The `RateLimit` headers (and `Retry-After` when refused) of a decision.
pub fn headers(d: &Decision) -> Vec<(HeaderName, HeaderValue)> {
    let mut h = vec![
        (
            HeaderName::from_static("ratelimit-limit"),
            HeaderValue::from(d.limit),
        ),
        (
            HeaderName::from_static("ratelimit-remaining"),
            HeaderValue::from(d.remaining),
        ),
        (
            HeaderName::from_static("ratelimit-reset"),
            HeaderValue::from(d.reset_secs),
        ),
    ];
    if let Ok(v) = HeaderValue::from_str(&format!("{};w={}", d.limit, d.window_secs)) {
        h.push((HeaderName::from_static("ratelimit-policy"), v));
    }
    if !d.allowed {
        h.push((
            http::header::RETRY_AFTER,
            HeaderValue::from(d.retry_after_secs.max(1)),
        ));
    }
    h
}

/// So many requests per key (an API key's id, a client address, a
/// program) over a window: `governor`'s limiter behind the runtime's
/// [`KeyedLimit`].
pub struct RateLimiter(KeyedLimit<String>);

impl RateLimiter {
    /// `burst` requests at once, replenished evenly over `window`.
    pub fn new(burst: u32, window: Duration) -> Self {
        Self(KeyedLimit::new(burst, window))
    }

    /// `per_second` sustained, bursting to `burst`.
    pub fn per_second(per_second: u32, burst: u32) -> Self {
        let burst = burst.max(1);
        let window = Duration::from_secs_f64(f64::from(burst) / f64::from(per_second.max(1)));
        Self::new(burst, window)
    }

    pub fn check(&self, key: &str) -> Decision {
        self.0.check(&key.to_owned())
    }

    /// Takes one request from `key`'s allowance and records the decision
    /// in `slot` (for the response's headers); over the limit, a 429
    /// problem saying `refusal`, with `Retry-After`.
    pub fn admit(
        &self,
        key: &str,
        slot: Option<&DecisionSlot>,
        refusal: &str,
    ) -> Result<Decision, Problem> {
        let decision = self.check(key);
        if let Some(slot) = slot {
            slot.set(decision);
        }
        if decision.allowed {
            Ok(decision)
        } else {
            Err(refused(&decision, refusal))
        }
    }
}

/// The 429 problem of a refused decision, with its headers.
pub fn refused(decision: &Decision, message: &str) -> Problem {
    headers(decision).into_iter().fold(
        Problem::new(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED", message),
        |p, (k, v)| p.with_header(k, v),
    )
}

/// Where an extractor records the rate-limit decision of a request, so the
/// response carries the RateLimit headers.
#[derive(Clone, Default)]
pub struct DecisionSlot(pub Arc<Mutex<Option<Decision>>>);

impl DecisionSlot {
    pub fn set(&self, d: Decision) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(d);
    }
}

/// Adds RateLimit headers to responses of rate-limited routes.
pub async fn add_headers(mut req: Request, next: Next) -> Response {
    let slot = DecisionSlot::default();
    req.extensions_mut().insert(slot.clone());
    let mut res = next.run(req).await;
    let decision = *slot.0.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(d) = decision {
        for (k, v) in headers(&d) {
            res.headers_mut().entry(k).or_insert(v);
        }
    }
    res
}
