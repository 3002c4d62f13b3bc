use chrono::{DateTime, Utc};
use prm_proto::mdf as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::requests::{Approval, Reason};
use crate::dto::*;
use crate::extract::{JsonBody, OptionalJsonBody, PathId, QueryParams};
use crate::forward::{Call, Reply, created, ok, one};

/// Claim an approved request after the activity, before its claim
/// deadline, with proof of performance (its partner). The reimbursable
/// amount (the proven cost at the fund's rate) may not exceed what was
/// approved; an invoice number is claimed once.
#[utoipa::path(post, path = "/v1/mdf/requests/{id}/claims", tag = "mdf", security(("api_key" = [])),
    params(("id" = String, Path, description = "Request id")),
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
        invoice_number: body.invoice_number,
        leads_generated: body.leads_generated.unwrap_or_default(),
        attendees: body.attendees.unwrap_or_default(),
        documents: body.documents.iter().map(ProofDocument::to_proto).collect(),
    };
    let r = call.send(req).await?;
    created(one(r.claim)?)
}

/// List claims: a partner sees its own, staff every partner's.
#[utoipa::path(get, path = "/v1/mdf/claims", tag = "mdf", security(("api_key" = [])),
    params(PageQuery, ClaimQuery),
    responses((status = 200, description = "OK", body = ClaimList)))]
pub async fn list_claims(
    call: Call,
    QueryParams(page): QueryParams<PageQuery>,
    QueryParams(q): QueryParams<ClaimQuery>,
) -> Reply<ClaimList> {
    let req = pb::ListClaimsRequest {
        partner_id: q.partner_id.unwrap_or_default(),
        request_id: q.request_id.unwrap_or_default(),
        status: q.status.map(|s| s.to_proto()).unwrap_or_default(),
        page_size: page.page_size.unwrap_or_default(),
        page_token: page.page_token.unwrap_or_default(),
    };
    let r = call.send(req).await?;
    ok(List::of(&r.claims, r.next_page_token))
}

/// Get a claim.
#[utoipa::path(get, path = "/v1/mdf/claims/{id}", tag = "mdf", security(("api_key" = [])),
    params(("id" = String, Path, description = "Claim id")),
    responses((status = 200, description = "OK", body = Claim)))]
pub async fn get_claim(call: Call, PathId(id): PathId) -> Reply<Claim> {
    let req = pb::GetClaimRequest { claim_id: id };
    let r = call.send(req).await?;
    ok(one(r.claim)?)
}

/// Approve a claim (marketing or finance staff), in full or for less: the
/// fund reimburses it and releases the rest of the request's reservation.
#[utoipa::path(post, path = "/v1/mdf/claims/{id}/approve", tag = "mdf", security(("api_key" = [])),
    params(("id" = String, Path, description = "Claim id")),
    request_body(content = Option<Approval>),
    responses((status = 200, description = "OK", body = Claim)))]
pub async fn approve_claim(
    call: Call,
    PathId(id): PathId,
    OptionalJsonBody(body): OptionalJsonBody<Approval>,
) -> Reply<Claim> {
    let req = pb::ApproveClaimRequest {
        claim_id: id,
        amount: body.amount.as_ref().map(Money::to_proto),
        reason: body.reason.unwrap_or_default(),
    };
    let r = call.send(req).await?;
    ok(one(r.claim)?)
}

/// Reject a claim, with a reason (marketing or finance staff); the
/// partner may claim again before the deadline.
#[utoipa::path(post, path = "/v1/mdf/claims/{id}/reject", tag = "mdf", security(("api_key" = [])),
    params(("id" = String, Path, description = "Claim id")),
    request_body = Reason,
    responses((status = 200, description = "OK", body = Claim)))]
pub async fn reject_claim(
    call: Call,
    PathId(id): PathId,
    JsonBody(body): JsonBody<Reason>,
) -> Reply<Claim> {
    let req = pb::RejectClaimRequest {
        claim_id: id,
        reason: body.reason,
    };
    let r = call.send(req).await?;
    ok(one(r.claim)?)
}

// ------------------------------------------------------------ JSON shapes

/// A document proving the activity, stored elsewhere.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProofDocument {
    #[schema(example = "invoice-0042.pdf")]
    pub name: String,
    #[schema(example = "application/pdf")]
    pub content_type: String,
    #[schema(example = 48213)]
    pub size_bytes: i64,
    /// "sha256:" and 64 hex digits.
    #[schema(example = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub checksum: String,
    /// Where it is stored.
    #[schema(example = "s3://prm-proofs/2026/invoice-0042.pdf")]
    pub location: String,
}

impl ProofDocument {
    fn to_proto(&self) -> pb::ProofDocument {
        pb::ProofDocument {
            name: self.name.clone(),
            content_type: self.content_type.clone(),
            size_bytes: self.size_bytes,
            checksum: self.checksum.clone(),
            location: self.location.clone(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClaim {
    /// What the activity cost, as invoiced.
    pub proven_cost: Money,
    #[schema(example = "INV-2026-0042")]
    pub invoice_number: String,
    pub leads_generated: Option<i32>,
    pub attendees: Option<i32>,
    /// Proof of performance: at least one.
    pub documents: Vec<ProofDocument>,
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClaimQuery {
    /// Staff only; a partner always sees its own.
    pub partner_id: Option<String>,
    pub request_id: Option<String>,
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
                    name: d.name.clone(),
                    content_type: d.content_type.clone(),
                    size_bytes: d.size_bytes,
                    checksum: d.checksum.clone(),
                    location: d.location.clone(),
                })
                .collect(),
            decision_reason: c.decision_reason.clone(),
            submitted_at: time(&c.submitted_at),
            decided_at: time(&c.decided_at),
        }
    }
}
