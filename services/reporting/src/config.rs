//! The reporting service's own settings, beside the runtime's (see
//! `prm_runtime::config`). It has none yet: attribution models are data
//! staff set through the API.

use prm_runtime::config::ServiceIdentity;
use serde::Deserialize;

pub const IDENTITY: ServiceIdentity = ServiceIdentity {
    name: "reporting",
    default_grpc_port: 50055,
};

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ReportingSettings {}

/// Everything the reporting process is configured with.
pub type Settings = prm_runtime::config::ServiceSettings<ReportingSettings>;
