//! MDF's own settings, beside the runtime's (see `prm_runtime::config`).
//! Business rules (claim windows, reimbursement rates, accrual tiers and
//! grace periods) are data on budgets and funds, set through the API.

use prm_runtime::config::ServiceIdentity;
use serde::Deserialize;

pub const IDENTITY: ServiceIdentity = ServiceIdentity {
    name: "mdf",
    default_grpc_port: 50053,
};

#[derive(Clone, Debug, Deserialize)]
pub struct MdfSettings {
    /// `PRM_SWEEP_INTERVAL_SECS`: how often expired accrual funds and
    /// requests past their claim deadline are looked for.
    #[serde(default = "default_sweep_interval_secs")]
    pub sweep_interval_secs: u64,
}

fn default_sweep_interval_secs() -> u64 {
    300
}

impl Default for MdfSettings {
    fn default() -> Self {
        Self {
            sweep_interval_secs: default_sweep_interval_secs(),
        }
    }
}

/// Everything the MDF process is configured with.
pub type Settings = prm_runtime::config::ServiceSettings<MdfSettings>;
