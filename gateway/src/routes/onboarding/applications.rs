use axum::Extension;
use axum::extract::State;
use prm_proto::onboarding as pb;

use super::identity::{ApiKey, CreatedApiKey, User};
use super::partners::Partner;
use crate::dto::*;
use crate::extract::{ClientAddr, IdempotencyKey, JsonBody, PathId, QueryParams};
use crate::forward::{Call, Reply, created, ok, one};
use crate::problem::Problem;
use crate::rate_limit::DecisionSlot;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use prm_runtime::throttle::client_key;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Apply to become a partner (public; rate-limited per client address).
#[utoipa::path(post, path = "/v1/applications", tag = "applications",
    request_body = ApplicationForm,
    responses(
        (status = 201, description = "Submitted", body = Application)
    ))]
pub async fn submit_application(
    State(state): State<AppState>,
    ClientAddr(ip): ClientAddr,
    slot: Option<Extension<DecisionSlot>>,
    idem: IdempotencyKey,
    JsonBody(form): JsonBody<ApplicationForm>,
) -> Reply<Application> {
    state.public_limits().applications.admit(
        &client_key(ip).to_string(),
        slot.as_ref().map(|Extension(s)| s),
        "too many applications from this address; try again later",
    )?;
    let req = pb::SubmitApplicationRequest {
        company_name: form.company_name.into(),
        domain: form.domain.into(),
        country: form.country.into(),
        partner_type: form.partner_type.to_proto(),
        contact_name: form.contact_name.into(),
        contact_email: form.contact_email.into(),
    };
    let resp = state.send(state.grpc(req, None, idem.as_deref())).await?;
    let app = resp.application.ok_or_else(Problem::internal)?;
    created(Application::from(&app))
}

/// List applications (staff).
#[utoipa::path(get, path = "/v1/applications", tag = "applications", security(("api_key" = ["applications.read"])),
    params(PageQuery, ApplicationQuery),
    responses(
        (status = 200, description = "OK", body = ApplicationList)
    ))]
pub async fn list_applications(
    call: Call,
    QueryParams(page): QueryParams<PageQuery>,
    QueryParams(q): QueryParams<ApplicationQuery>,
) -> Reply<ApplicationList> {
    let req = pb::ListApplicationsRequest {
        page_size: page.page_size.unwrap_or_default(),
        page_token: page.page_token.unwrap_or_default(),
        status: q.status.map(|s| s.to_proto()).unwrap_or_default(),
    };
    let r = call.send(req).await?;
    ok(List::of(&r.applications, r.next_page_token))
}

/// Get an application.
#[utoipa::path(get, path = "/v1/applications/{id}", tag = "applications", security(("api_key" = ["applications.read"])),
    params(("id" = Uuid, Path, description = "Application id")),
    responses(
        (status = 200, description = "OK", body = Application)
    ))]
pub async fn get_application(call: Call, PathId(id): PathId) -> Reply<Application> {
    let req = pb::GetApplicationRequest { application_id: id };
    let r = call.send(req).await?;
    ok(one(r.application)?)
}

/// Approve an application: creates the partner and its admin user, and
/// returns the admin's API key secret once.
#[utoipa::path(post, path = "/v1/applications/{id}/approve", tag = "applications", security(("api_key" = ["applications.write"])),
    params(("id" = Uuid, Path, description = "Application id")),
    request_body = ApplicationApproval,
    responses(
        (status = 200, description = "OK", body = ApprovalResult)
    ))]
pub async fn approve_application(
    call: Call,
    PathId(id): PathId,
    JsonBody(body): JsonBody<ApplicationApproval>,
) -> Reply<ApprovalResult> {
    let req = pb::ApproveApplicationRequest {
        application_id: id,
        program_id: body.program_id.into(),
        tier_id: body.tier_id.unwrap_or_default().into(),
    };
    let r = call.send(req).await?;
    let key = r.admin_api_key.as_ref().ok_or_else(Problem::internal)?;
    ok(ApprovalResult {
        application: Application::from(r.application.as_ref().ok_or_else(Problem::internal)?),
        partner: Partner::from(r.partner.as_ref().ok_or_else(Problem::internal)?),
        admin_user: User::from(r.admin_user.as_ref().ok_or_else(Problem::internal)?),
        admin_api_key: CreatedApiKey {
            key: ApiKey::from(key),
            secret: token(r.admin_api_key_secret),
        },
    })
}

/// Reject an application, with a reason.
#[utoipa::path(post, path = "/v1/applications/{id}/reject", tag = "applications", security(("api_key" = ["applications.write"])),
    params(("id" = Uuid, Path, description = "Application id")),
    request_body = ApplicationRejection,
    responses(
        (status = 200, description = "OK", body = Application)
    ))]
pub async fn reject_application(
    call: Call,
    PathId(id): PathId,
    JsonBody(body): JsonBody<ApplicationRejection>,
) -> Reply<Application> {
    let req = pb::RejectApplicationRequest {
        application_id: id,
        reason: body.reason.into(),
    };
    let r = call.send(req).await?;
    ok(one(r.application)?)
}

// ------------------------------------------------------------ JSON shapes

/// The public partner application form.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationForm {
    #[schema(example = "Acme GmbH")]
    pub company_name: CompanyName,
    #[schema(example = "acme.example")]
    pub domain: DomainName,
    #[schema(example = "DE")]
    pub country: CountryCode,
    pub partner_type: PartnerType,
    #[schema(example = "Jane Doe")]
    pub contact_name: PersonName,
    #[schema(example = "jane@acme.example")]
    pub contact_email: EmailAddress,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Application {
    pub id: String,
    pub company_name: String,
    pub domain: String,
    pub country: String,
    pub partner_type: Option<PartnerType>,
    pub contact_name: String,
    pub contact_email: String,
    pub status: Option<ApplicationStatus>,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub rejection_reason: String,
    pub partner_id: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by_user_id: Option<String>,
}

impl From<&pb::Application> for Application {
    fn from(a: &pb::Application) -> Self {
        Self {
            id: a.id.clone(),
            company_name: a.company_name.clone(),
            domain: a.domain.clone(),
            country: a.country.clone(),
            partner_type: PartnerType::from_proto(a.partner_type).ok(),
            contact_name: a.contact_name.clone(),
            contact_email: a.contact_email.clone(),
            status: ApplicationStatus::from_proto(a.status).ok(),
            rejection_reason: a.rejection_reason.clone(),
            partner_id: id(&a.partner_id),
            submitted_at: time(&a.submitted_at),
            decided_at: time(&a.decided_at),
            decided_by_user_id: id(&a.decided_by_user_id),
        }
    }
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApplicationQuery {
    /// Only applications in this status.
    pub status: Option<ApplicationStatus>,
}

pub type ApplicationList = List<Application>;

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationApproval {
    pub program_id: Id,
    /// Defaults to the program's entry tier.
    pub tier_id: Option<Id>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationRejection {
    pub reason: DecisionReason,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ApprovalResult {
    pub application: Application,
    pub partner: Partner,
    pub admin_user: User,
    /// The partner admin's API key; `secret` is shown only in this response.
    pub admin_api_key: CreatedApiKey,
}
