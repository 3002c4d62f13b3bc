use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use prm_proto::reporting as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::dto::*;
use crate::extract::{PathId, QueryParams};
use crate::forward::{Answer, Call, Reply, ok, one};
use crate::problem::Problem;

/// The header carrying the export's next page token.
pub const NEXT_PAGE_TOKEN: HeaderName = HeaderName::from_static("x-next-page-token");

/// A partner's figures for a period. A partner reads only its own
/// scorecard (another's is 404); staff read every partner's. Every figure
/// is defined in the `Figures` schema.
#[utoipa::path(get, path = "/v1/reports/partners/{id}/scorecard", tag = "reporting", security(("api_key" = ["reports.read"])),
    params(("id" = Uuid, Path, description = "Partner id"), PeriodQuery),
    responses((status = 200, description = "OK", body = Scorecard)))]
pub async fn scorecard(
    call: Call,
    PathId(id): PathId,
    QueryParams(q): QueryParams<PeriodQuery>,
) -> Reply<Scorecard> {
    let req = pb::GetPartnerScorecardRequest {
        partner_id: id,
        period: q.period.into(),
        currency: q.currency.unwrap_or_default().into(),
    };
    let r = call.send(req).await?;
    ok(one(r.scorecard)?)
}

/// The program's figures for a period, by tier or by partner type, with
/// the leading indicators and the whole program's total (staff).
#[utoipa::path(get, path = "/v1/reports/program", tag = "reporting", security(("api_key" = ["reports.read"])),
    params(ProgramQuery),
    responses((status = 200, description = "OK", body = ProgramReport)))]
pub async fn program(
    call: Call,
    QueryParams(q): QueryParams<ProgramQuery>,
) -> Reply<ProgramReport> {
    let req = pb::GetProgramReportRequest {
        group_by: q.group_by.to_proto(),
        period: q.period.into(),
        currency: q.currency.unwrap_or_default().into(),
        program_id: q.program_id.unwrap_or_default().into(),
    };
    let r = call.send(req).await?;
    ok(ProgramReport::from(&r))
}

/// Every partner's scorecard for a period as CSV (staff), one line per
/// partner with the columns of `Figures`, a page at a time (default 50
/// partners, at most 500). The `X-Next-Page-Token` header carries the next
/// page's `page_token`; it is absent on the last page.
#[utoipa::path(get, path = "/v1/reports/export", tag = "reporting", security(("api_key" = ["reports.read"])),
    params(PeriodQuery, PageQuery),
    responses((status = 200, description = "The CSV page", content_type = "text/csv", body = String,
        headers(("X-Next-Page-Token" = String, description = "The next page's token")))))]
pub async fn export(
    call: Call,
    QueryParams(q): QueryParams<PeriodQuery>,
    QueryParams(page): QueryParams<PageQuery>,
) -> Result<Response, Problem> {
    let req = pb::ExportScorecardsRequest {
        period: q.period.into(),
        currency: q.currency.unwrap_or_default().into(),
        page_size: page.page_size.unwrap_or_default(),
        page_token: page.page_token.unwrap_or_default(),
    };
    let r = call.send(req).await?;
    let mut response = (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"scorecards.csv\""),
            ),
        ],
        r.csv,
    )
        .into_response();
    if !r.next_page_token.is_empty() {
        let token = HeaderValue::from_str(&r.next_page_token).map_err(|_| Problem::internal())?;
        response.headers_mut().insert(NEXT_PAGE_TOKEN, token);
    }
    Ok(response)
}

/// How far the read models are behind each event stream, in events and
/// seconds (staff).
#[utoipa::path(get, path = "/v1/reports/lag", tag = "reporting", security(("api_key" = ["reports.read"])),
    responses((status = 200, description = "OK", body = ReportingLag)))]
pub async fn lag(call: Call) -> Reply<ReportingLag> {
    let r = call.send(pb::GetLagRequest {}).await?;
    ok(ReportingLag {
        streams: r.streams.iter().map(StreamLag::from).collect(),
    })
}

/// Drop the read models and rebuild them by replaying every stream from
/// its first event (admin). Figures fill up again as the replay goes;
/// `GET /v1/reports/lag` shows how far it is. Attribution models are kept.
#[utoipa::path(post, path = "/v1/reports/rebuild", tag = "reporting", security(("api_key" = ["reports.write"])),
    responses((status = 202, description = "Rebuilding", body = Rebuild)))]
pub async fn rebuild(call: Call) -> Reply<Rebuild> {
    let r = call.send(pb::RebuildReadModelsRequest {}).await?;
    Ok(Answer(StatusCode::ACCEPTED, Rebuild { sources: r.sources }))
}

// ------------------------------------------------------------ JSON shapes

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// In UTC.
    #[param(inline)]
    pub period: ReportPeriod,
    /// Default USD. Amounts in other currencies are left out and listed
    /// in `other_currencies`.
    #[param(inline)]
    pub currency: Option<CurrencyCode>,
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProgramQuery {
    #[param(inline)]
    pub group_by: GroupBy,
    #[param(inline)]
    pub period: ReportPeriod,
    /// Default USD.
    #[param(inline)]
    pub currency: Option<CurrencyCode>,
    /// One program's partners; every program's when left out.
    #[param(inline)]
    pub program_id: Option<Id>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Period {
    pub name: String,
    /// Inclusive.
    pub start: Option<DateTime<Utc>>,
    /// Exclusive.
    pub end: Option<DateTime<Utc>>,
}

impl From<&pb::Period> for Period {
    fn from(p: &pb::Period) -> Self {
        Self {
            name: p.name.clone(),
            start: time(&p.start),
            end: time(&p.end),
        }
    }
}

/// The figures of a partner, or summed over a group of partners, for a
/// period. Counts and money count the events whose business time (the
/// time the producing service states, e.g. when a deal was won) falls in
/// the period. Money is in minor units of the report's currency. A ratio
/// or median is null when undefined (nothing to divide by, nothing to take
/// the median of).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Figures {
    /// Sourced pipeline: the estimated value of the deals the partner
    /// registered in the period.
    pub sourced_pipeline_minor: i64,
    /// Influenced pipeline: the estimated value of deals other partners
    /// registered in the period for a customer domain this partner had an
    /// attributed conversion for within the attribution window (of the
    /// model in force at the period's end) before the registration.
    pub influenced_pipeline_minor: i64,
    /// Won revenue: the amount of the partner's registered deals won in the
    /// period.
    pub won_revenue_minor: i64,
    /// Credited revenue: the partner's credit shares of the deals won in
    /// the period (see `GET /v1/reports/attribution/deals/{id}`).
    pub credited_revenue_minor: i64,
    pub deals_registered: i64,
    pub deals_approved: i64,
    pub deals_rejected: i64,
    pub deals_won: i64,
    pub deals_lost: i64,
    pub deals_expired: i64,
    /// Registrations that got no decision within the approval SLA.
    pub sla_breaches: i64,
    /// Of the deals registered in the period, the share won so far.
    pub registration_conversion_rate: Option<f64>,
    /// Median hours from registration to approval, over the deals approved
    /// in the period.
    pub median_approval_hours: Option<f64>,
    /// Deal velocity: median days from registration to won, over the deals
    /// won in the period.
    pub deal_velocity_days: Option<f64>,
    /// Win rate: won / (won + lost), over the deals closed in the period.
    pub win_rate: Option<f64>,
    pub mdf_requested_minor: i64,
    pub mdf_approved_minor: i64,
    /// The reimbursable amount of the claims submitted.
    pub mdf_claimed_minor: i64,
    /// Reimbursed.
    pub mdf_paid_minor: i64,
    /// MDF ROI: won revenue of the partner's deals that name an MDF
    /// request or campaign, won in the period, / MDF paid in the period.
    pub mdf_roi: Option<f64>,
    pub commissions_earned_minor: i64,
    /// Taken back by refunds, chargebacks and rejections.
    pub commissions_reversed_minor: i64,
    /// Paid in payout batches marked paid in the period.
    pub commissions_paid_minor: i64,
    /// Clicks counted for attribution: human, once per link, source and
    /// hour.
    pub clicks: i64,
    /// Attributed conversions (held ones are not counted).
    pub conversions: i64,
    /// Conversions / clicks.
    pub click_conversion_rate: Option<f64>,
    /// Attributed sale revenue reported by postbacks, before refunds.
    pub conversion_revenue_minor: i64,
    /// EPC, earnings per click: the commissions the partner earned on
    /// conversions / clicks, in minor units. What the partner earns per
    /// click, not Dub's "earnings per click" (which is revenue per click,
    /// the next figure).
    pub earnings_per_click_minor: Option<f64>,
    /// Revenue per click: conversion revenue / clicks, in minor units.
    pub revenue_per_click_minor: Option<f64>,
    /// Whole days from the day of the last attributed conversion to the end
    /// of the period (or today, if sooner).
    pub days_since_last_conversion: Option<f64>,
    /// Return on commission spend: (conversion revenue + credited revenue)
    /// / commissions paid, in the period.
    pub return_on_commission_spend: Option<f64>,
    /// As of now: onboarding checklist items done (of terms_accepted,
    /// first_user_active, required_courses_passed, first_deal_registered)
    /// / 4.
    pub checklist_completion: Option<f64>,
    /// As of now: certifications earned and neither expired nor past
    /// their expiry.
    pub certifications_held: i64,
    /// Time-to-first-deal: days from the partner's approval to its first
    /// approved deal (for a group, the median over its partners).
    pub time_to_first_deal_days: Option<f64>,
    /// Currencies of amounts seen in the period and left out.
    pub other_currencies: Vec<String>,
}

fn ratio(r: &Option<pb::Ratio>) -> Option<f64> {
    r.as_ref().filter(|r| r.defined).map(|r| r.value)
}

fn measure(m: &Option<pb::Measure>) -> Option<f64> {
    m.as_ref().filter(|m| m.defined).map(|m| m.value)
}

impl From<&pb::Figures> for Figures {
    fn from(f: &pb::Figures) -> Self {
        Self {
            sourced_pipeline_minor: f.sourced_pipeline_minor,
            influenced_pipeline_minor: f.influenced_pipeline_minor,
            won_revenue_minor: f.won_revenue_minor,
            credited_revenue_minor: f.credited_revenue_minor,
            deals_registered: f.deals_registered,
            deals_approved: f.deals_approved,
            deals_rejected: f.deals_rejected,
            deals_won: f.deals_won,
            deals_lost: f.deals_lost,
            deals_expired: f.deals_expired,
            sla_breaches: f.sla_breaches,
            registration_conversion_rate: ratio(&f.registration_conversion_rate),
            median_approval_hours: measure(&f.median_approval_hours),
            deal_velocity_days: measure(&f.deal_velocity_days),
            win_rate: ratio(&f.win_rate),
            mdf_requested_minor: f.mdf_requested_minor,
            mdf_approved_minor: f.mdf_approved_minor,
            mdf_claimed_minor: f.mdf_claimed_minor,
            mdf_paid_minor: f.mdf_paid_minor,
            mdf_roi: ratio(&f.mdf_roi),
            commissions_earned_minor: f.commissions_earned_minor,
            commissions_reversed_minor: f.commissions_reversed_minor,
            commissions_paid_minor: f.commissions_paid_minor,
            clicks: f.clicks,
            conversions: f.conversions,
            click_conversion_rate: ratio(&f.click_conversion_rate),
            conversion_revenue_minor: f.conversion_revenue_minor,
            earnings_per_click_minor: ratio(&f.earnings_per_click_minor),
            revenue_per_click_minor: ratio(&f.revenue_per_click_minor),
            days_since_last_conversion: measure(&f.days_since_last_conversion),
            return_on_commission_spend: ratio(&f.return_on_commission_spend),
            checklist_completion: ratio(&f.checklist_completion),
            certifications_held: f.certifications_held,
            time_to_first_deal_days: measure(&f.time_to_first_deal_days),
            other_currencies: f.other_currencies.clone(),
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ScorecardPartner {
    pub id: String,
    pub company_name: String,
    pub partner_type: Option<PartnerType>,
    pub program_id: String,
    /// The current tier.
    pub tier: String,
    /// active, suspended or terminated.
    pub status: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Scorecard {
    pub partner: Option<ScorecardPartner>,
    pub period: Option<Period>,
    pub currency: String,
    pub figures: Option<Figures>,
}

impl From<&pb::Scorecard> for Scorecard {
    fn from(s: &pb::Scorecard) -> Self {
        Self {
            partner: s.partner.as_ref().map(|p| ScorecardPartner {
                id: p.partner_id.clone(),
                company_name: p.company_name.clone(),
                partner_type: PartnerType::from_proto(p.partner_type).ok(),
                program_id: p.program_id.clone(),
                tier: p.tier_name.clone(),
                status: p.status.clone(),
            }),
            period: s.period.as_ref().map(Period::from),
            currency: s.currency.clone(),
            figures: s.figures.as_ref().map(Figures::from),
        }
    }
}

/// Early signs, before revenue shows them.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LeadingIndicators {
    /// Partners whose onboarding checklist is complete / partners.
    pub onboarding_completion_rate: Option<f64>,
    /// Partners holding at least one certification / partners.
    pub certification_rate: Option<f64>,
    /// Deal-registration velocity: registrations in the period per partner
    /// per week of the period.
    pub registrations_per_partner_week: Option<f64>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProgramGroup {
    /// The tier's name, or the partner type (e.g. `reseller`); `all` for
    /// the total.
    pub key: String,
    /// Approved partners in the group, whatever their status now.
    pub partners: i64,
    /// Summed over the group's partners; rates and medians over its deals.
    pub figures: Option<Figures>,
    pub leading: Option<LeadingIndicators>,
}

impl From<&pb::ProgramGroup> for ProgramGroup {
    fn from(g: &pb::ProgramGroup) -> Self {
        Self {
            key: g.key.clone(),
            partners: g.partners,
            figures: g.figures.as_ref().map(Figures::from),
            leading: g.leading.as_ref().map(|l| LeadingIndicators {
                onboarding_completion_rate: ratio(&l.onboarding_completion_rate),
                certification_rate: ratio(&l.certification_rate),
                registrations_per_partner_week: ratio(&l.registrations_per_partner_week),
            }),
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProgramReport {
    pub period: Option<Period>,
    pub currency: String,
    pub groups: Vec<ProgramGroup>,
    pub total: Option<ProgramGroup>,
}

impl From<&pb::GetProgramReportResponse> for ProgramReport {
    fn from(r: &pb::GetProgramReportResponse) -> Self {
        Self {
            period: r.period.as_ref().map(Period::from),
            currency: r.currency.clone(),
            groups: r.groups.iter().map(ProgramGroup::from).collect(),
            total: r.total.as_ref().map(ProgramGroup::from),
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StreamLag {
    /// The producing service, e.g. `dealreg`.
    pub source: String,
    /// Events in its stream not yet applied.
    pub pending_events: u64,
    /// Seconds since the oldest event not yet applied happened; 0 when
    /// none is pending.
    pub lag_seconds: f64,
    pub stream_last_sequence: u64,
    /// Events the answering replica applied since it started.
    pub applied_by_this_replica: u64,
    /// False while the stream or the consumer does not exist (yet).
    pub available: bool,
}

impl From<&pb::StreamLag> for StreamLag {
    fn from(s: &pb::StreamLag) -> Self {
        Self {
            source: s.source.clone(),
            pending_events: s.pending_events,
            lag_seconds: s.lag_seconds,
            stream_last_sequence: s.stream_last_sequence,
            applied_by_this_replica: s.applied_by_this_replica,
            available: s.available,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReportingLag {
    pub streams: Vec<StreamLag>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Rebuild {
    /// The streams replayed from their first event.
    pub sources: Vec<String>,
}
