//! Running the service in-process for integration tests (feature
//! `testing`): a fresh database, its own NATS namespace, a free port, and
//! a clock the test can move.

use prm_runtime::Clock;
pub use prm_runtime::testing::{RunningService, SpawnOptions};

use crate::Reporting;

/// Starts the service on `clock`; it may not be SERVING yet (see
/// [`RunningService::wait_serving`]).
pub async fn spawn(opts: SpawnOptions, clock: Clock) -> RunningService {
    prm_runtime::testing::spawn::<Reporting>(opts, Default::default(), clock).await
}
