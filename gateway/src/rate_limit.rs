//! Token-bucket rate limits: per API key for authenticated calls, per
//! client address for the public application form. Limits are kept per
//! gateway replica (the gateway holds no shared state), so a key's
//! effective limit is the configured one times the replica count.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The outcome of one check, and what the RateLimit headers say.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
    /// Seconds until one more request is allowed (when refused).
    pub retry_after_secs: u64,
    /// The policy window in seconds, for `RateLimit-Policy`.
    pub window_secs: u64,
}

impl Decision {
    pub fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let mut h = vec![
            (
                HeaderName::from_static("ratelimit-limit"),
                HeaderValue::from(self.limit),
            ),
            (
                HeaderName::from_static("ratelimit-remaining"),
                HeaderValue::from(self.remaining),
            ),
            (
                HeaderName::from_static("ratelimit-reset"),
                HeaderValue::from(self.reset_secs),
            ),
        ];
        if let Ok(v) = HeaderValue::from_str(&format!("{};w={}", self.limit, self.window_secs)) {
            h.push((HeaderName::from_static("ratelimit-policy"), v));
        }
        if !self.allowed {
            h.push((
                http::header::RETRY_AFTER,
                HeaderValue::from(self.retry_after_secs.max(1)),
            ));
        }
        h
    }
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

pub struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
    per_second: f64,
    burst: f64,
    window_secs: u64,
}

impl RateLimiter {
    /// `per_second` sustained, bursting to `burst`.
    pub fn new(per_second: f64, burst: u32, window_secs: u64) -> Self {
        Self {
            buckets: Mutex::new(HashMap::new()),
            per_second: per_second.max(0.000_1),
            burst: f64::from(burst.max(1)),
            window_secs,
        }
    }

    pub fn check(&self, key: &str) -> Decision {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: &str, now: Instant) -> Decision {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > 100_000 {
            // Forget full buckets: they behave exactly like new ones.
            let (rate, burst) = (self.per_second, self.burst);
            buckets
                .retain(|_, b| b.tokens + now.duration_since(b.last).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.burst);
        bucket.last = now;
        let allowed = bucket.tokens >= 1.0;
        if allowed {
            bucket.tokens -= 1.0;
        }
        let missing = self.burst - bucket.tokens;
        Decision {
            allowed,
            limit: self.burst as u32,
            remaining: bucket.tokens.floor().max(0.0) as u32,
            reset_secs: (missing / self.per_second).ceil() as u64,
            retry_after_secs: ((1.0 - bucket.tokens).max(0.0) / self.per_second).ceil() as u64,
            window_secs: self.window_secs,
        }
    }
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
        for (k, v) in d.headers() {
            res.headers_mut().entry(k).or_insert(v);
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bursts_then_refills() {
        let l = RateLimiter::new(2.0, 3, 1);
        let t0 = Instant::now();
        for remaining in [2, 1, 0] {
            let d = l.check_at("k", t0);
            assert!(d.allowed);
            assert_eq!(d.remaining, remaining);
        }
        let refused = l.check_at("k", t0);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after_secs, 1);
        // Another key has its own bucket.
        assert!(l.check_at("other", t0).allowed);
        // Half a second later one token is back.
        assert!(l.check_at("k", t0 + Duration::from_millis(500)).allowed);
        assert!(!l.check_at("k", t0 + Duration::from_millis(500)).allowed);
    }
}
