//! Deal registration, declared: the API (with its client of onboarding)
//! and the sweep. The runtime does the rest.

use prm_proto::dealreg::dealreg_service_server::DealregServiceServer;
use prm_runtime::config::ServiceIdentity;
use prm_runtime::{GrpcApi, Service, ServiceHost};
use sqlx::migrate::Migrator;

use crate::api::Dealreg;
use crate::config::DealregSettings;
use crate::jobs;
use crate::onboarding::Onboarding;

impl Service for Dealreg {
    const IDENTITY: ServiceIdentity = crate::config::IDENTITY;
    type Settings = DealregSettings;

    fn migrator() -> Migrator {
        sqlx::migrate!("./migrations")
    }

    fn declare(host: &mut ServiceHost, settings: DealregSettings) -> anyhow::Result<GrpcApi> {
        let service_token = host.settings().auth.service_token.clone();
        let onboarding = Onboarding::new(&settings.onboarding_url, service_token)?;
        jobs::schedule(host, &settings);
        Ok(host.serve(DealregServiceServer::new(Dealreg::new(host, onboarding))))
    }
}
