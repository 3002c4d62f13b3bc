//! Deal registration's own settings, beside the runtime's (see
//! `prm_runtime::config`). Business policy (the approval SLA, protection
//! windows, extensions) is in `domain::policy`, not configuration.

use prm_runtime::config::ServiceIdentity;
use serde::Deserialize;

pub const IDENTITY: ServiceIdentity = ServiceIdentity {
    name: "dealreg",
    default_grpc_port: 50052,
};

#[derive(Clone, Debug, Deserialize)]
pub struct DealregSettings {
    /// `PRM_ONBOARDING_URL`: where onboarding's gRPC API is, to ask whether
    /// a partner may register deals.
    #[serde(default = "default_onboarding_url")]
    pub onboarding_url: String,
    /// `PRM_SWEEP_INTERVAL_SECS`: how often expiring and expired protection
    /// windows and breached approval SLAs are looked for.
    #[serde(default = "default_sweep_interval_secs")]
    pub sweep_interval_secs: u64,
}

fn default_sweep_interval_secs() -> u64 {
    300
}

fn default_onboarding_url() -> String {
    "http://127.0.0.1:50051".into()
}

impl Default for DealregSettings {
    fn default() -> Self {
        Self {
            onboarding_url: default_onboarding_url(),
            sweep_interval_secs: default_sweep_interval_secs(),
        }
    }
}

/// Everything the deal registration process is configured with.
pub type Settings = prm_runtime::config::ServiceSettings<DealregSettings>;
