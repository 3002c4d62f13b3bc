use axum::extract::Path;
use axum::http::StatusCode;
use prm_proto::onboarding as pb;

use crate::dto::*;
use crate::extract::{JsonBody, parse_json};
use crate::forward::{Call, Reply, created, ok, one};
use crate::problem::Problem;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Publish a new version of terms (admins).
#[utoipa::path(post, path = "/v1/terms", tag = "terms", security(("api_key" = ["terms.write"])),
    request_body = NewTerms,
    responses((status = 201, description = "Created", body = Terms)))]
pub async fn publish_terms(call: Call, JsonBody(b): JsonBody<NewTerms>) -> Reply<Terms> {
    let req = pb::PublishTermsRequest {
        kind: b.kind.to_proto(),
        version: b.version.into(),
        title: b.title.into(),
        body: b.body.into(),
    };
    let r = call.send(req).await?;
    created(one(r.terms)?)
}

/// Every published version of the terms.
#[utoipa::path(get, path = "/v1/terms", tag = "terms", security(("api_key" = ["terms.read"])),
    responses((status = 200, description = "OK", body = TermsList)))]
pub async fn list_terms(call: Call) -> Reply<TermsList> {
    let r = call.send(pb::ListTermsRequest { kind: 0 }).await?;
    ok(List::all(r.terms.iter().map(Terms::from).collect()))
}

/// Accept a version of the terms for the caller's partner (partner admins).
/// The body is optional; `kind` defaults to the partner agreement.
#[utoipa::path(post, path = "/v1/terms/{version}/accept", tag = "terms", security(("api_key" = ["terms.write"])),
    params(("version" = String, Path, description = "Terms version, e.g. 2026-11")),
    request_body(content = Option<TermsAcceptanceRequest>),
    responses((status = 200, description = "OK", body = TermsAcceptance)))]
pub async fn accept_terms(
    call: Call,
    Path(version): Path<String>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Reply<TermsAcceptance> {
    let body = body.map_err(|_| {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            "the request body is too large",
        )
    })?;
    let body: TermsAcceptanceRequest = if body.iter().all(u8::is_ascii_whitespace) {
        TermsAcceptanceRequest::default()
    } else {
        parse_json::<Option<TermsAcceptanceRequest>>(&body)?.unwrap_or_default()
    };
    let Some(partner_id) = call.principal().partner_id else {
        return Err(Problem::forbidden(
            "PARTNER_ADMIN_REQUIRED",
            "only a partner's own admin can accept its terms",
        ));
    };
    let kind = body.kind.unwrap_or(TermsKind::PartnerAgreement);
    let req = pb::AcceptTermsRequest {
        partner_id: partner_id.to_string(),
        kind: kind.to_proto(),
        version,
    };
    let r = call.send(req).await?;
    ok(one(r.acceptance)?)
}

// ------------------------------------------------------------ JSON shapes

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Terms {
    pub id: String,
    pub kind: Option<TermsKind>,
    pub version: String,
    pub title: String,
    pub body: String,
    pub published_at: Option<DateTime<Utc>>,
}

impl From<&pb::Terms> for Terms {
    fn from(t: &pb::Terms) -> Self {
        Self {
            id: t.id.clone(),
            kind: TermsKind::from_proto(t.kind).ok(),
            version: t.version.clone(),
            title: t.title.clone(),
            body: t.body.clone(),
            published_at: time(&t.published_at),
        }
    }
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTerms {
    pub kind: TermsKind,
    pub version: TermsVersion,
    pub title: Title,
    pub body: TermsBody,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TermsAcceptanceRequest {
    /// Defaults to `partner_agreement`.
    pub kind: Option<TermsKind>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TermsAcceptance {
    pub partner_id: String,
    pub terms_id: String,
    pub kind: Option<TermsKind>,
    pub version: String,
    pub accepted_by_user_id: String,
    pub accepted_at: Option<DateTime<Utc>>,
}

impl From<&pb::TermsAcceptance> for TermsAcceptance {
    fn from(a: &pb::TermsAcceptance) -> Self {
        Self {
            partner_id: a.partner_id.clone(),
            terms_id: a.terms_id.clone(),
            kind: TermsKind::from_proto(a.kind).ok(),
            version: a.version.clone(),
            accepted_by_user_id: a.accepted_by_user_id.clone(),
            accepted_at: time(&a.accepted_at),
        }
    }
}

pub type TermsList = List<Terms>;

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RequiredTerms {
    pub terms: Option<Terms>,
    pub acceptance: Option<TermsAcceptance>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TermsStatus {
    pub required: Vec<RequiredTerms>,
    pub all_accepted: bool,
}
