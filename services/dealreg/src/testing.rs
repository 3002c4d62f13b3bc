//! Running the service in-process for integration tests (feature
//! `testing`): a fresh database, its own NATS namespace and a free port,
//! asking the onboarding instance at `onboarding_url` about partners.

use prm_runtime::testing::TestEnv;
pub use prm_runtime::testing::{RunningService, SpawnOptions};

use crate::Application;
use crate::config::{DealregSettings, IDENTITY, Settings};

/// Starts the service; it may not be SERVING yet (see
/// [`RunningService::wait_serving`]).
pub async fn spawn(opts: SpawnOptions, onboarding_url: &str) -> RunningService {
    let env = TestEnv::new(opts).await;
    let settings = Settings {
        runtime: env.runtime_settings(IDENTITY),
        service: DealregSettings {
            onboarding_url: onboarding_url.to_owned(),
            ..DealregSettings::default()
        },
    };
    let app = Application::build(settings).await.expect("build dealreg");
    RunningService::start(env, app.host().handle(), app.run_until_stopped())
}
