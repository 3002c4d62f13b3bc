//! The onboarding checklist, tier evaluation (with what-if) and tier reviews.

use prm_proto::onboarding::*;
use prm_runtime::auth::PARTNER_MANAGEMENT;
use prm_runtime::wire::{opt_timestamp, timestamp};
use prm_runtime::{
    ApiError, CallContext, FieldErrors, Idempotency, Money, begin_or_replay, validate,
};

use super::{Onboarding, convert};
use crate::domain::checklist::{self, ChecklistItem};
use crate::domain::tiering::{self, TierMetrics};
use crate::operations;
use crate::store;

impl Onboarding {
    pub(super) async fn get_onboarding_checklist(
        &self,
        ctx: CallContext,
        req: GetOnboardingChecklistRequest,
    ) -> Result<GetOnboardingChecklistResponse, ApiError> {
        let principal = ctx.principal()?;
        let partner_id =
            validate::uuid(&req.partner_id).map_err(|e| ApiError::invalid("partner_id", e))?;
        let partner = self.visible_partner(principal, partner_id).await?;
        let mut conn = self.db.acquire().await?;
        let list = store::checklist(&mut conn, partner_id, partner.onboarding_completed_at).await?;
        let items = ChecklistItem::ALL
            .iter()
            .map(|item| {
                let at = list.done_at(*item);
                prm_proto::onboarding::ChecklistItem {
                    kind: item.to_proto(),
                    done: at.is_some(),
                    completed_at: opt_timestamp(at),
                }
            })
            .collect();
        let ttfd = checklist::time_to_first_deal(partner.approved_at, partner.first_deal_at);
        Ok(GetOnboardingChecklistResponse {
            checklist: Some(OnboardingChecklist {
                partner_id: partner_id.to_string(),
                items,
                completed: list.completed_at.is_some(),
                completed_at: opt_timestamp(list.completed_at),
                approved_at: Some(timestamp(partner.approved_at)),
                first_deal_at: opt_timestamp(partner.first_deal_at),
                time_to_first_deal: ttfd.map(|d| prost_types::Duration {
                    seconds: d.num_seconds(),
                    nanos: 0,
                }),
            }),
        })
    }

    /// Where a partner stands against its program's tier rules, optionally
    /// with what-if additions, and what it needs for the next tier.
    pub(super) async fn evaluate_partner_tier(
        &self,
        ctx: CallContext,
        req: EvaluatePartnerTierRequest,
    ) -> Result<EvaluatePartnerTierResponse, ApiError> {
        let principal = ctx.principal()?;
        let partner_id =
            validate::uuid(&req.partner_id).map_err(|e| ApiError::invalid("partner_id", e))?;
        let partner = self.visible_partner(principal, partner_id).await?;
        let now = self.clock.now();
        let mut conn = self.db.acquire().await?;
        let pos = operations::tier_position(&mut conn, &partner, now).await?;
        let mut errs = FieldErrors::new();
        let what_if = match &req.what_if {
            None => TierMetrics::default(),
            Some(w) => {
                let mut revenue = 0;
                if let Some(m) = &w.revenue_won {
                    match Money::parse(Some(m), true) {
                        Ok(m) if m.currency != pos.currency => errs.add(
                            "what_if.revenue_won.currency",
                            format!("must be the program currency {}", pos.currency),
                        ),
                        Ok(m) => revenue = m.amount_minor,
                        Err(e) => errs.add("what_if.revenue_won", e),
                    }
                }
                TierMetrics {
                    revenue_minor: revenue,
                    certified_people: w.certified_people,
                    deals_won: w.deals_won,
                }
            }
        };
        errs.finish()?;
        let metrics = pos.metrics.plus(what_if);
        let tier_of = |id: uuid::Uuid| {
            pos.tier_rows
                .iter()
                .find(|t| t.id == id)
                .map(|t| convert::tier(t, &pos.currency))
        };
        let qualified = tiering::qualified_tier(&pos.tiers, &metrics);
        let next = qualified.and_then(|q| tiering::next_tier(&pos.tiers, q.rank));
        Ok(EvaluatePartnerTierResponse {
            evaluation: Some(TierEvaluation {
                partner_id: partner_id.to_string(),
                current_tier: tier_of(partner.tier_id),
                window_start: Some(timestamp(pos.window_start)),
                window_end: Some(timestamp(now)),
                metrics: Some(convert::metrics(&metrics, &pos.currency)),
                qualified_tier: qualified.and_then(|q| tier_of(q.id)),
                next_tier: next.map(|n| TierGap {
                    tier: tier_of(n.id),
                    missing: Some(convert::metrics(&n.missing(&metrics), &pos.currency)),
                }),
                demotion_due_at: opt_timestamp(partner.demotion_due_at),
            }),
        })
    }

    /// Applies the tier rules now, to one partner or every active one.
    pub(super) async fn run_tier_review(
        &self,
        ctx: CallContext,
        req: RunTierReviewRequest,
    ) -> Result<RunTierReviewResponse, ApiError> {
        let principal = ctx.principal()?;
        principal.require_any_role(PARTNER_MANAGEMENT)?;
        let only = validate::optional_uuid(&req.partner_id)
            .map_err(|e| ApiError::invalid("partner_id", e))?;
        let idem = Idempotency::new(&ctx, "RunTierReview", &req);
        let tx = begin_or_replay!(self.db, idem, RunTierReviewResponse);
        let ids = match only {
            Some(id) => vec![id],
            None => {
                let mut conn = self.db.acquire().await?;
                store::active_partner_ids(&mut conn).await?
            }
        };
        let mut outcomes = Vec::new();
        let now = self.clock.now();
        // One transaction per partner, so one partner's failure does not
        // undo the others; the idempotency record commits last.
        for id in ids {
            let mut ptx = self.db.begin().await?;
            if let Some(o) = operations::review_tier(&mut ptx, &self.outbox, id, now).await? {
                outcomes.push(TierReviewOutcome {
                    partner_id: o.partner_id.to_string(),
                    from_tier_id: o.from_tier.to_string(),
                    to_tier_id: o.to_tier.to_string(),
                    action: o.decision.action().to_owned(),
                    demotion_due_at: opt_timestamp(o.demotion_due_at),
                });
            }
            ptx.commit().await?;
        }
        let resp = RunTierReviewResponse { outcomes };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }
}
