use prm_proto::onboarding as pb;

use crate::dto::*;
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::forward::{Call, Reply, created, ok, one};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Create a partner program (staff).
#[utoipa::path(post, path = "/v1/programs", tag = "programs", security(("api_key" = ["programs.write"])),
    request_body = NewProgram,
    responses((status = 201, description = "Created", body = Program)))]
pub async fn create_program(call: Call, JsonBody(b): JsonBody<NewProgram>) -> Reply<Program> {
    let grace = match b.demotion_grace_days.map(i32::from) {
        Some(0) => -1,
        Some(d) => d,
        None => 0,
    };
    let req = pb::CreateProgramRequest {
        name: b.name.into(),
        description: b.description.into(),
        currency: b.currency.into(),
        tier_window_days: b.tier_window_days.unwrap_or_default().into(),
        demotion_grace_days: grace,
    };
    let r = call.send(req).await?;
    created(one(r.program)?)
}

/// Programs: staff see all, a partner its own.
#[utoipa::path(get, path = "/v1/programs", tag = "programs", security(("api_key" = ["programs.read"])),
    params(PageQuery),
    responses((status = 200, description = "OK", body = ProgramList)))]
pub async fn list_programs(
    call: Call,
    QueryParams(q): QueryParams<PageQuery>,
) -> Reply<ProgramList> {
    let req = pb::ListProgramsRequest {
        page_size: q.page_size.unwrap_or_default(),
        page_token: q.page_token.unwrap_or_default(),
    };
    let r = call.send(req).await?;
    ok(List::of(&r.programs, r.next_page_token))
}

/// Add a tier to a program (staff).
#[utoipa::path(post, path = "/v1/programs/{id}/tiers", tag = "programs", security(("api_key" = ["tiers.write"])),
    params(("id" = Uuid, Path, description = "Program id")),
    request_body = NewTier,
    responses((status = 201, description = "Created", body = Tier)))]
pub async fn create_tier(
    call: Call,
    PathId(id): PathId,
    JsonBody(b): JsonBody<NewTier>,
) -> Reply<Tier> {
    let req = pb::CreateTierRequest {
        program_id: id,
        name: b.name.into(),
        rank: b.rank.into(),
        requirements: b.requirements.as_ref().map(NewTierRequirements::to_proto),
    };
    let r = call.send(req).await?;
    created(one(r.tier)?)
}

/// Tiers and their rules: staff see every program's, a partner its own program's.
#[utoipa::path(get, path = "/v1/tiers", tag = "programs", security(("api_key" = ["tiers.read"])),
    params(TierQuery),
    responses((status = 200, description = "OK", body = TierList)))]
pub async fn list_tiers(call: Call, QueryParams(q): QueryParams<TierQuery>) -> Reply<TierList> {
    let r = call
        .send(pb::ListTiersRequest {
            program_id: q.program_id.unwrap_or_default().into(),
        })
        .await?;
    ok(List::all(r.tiers.iter().map(Tier::from).collect()))
}

/// Replace a tier's requirements (staff); applies from the next review.
#[utoipa::path(patch, path = "/v1/tiers/{id}", tag = "programs", security(("api_key" = ["tiers.write"])),
    params(("id" = Uuid, Path, description = "Tier id")),
    request_body = TierUpdate,
    responses((status = 200, description = "OK", body = Tier)))]
pub async fn update_tier(
    call: Call,
    PathId(id): PathId,
    JsonBody(b): JsonBody<TierUpdate>,
) -> Reply<Tier> {
    let req = pb::UpdateTierRequest {
        tier_id: id,
        requirements: Some(b.requirements.to_proto()),
    };
    let r = call.send(req).await?;
    ok(one(r.tier)?)
}

/// Apply the tier rules now (staff). They also run periodically.
#[utoipa::path(post, path = "/v1/tier-reviews", tag = "programs", security(("api_key" = ["tier_reviews.write"])),
    request_body = TierReviewRequest,
    responses((status = 200, description = "OK", body = TierReview)))]
pub async fn run_tier_review(
    call: Call,
    JsonBody(b): JsonBody<TierReviewRequest>,
) -> Reply<TierReview> {
    let req = pb::RunTierReviewRequest {
        partner_id: b.partner_id.unwrap_or_default().into(),
    };
    let r = call.send(req).await?;
    ok(TierReview {
        outcomes: r
            .outcomes
            .iter()
            .map(|o| TierReviewOutcome {
                partner_id: o.partner_id.clone(),
                from_tier_id: o.from_tier_id.clone(),
                to_tier_id: o.to_tier_id.clone(),
                action: o.action.clone(),
                demotion_due_at: time(&o.demotion_due_at),
            })
            .collect(),
    })
}

// ------------------------------------------------------------ JSON shapes

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Program {
    pub id: String,
    pub name: String,
    pub description: String,
    pub currency: String,
    pub tier_window_days: i32,
    pub demotion_grace_days: i32,
    pub created_at: Option<DateTime<Utc>>,
}

impl From<&pb::Program> for Program {
    fn from(p: &pb::Program) -> Self {
        Self {
            id: p.id.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            currency: p.currency.clone(),
            tier_window_days: p.tier_window_days,
            demotion_grace_days: p.demotion_grace_days,
            created_at: time(&p.created_at),
        }
    }
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProgram {
    pub name: ProgramName,
    #[serde(default)]
    pub description: ProgramDescription,
    pub currency: CurrencyCode,
    pub tier_window_days: Option<TierWindowDays>,
    pub demotion_grace_days: Option<DemotionGraceDays>,
}

pub type ProgramList = List<Program>;

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierRequirements {
    pub min_revenue_won: Option<Money>,
    #[serde(default)]
    pub min_certified_people: i32,
    #[serde(default)]
    pub min_deals_won: i32,
}

/// What a partner needs for a tier, in the program's currency.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTierRequirements {
    /// In the program's currency.
    pub min_revenue_won: Option<Amount>,
    #[serde(default)]
    pub min_certified_people: Count,
    #[serde(default)]
    pub min_deals_won: Count,
}

impl NewTierRequirements {
    pub fn to_proto(&self) -> pb::TierRequirements {
        pb::TierRequirements {
            min_revenue_won: self.min_revenue_won.as_ref().map(Amount::to_proto),
            min_certified_people: self.min_certified_people.into(),
            min_deals_won: self.min_deals_won.into(),
        }
    }
}

impl TierRequirements {
    fn from_proto(r: &pb::TierRequirements) -> Self {
        Self {
            min_revenue_won: Money::from_proto(&r.min_revenue_won),
            min_certified_people: r.min_certified_people,
            min_deals_won: r.min_deals_won,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Tier {
    pub id: String,
    pub program_id: String,
    pub name: String,
    pub rank: i32,
    pub requirements: Option<TierRequirements>,
    pub created_at: Option<DateTime<Utc>>,
}

impl From<&pb::Tier> for Tier {
    fn from(t: &pb::Tier) -> Self {
        Self {
            id: t.id.clone(),
            program_id: t.program_id.clone(),
            name: t.name.clone(),
            rank: t.rank,
            requirements: t.requirements.as_ref().map(TierRequirements::from_proto),
            created_at: time(&t.created_at),
        }
    }
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTier {
    pub name: TierName,
    pub rank: TierRank,
    pub requirements: Option<NewTierRequirements>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierUpdate {
    pub requirements: NewTierRequirements,
}

pub type TierList = List<Tier>;

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TierQuery {
    #[param(inline)]
    pub program_id: Option<Id>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TierMetrics {
    pub revenue_won: Option<Money>,
    pub certified_people: i32,
    pub deals_won: i32,
}

impl TierMetrics {
    fn from_proto(m: &pb::TierMetrics) -> Self {
        Self {
            revenue_won: Money::from_proto(&m.revenue_won),
            certified_people: m.certified_people,
            deals_won: m.deals_won,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TierGap {
    pub tier: Option<Tier>,
    /// What is still missing to qualify.
    pub missing: Option<TierMetrics>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TierEvaluation {
    pub partner_id: String,
    pub current_tier: Option<Tier>,
    pub window_start: Option<DateTime<Utc>>,
    pub window_end: Option<DateTime<Utc>>,
    pub metrics: Option<TierMetrics>,
    pub qualified_tier: Option<Tier>,
    pub next_tier: Option<TierGap>,
    pub demotion_due_at: Option<DateTime<Utc>>,
}

impl From<&pb::TierEvaluation> for TierEvaluation {
    fn from(e: &pb::TierEvaluation) -> Self {
        Self {
            partner_id: e.partner_id.clone(),
            current_tier: e.current_tier.as_ref().map(Tier::from),
            window_start: time(&e.window_start),
            window_end: time(&e.window_end),
            metrics: e.metrics.as_ref().map(TierMetrics::from_proto),
            qualified_tier: e.qualified_tier.as_ref().map(Tier::from),
            next_tier: e.next_tier.as_ref().map(|g| TierGap {
                tier: g.tier.as_ref().map(Tier::from),
                missing: g.missing.as_ref().map(TierMetrics::from_proto),
            }),
            demotion_due_at: time(&e.demotion_due_at),
        }
    }
}

/// What-if additions to a partner's real figures.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WhatIfQuery {
    /// Extra revenue won, in minor units of the program currency.
    pub what_if_revenue_minor: Option<i64>,
    /// Currency of `what_if_revenue_minor` (the program currency).
    pub what_if_currency: Option<String>,
    pub what_if_certified_people: Option<i32>,
    pub what_if_deals_won: Option<i32>,
}

#[derive(Clone, Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct TierReviewRequest {
    /// Review one partner; absent reviews every active partner.
    pub partner_id: Option<Id>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TierReviewOutcome {
    pub partner_id: String,
    pub from_tier_id: String,
    pub to_tier_id: String,
    /// promoted, demoted, demotion_scheduled, demotion_cancelled or unchanged.
    pub action: String,
    pub demotion_due_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TierReview {
    pub outcomes: Vec<TierReviewOutcome>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ChecklistItem {
    pub kind: Option<ChecklistItemKind>,
    pub done: bool,
    pub completed_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Checklist {
    pub partner_id: String,
    pub items: Vec<ChecklistItem>,
    pub completed: bool,
    pub completed_at: Option<DateTime<Utc>>,
    pub approved_at: Option<DateTime<Utc>>,
    pub first_deal_at: Option<DateTime<Utc>>,
    /// Seconds from approval to the first approved or won deal.
    pub time_to_first_deal_seconds: Option<i64>,
}

impl From<&pb::OnboardingChecklist> for Checklist {
    fn from(c: &pb::OnboardingChecklist) -> Self {
        Self {
            partner_id: c.partner_id.clone(),
            items: c
                .items
                .iter()
                .map(|i| ChecklistItem {
                    kind: ChecklistItemKind::from_proto(i.kind).ok(),
                    done: i.done,
                    completed_at: time(&i.completed_at),
                })
                .collect(),
            completed: c.completed,
            completed_at: time(&c.completed_at),
            approved_at: time(&c.approved_at),
            first_deal_at: time(&c.first_deal_at),
            time_to_first_deal_seconds: c.time_to_first_deal.as_ref().map(|d| d.seconds),
        }
    }
}
