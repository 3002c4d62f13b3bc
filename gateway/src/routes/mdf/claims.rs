use chrono::{DateTime, Utc};
use prm_proto::mdf as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::requests::{MdfApproval, MdfRejection};
use crate::dto::*;
use crate::extract::{JsonBody, OptionalJsonBody, PathId, QueryParams};
use crate::forward::{Call, Reply, created, ok, one};

/// Claim an approved request after the activity, before its claim
/// deadline, with proof of performance (its partner). The reimbursable
/// amount (the proven cost at the fund's rate) may not exceed what was
/// approved; an invoice number is claimed once.
#[utoipa::path(post, path = "/v1/mdf/requests/{id}/claims", tag = "mdf", security(("api_key" = ["mdf_claims.write"])),
    params(("id" = Uuid, Path, description = "Request id")),
    request_body = NewClaim,
    responses((status = 201, description = "Submitted", body = Claim)))]
pub async fn submit_claim(
    call: Call,
    PathId(id): PathId,
    JsonBody(body): JsonBody<NewClaim>,
) -> Reply<Claim> {
    let req = pb::SubmitClaimRequest {
        request_id: id,
        proven_cost: Some(body.proven_cost.to_proto()),
        invoice_number: body.invoice_number.into(),
        leads_generated: body.leads_generated.unwrap_or_default().into(),
        attendees: body.attendees.unwrap_or_default().into(),
        documents: body.documents.iter().map(ProofDocument::to_proto).collect(),
    };
    let r = call.send(req).await?;
    created(one(r.claim)?)
}

/// List claims: a partner sees its own, staff every partner's.
#[utoipa::path(get, path = "/v1/mdf/claims", tag = "mdf", security(("api_key" = ["mdf_claims.read"])),
    params(PageQuery, ClaimQuery),
    responses((status = 200, description = "OK", body = ClaimList)))]
pub async fn list_claims(
    call: Call,
    QueryParams(page): QueryParams<PageQuery>,
    QueryParams(q): QueryParams<ClaimQuery>,
) -> Reply<ClaimList> {
    let req = pb::ListClaimsRequest {
        partner_id: q.partner_id.unwrap_or_default().into(),
        request_id: q.request_id.unwrap_or_default().into(),
        status: q.status.map(|s| s.to_proto()).unwrap_or_default(),
        page_size: page.page_size.unwrap_or_default(),
        page_token: page.page_token.unwrap_or_default(),
    };
    let r = call.send(req).await?;
    ok(List::of(&r.claims, r.next_page_token))
}

/// Get a claim.
#[utoipa::path(get, path = "/v1/mdf/claims/{id}", tag = "mdf", security(("api_key" = ["mdf_claims.read"])),
    params(("id" = Uuid, Path, description = "Claim id")),
    responses((status = 200, description = "OK", body = Claim)))]
pub async fn get_claim(call: Call, PathId(id): PathId) -> Reply<Claim> {
    let req = pb::GetClaimRequest { claim_id: id };
    let r = call.send(req).await?;
    ok(one(r.claim)?)
}

/// Approve a claim (marketing or finance staff), in full or for less: the
/// fund reimburses it and releases the rest of the request's reservation.
#[utoipa::path(post, path = "/v1/mdf/claims/{id}/approve", tag = "mdf", security(("api_key" = ["mdf_claims.write"])),
    params(("id" = Uuid, Path, description = "Claim id")),
    request_body(content = Option<MdfApproval>),
    responses((status = 200, description = "OK", body = Claim)))]
pub async fn approve_claim(
    call: Call,
    PathId(id): PathId,
    OptionalJsonBody(body): OptionalJsonBody<MdfApproval>,
) -> Reply<Claim> {
    let req = pb::ApproveClaimRequest {
        claim_id: id,
        amount: body.amount.as_ref().map(PositiveAmount::to_proto),
        reason: body.reason.unwrap_or_default().into(),
    };
    let r = call.send(req).await?;
    ok(one(r.claim)?)
}

/// Reject a claim, with a reason (marketing or finance staff); the
/// partner may claim again before the deadline.
#[utoipa::path(post, path = "/v1/mdf/claims/{id}/reject", tag = "mdf", security(("api_key" = ["mdf_claims.write"])),
    params(("id" = Uuid, Path, description = "Claim id")),
    request_body = MdfRejection,
    responses((status = 200, description = "OK", body = Claim)))]
pub async fn reject_claim(
    call: Call,
    PathId(id): PathId,
    JsonBody(body): JsonBody<MdfRejection>,
) -> Reply<Claim> {
    let req = pb::RejectClaimRequest {
        claim_id: id,
        reason: body.reason.into(),
    };
    let r = call.send(req).await?;
    ok(one(r.claim)?)
}

// ------------------------------------------------------------ JSON shapes

/// A document proving the activity, stored elsewhere.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProofDocument {
    pub name: DocumentName,
    pub content_type: MediaType,
    pub size_bytes: DocumentBytes,
    pub checksum: Checksum,
    pub location: StorageLocation,
}

impl ProofDocument {
    fn to_proto(&self) -> pb::ProofDocument {
        pb::ProofDocument {
            name: self.name.0.clone(),
            content_type: self.content_type.0.clone(),
            size_bytes: self.size_bytes.0,
            checksum: self.checksum.0.clone(),
            location: self.location.0.clone(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClaim {
    /// What the activity cost, as invoiced, in the request's currency.
    pub proven_cost: PositiveAmount,
    pub invoice_number: InvoiceNumber,
    pub leads_generated: Option<LeadCount>,
    pub attendees: Option<LeadCount>,
    /// Proof of performance: at least one.
    #[schema(min_items = 1, max_items = 20)]
    pub documents: Vec<ProofDocument>,
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClaimQuery {
    /// Staff only; a partner always sees its own.
    #[param(inline)]
    pub partner_id: Option<Id>,
    #[param(inline)]
    pub request_id: Option<Id>,
    pub status: Option<ClaimStatus>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Claim {
    pub id: String,
    pub request_id: String,
    pub fund_id: String,
    pub partner_id: String,
    pub status: Option<ClaimStatus>,
    pub proven_cost: Option<Money>,
    /// The proven cost at the fund's reimbursement rate, rounded down.
    pub reimbursable: Option<Money>,
    /// What was approved and paid; null until approved.
    pub reimbursed: Option<Money>,
    pub invoice_number: String,
    pub leads_generated: i32,
    pub attendees: i32,
    pub documents: Vec<ProofDocument>,
    pub decision_reason: String,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
}

pub type ClaimList = List<Claim>;

impl From<&pb::Claim> for Claim {
    fn from(c: &pb::Claim) -> Self {
        Self {
            id: c.id.clone(),
            request_id: c.request_id.clone(),
            fund_id: c.fund_id.clone(),
            partner_id: c.partner_id.clone(),
            status: ClaimStatus::from_proto(c.status).ok(),
            proven_cost: Money::from_proto(&c.proven_cost),
            reimbursable: Money::from_proto(&c.reimbursable),
            reimbursed: Money::from_proto(&c.reimbursed),
            invoice_number: c.invoice_number.clone(),
            leads_generated: c.leads_generated,
            attendees: c.attendees,
            documents: c
                .documents
                .iter()
                .map(|d| ProofDocument {
                    name: DocumentName(d.name.clone()),
                    content_type: MediaType(d.content_type.clone()),
                    size_bytes: DocumentBytes(d.size_bytes),
                    checksum: Checksum(d.checksum.clone()),
                    location: StorageLocation(d.location.clone()),
                })
                .collect(),
            decision_reason: c.decision_reason.clone(),
            submitted_at: time(&c.submitted_at),
            decided_at: time(&c.decided_at),
        }
    }
}
