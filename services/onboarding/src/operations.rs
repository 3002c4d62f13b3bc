//! Transactional steps shared by the API handlers, the event consumer and
//! the periodic jobs: checklist completion, tier reviews, deal outcomes and
//! certification expiry. Each runs inside the caller's transaction and
//! stages its events in the outbox there.

use chrono::{DateTime, Duration, Utc};
use prm_proto::events as ev;
use prm_runtime::{ApiError, EventMeta, Outbox};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::api::convert::ts;
use crate::domain::checklist::{self, ChecklistItem};
use crate::domain::tiering::{self, ReviewDecision, TierMetrics};
use crate::store::{self, PartnerRow};

/// Event metadata for a change to a partner at `version`.
pub fn partner_meta(entity_verb: &'static str, partner_id: Uuid, version: i64) -> EventMeta {
    EventMeta {
        entity_verb,
        partner_id: Some(partner_id),
        aggregate_type: "partner",
        aggregate_id: partner_id,
        aggregate_version: version,
    }
}

/// Marks a checklist item done (once), and the checklist complete when it
/// is the last one.
pub async fn complete_checklist_item(
    tx: &mut PgConnection,
    outbox: &Outbox,
    partner_id: Uuid,
    item: ChecklistItem,
    at: DateTime<Utc>,
) -> Result<(), ApiError> {
    if !store::complete_checklist_item(tx, partner_id, item.as_str(), at).await? {
        return Ok(());
    }
    outbox
        .stage(
            tx,
            EventMeta {
                entity_verb: "checklist.item_completed",
                partner_id: Some(partner_id),
                aggregate_type: "checklist",
                aggregate_id: partner_id,
                aggregate_version: 0,
            },
            &ev::OnboardingChecklistItemCompleted {
                partner_id: partner_id.to_string(),
                item: item.as_str().to_owned(),
                completed_at: Some(ts(at)),
            },
        )
        .await?;
    let done: Vec<(ChecklistItem, DateTime<Utc>)> = store::checklist_items(tx, partner_id)
        .await?
        .into_iter()
        .filter_map(|(i, at)| ChecklistItem::parse(&i).map(|i| (i, at)))
        .collect();
    let Some(completed_at) = checklist::completed_at(&done) else {
        return Ok(());
    };
    if !store::set_onboarding_completed(tx, partner_id, completed_at).await? {
        return Ok(());
    }
    let partner = store::partner(tx, partner_id)
        .await?
        .ok_or(ApiError::not_found("partner"))?;
    let ttfd = checklist::time_to_first_deal(partner.approved_at, partner.first_deal_at);
    outbox
        .stage(
            tx,
            EventMeta {
                entity_verb: "checklist.completed",
                partner_id: Some(partner_id),
                aggregate_type: "checklist",
                aggregate_id: partner_id,
                aggregate_version: 0,
            },
            &ev::OnboardingCompleted {
                partner_id: partner_id.to_string(),
                completed_at: Some(ts(completed_at)),
                time_to_first_deal_seconds: ttfd.map(|d| d.num_seconds()).unwrap_or_default(),
            },
        )
        .await?;
    Ok(())
}

/// Completes "required courses passed" if nothing required is outstanding.
pub async fn check_required_courses(
    tx: &mut PgConnection,
    outbox: &Outbox,
    partner: &PartnerRow,
    at: DateTime<Utc>,
) -> Result<(), ApiError> {
    let outstanding = store::required_courses_outstanding(
        tx,
        partner.id,
        partner.tier_rank,
        &partner.partner_type,
    )
    .await?;
    if outstanding == 0 {
        complete_checklist_item(
            tx,
            outbox,
            partner.id,
            ChecklistItem::RequiredCoursesPassed,
            at,
        )
        .await?;
    }
    Ok(())
}

/// Everything a tier decision needs about one partner.
pub struct TierPosition {
    pub partner: PartnerRow,
    pub currency: String,
    pub window_days: i32,
    pub grace: Duration,
    pub tiers: Vec<tiering::TierRule>,
    pub tier_rows: Vec<store::TierRow>,
    pub metrics: TierMetrics,
    pub window_start: DateTime<Utc>,
}

pub async fn tier_position(
    tx: &mut PgConnection,
    partner_id: Uuid,
    now: DateTime<Utc>,
) -> Result<TierPosition, ApiError> {
    let partner = store::partner(tx, partner_id)
        .await?
        .ok_or(ApiError::not_found("partner"))?;
    let program = store::program(tx, partner.program_id)
        .await?
        .ok_or(ApiError::not_found("program"))?;
    let tier_rows = store::tiers(tx, Some(program.id)).await?;
    let window_start = now - Duration::days(i64::from(program.tier_window_days));
    let metrics = store::tier_metrics(tx, partner_id, &program.currency, window_start, now).await?;
    Ok(TierPosition {
        tiers: tier_rows.iter().map(store::TierRow::rule).collect(),
        tier_rows,
        currency: program.currency,
        window_days: program.tier_window_days,
        grace: Duration::days(i64::from(program.demotion_grace_days)),
        partner,
        metrics,
        window_start,
    })
}

/// The outcome of reviewing one partner.
pub struct ReviewOutcome {
    pub partner_id: Uuid,
    pub from_tier: Uuid,
    pub to_tier: Uuid,
    pub decision: ReviewDecision,
    pub demotion_due_at: Option<DateTime<Utc>>,
}

/// Reviews an active partner's tier against the rules and applies the
/// decision, locking the partner row for the duration.
pub async fn review_partner_tier(
    tx: &mut PgConnection,
    outbox: &Outbox,
    partner_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<ReviewOutcome>, ApiError> {
    if !store::lock_partner(tx, partner_id).await? {
        return Err(ApiError::not_found("partner"));
    }
    let pos = tier_position(tx, partner_id, now).await?;
    if pos.partner.status != "active" {
        return Ok(None);
    }
    let Some(qualified) = tiering::qualified_tier(&pos.tiers, &pos.metrics) else {
        return Ok(None);
    };
    let decision = tiering::review(
        pos.partner.tier_rank,
        qualified,
        pos.partner.demotion_due_at,
        now,
        pos.grace,
    );
    let from = pos.partner.tier_id;
    let (to, due) = match &decision {
        ReviewDecision::Promote { to } | ReviewDecision::Demote { to } => (*to, None),
        ReviewDecision::ScheduleDemotion { due_at } => (from, Some(*due_at)),
        ReviewDecision::CancelDemotion => (from, None),
        ReviewDecision::Unchanged => (from, pos.partner.demotion_due_at),
    };
    if decision != ReviewDecision::Unchanged {
        let version = store::set_partner_tier(tx, partner_id, to, due).await?;
        if to != from {
            let name = |id: Uuid| {
                pos.tier_rows
                    .iter()
                    .find(|t| t.id == id)
                    .map(|t| t.name.clone())
                    .unwrap_or_default()
            };
            let kind = if matches!(decision, ReviewDecision::Promote { .. }) {
                ev::TierChangeKind::Promotion
            } else {
                ev::TierChangeKind::Demotion
            };
            outbox
                .stage(
                    tx,
                    partner_meta("partner.tier_changed", partner_id, version),
                    &ev::PartnerTierChanged {
                        partner_id: partner_id.to_string(),
                        program_id: pos.partner.program_id.to_string(),
                        from_tier_id: from.to_string(),
                        from_tier_name: name(from),
                        to_tier_id: to.to_string(),
                        to_tier_name: name(to),
                        kind: kind as i32,
                        reason: format!(
                            "tier rules over {} days: revenue {} {}, {} certified, {} deals won",
                            pos.window_days,
                            pos.metrics.revenue_minor,
                            pos.currency,
                            pos.metrics.certified_people,
                            pos.metrics.deals_won
                        ),
                    },
                )
                .await?;
        }
    }
    Ok(Some(ReviewOutcome {
        partner_id,
        from_tier: from,
        to_tier: to,
        decision,
        demotion_due_at: due,
    }))
}

/// Records a deal outcome from deal registration, once per deal and
/// outcome: the first one closes the checklist's first-deal item, and a
/// won deal triggers a tier review (promotions are immediate).
pub async fn record_deal_outcome(
    tx: &mut PgConnection,
    outbox: &Outbox,
    deal_id: Uuid,
    partner_id: Uuid,
    won_amount: Option<(i64, &str)>,
    at: DateTime<Utc>,
) -> Result<(), ApiError> {
    let Some(partner) = store::partner(tx, partner_id).await? else {
        tracing::warn!(%partner_id, %deal_id, "deal outcome for a partner onboarding does not know; ignored");
        return Ok(());
    };
    let outcome = if won_amount.is_some() {
        "won"
    } else {
        "approved"
    };
    if !store::record_deal(tx, deal_id, outcome, partner_id, won_amount, at).await? {
        return Ok(());
    }
    if partner.first_deal_at.is_none() && store::set_first_deal(tx, partner_id, at).await? {
        complete_checklist_item(
            tx,
            outbox,
            partner_id,
            ChecklistItem::FirstDealRegistered,
            at,
        )
        .await?;
    }
    if won_amount.is_some() {
        review_partner_tier(tx, outbox, partner_id, Utc::now()).await?;
    }
    Ok(())
}

/// Announces certifications that have expired since the last sweep.
pub async fn expire_certifications(
    tx: &mut PgConnection,
    outbox: &Outbox,
    now: DateTime<Utc>,
) -> Result<usize, ApiError> {
    let expired = store::take_expired_certifications(tx, now, 500).await?;
    for c in &expired {
        outbox
            .stage(
                tx,
                EventMeta {
                    entity_verb: "certification.expired",
                    partner_id: Some(c.partner_id),
                    aggregate_type: "certification",
                    aggregate_id: c.id,
                    aggregate_version: i64::from(c.renewals) + 1,
                },
                &ev::CertificationExpired {
                    certification_id: c.id.to_string(),
                    course_id: c.course_id.to_string(),
                    user_id: c.user_id.to_string(),
                    partner_id: c.partner_id.to_string(),
                },
            )
            .await?;
    }
    Ok(expired.len())
}
