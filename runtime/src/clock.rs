//! The time a service's rules see. Production reads the system clock;
//! tests move a service's clock forward (a claim deadline, a hold period,
//! an expiry) without waiting and without touching the handlers' code.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

/// The system clock, optionally shifted by an offset that only tests set.
/// Clones share the offset, so moving a test's clock moves the service's.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves this clock (and every clone of it) forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_move_together() {
        let clock = Clock::system();
        let seen_by_service = clock.clone();
        let before = seen_by_service.now();
        clock.advance(Duration::days(61));
        let moved = seen_by_service.now() - before;
        assert!(moved >= Duration::days(61), "moved {moved}");
        assert!(moved < Duration::days(61) + Duration::minutes(1));
    }
}
