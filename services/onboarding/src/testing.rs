//! Running the service in-process for integration tests (feature
//! `testing`): a fresh database, its own NATS namespace, a free port and a
//! bootstrap admin key. Used by this crate's tests and the end-to-end tests.

use prm_runtime::testing::TestEnv;
pub use prm_runtime::testing::{RunningService, SpawnOptions};
use secrecy::SecretString;

use crate::Application;
use crate::config::{IDENTITY, OnboardingSettings, Settings};

/// The admin key every test instance installs.
pub const BOOTSTRAP_KEY: &str = "test-bootstrap-admin-key-0123456789";

/// Starts the service; it may not be SERVING yet (see
/// [`RunningService::wait_serving`]).
pub async fn spawn(opts: SpawnOptions) -> RunningService {
    let env = TestEnv::new(opts).await;
    let settings = Settings {
        runtime: env.runtime_settings(IDENTITY),
        service: OnboardingSettings {
            bootstrap_admin_key: Some(SecretString::from(BOOTSTRAP_KEY)),
            ..OnboardingSettings::default()
        },
    };
    let app = Application::build(settings)
        .await
        .expect("build onboarding");
    RunningService::start(env, app.host().handle(), app.run_until_stopped())
}
