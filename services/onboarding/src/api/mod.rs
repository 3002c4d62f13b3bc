//! The gRPC API: `prm.onboarding.v1.OnboardingService`.
//!
//! Each handler validates its whole input first (nothing is stored for a
//! bad request), checks who is calling, then does its work in one
//! transaction together with its outbox events and its idempotency record.
//! A partner principal only ever reaches its own partner; anything else is
//! NotFound, so ids cannot be probed.

/// Starts a mutating call's transaction, or returns the response an
/// earlier call with the same idempotency key produced.
macro_rules! begin_or_replay {
    ($api:ident, $idem:ident) => {
        match $api.begin(&$idem).await? {
            Begun::Replay(replayed) => return Ok(replayed),
            Begun::Fresh(tx) => tx,
        }
    };
    ($api:ident, $response:ty, $idem:ident) => {
        match $api.begin::<$response>(&$idem).await? {
            Begun::Replay(replayed) => return Ok(replayed),
            Begun::Fresh(tx) => tx,
        }
    };
}

mod applications;
pub mod convert;
mod enablement;
pub mod identity;
mod partners;
mod programs;
mod terms;
mod tiering;

use prm_proto::onboarding::onboarding_service_server::OnboardingService;
use prm_proto::onboarding::*;
use prm_runtime::{ApiError, CallContext, Idempotency, Outbox, Principal};
use prost::Message;
use sqlx::{PgPool, Postgres, Transaction};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domain::partner::PartnerStatus;
use crate::store::{self, PartnerRow};

/// The onboarding service's handlers and what they share.
#[derive(Clone)]
pub struct Onboarding {
    db: PgPool,
    outbox: Outbox,
}

type Tx = Transaction<'static, Postgres>;

/// A transaction that either replays an earlier response or goes ahead.
enum Begun<R> {
    Replay(R),
    Fresh(Tx),
}

impl Onboarding {
    pub fn new(db: PgPool, outbox: Outbox) -> Self {
        Self { db, outbox }
    }

    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// Starts the transaction of a mutating call and claims its idempotency key.
    async fn begin<R: Message + Default>(&self, idem: &Idempotency) -> Result<Begun<R>, ApiError> {
        let mut tx = self.db.begin().await?;
        match idem.claim::<R>(&mut tx).await? {
            Some(replayed) => {
                tx.rollback().await?;
                Ok(Begun::Replay(replayed))
            }
            None => Ok(Begun::Fresh(tx)),
        }
    }

    /// Records the response with the key and commits the effect.
    async fn commit<R: Message>(
        &self,
        mut tx: Tx,
        idem: &Idempotency,
        stored: &R,
    ) -> Result<(), ApiError> {
        idem.record(&mut tx, stored).await?;
        tx.commit().await?;
        Ok(())
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

/// For partner principals: their partner must be active to act.
fn ensure_partner_can_act(principal: &Principal, partner: &PartnerRow) -> Result<(), ApiError> {
    if principal.partner_id.is_none() {
        return Ok(());
    }
    let status = PartnerStatus::parse(&partner.status).unwrap_or(PartnerStatus::Terminated);
    status
        .ensure_can_act()
        .map_err(|e| e.about(format!("partner/{}", partner.id)))
}

macro_rules! rpc {
    ($($name:ident($req:ty) -> $resp:ty;)*) => {
        #[tonic::async_trait]
        impl OnboardingService for Onboarding {
            $(
                async fn $name(&self, request: Request<$req>) -> Result<Response<$resp>, Status> {
                    let ctx = CallContext::of(&request);
                    Onboarding::$name(self, ctx, request.into_inner())
                        .await
                        .map(Response::new)
                        .map_err(Status::from)
                }
            )*
        }
    };
}

rpc! {
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

pub use identity::ensure_bootstrap_admin as identity_bootstrap;
