//! Transactional steps shared by the API handlers, the event consumer and
//! the periodic jobs: checklist completion, tier reviews, deal outcomes and
//! certification expiry. Each runs inside the caller's transaction, on a
//! partner the caller has loaded once, and stages its events in the outbox
//! there.

use chrono::{DateTime, Duration, Utc};
use prm_proto::events as ev;
use prm_runtime::wire::timestamp;
use prm_runtime::{ApiError, Outbox};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::checklist::{self, ChecklistItem};
use crate::domain::enablement::{self, Viewer};
use crate::domain::partner::PartnerStatusRules;
use crate::domain::tiering::{self, ReviewDecision, TierMetrics};
use crate::store::{self, DealOutcome, PartnerRow};

/// Marks a checklist item of `partner` done (once), and the checklist
/// complete when it is the last one; `partner` is updated to match.
pub async fn complete_checklist_item(
    tx: &mut PgConnection,
    outbox: &Outbox,
    partner: &mut PartnerRow,
    item: ChecklistItem,
    at: DateTime<Utc>,
) -> Result<(), ApiError> {
    if !store::complete_checklist_item(tx, partner.id, item, at).await? {
        return Ok(());
    }
    let mut list = store::checklist(tx, partner.id, partner.onboarding_completed_at).await?;
    outbox
        .stage_for(
            tx,
            "checklist.item_completed",
            &list,
            &ev::OnboardingChecklistItemCompleted {
                partner_id: partner.id.to_string(),
                item: item.as_str().to_owned(),
                completed_at: Some(timestamp(at)),
            },
        )
        .await?;
    let Some(completed_at) = list.all_done_at() else {
        return Ok(());
    };
    if !store::set_onboarding_completed(tx, partner.id, completed_at).await? {
        return Ok(());
    }
    partner.onboarding_completed_at = Some(completed_at);
    list.completed_at = Some(completed_at);
    let ttfd = checklist::time_to_first_deal(partner.approved_at, partner.first_deal_at);
    outbox
        .stage_for(
            tx,
            "checklist.completed",
            &list,
            &ev::OnboardingCompleted {
                partner_id: partner.id.to_string(),
                completed_at: Some(timestamp(completed_at)),
                time_to_first_deal_seconds: ttfd.map(|d| d.num_seconds()).unwrap_or_default(),
            },
        )
        .await?;
    Ok(())
}

/// Completes "required courses passed" if nothing the partner must pass is
/// outstanding.
pub async fn check_required_courses(
    tx: &mut PgConnection,
    outbox: &Outbox,
    partner: &mut PartnerRow,
    at: DateTime<Utc>,
) -> Result<(), ApiError> {
    let viewer = Viewer {
        tier_rank: partner.tier_rank,
        partner_type: partner.partner_type,
    };
    let required = store::required_courses(tx, partner.id).await?;
    if enablement::required_outstanding(viewer, required) == 0 {
        complete_checklist_item(
            tx,
            outbox,
            partner,
            ChecklistItem::RequiredCoursesPassed,
            at,
        )
        .await?;
    }
    Ok(())
}

/// Everything a tier decision needs about one partner.
pub struct TierPosition {
    pub currency: String,
    pub window_days: i32,
    pub grace: Duration,
    pub tiers: Vec<tiering::TierRule>,
    pub tier_rows: Vec<store::TierRow>,
    pub metrics: TierMetrics,
    pub window_start: DateTime<Utc>,
}

impl TierPosition {
    pub fn tier_name(&self, id: Uuid) -> String {
        self.tier_rows
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.name.clone())
            .unwrap_or_default()
    }
}

pub async fn tier_position(
    conn: &mut PgConnection,
    partner: &PartnerRow,
    now: DateTime<Utc>,
) -> Result<TierPosition, ApiError> {
    let program = store::program(conn, partner.program_id)
        .await?
        .ok_or(ApiError::not_found("program"))?;
    let tier_rows = store::tiers(conn, Some(program.id)).await?;
    let window_start = now - Duration::days(i64::from(program.tier_window_days));
    let metrics =
        store::tier_metrics(conn, partner.id, &program.currency, window_start, now).await?;
    Ok(TierPosition {
        tiers: tier_rows.iter().map(store::TierRow::rule).collect(),
        tier_rows,
        currency: program.currency,
        window_days: program.tier_window_days,
        grace: Duration::days(i64::from(program.demotion_grace_days)),
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

/// Locks and loads the partner, then reviews its tier (see
/// [`review_partner_tier`]).
pub async fn review_tier(
    tx: &mut PgConnection,
    outbox: &Outbox,
    partner_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<ReviewOutcome>, ApiError> {
    let mut partner = store::partner_for_update(tx, partner_id)
        .await?
        .ok_or(ApiError::not_found("partner"))?;
    review_partner_tier(tx, outbox, &mut partner, now).await
}

/// Reviews an active partner's tier against the rules and applies the
/// decision. `partner` must be locked by the caller's transaction; it is
/// updated to match.
pub async fn review_partner_tier(
    tx: &mut PgConnection,
    outbox: &Outbox,
    partner: &mut PartnerRow,
    now: DateTime<Utc>,
) -> Result<Option<ReviewOutcome>, ApiError> {
    if !partner.status.is_reviewed() {
        return Ok(None);
    }
    let pos = tier_position(tx, partner, now).await?;
    let Some(qualified) = tiering::qualified_tier(&pos.tiers, &pos.metrics) else {
        return Ok(None);
    };
    let decision = tiering::review(
        partner.tier_rank,
        qualified,
        partner.demotion_due_at,
        now,
        pos.grace,
    );
    let from = partner.tier_id;
    let (to, due) = match &decision {
        ReviewDecision::Promote { to } | ReviewDecision::Demote { to } => (*to, None),
        ReviewDecision::ScheduleDemotion { due_at } => (from, Some(*due_at)),
        ReviewDecision::CancelDemotion => (from, None),
        ReviewDecision::Unchanged => (from, partner.demotion_due_at),
    };
    if decision != ReviewDecision::Unchanged {
        *partner = store::set_partner_tier(tx, partner.id, to, due).await?;
        if to != from {
            let kind = if matches!(decision, ReviewDecision::Promote { .. }) {
                ev::TierChangeKind::Promotion
            } else {
                ev::TierChangeKind::Demotion
            };
            outbox
                .stage_for(
                    tx,
                    "partner.tier_changed",
                    &*partner,
                    &ev::PartnerTierChanged {
                        partner_id: partner.id.to_string(),
                        program_id: partner.program_id.to_string(),
                        from_tier_id: from.to_string(),
                        from_tier_name: pos.tier_name(from),
                        to_tier_id: to.to_string(),
                        to_tier_name: pos.tier_name(to),
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
        partner_id: partner.id,
        from_tier: from,
        to_tier: to,
        decision,
        demotion_due_at: due,
    }))
}

/// Records a deal outcome from deal registration, once per deal and
/// outcome: the first one closes the checklist's first-deal item, and a
/// won deal triggers a tier review (promotions are immediate). The partner
/// is locked and loaded once for all of it.
pub async fn record_deal_outcome(
    tx: &mut PgConnection,
    outbox: &Outbox,
    deal_id: Uuid,
    partner_id: Uuid,
    outcome: DealOutcome<'_>,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let Some(mut partner) = store::partner_for_update(tx, partner_id).await? else {
        tracing::warn!(%partner_id, %deal_id, "deal outcome for a partner onboarding does not know; ignored");
        return Ok(());
    };
    if !store::record_deal(tx, deal_id, partner_id, outcome, at).await? {
        return Ok(());
    }
    if partner.first_deal_at.is_none() && store::set_first_deal(tx, partner_id, at).await? {
        partner.first_deal_at = Some(at);
        complete_checklist_item(
            tx,
            outbox,
            &mut partner,
            ChecklistItem::FirstDealRegistered,
            at,
        )
        .await?;
    }
    if matches!(outcome, DealOutcome::Won { .. }) {
        review_partner_tier(tx, outbox, &mut partner, now).await?;
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
            .stage_for(
                tx,
                "certification.expired",
                c,
                &ev::CertificationExpired {
                    certification_id: c.id.to_string(),
                    course_id: c.course_id.to_string(),
                    user_id: c.user_id.to_string(),
                    partner_id: c.partner_id.to_string(),
                },
            )
            .await?;
    }
    if !expired.is_empty() {
        tracing::info!(expired = expired.len(), "announced expired certifications");
    }
    Ok(expired.len())
}
