use chrono::{DateTime, Utc};
use prm_proto::mdf as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::dto::*;
use crate::extract::{JsonBody, OptionalJsonBody, PathId, QueryParams};
use crate::forward::{Call, Reply, created, ok, one};

/// Request funds for an activity (a partner, from its own fund).
#[utoipa::path(post, path = "/v1/mdf/requests", tag = "mdf", security(("api_key" = ["mdf_requests.write"])),
    request_body = NewMdfRequest,
    responses((status = 201, description = "Submitted", body = MdfRequest)))]
pub async fn submit_request(
    call: Call,
    JsonBody(body): JsonBody<NewMdfRequest>,
) -> Reply<MdfRequest> {
    let req = pb::SubmitMdfRequestRequest {
        fund_id: body.fund_id.into(),
        activity_type: body.activity_type.to_proto(),
        description: body.description.into(),
        starts_on: body.starts_on.into(),
        ends_on: body.ends_on.into(),
        expected_leads: body.expected_leads.unwrap_or_default().into(),
        campaign_code: body.campaign_code.unwrap_or_default().into(),
        amount: Some(body.amount.to_proto()),
    };
    created(one(call.send(req).await?.request)?)
}

/// List requests: a partner sees its own, staff every partner's.
#[utoipa::path(get, path = "/v1/mdf/requests", tag = "mdf", security(("api_key" = ["mdf_requests.read"])),
    params(PageQuery, MdfRequestQuery),
    responses((status = 200, description = "OK", body = MdfRequestList)))]
pub async fn list_requests(
    call: Call,
    QueryParams(page): QueryParams<PageQuery>,
    QueryParams(q): QueryParams<MdfRequestQuery>,
) -> Reply<MdfRequestList> {
    let req = pb::ListMdfRequestsRequest {
        partner_id: q.partner_id.unwrap_or_default().into(),
        fund_id: q.fund_id.unwrap_or_default().into(),
        status: q.status.map(|s| s.to_proto()).unwrap_or_default(),
        page_size: page.page_size.unwrap_or_default(),
        page_token: page.page_token.unwrap_or_default(),
    };
    let r = call.send(req).await?;
    ok(List::of(&r.requests, r.next_page_token))
}

/// Get a request.
#[utoipa::path(get, path = "/v1/mdf/requests/{id}", tag = "mdf", security(("api_key" = ["mdf_requests.read"])),
    params(("id" = Uuid, Path, description = "Request id")),
    responses((status = 200, description = "OK", body = MdfRequest)))]
pub async fn get_request(call: Call, PathId(id): PathId) -> Reply<MdfRequest> {
    ok(one(call
        .send(pb::GetMdfRequestRequest { request_id: id })
        .await?
        .request)?)
}

/// Approve a submitted request (marketing staff), in full or for a lower
/// amount: the amount is reserved in the fund. 409 `INSUFFICIENT_FUNDS`
/// when the fund cannot cover it.
#[utoipa::path(post, path = "/v1/mdf/requests/{id}/approve", tag = "mdf", security(("api_key" = ["mdf_requests.write"])),
    params(("id" = Uuid, Path, description = "Request id")),
    request_body(content = Option<MdfApproval>),
    responses((status = 200, description = "OK", body = MdfRequest)))]
pub async fn approve_request(
    call: Call,
    PathId(id): PathId,
    OptionalJsonBody(body): OptionalJsonBody<MdfApproval>,
) -> Reply<MdfRequest> {
    let req = pb::ApproveMdfRequestRequest {
        request_id: id,
        amount: body.amount.as_ref().map(PositiveAmount::to_proto),
        reason: body.reason.unwrap_or_default().into(),
    };
    ok(one(call.send(req).await?.request)?)
}

/// Reject a submitted request, with a reason (marketing staff).
#[utoipa::path(post, path = "/v1/mdf/requests/{id}/reject", tag = "mdf", security(("api_key" = ["mdf_requests.write"])),
    params(("id" = Uuid, Path, description = "Request id")),
    request_body = MdfRejection,
    responses((status = 200, description = "OK", body = MdfRequest)))]
pub async fn reject_request(
    call: Call,
    PathId(id): PathId,
    JsonBody(body): JsonBody<MdfRejection>,
) -> Reply<MdfRequest> {
    let req = pb::RejectMdfRequestRequest {
        request_id: id,
        reason: body.reason.into(),
    };
    ok(one(call.send(req).await?.request)?)
}

/// Cancel a submitted or approved request (its partner, or staff); an
/// approved request's reservation is released.
#[utoipa::path(post, path = "/v1/mdf/requests/{id}/cancel", tag = "mdf", security(("api_key" = ["mdf_requests.write"])),
    params(("id" = Uuid, Path, description = "Request id")),
    request_body(content = Option<MdfCancellation>),
    responses((status = 200, description = "OK", body = MdfRequest)))]
pub async fn cancel_request(
    call: Call,
    PathId(id): PathId,
    OptionalJsonBody(body): OptionalJsonBody<MdfCancellation>,
) -> Reply<MdfRequest> {
    let req = pb::CancelMdfRequestRequest {
        request_id: id,
        reason: body.reason.unwrap_or_default().into(),
    };
    ok(one(call.send(req).await?.request)?)
}

/// A request's return: the pipeline and won revenue of the partner's deal
/// registrations that carry its campaign code, next to what was paid.
#[utoipa::path(get, path = "/v1/mdf/requests/{id}/roi", tag = "mdf", security(("api_key" = ["mdf_requests.read"])),
    params(("id" = Uuid, Path, description = "Request id")),
    responses((status = 200, description = "OK", body = RequestRoi)))]
pub async fn request_roi(call: Call, PathId(id): PathId) -> Reply<RequestRoi> {
    ok(RequestRoi::from(
        &call
            .send(pb::GetRequestRoiRequest { request_id: id })
            .await?,
    ))
}

// ------------------------------------------------------------ JSON shapes

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMdfRequest {
    pub fund_id: Id,
    pub activity_type: ActivityType,
    pub description: ActivityDescription,
    pub starts_on: ActivityDate,
    /// Not before `starts_on`; the activity lasts at most 366 days.
    pub ends_on: ActivityDate,
    pub expected_leads: Option<LeadCount>,
    /// Deal registrations carrying this code (as `mdf_reference`) count
    /// towards the request's ROI.
    pub campaign_code: Option<CampaignCode>,
    /// In the fund's currency.
    pub amount: PositiveAmount,
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MdfRequestQuery {
    /// Staff only; a partner always sees its own.
    #[param(inline)]
    pub partner_id: Option<Id>,
    #[param(inline)]
    pub fund_id: Option<Id>,
    pub status: Option<MdfRequestStatus>,
}

/// An approval: the amount (less than requested approves partially;
/// left out, all of it) and an optional reason.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MdfApproval {
    pub amount: Option<PositiveAmount>,
    pub reason: Option<OptionalMdfReason>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MdfRejection {
    pub reason: MdfReason,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MdfCancellation {
    pub reason: Option<OptionalMdfReason>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MdfRequest {
    pub id: String,
    pub fund_id: String,
    pub partner_id: String,
    pub status: Option<MdfRequestStatus>,
    pub activity_type: Option<ActivityType>,
    pub description: String,
    #[schema(format = Date)]
    pub starts_on: String,
    #[schema(format = Date)]
    pub ends_on: String,
    pub expected_leads: i32,
    pub campaign_code: String,
    pub requested: Option<Money>,
    /// What was approved and reserved; null until approved.
    pub approved: Option<Money>,
    /// The last day a claim is accepted.
    #[schema(format = Date)]
    pub claim_deadline: String,
    pub decision_reason: String,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
}

pub type MdfRequestList = List<MdfRequest>;

impl From<&pb::MdfRequest> for MdfRequest {
    fn from(r: &pb::MdfRequest) -> Self {
        Self {
            id: r.id.clone(),
            fund_id: r.fund_id.clone(),
            partner_id: r.partner_id.clone(),
            status: MdfRequestStatus::from_proto(r.status).ok(),
            activity_type: ActivityType::from_proto(r.activity_type).ok(),
            description: r.description.clone(),
            starts_on: r.starts_on.clone(),
            ends_on: r.ends_on.clone(),
            expected_leads: r.expected_leads,
            campaign_code: r.campaign_code.clone(),
            requested: Money::from_proto(&r.requested),
            approved: Money::from_proto(&r.approved),
            claim_deadline: r.claim_deadline.clone(),
            decision_reason: r.decision_reason.clone(),
            submitted_at: time(&r.submitted_at),
            decided_at: time(&r.decided_at),
        }
    }
}

/// What a request brought in. Sums are in the request's currency;
/// registrations in other currencies are counted apart.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RequestRoi {
    pub request_id: String,
    pub campaign_code: String,
    /// Registrations carrying the code.
    pub registrations: i32,
    /// Estimated value of those still open.
    pub open_pipeline: Option<Money>,
    pub won_deals: i32,
    pub won_revenue: Option<Money>,
    /// Reimbursed on the request's claims.
    pub paid: Option<Money>,
    /// won_revenue / paid in basis points (25000: 2.5 times); 0 while
    /// nothing is paid.
    pub return_bps: i64,
    pub other_currency_registrations: i32,
}

impl From<&pb::GetRequestRoiResponse> for RequestRoi {
    fn from(r: &pb::GetRequestRoiResponse) -> Self {
        Self {
            request_id: r.request_id.clone(),
            campaign_code: r.campaign_code.clone(),
            registrations: r.registrations,
            open_pipeline: Money::from_proto(&r.open_pipeline),
            won_deals: r.won_deals,
            won_revenue: Money::from_proto(&r.won_revenue),
            paid: Money::from_proto(&r.paid),
            return_bps: r.return_bps,
            other_currency_registrations: r.other_currency_registrations,
        }
    }
}
