use chrono::{DateTime, Utc};
use prm_proto::reporting as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::dto::*;
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::forward::{Call, Reply, created, ok, one};

/// A won deal's credit shares under the model in force when it was won,
/// each with its reason. The shares sum to exactly the deal's amount
/// (`rounding` states how). Staff see every share; a partner sees the
/// deal only if it holds a share, and only its own.
#[utoipa::path(get, path = "/v1/reports/attribution/deals/{id}", tag = "reporting", security(("api_key" = ["reports.read"])),
    params(("id" = Uuid, Path, description = "Deal registration id")),
    responses((status = 200, description = "OK", body = DealAttribution)))]
pub async fn deal_attribution(call: Call, PathId(id): PathId) -> Reply<DealAttribution> {
    let req = pb::GetDealAttributionRequest {
        deal_registration_id: id,
    };
    let r = call.send(req).await?;
    ok(one(r.attribution)?)
}

/// A new version of the attribution credit model (admins and partner
/// managers), in force from `effective_from` (default now, never in the
/// past). The weights must sum to 10000 basis points (100%). Deals won
/// before it keep their credit.
#[utoipa::path(post, path = "/v1/attribution-models", tag = "reporting", security(("api_key" = ["attribution_models.write"])),
    request_body = NewAttributionModel,
    responses((status = 201, description = "Created", body = AttributionCreditModel)))]
pub async fn create_model(
    call: Call,
    JsonBody(body): JsonBody<NewAttributionModel>,
) -> Reply<AttributionCreditModel> {
    let req = pb::CreateAttributionModelRequest {
        name: body.name.into(),
        sourced_bps: body.sourced_bps.into(),
        influencer_bps: body.influencer_bps.into(),
        direct_bps: body.direct_bps.unwrap_or_default().into(),
        window_days: body.window_days.unwrap_or_default().into(),
        effective_from: body.effective_from.map(prm_runtime::wire::timestamp),
    };
    let r = call.send(req).await?;
    created(one(r.model)?)
}

/// Every version of the attribution credit model, oldest first (staff).
#[utoipa::path(get, path = "/v1/attribution-models", tag = "reporting", security(("api_key" = ["attribution_models.read"])),
    params(PageQuery),
    responses((status = 200, description = "OK", body = AttributionCreditModelList)))]
pub async fn list_models(
    call: Call,
    QueryParams(page): QueryParams<PageQuery>,
) -> Reply<AttributionCreditModelList> {
    let req = pb::ListAttributionModelsRequest {
        page_size: page.page_size.unwrap_or_default(),
        page_token: page.page_token.unwrap_or_default(),
    };
    let r = call.send(req).await?;
    ok(List::of(&r.models, r.next_page_token))
}

// ------------------------------------------------------------ JSON shapes

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAttributionModel {
    pub name: AttributionModelName,
    /// The registering partner's weight. The three weights sum to 10000.
    pub sourced_bps: BasisPoints,
    /// Split equally between the influencing partners; with none, it goes
    /// to the registering partner.
    pub influencer_bps: BasisPoints,
    /// The direct team's weight (default 0).
    pub direct_bps: Option<BasisPoints>,
    pub window_days: Option<InfluenceWindowDays>,
    /// Not in the past (a model never rewrites credit already given);
    /// left out, now.
    pub effective_from: Option<DateTime<Utc>>,
}

/// A version of the attribution credit model.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AttributionCreditModel {
    pub id: String,
    pub version: i32,
    pub name: String,
    pub sourced_bps: i32,
    pub influencer_bps: i32,
    pub direct_bps: i32,
    pub window_days: i32,
    pub effective_from: Option<DateTime<Utc>>,
    pub created_at: Option<DateTime<Utc>>,
    pub created_by_user_id: Option<String>,
}

pub type AttributionCreditModelList = List<AttributionCreditModel>;

impl From<&pb::AttributionModel> for AttributionCreditModel {
    fn from(m: &pb::AttributionModel) -> Self {
        Self {
            id: m.id.clone(),
            version: m.version,
            name: m.name.clone(),
            sourced_bps: m.sourced_bps,
            influencer_bps: m.influencer_bps,
            direct_bps: m.direct_bps,
            window_days: m.window_days,
            effective_from: time(&m.effective_from),
            created_at: time(&m.created_at),
            created_by_user_id: id(&m.created_by_user_id),
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CreditShare {
    pub role: Option<ShareRole>,
    /// Null for the direct team.
    pub partner_id: Option<String>,
    /// The share's weight under the model, in basis points (an
    /// influencer's is its equal part, rounded down).
    pub weight_bps: i32,
    pub amount: Option<Money>,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DealAttribution {
    pub deal_registration_id: String,
    pub customer_domain: String,
    pub amount: Option<Money>,
    pub won_at: Option<DateTime<Utc>>,
    /// Null with version 0 for the built-in model (the registering partner
    /// gets the whole deal).
    pub model_id: Option<String>,
    pub model_version: i32,
    pub shares: Vec<CreditShare>,
    /// How shares are rounded to minor units.
    pub rounding: String,
}

impl From<&pb::DealAttribution> for DealAttribution {
    fn from(a: &pb::DealAttribution) -> Self {
        Self {
            deal_registration_id: a.deal_registration_id.clone(),
            customer_domain: a.customer_domain.clone(),
            amount: Money::from_proto(&a.amount),
            won_at: time(&a.won_at),
            model_id: id(&a.model_id),
            model_version: a.model_version,
            shares: a
                .shares
                .iter()
                .map(|s| CreditShare {
                    role: ShareRole::from_proto(s.role).ok(),
                    partner_id: id(&s.partner_id),
                    weight_bps: s.weight_bps,
                    amount: Money::from_proto(&s.amount),
                    reason: s.reason.clone(),
                })
                .collect(),
            rounding: a.rounding.clone(),
        }
    }
}
