//! Running the service in-process for integration tests (feature
//! `testing`): a fresh database, its own NATS namespace, a free port and a
//! bootstrap admin key. Used by this crate's tests and the end-to-end tests.

use prm_runtime::Clock;
pub use prm_runtime::testing::{RunningService, SpawnOptions};
use secrecy::SecretString;

use crate::Onboarding;
use crate::config::OnboardingSettings;

/// The admin key every test instance installs.
pub const BOOTSTRAP_KEY: &str = "test-bootstrap-admin-key-0123456789";

/// Starts the service; it may not be SERVING yet (see
/// [`RunningService::wait_serving`]).
pub async fn spawn(opts: SpawnOptions) -> RunningService {
    let settings = OnboardingSettings {
        bootstrap_admin_key: Some(SecretString::from(BOOTSTRAP_KEY)),
        ..OnboardingSettings::default()
    };
    prm_runtime::testing::spawn::<Onboarding>(opts, settings, Clock::system()).await
}
