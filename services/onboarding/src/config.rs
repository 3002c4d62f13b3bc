//! Onboarding's own settings, beside the runtime's (see `prm_runtime::config`).

use prm_runtime::config::ServiceIdentity;
use secrecy::SecretString;
use serde::Deserialize;

pub const IDENTITY: ServiceIdentity = ServiceIdentity {
    name: "onboarding",
    default_grpc_port: 50051,
};

#[derive(Clone, Debug, Deserialize)]
pub struct OnboardingSettings {
    /// `PRM_BOOTSTRAP_ADMIN_KEY`: when set, this secret is installed as the
    /// API key of a vendor admin, so a fresh deployment can be administered.
    #[serde(default)]
    pub bootstrap_admin_key: Option<SecretString>,
    /// How often tier rules are applied to every active partner.
    #[serde(default = "default_tier_review_secs")]
    pub tier_review_interval_secs: u64,
    /// How often expired certifications are announced.
    #[serde(default = "default_certification_sweep_secs")]
    pub certification_sweep_interval_secs: u64,
}

fn default_tier_review_secs() -> u64 {
    3_600
}

fn default_certification_sweep_secs() -> u64 {
    600
}

impl Default for OnboardingSettings {
    fn default() -> Self {
        Self {
            bootstrap_admin_key: None,
            tier_review_interval_secs: default_tier_review_secs(),
            certification_sweep_interval_secs: default_certification_sweep_secs(),
        }
    }
}

/// Everything the onboarding process is configured with.
pub type Settings = prm_runtime::config::ServiceSettings<OnboardingSettings>;
