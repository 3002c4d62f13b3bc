//! The gRPC API: `prm.reporting.v1.ReportingService`.
//!
//! Reads come from the read models only. A partner principal reaches its
//! own scorecard and its own credit shares; another partner's are
//! NotFound. The program view, exports, models, lag and rebuilds are for
//! staff.

mod admin;
mod attribution;
mod convert;
mod scorecards;

use std::sync::Arc;

use async_nats::jetstream;
use prm_proto::reporting::reporting_service_server::ReportingService;
use prm_proto::reporting::*;
use prm_runtime::inbox::ConsumerStats;
use prm_runtime::nats::Subjects;
use prm_runtime::{Clock, Outbox, ServiceHost};

use sqlx::PgPool;

/// The reporting service's handlers and what they share.
#[derive(Clone)]
pub struct Reporting {
    db: PgPool,
    outbox: Outbox,
    clock: Clock,
    js: jetstream::Context,
    subjects: Subjects,
    /// This replica's consumers' counters, by source.
    consumers: Vec<(&'static str, Arc<ConsumerStats>)>,
}

impl Reporting {
    /// The handlers on `host`'s database, outbox, clock and NATS, watching
    /// the consumers declared on it so far.
    pub fn new(host: &ServiceHost) -> Self {
        Self {
            db: host.pool().clone(),
            outbox: host.outbox().clone(),
            clock: host.clock().clone(),
            js: prm_runtime::nats::jetstream(host.nats().clone()),
            subjects: host.subjects().clone(),
            consumers: host.handle().consumers,
        }
    }
}

prm_runtime::grpc_service! {
    impl ReportingService for Reporting {
        get_partner_scorecard(GetPartnerScorecardRequest) -> GetPartnerScorecardResponse: "reports.read";
        get_program_report(GetProgramReportRequest) -> GetProgramReportResponse: "reports.read";
        get_deal_attribution(GetDealAttributionRequest) -> GetDealAttributionResponse: "reports.read";
        create_attribution_model(CreateAttributionModelRequest) -> CreateAttributionModelResponse: "attribution_models.write";
        list_attribution_models(ListAttributionModelsRequest) -> ListAttributionModelsResponse: "attribution_models.read";
        export_scorecards(ExportScorecardsRequest) -> ExportScorecardsResponse: "reports.read";
        get_lag(GetLagRequest) -> GetLagResponse: "reports.read";
        rebuild_read_models(RebuildReadModelsRequest) -> RebuildReadModelsResponse: "reports.write";
    }
}
