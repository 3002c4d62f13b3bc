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
        create_program(CreateProgramRequest) -> CreateProgramResponse: "programs.write";
        get_program(GetProgramRequest) -> GetProgramResponse: "programs.read";
        list_programs(ListProgramsRequest) -> ListProgramsResponse: "programs.read";
        create_tier(CreateTierRequest) -> CreateTierResponse: "tiers.write";
        update_tier(UpdateTierRequest) -> UpdateTierResponse: "tiers.write";
        list_tiers(ListTiersRequest) -> ListTiersResponse: "tiers.read";
        submit_application(SubmitApplicationRequest) -> SubmitApplicationResponse: "gateway";
        get_application(GetApplicationRequest) -> GetApplicationResponse: "applications.read";
        list_applications(ListApplicationsRequest) -> ListApplicationsResponse: "applications.read";
        approve_application(ApproveApplicationRequest) -> ApproveApplicationResponse: "applications.write";
        reject_application(RejectApplicationRequest) -> RejectApplicationResponse: "applications.write";
        get_partner(GetPartnerRequest) -> GetPartnerResponse: "partners.read";
        list_partners(ListPartnersRequest) -> ListPartnersResponse: "partners.read";
        suspend_partner(SuspendPartnerRequest) -> SuspendPartnerResponse: "partners.write";
        reactivate_partner(ReactivatePartnerRequest) -> ReactivatePartnerResponse: "partners.write";
        terminate_partner(TerminatePartnerRequest) -> TerminatePartnerResponse: "partners.write";
        set_partner_tier(SetPartnerTierRequest) -> SetPartnerTierResponse: "partners.write";
        publish_terms(PublishTermsRequest) -> PublishTermsResponse: "terms.write";
        list_terms(ListTermsRequest) -> ListTermsResponse: "terms.read";
        accept_terms(AcceptTermsRequest) -> AcceptTermsResponse: "terms.write";
        get_terms_status(GetTermsStatusRequest) -> GetTermsStatusResponse: "partners.read";
        create_user(CreateUserRequest) -> CreateUserResponse: "users.write";
        get_user(GetUserRequest) -> GetUserResponse: "users.read";
        list_users(ListUsersRequest) -> ListUsersResponse: "users.read";
        deactivate_user(DeactivateUserRequest) -> DeactivateUserResponse: "users.write";
        create_api_key(CreateApiKeyRequest) -> CreateApiKeyResponse: "api_keys.write";
        list_api_keys(ListApiKeysRequest) -> ListApiKeysResponse: "api_keys.read";
        revoke_api_key(RevokeApiKeyRequest) -> RevokeApiKeyResponse: "api_keys.write";
        rotate_api_key(RotateApiKeyRequest) -> RotateApiKeyResponse: "api_keys.write";
        get_api_key_policy(GetApiKeyPolicyRequest) -> GetApiKeyPolicyResponse: "api_key_policy.read";
        set_api_key_policy(SetApiKeyPolicyRequest) -> SetApiKeyPolicyResponse: "api_key_policy.write";
        authenticate(AuthenticateRequest) -> AuthenticateResponse: "gateway";
        get_onboarding_checklist(GetOnboardingChecklistRequest) -> GetOnboardingChecklistResponse: "partners.read";
        evaluate_partner_tier(EvaluatePartnerTierRequest) -> EvaluatePartnerTierResponse: "partners.read";
        run_tier_review(RunTierReviewRequest) -> RunTierReviewResponse: "tier_reviews.write";
        create_content(CreateContentRequest) -> CreateContentResponse: "content.write";
        list_content(ListContentRequest) -> ListContentResponse: "content.read";
        create_course(CreateCourseRequest) -> CreateCourseResponse: "courses.write";
        list_courses(ListCoursesRequest) -> ListCoursesResponse: "courses.read";
        record_course_attempt(RecordCourseAttemptRequest) -> RecordCourseAttemptResponse: "course_attempts.write";
        list_certifications(ListCertificationsRequest) -> ListCertificationsResponse: "certifications.read";
    }
}
