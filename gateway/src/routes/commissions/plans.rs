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
#[utoipa::path(post, path = "/v1/plans", tag = "commissions", security(("api_key" = ["plans.write"])),
    request_body = NewPlan,
    responses((status = 201, description = "Created", body = Plan)))]
pub async fn create_plan(call: Call, JsonBody(body): JsonBody<NewPlan>) -> Reply<Plan> {
    let req = pb::CreatePlanRequest {
        program_id: body.program_id.into(),
        tier_id: body.tier_id.unwrap_or_default().into(),
        effective_from: body.effective_from.map(prm_runtime::wire::timestamp),
        name: body.name.into(),
        currency: body.currency.into(),
        cpa: body
            .cpa
            .iter()
            .map(|c| pb::CpaRate {
                event_type: c.event_type.0.clone(),
                amount_minor: c.amount_minor.0,
            })
            .collect(),
        revshare_bps: body.revshare_bps.unwrap_or_default().into(),
        volume_tiers: body
            .volume_tiers
            .iter()
            .map(|t| pb::VolumeTier {
                from_sale: t.from_sale.0,
                revshare_bps: t.revshare_bps.0,
            })
            .collect(),
        recurrence: body.recurrence.map_or(0, Recurrence::to_proto),
        recurring_months: body.recurring_months.unwrap_or_default().into(),
        reseller_margin_bps: body.reseller_margin_bps.unwrap_or_default().into(),
        referral_fee_bps: body.referral_fee_bps.unwrap_or_default().into(),
        hold_days: body.hold_days.map(i32::from),
    };
    let r = call.send(req).await?;
    created(one(r.plan)?)
}

/// Plans and their versions: staff see any program's, a partner its own
/// program's.
#[utoipa::path(get, path = "/v1/plans", tag = "commissions", security(("api_key" = ["plans.read"])),
    params(PageQuery, PlanQuery),
    responses((status = 200, description = "OK", body = PlanList)))]
pub async fn list_plans(
    call: Call,
    QueryParams(page): QueryParams<PageQuery>,
    QueryParams(q): QueryParams<PlanQuery>,
) -> Reply<PlanList> {
    let req = pb::ListPlansRequest {
        program_id: q.program_id.unwrap_or_default().into(),
        page_size: page.page_size.unwrap_or_default(),
        page_token: page.page_token.unwrap_or_default(),
    };
    let r = call.send(req).await?;
    ok(List::of(&r.plans, r.next_page_token))
}

/// A program's commission settings (staff; a partner reads its own
/// program's). The postback token and secret are never shown.
#[utoipa::path(get, path = "/v1/programs/{id}/commission-settings", tag = "commissions", security(("api_key" = ["commission_settings.read"])),
    params(("id" = Uuid, Path, description = "Program id")),
    responses((status = 200, description = "OK", body = CommissionSettings)))]
pub async fn get_settings(call: Call, PathId(id): PathId) -> Reply<CommissionSettings> {
    let req = pb::GetProgramSettingsRequest { program_id: id };
    let r = call.send(req).await?;
    ok(one(r.settings)?)
}

/// Set a program's commission settings (staff): allowed link domains,
/// attribution, fraud thresholds, postback credentials (left out, they
/// are kept) and the minimum payout.
#[utoipa::path(put, path = "/v1/programs/{id}/commission-settings", tag = "commissions", security(("api_key" = ["commission_settings.write"])),
    params(("id" = Uuid, Path, description = "Program id")),
    request_body = NewCommissionSettings,
    responses((status = 200, description = "Saved", body = CommissionSettings)))]
pub async fn put_settings(
    call: Call,
    PathId(id): PathId,
    JsonBody(body): JsonBody<NewCommissionSettings>,
) -> Reply<CommissionSettings> {
    let req = pb::PutProgramSettingsRequest {
        program_id: id,
        allowed_domains: body.allowed_domains.into_iter().map(String::from).collect(),
        attribution_model: body.attribution_model.map_or(0, AttributionModel::to_proto),
        attribution_window_days: body.attribution_window_days.unwrap_or_default().into(),
        min_seconds_to_convert: body
            .min_seconds_to_convert
            .map_or(10, MinSecondsToConvert::into),
        max_clicks_per_source_hour: body.max_clicks_per_source_hour.unwrap_or_default().into(),
        min_payout_minor: body.min_payout_minor.unwrap_or_default().into(),
        postback_token: body.postback_token.unwrap_or_default().into(),
        postback_secret: body.postback_secret.unwrap_or_default().into(),
    };
    let r = call.send(req).await?;
    ok(one(r.settings)?)
}

// ------------------------------------------------------------ JSON shapes

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CpaRate {
    pub event_type: EventType,
    pub amount_minor: PositiveAmountMinor,
}

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VolumeTier {
    /// From the Nth sale of the partner in the calendar month (UTC).
    pub from_sale: FromSale,
    pub revshare_bps: BasisPoints,
}

/// A new plan version. A plan pays something: CPA rates, a revshare,
/// volume tiers, or a deal margin or fee.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPlan {
    pub program_id: Id,
    /// The tier's plan; left out, the program's.
    pub tier_id: Option<Id>,
    /// Not in the past; left out, now.
    pub effective_from: Option<DateTime<Utc>>,
    pub name: PlanName,
    /// The currency of CPA amounts.
    pub currency: CurrencyCode,
    /// One rate per event type (compared without case).
    #[serde(default)]
    pub cpa: Vec<CpaRate>,
    /// Of a sale's amount (2000 = 20%).
    pub revshare_bps: Option<BasisPoints>,
    /// In ascending `from_sale`, each above the one before and above 1
    /// (the first sale earns `revshare_bps`).
    #[serde(default)]
    pub volume_tiers: Vec<VolumeTier>,
    /// Whether a customer's later sales earn without a new click
    /// (default one_time).
    pub recurrence: Option<Recurrence>,
    /// Required with the recurrence `months`, and only with it.
    pub recurring_months: Option<RecurringMonths>,
    /// On won deals registered by resellers, integrators and technology
    /// partners.
    pub reseller_margin_bps: Option<BasisPoints>,
    /// On won deals of referral partners and affiliates.
    pub referral_fee_bps: Option<BasisPoints>,
    /// Days a commission stays pending before it is payable (default 30).
    pub hold_days: Option<HoldDays>,
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PlanQuery {
    #[param(inline)]
    pub program_id: Option<Id>,
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
                    event_type: EventType(c.event_type.clone()),
                    amount_minor: PositiveAmountMinor(c.amount_minor),
                })
                .collect(),
            revshare_bps: p.revshare_bps,
            volume_tiers: p
                .volume_tiers
                .iter()
                .map(|t| VolumeTier {
                    from_sale: FromSale(t.from_sale),
                    revshare_bps: BasisPoints(t.revshare_bps),
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
    #[schema(max_items = 50)]
    #[serde(default)]
    pub allowed_domains: Vec<DomainName>,
    /// Default last_click.
    pub attribution_model: Option<AttributionModel>,
    pub attribution_window_days: Option<AttributionWindowDays>,
    /// Default 10.
    pub min_seconds_to_convert: Option<MinSecondsToConvert>,
    /// Default 20.
    pub max_clicks_per_source_hour: Option<MaxClicksPerSourceHour>,
    /// Approved balances below this are not paid out.
    pub min_payout_minor: Option<AmountMinor>,
    /// Left out, the current one is kept.
    pub postback_token: Option<PostbackSecret>,
    /// The HMAC-SHA256 key for signed postbacks; left out, kept.
    pub postback_secret: Option<PostbackSecret>,
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
