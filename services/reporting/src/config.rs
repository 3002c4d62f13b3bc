//! The reporting service's identity. It has no settings of its own beyond
//! the runtime's: attribution models are data staff set through the API.

use prm_runtime::config::{NoSettings, ServiceIdentity};

pub const IDENTITY: ServiceIdentity = ServiceIdentity {
    name: "reporting",
    default_grpc_port: 50055,
};

/// Everything the reporting process is configured with.
pub type Settings = prm_runtime::config::ServiceSettings<NoSettings>;
