//! Keyed request limits and the throttle of failed authentication, on
//! `governor`'s GCRA limiter (a maintained, lock-light implementation of
//! the token bucket), with idle keys evicted as the maps grow.
//!
//! - [`KeyedLimit`]: so many requests per key (an API key, a client
//!   address, a program), answering with what the `RateLimit` headers say.
//! - [`FailureThrottle`]: so many failed authentications per client
//!   address. Only failures count, so a caller with a valid credential is
//!   never slowed by them; once an address has spent its failures it is
//!   refused before its credential is even looked at, until one failure
//!   has been forgiven.
//!
//! Both are per process: a deployment's effective limit is the configured
//! one times the replicas behind the load balancer.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use governor::clock::{Clock as _, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

/// After this many checks a limiter forgets its idle keys (those whose
/// bucket is full again, which behave exactly like new ones).
const EVICT_EVERY: u64 = 4096;

/// The outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decision {
    pub allowed: bool,
    /// The burst: requests allowed at once.
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
    /// Seconds until one more request is allowed (when refused).
    pub retry_after_secs: u64,
    /// The policy window in seconds (the time a full burst takes to
    /// replenish), for `RateLimit-Policy`.
    pub window_secs: u64,
}

type Limiter<K> =
    RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// So many requests per key: `burst` at once, replenished evenly over
/// `window`.
pub struct KeyedLimit<K: Hash + Eq + Clone = String> {
    limiter: Limiter<K>,
    quota: Quota,
    checks: AtomicU64,
}

impl<K: Hash + Eq + Clone> KeyedLimit<K> {
    /// `burst` requests per `window` (both at least 1 and 1 ms).
    pub fn new(burst: u32, window: Duration) -> Self {
        let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
        let window = window.max(Duration::from_millis(1));
        let quota = Quota::with_period(window / burst.get())
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Self {
            limiter: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            quota,
            checks: AtomicU64::new(0),
        }
    }

    /// Takes one request from `key`'s allowance.
    pub fn check(&self, key: &K) -> Decision {
        if self.checks.fetch_add(1, Ordering::Relaxed) % EVICT_EVERY == EVICT_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        let period = self.quota.replenish_interval();
        let limit = self.quota.burst_size().get();
        let window_secs = (period * limit).as_secs().max(1);
        match self.limiter.check_key(key) {
            Ok(state) => {
                let remaining = state.remaining_burst_capacity();
                Decision {
                    allowed: true,
                    limit,
                    remaining,
                    reset_secs: ceil_secs(period * (limit - remaining)),
                    retry_after_secs: 0,
                    window_secs,
                }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                Decision {
                    allowed: false,
                    limit,
                    remaining: 0,
                    reset_secs: ceil_secs(period * limit),
                    retry_after_secs: ceil_secs(wait).max(1),
                    window_secs,
                }
            }
        }
    }

    /// Keys currently remembered (idle ones are evicted as checks go on).
    pub fn len(&self) -> usize {
        self.limiter.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// The unit a client is counted by: its IPv4 address, or the /64 of its
/// IPv6 address (one subscriber's network; an attacker holds a whole /64).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(bits))
            }
        },
        v4 => v4,
    }
}

/// Failed authentications per client address (see the module docs).
pub struct FailureThrottle {
    failures: KeyedLimit<IpAddr>,
    /// Addresses that spent their failures, and until when they are refused.
    refused: Mutex<HashMap<IpAddr, Instant>>,
    refusals: AtomicU64,
}

impl FailureThrottle {
    /// `burst` failures at once, one more forgiven every `window / burst`.
    pub fn new(burst: u32, window: Duration) -> Self {
        Self {
            failures: KeyedLimit::new(burst, window),
            refused: Mutex::new(HashMap::new()),
            refusals: AtomicU64::new(0),
        }
    }

    /// How long `ip` must wait before its next credential is looked at, or
    /// `None` when it may try.
    pub fn refused(&self, ip: IpAddr) -> Option<Duration> {
        let key = client_key(ip);
        let now = Instant::now();
        let refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        let until = refused.get(&key).copied().filter(|until| *until > now)?;
        self.refusals.fetch_add(1, Ordering::Relaxed);
        Some(until - now)
    }

    /// Counts a failed authentication from `ip`: once its allowance is
    /// spent, the address is refused until one failure is forgiven.
    pub fn failed(&self, ip: IpAddr) {
        let key = client_key(ip);
        let d = self.failures.check(&key);
        if d.allowed && d.remaining > 0 {
            return;
        }
        let wait = if d.allowed {
            self.failures.quota.replenish_interval()
        } else {
            Duration::from_secs(d.retry_after_secs)
        };
        let now = Instant::now();
        let mut refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        if refused.len() >= 10_000 {
            refused.retain(|_, until| *until > now);
        }
        refused.insert(key, now + wait);
    }

    /// Requests refused so far without their credential being looked at.
    pub fn refusals(&self) -> u64 {
        self.refusals.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_bursts_then_refills_per_key() {
        let l = KeyedLimit::<String>::new(3, Duration::from_millis(300));
        for remaining in [2, 1, 0] {
            let d = l.check(&"k".to_owned());
            assert!(d.allowed);
            assert_eq!(d.remaining, remaining);
        }
        let refused = l.check(&"k".to_owned());
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after_secs, 1);
        assert!(
            l.check(&"other".to_owned()).allowed,
            "another key has its own"
        );
        std::thread::sleep(Duration::from_millis(150));
        assert!(l.check(&"k".to_owned()).allowed, "one request is back");
    }

    #[test]
    fn failures_refuse_an_address_once_spent_and_never_another() {
        let t = FailureThrottle::new(3, Duration::from_secs(60));
        let a: IpAddr = "203.0.113.7".parse().expect("ip");
        let b: IpAddr = "203.0.113.8".parse().expect("ip");
        for _ in 0..2 {
            t.failed(a);
            assert_eq!(t.refused(a), None);
        }
        t.failed(a);
        let wait = t.refused(a).expect("refused after its third failure");
        assert!(wait <= Duration::from_secs(20), "{wait:?}");
        assert_eq!(t.refused(b), None);
        assert_eq!(t.refusals(), 1);
    }

    #[test]
    fn ipv6_is_counted_per_64_and_mapped_v4_as_v4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("ip");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:198.51.100.4".parse().expect("ip");
        assert_eq!(
            client_key(mapped),
            "198.51.100.4".parse::<IpAddr>().expect("ip")
        );
    }
}
