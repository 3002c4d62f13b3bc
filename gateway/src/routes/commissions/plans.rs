use chrono::{DateTime, Utc};
use prm_proto::commissions as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::dto::*;
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::forward::{Call, Reply, created, ok, one};

/// A new version of a program's plan, or of one tier's (staff), in force
/// from `effective_from` (default now, never in the past). Commissions
/// keep the version that produced them.
#[utoipa::path(post, path = "/v1/plans", tag = "commissions", security(("api_key" = [])),
    request_body = NewPlan,
    responses((status = 201, description = "Created", body = Plan)))]
pub async fn create_plan(call: Call, JsonBody(body): JsonBody<NewPlan>) -> Reply<Plan> {
    let req = pb::CreatePlanRequest {
        program_id: body.program_id,
        tier_id: body.tier_id.unwrap_or_default(),
        effective_from: body.effective_from.map(prm_runtime::wire::timestamp),
        name: body.name,
        currency: body.currency,
        cpa: body
            .cpa
            .iter()
            .map(|c| pb::CpaRate {
                event_type: c.event_type.clone(),
                amount_minor: c.amount_minor,
            })
            .collect(),
        revshare_bps: body.revshare_bps.unwrap_or_default(),
        volume_tiers: body
            .volume_tiers
            .iter()
            .map(|t| pb::VolumeTier {
                from_sale: t.from_sale,
                revshare_bps: t.revshare_bps,
            })
            .collect(),
        recurrence: body.recurrence.map_or(0, Recurrence::to_proto),
        recurring_months: body.recurring_months.unwrap_or_default(),
        reseller_margin_bps: body.reseller_margin_bps.unwrap_or_default(),
        referral_fee_bps: body.referral_fee_bps.unwrap_or_default(),
        hold_days: body.hold_days,
    };
    let r = call.send(req).await?;
    created(one(r.plan)?)
}

/// Plans and their versions: staff see any program's, a partner its own
/// program's.
#[utoipa::path(get, path = "/v1/plans", tag = "commissions", security(("api_key" = [])),
    params(PageQuery, PlanQuery),
    responses((status = 200, description = "OK", body = PlanList)))]
pub async fn list_plans(
    call: Call,
    QueryParams(page): QueryParams<PageQuery>,
    QueryParams(q): QueryParams<PlanQuery>,
) -> Reply<PlanList> {
    let req = pb::ListPlansRequest {
        program_id: q.program_id.unwrap_or_default(),
        page_size: page.page_size.unwrap_or_default(),
        page_token: page.page_token.unwrap_or_default(),
    };
    let r = call.send(req).await?;
    ok(List::of(&r.plans, r.next_page_token))
}

/// A program's commission settings (staff; a partner reads its own
/// program's). The postback token and secret are never shown.
#[utoipa::path(get, path = "/v1/programs/{id}/commission-settings", tag = "commissions", security(("api_key" = [])),
    params(("id" = String, Path, description = "Program id")),
    responses((status = 200, description = "OK", body = CommissionSettings)))]
pub async fn get_settings(call: Call, PathId(id): PathId) -> Reply<CommissionSettings> {
    let req = pb::GetProgramSettingsRequest { program_id: id };
    let r = call.send(req).await?;
    ok(one(r.settings)?)
}

/// Set a program's commission settings (staff): allowed link domains,
/// attribution, fraud thresholds, postback credentials (left out, they
/// are kept) and the minimum payout.
#[utoipa::path(put, path = "/v1/programs/{id}/commission-settings", tag = "commissions", security(("api_key" = [])),
    params(("id" = String, Path, description = "Program id")),
    request_body = NewCommissionSettings,
    responses((status = 200, description = "Saved", body = CommissionSettings)))]
pub async fn put_settings(
    call: Call,
    PathId(id): PathId,
    JsonBody(body): JsonBody<NewCommissionSettings>,
) -> Reply<CommissionSettings> {
    let req = pb::PutProgramSettingsRequest {
        program_id: id,
        allowed_domains: body.allowed_domains,
        attribution_model: body.attribution_model.map_or(0, AttributionModel::to_proto),
        attribution_window_days: body.attribution_window_days.unwrap_or_default(),
        min_seconds_to_convert: body.min_seconds_to_convert.unwrap_or(10),
        max_clicks_per_source_hour: body.max_clicks_per_source_hour.unwrap_or_default(),
        min_payout_minor: body.min_payout_minor.unwrap_or_default(),
        postback_token: body.postback_token.unwrap_or_default(),
        postback_secret: body.postback_secret.unwrap_or_default(),
    };
    let r = call.send(req).await?;
    ok(one(r.settings)?)
}

// ------------------------------------------------------------ JSON shapes

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CpaRate {
    #[schema(example = "signup")]
    pub event_type: String,
    pub amount_minor: i64,
}

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VolumeTier {
    /// From the Nth sale of the partner in the calendar month (UTC).
    pub from_sale: i32,
    pub revshare_bps: i32,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPlan {
    pub program_id: String,
    /// The tier's plan; left out, the program's.
    pub tier_id: Option<String>,
    pub effective_from: Option<DateTime<Utc>>,
    #[schema(example = "Standard affiliate plan")]
    pub name: String,
    /// The currency of CPA amounts.
    #[schema(example = "USD")]
    pub currency: String,
    #[serde(default)]
    pub cpa: Vec<CpaRate>,
    /// Basis points of a sale's amount (2000 = 20%).
    pub revshare_bps: Option<i32>,
    #[serde(default)]
    pub volume_tiers: Vec<VolumeTier>,
    /// Whether a customer's later sales earn without a new click
    /// (default one_time).
    pub recurrence: Option<Recurrence>,
    pub recurring_months: Option<i32>,
    /// On won deals registered by resellers, integrators and technology
    /// partners.
    pub reseller_margin_bps: Option<i32>,
    /// On won deals of referral partners and affiliates.
    pub referral_fee_bps: Option<i32>,
    /// Days a commission stays pending before it is payable (default 30).
    pub hold_days: Option<i32>,
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PlanQuery {
    pub program_id: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Plan {
    pub id: String,
    pub program_id: String,
    pub tier_id: Option<String>,
    pub version: i32,
    pub effective_from: Option<DateTime<Utc>>,
    pub name: String,
    pub currency: String,
    pub cpa: Vec<CpaRate>,
    pub revshare_bps: i32,
    pub volume_tiers: Vec<VolumeTier>,
    pub recurrence: Option<Recurrence>,
    pub recurring_months: i32,
    pub reseller_margin_bps: i32,
    pub referral_fee_bps: i32,
    pub hold_days: i32,
    pub created_at: Option<DateTime<Utc>>,
}

pub type PlanList = List<Plan>;

impl From<&pb::Plan> for Plan {
    fn from(p: &pb::Plan) -> Self {
        Self {
            id: p.plan_id.clone(),
            program_id: p.program_id.clone(),
            tier_id: id(&p.tier_id),
            version: p.version,
            effective_from: time(&p.effective_from),
            name: p.name.clone(),
            currency: p.currency.clone(),
            cpa: p
                .cpa
                .iter()
                .map(|c| CpaRate {
                    event_type: c.event_type.clone(),
                    amount_minor: c.amount_minor,
                })
                .collect(),
            revshare_bps: p.revshare_bps,
            volume_tiers: p
                .volume_tiers
                .iter()
                .map(|t| VolumeTier {
                    from_sale: t.from_sale,
                    revshare_bps: t.revshare_bps,
                })
                .collect(),
            recurrence: Recurrence::from_proto(p.recurrence).ok(),
            recurring_months: p.recurring_months,
            reseller_margin_bps: p.reseller_margin_bps,
            referral_fee_bps: p.referral_fee_bps,
            hold_days: p.hold_days,
            created_at: time(&p.created_at),
        }
    }
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCommissionSettings {
    /// Link destinations must be on one of these (or a subdomain).
    #[schema(example = json!(["shop.example"]))]
    #[serde(default)]
    pub allowed_domains: Vec<String>,
    /// Default last_click.
    pub attribution_model: Option<AttributionModel>,
    /// Default 90, at most 365.
    pub attribution_window_days: Option<i32>,
    /// A conversion sooner after its click is held (default 10).
    pub min_seconds_to_convert: Option<i32>,
    /// A source clicking more in an hour is flooding (default 20).
    pub max_clicks_per_source_hour: Option<i32>,
    /// Approved balances below this are not paid out.
    pub min_payout_minor: Option<i64>,
    /// 16 to 256 characters; left out, the current one is kept.
    pub postback_token: Option<String>,
    /// The HMAC-SHA256 key for signed postbacks; left out, kept.
    pub postback_secret: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CommissionSettings {
    pub program_id: String,
    pub allowed_domains: Vec<String>,
    pub attribution_model: Option<AttributionModel>,
    pub attribution_window_days: i32,
    pub min_seconds_to_convert: i32,
    pub max_clicks_per_source_hour: i32,
    pub min_payout_minor: i64,
    pub has_postback_token: bool,
    pub has_postback_secret: bool,
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<&pb::ProgramSettings> for CommissionSettings {
    fn from(s: &pb::ProgramSettings) -> Self {
        Self {
            program_id: s.program_id.clone(),
            allowed_domains: s.allowed_domains.clone(),
            attribution_model: AttributionModel::from_proto(s.attribution_model).ok(),
            attribution_window_days: s.attribution_window_days,
            min_seconds_to_convert: s.min_seconds_to_convert,
            max_clicks_per_source_hour: s.max_clicks_per_source_hour,
            min_payout_minor: s.min_payout_minor,
            has_postback_token: s.has_postback_token,
            has_postback_secret: s.has_postback_secret,
            updated_at: time(&s.updated_at),
        }
    }
}
