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
        submit_registration(SubmitRegistrationRequest) -> SubmitRegistrationResponse: "deal_registrations.write";
        get_registration(GetRegistrationRequest) -> GetRegistrationResponse: "deal_registrations.read";
        list_registrations(ListRegistrationsRequest) -> ListRegistrationsResponse: "deal_registrations.read";
        approve_registration(ApproveRegistrationRequest) -> ApproveRegistrationResponse: "deal_registrations.write";
        reject_registration(RejectRegistrationRequest) -> RejectRegistrationResponse: "deal_registrations.write";
        return_registration(ReturnRegistrationRequest) -> ReturnRegistrationResponse: "deal_registrations.write";
        update_registration(UpdateRegistrationRequest) -> UpdateRegistrationResponse: "deal_registrations.write";
        resubmit_registration(ResubmitRegistrationRequest) -> ResubmitRegistrationResponse: "deal_registrations.write";
        extend_protection(ExtendProtectionRequest) -> ExtendProtectionResponse: "deal_registrations.write";
        win_registration(WinRegistrationRequest) -> WinRegistrationResponse: "deal_registrations.write";
        lose_registration(LoseRegistrationRequest) -> LoseRegistrationResponse: "deal_registrations.write";
        get_registration_history(GetRegistrationHistoryRequest) -> GetRegistrationHistoryResponse: "deal_registrations.read";
        create_direct_account(CreateDirectAccountRequest) -> CreateDirectAccountResponse: "direct_accounts.write";
        list_direct_accounts(ListDirectAccountsRequest) -> ListDirectAccountsResponse: "direct_accounts.read";
        delete_direct_account(DeleteDirectAccountRequest) -> DeleteDirectAccountResponse: "direct_accounts.write";
        get_policy(GetPolicyRequest) -> GetPolicyResponse: "deal_registration_policy.read";
        update_policy(UpdatePolicyRequest) -> UpdatePolicyResponse: "deal_registration_policy.write";
    }
}
