//! Reporting, declared: the API and one consumer per stream it reads. The
//! runtime does the rest.

use prm_proto::reporting::reporting_service_server::ReportingServiceServer;
use prm_runtime::config::{NoSettings, ServiceIdentity};
use prm_runtime::{GrpcApi, Service, ServiceHost};
use sqlx::migrate::Migrator;

use crate::api::Reporting;
use crate::events::{self, SOURCES};

impl Service for Reporting {
    const IDENTITY: ServiceIdentity = crate::config::IDENTITY;
    type Settings = NoSettings;

    fn migrator() -> Migrator {
        sqlx::migrate!("./migrations")
    }

    fn declare(host: &mut ServiceHost, _: NoSettings) -> anyhow::Result<GrpcApi> {
        // Set on each connection as it opens (no round trip per request):
        // the figures statement costs more to plan than to run for one
        // partner, so each connection plans it once; and its medians sort
        // in memory. The pool has opened no connection yet.
        let pool = host.pool();
        pool.set_connect_options((*pool.connect_options()).clone().options([
            ("plan_cache_mode", "force_generic_plan"),
            ("work_mem", "32MB"),
        ]));
        for (source, routes) in SOURCES.into_iter().zip(events::routes()) {
            host.consume(source, None, routes);
        }
        Ok(host.serve(ReportingServiceServer::new(Reporting::new(host))))
    }
}
