//! Running the service in-process for integration tests (feature
//! `testing`): a fresh database, its own NATS namespace and a free port,
//! asking the onboarding instance at `onboarding_url` about partners.

use prm_runtime::Clock;
pub use prm_runtime::testing::{RunningService, SpawnOptions};

use crate::Dealreg;
use crate::config::DealregSettings;

/// Starts the service; it may not be SERVING yet (see
/// [`RunningService::wait_serving`]).
pub async fn spawn(opts: SpawnOptions, onboarding_url: &str) -> RunningService {
    let settings = DealregSettings {
        onboarding_url: onboarding_url.to_owned(),
        ..DealregSettings::default()
    };
    prm_runtime::testing::spawn::<Dealreg>(opts, settings, Clock::system()).await
}
