//! The gRPC API: `prm.onboarding.v1.OnboardingService`.
//!
//! Each handler validates its whole input first (nothing is stored for a
//! bad request), checks who is calling, then does its work in one
//! transaction together with its outbox events and its idempotency record
//! (`begin_or_replay!` ... `idem.commit`). A partner principal only ever
//! reaches its own partner; anything else is NotFound, so ids cannot be
//! probed.

mod api_keys;
mod applications;
mod authentication;
mod bootstrap;
pub mod convert;
mod enablement;
mod partners;
mod programs;
mod terms;
mod tiering;
mod users;

use prm_proto::onboarding::onboarding_service_server::OnboardingService;
use prm_proto::onboarding::*;
use prm_runtime::{ApiError, Clock, Outbox, Principal, ServiceHost};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::partner;
use crate::domain::partner::PartnerStatusRules;
use crate::store::{self, PartnerRow};

pub use bootstrap::ensure_bootstrap_admin;

/// The onboarding service's handlers and what they share.
#[derive(Clone)]
pub struct Onboarding {
    db: PgPool,
    outbox: Outbox,
    clock: Clock,
}

impl Onboarding {
    /// The handlers on `host`'s database, outbox and clock.
    pub fn new(host: &ServiceHost) -> Self {
        Self {
            db: host.pool().clone(),
            outbox: host.outbox().clone(),
            clock: host.clock().clone(),
        }
    }

    /// The partner, if the principal may see it.
    async fn visible_partner(
        &self,
        principal: &Principal,
        partner_id: Uuid,
    ) -> Result<PartnerRow, ApiError> {
        principal.ensure_partner_access(partner_id, "partner")?;
        let mut conn = self.db.acquire().await?;
        store::partner(&mut conn, partner_id)
            .await?
            .ok_or(ApiError::not_found("partner"))
    }
}

/// The principal may act on `partner` (see [`partner::ensure_may_act`]).
fn ensure_may_act(principal: &Principal, partner: &PartnerRow) -> Result<(), ApiError> {
    partner::ensure_may_act(principal, partner.status)
        .map_err(|e| e.about(format!("partner/{}", partner.id)))
}

/// Nothing more happens to a terminated partner.
fn ensure_not_terminated(partner: &PartnerRow) -> Result<(), ApiError> {
    partner
        .status
        .ensure_not_terminated()
        .map_err(|e| e.about(format!("partner/{}", partner.id)))
}

prm_runtime::grpc_service! {
    impl OnboardingService for Onboarding {
        create_program(CreateProgramRequest) -> CreateProgramResponse;
        get_program(GetProgramRequest) -> GetProgramResponse;
        list_programs(ListProgramsRequest) -> ListProgramsResponse;
        create_tier(CreateTierRequest) -> CreateTierResponse;
        update_tier(UpdateTierRequest) -> UpdateTierResponse;
        list_tiers(ListTiersRequest) -> ListTiersResponse;
        submit_application(SubmitApplicationRequest) -> SubmitApplicationResponse;
        get_application(GetApplicationRequest) -> GetApplicationResponse;
        list_applications(ListApplicationsRequest) -> ListApplicationsResponse;
        approve_application(ApproveApplicationRequest) -> ApproveApplicationResponse;
        reject_application(RejectApplicationRequest) -> RejectApplicationResponse;
        get_partner(GetPartnerRequest) -> GetPartnerResponse;
        list_partners(ListPartnersRequest) -> ListPartnersResponse;
        suspend_partner(SuspendPartnerRequest) -> SuspendPartnerResponse;
        reactivate_partner(ReactivatePartnerRequest) -> ReactivatePartnerResponse;
        terminate_partner(TerminatePartnerRequest) -> TerminatePartnerResponse;
        set_partner_tier(SetPartnerTierRequest) -> SetPartnerTierResponse;
        publish_terms(PublishTermsRequest) -> PublishTermsResponse;
        list_terms(ListTermsRequest) -> ListTermsResponse;
        accept_terms(AcceptTermsRequest) -> AcceptTermsResponse;
        get_terms_status(GetTermsStatusRequest) -> GetTermsStatusResponse;
        create_user(CreateUserRequest) -> CreateUserResponse;
        get_user(GetUserRequest) -> GetUserResponse;
        list_users(ListUsersRequest) -> ListUsersResponse;
        deactivate_user(DeactivateUserRequest) -> DeactivateUserResponse;
        create_api_key(CreateApiKeyRequest) -> CreateApiKeyResponse;
        list_api_keys(ListApiKeysRequest) -> ListApiKeysResponse;
        revoke_api_key(RevokeApiKeyRequest) -> RevokeApiKeyResponse;
        authenticate(AuthenticateRequest) -> AuthenticateResponse;
        get_onboarding_checklist(GetOnboardingChecklistRequest) -> GetOnboardingChecklistResponse;
        evaluate_partner_tier(EvaluatePartnerTierRequest) -> EvaluatePartnerTierResponse;
        run_tier_review(RunTierReviewRequest) -> RunTierReviewResponse;
        create_content(CreateContentRequest) -> CreateContentResponse;
        list_content(ListContentRequest) -> ListContentResponse;
        create_course(CreateCourseRequest) -> CreateCourseResponse;
        list_courses(ListCoursesRequest) -> ListCoursesResponse;
        record_course_attempt(RecordCourseAttemptRequest) -> RecordCourseAttemptResponse;
        list_certifications(ListCertificationsRequest) -> ListCertificationsResponse;
    }
}
