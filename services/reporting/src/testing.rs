//! Running the service in-process for integration tests (feature
//! `testing`): a fresh database, its own NATS namespace, a free port, and
//! a clock the test can move.

use prm_runtime::Clock;
use prm_runtime::testing::TestEnv;
pub use prm_runtime::testing::{RunningService, SpawnOptions};

use crate::Application;
use crate::config::{IDENTITY, ReportingSettings, Settings};

/// Starts the service on `clock`; it may not be SERVING yet (see
/// [`RunningService::wait_serving`]).
pub async fn spawn(opts: SpawnOptions, clock: Clock) -> RunningService {
    let env = TestEnv::new(opts).await;
    let settings = Settings {
        runtime: env.runtime_settings(IDENTITY),
        service: ReportingSettings::default(),
    };
    let app = Application::build_on(settings, clock)
        .await
        .expect("build reporting");
    RunningService::start(env, app.host().handle(), app.run_until_stopped())
}
