//! The gRPC API: `prm.dealreg.v1.DealregService`.
//!
//! Each handler validates its whole input first (nothing is stored for a
//! bad request), checks who is calling, then does its work in one
//! transaction together with its history, outbox events and idempotency
//! record. A partner principal only ever reaches its own registrations;
//! another partner's are NotFound, so ids cannot be probed.

pub mod convert;
mod direct_accounts;
mod policy;
mod registrations;

use prm_proto::dealreg::dealreg_service_server::DealregService;
use prm_proto::dealreg::*;
use prm_runtime::{Clock, Outbox, ServiceHost};
use sqlx::PgPool;

use crate::onboarding::Onboarding;

/// The deal registration service's handlers and what they share.
#[derive(Clone)]
pub struct Dealreg {
    db: PgPool,
    outbox: Outbox,
    clock: Clock,
    onboarding: Onboarding,
}

impl Dealreg {
    /// The handlers on `host`'s database, outbox and clock, asking
    /// `onboarding` about partners.
    pub fn new(host: &ServiceHost, onboarding: Onboarding) -> Self {
        Self {
            db: host.pool().clone(),
            outbox: host.outbox().clone(),
            clock: host.clock().clone(),
            onboarding,
        }
    }
}

prm_runtime::grpc_service! {
    impl DealregService for Dealreg {
        submit_registration(SubmitRegistrationRequest) -> SubmitRegistrationResponse;
        get_registration(GetRegistrationRequest) -> GetRegistrationResponse;
        list_registrations(ListRegistrationsRequest) -> ListRegistrationsResponse;
        approve_registration(ApproveRegistrationRequest) -> ApproveRegistrationResponse;
        reject_registration(RejectRegistrationRequest) -> RejectRegistrationResponse;
        return_registration(ReturnRegistrationRequest) -> ReturnRegistrationResponse;
        update_registration(UpdateRegistrationRequest) -> UpdateRegistrationResponse;
        resubmit_registration(ResubmitRegistrationRequest) -> ResubmitRegistrationResponse;
        extend_protection(ExtendProtectionRequest) -> ExtendProtectionResponse;
        win_registration(WinRegistrationRequest) -> WinRegistrationResponse;
        lose_registration(LoseRegistrationRequest) -> LoseRegistrationResponse;
        get_registration_history(GetRegistrationHistoryRequest) -> GetRegistrationHistoryResponse;
        create_direct_account(CreateDirectAccountRequest) -> CreateDirectAccountResponse;
        list_direct_accounts(ListDirectAccountsRequest) -> ListDirectAccountsResponse;
        delete_direct_account(DeleteDirectAccountRequest) -> DeleteDirectAccountResponse;
        get_policy(GetPolicyRequest) -> GetPolicyResponse;
        update_policy(UpdatePolicyRequest) -> UpdatePolicyResponse;
    }
}
