//! MDF, declared: the API, the partner and deal events it consumes and
//! its sweep. The
//! runtime does the rest.

use prm_proto::mdf::mdf_service_server::MdfServiceServer;
use prm_runtime::config::ServiceIdentity;
use prm_runtime::{GrpcApi, Service, ServiceHost};
use sqlx::migrate::Migrator;

use crate::api::Mdf;
use crate::config::MdfSettings;
use crate::{events, jobs};

impl Service for Mdf {
    const IDENTITY: ServiceIdentity = crate::config::IDENTITY;
    type Settings = MdfSettings;

    fn migrator() -> Migrator {
        sqlx::migrate!("./migrations")
    }

    fn declare(host: &mut ServiceHost, settings: MdfSettings) -> anyhow::Result<GrpcApi> {
        host.consume("onboarding", Some("partner.*"), events::partner_events());
        host.consume("dealreg", Some("deal.*"), events::deal_events());
        jobs::schedule(host, &settings);
        Ok(host.serve(MdfServiceServer::new(Mdf::new(host))))
    }
}
