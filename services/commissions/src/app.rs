//! Commissions, declared: the API, the partner and deal events it
//! consumes, and its jobs. The runtime does the rest.

use prm_proto::commissions::commissions_service_server::CommissionsServiceServer;
use prm_runtime::config::ServiceIdentity;
use prm_runtime::{GrpcApi, Service, ServiceHost};
use sqlx::migrate::Migrator;

use crate::api::Commissions;
use crate::config::CommissionsSettings;
use crate::{events, jobs};

impl Service for Commissions {
    const IDENTITY: ServiceIdentity = crate::config::IDENTITY;
    type Settings = CommissionsSettings;

    fn migrator() -> Migrator {
        sqlx::migrate!("./migrations")
    }

    fn declare(host: &mut ServiceHost, settings: CommissionsSettings) -> anyhow::Result<GrpcApi> {
        host.consume("onboarding", Some("partner.*"), events::partner_events());
        host.consume("dealreg", Some("deal.*"), events::deal_events());
        jobs::schedule(host, &settings);
        Ok(host.serve(CommissionsServiceServer::new(Commissions::new(host))))
    }
}
