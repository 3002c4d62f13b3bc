//! The gRPC API: `prm.commissions.v1.CommissionsService`.
//!
//! Each handler validates its whole input first (nothing is stored for a
//! bad request), checks who is calling, then does its work in one
//! transaction together with its ledger entries, outbox events and
//! idempotency record. A partner principal only ever reaches its own
//! links, conversions, commissions, ledger and postback log; another
//! partner's are NotFound. The gateway's own calls (resolving a link,
//! handing over clicks, relaying a postback) carry the service credential
//! and no principal; a postback is authenticated by its program's token
//! or signature here.

mod conversions;
mod convert;
mod links;
mod payouts;
mod postbacks;
mod programs;
mod reports;

use prm_proto::commissions::commissions_service_server::CommissionsService;
use prm_proto::commissions::*;
use prm_runtime::{ApiError, CallContext, Clock, Outbox, ServiceHost};
use sqlx::PgPool;

/// The commissions service's handlers and what they share.
#[derive(Clone)]
pub struct Commissions {
    db: PgPool,
    outbox: Outbox,
    clock: Clock,
}

impl Commissions {
    /// The handlers on `host`'s database, outbox and clock.
    pub fn new(host: &ServiceHost) -> Self {
        Self {
            db: host.pool().clone(),
            outbox: host.outbox().clone(),
            clock: host.clock().clone(),
        }
    }
}

/// Calls the gateway makes for the public: they carry no principal. A
/// user's principal may not make them (a partner must not forge clicks).
fn ensure_gateway_call(ctx: &CallContext) -> Result<(), ApiError> {
    match ctx.principal {
        None => Ok(()),
        Some(_) => Err(ApiError::permission_denied(
            "GATEWAY_ONLY",
            "this call is made by the gateway for public traffic, not by users",
        )),
    }
}

prm_runtime::grpc_service! {
    impl CommissionsService for Commissions {
        put_program_settings(PutProgramSettingsRequest) -> PutProgramSettingsResponse: "commission_settings.write";
        get_program_settings(GetProgramSettingsRequest) -> GetProgramSettingsResponse: "commission_settings.read";
        create_plan(CreatePlanRequest) -> CreatePlanResponse: "plans.write";
        list_plans(ListPlansRequest) -> ListPlansResponse: "plans.read";
        create_link(CreateLinkRequest) -> CreateLinkResponse: "links.write";
        list_links(ListLinksRequest) -> ListLinksResponse: "links.read";
        disable_link(DisableLinkRequest) -> DisableLinkResponse: "links.write";
        resolve_link(ResolveLinkRequest) -> ResolveLinkResponse: "gateway";
        record_clicks(RecordClicksRequest) -> RecordClicksResponse: "gateway";
        record_postback(RecordPostbackRequest) -> RecordPostbackResponse: "gateway";
        list_conversions(ListConversionsRequest) -> ListConversionsResponse: "conversions.read";
        release_conversion(ReleaseConversionRequest) -> ReleaseConversionResponse: "conversions.write";
        reject_conversion(RejectConversionRequest) -> RejectConversionResponse: "conversions.write";
        list_commissions(ListCommissionsRequest) -> ListCommissionsResponse: "commissions.read";
        get_ledger(GetLedgerRequest) -> GetLedgerResponse: "ledger.read";
        list_postback_log(ListPostbackLogRequest) -> ListPostbackLogResponse: "postback_log.read";
        put_payout_profile(PutPayoutProfileRequest) -> PutPayoutProfileResponse: "payout_profiles.write";
        get_payout_profile(GetPayoutProfileRequest) -> GetPayoutProfileResponse: "payout_profiles.read";
        create_payout_batch(CreatePayoutBatchRequest) -> CreatePayoutBatchResponse: "payouts.write";
        get_payout_batch(GetPayoutBatchRequest) -> GetPayoutBatchResponse: "payouts.read";
        mark_payout_batch_processing(MarkPayoutBatchProcessingRequest) -> MarkPayoutBatchProcessingResponse: "payouts.write";
        mark_payout_batch_paid(MarkPayoutBatchPaidRequest) -> MarkPayoutBatchPaidResponse: "payouts.write";
        mark_payout_batch_failed(MarkPayoutBatchFailedRequest) -> MarkPayoutBatchFailedResponse: "payouts.write";
        cancel_payout_batch(CancelPayoutBatchRequest) -> CancelPayoutBatchResponse: "payouts.write";
        export_payout_batch(ExportPayoutBatchRequest) -> ExportPayoutBatchResponse: "payouts.read";
    }
}
