//! The commissions service's own settings, beside the runtime's (see
//! `prm_runtime::config`). Business rules (attribution windows, fraud
//! thresholds, hold periods, payout minimums) are per-program data set
//! through the API.

use prm_runtime::config::ServiceIdentity;
use serde::Deserialize;

pub const IDENTITY: ServiceIdentity = ServiceIdentity {
    name: "commissions",
    default_grpc_port: 50054,
};

#[derive(Clone, Debug, Deserialize)]
pub struct CommissionsSettings {
    /// `PRM_SWEEP_INTERVAL_SECS`: how often commissions past their hold
    /// period are approved and finished hours' click counts published.
    #[serde(default = "default_sweep_interval_secs")]
    pub sweep_interval_secs: u64,
}

fn default_sweep_interval_secs() -> u64 {
    60
}

impl Default for CommissionsSettings {
    fn default() -> Self {
        Self {
            sweep_interval_secs: default_sweep_interval_secs(),
        }
    }
}

/// Everything the commissions process is configured with.
pub type Settings = prm_runtime::config::ServiceSettings<CommissionsSettings>;
