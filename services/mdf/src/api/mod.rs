//! The gRPC API: `prm.mdf.v1.MdfService`.
//!
//! Each handler validates its whole input first (nothing is stored for a
//! bad request), checks who is calling, then does its work in one
//! transaction together with its ledger entries, outbox events and
//! idempotency record. A partner principal only ever reaches its own funds,
//! requests and claims; another partner's are NotFound, so ids cannot be
//! probed. Partners never allocate, approve or decide anything.

mod budgets;
mod claims;
pub mod convert;
mod funds;
mod requests;

use prm_proto::mdf::mdf_service_server::MdfService;
use prm_proto::mdf::*;
use prm_runtime::{ApiError, Clock, Outbox, Principal, ServiceHost, auth::STAFF};
use sqlx::PgPool;
use uuid::Uuid;

/// The MDF service's handlers and what they share.
#[derive(Clone)]
pub struct Mdf {
    db: PgPool,
    outbox: Outbox,
    clock: Clock,
}

impl Mdf {
    /// The handlers on `host`'s database, outbox and clock.
    pub fn new(host: &ServiceHost) -> Self {
        Self {
            db: host.pool().clone(),
            outbox: host.outbox().clone(),
            clock: host.clock().clone(),
        }
    }
}

/// A partner reaches only its own rows; staff reach every partner's. Anyone
/// else, or another partner, is told the resource does not exist.
fn ensure_visible(
    principal: &Principal,
    partner_id: Uuid,
    resource: &'static str,
) -> Result<(), ApiError> {
    if principal.partner_id.is_none() && !principal.has_any_role(STAFF) {
        return Err(ApiError::not_found(resource));
    }
    principal.ensure_partner_access(partner_id, resource)
}

prm_runtime::grpc_service! {
    impl MdfService for Mdf {
        create_budget(CreateBudgetRequest) -> CreateBudgetResponse: "mdf_budgets.write";
        get_budget(GetBudgetRequest) -> GetBudgetResponse: "mdf_budgets.read";
        list_budgets(ListBudgetsRequest) -> ListBudgetsResponse: "mdf_budgets.read";
        allocate_funds(AllocateFundsRequest) -> AllocateFundsResponse: "mdf_allocations.write";
        get_fund(GetFundRequest) -> GetFundResponse: "mdf_funds.read";
        list_funds(ListFundsRequest) -> ListFundsResponse: "mdf_funds.read";
        list_fund_entries(ListFundEntriesRequest) -> ListFundEntriesResponse: "mdf_funds.read";
        submit_mdf_request(SubmitMdfRequestRequest) -> SubmitMdfRequestResponse: "mdf_requests.write";
        get_mdf_request(GetMdfRequestRequest) -> GetMdfRequestResponse: "mdf_requests.read";
        list_mdf_requests(ListMdfRequestsRequest) -> ListMdfRequestsResponse: "mdf_requests.read";
        approve_mdf_request(ApproveMdfRequestRequest) -> ApproveMdfRequestResponse: "mdf_requests.write";
        reject_mdf_request(RejectMdfRequestRequest) -> RejectMdfRequestResponse: "mdf_requests.write";
        cancel_mdf_request(CancelMdfRequestRequest) -> CancelMdfRequestResponse: "mdf_requests.write";
        submit_claim(SubmitClaimRequest) -> SubmitClaimResponse: "mdf_claims.write";
        get_claim(GetClaimRequest) -> GetClaimResponse: "mdf_claims.read";
        list_claims(ListClaimsRequest) -> ListClaimsResponse: "mdf_claims.read";
        approve_claim(ApproveClaimRequest) -> ApproveClaimResponse: "mdf_claims.write";
        reject_claim(RejectClaimRequest) -> RejectClaimResponse: "mdf_claims.write";
        get_request_roi(GetRequestRoiRequest) -> GetRequestRoiResponse: "mdf_requests.read";
    }
}
