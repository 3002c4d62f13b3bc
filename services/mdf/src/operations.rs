//! Steps shared by handlers, consumers and the sweep. Each takes the
//! loaded and locked aggregate, not its id.

use chrono::{DateTime, Utc};
use prm_proto::events as ev;
use prm_runtime::wire::timestamp;
use prm_runtime::{ApiError, Money, Outbox};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::ledger::EntryKind;
use crate::domain::request::MdfRequestStatus;
use crate::store::{self, Entry, RequestRow};

/// A partner may request or claim MDF only while active (as far as MDF
/// has heard from onboarding; one it has not heard of is allowed).
pub(crate) async fn ensure_partner_active(
    tx: &mut PgConnection,
    partner: Uuid,
) -> Result<(), ApiError> {
    match store::partner_status(tx, partner).await? {
        Some(status) => status.ensure_active(partner),
        None => Ok(()),
    }
}

/// Ends a request without an approved claim (`to` is cancelled or lapsed),
/// releasing its reservation if it was approved, and stages `event`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn close_request(
    tx: &mut PgConnection,
    outbox: &Outbox,
    mut row: RequestRow,
    to: MdfRequestStatus,
    event: &'static str,
    reason: &str,
    actor: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<RequestRow, ApiError> {
    let released = match (row.status, row.approved_minor) {
        (MdfRequestStatus::Approved, Some(reserved)) => reserved,
        _ => 0,
    };
    row.status = to;
    if !reason.is_empty() {
        row.decision_reason = reason.to_owned();
    }
    let row = store::save_request(tx, &row).await?;
    outbox
        .stage_for(
            tx,
            event,
            &row,
            &ev::MdfRequestClosed {
                request_id: row.id.to_string(),
                fund_id: row.fund_id.to_string(),
                partner_id: row.partner_id.to_string(),
                released: Some(row.money(released).to_proto()),
                reason: reason.to_owned(),
                at: Some(timestamp(now)),
            },
        )
        .await?;
    // Last, as it takes the fund's row lock until the commit.
    if released > 0 {
        store::append_entry(
            tx,
            row.fund_id,
            &Entry::new(EntryKind::Released, released)
                .request(row.id)
                .by(actor)
                .note(reason),
            now,
        )
        .await?;
    }
    Ok(row)
}

/// What a won deal accrued into one of the partner's funds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accrual {
    pub fund_id: Uuid,
    pub budget_id: Uuid,
    pub accrued_minor: i64,
    /// The budget had less left than the tiers give.
    pub capped_by_budget: bool,
}

/// A won deal accrues into the partner's accrual funds (in the deal's
/// currency) whose period covers the day it was won: the tiers' share of
/// it given the period's revenue before it, capped by what the budget has
/// left. A deal counts towards a fund once, however often it is announced.
/// Funds are locked first, then their budgets in id order (as allocations
/// take them), so concurrent accruals cannot deadlock.
pub async fn accrue_won_deal(
    tx: &mut PgConnection,
    outbox: &Outbox,
    deal_id: Uuid,
    partner_id: Uuid,
    amount: &Money,
    won_at: DateTime<Utc>,
) -> anyhow::Result<Vec<Accrual>> {
    let funds =
        store::accrual_funds_for_update(tx, partner_id, won_at.date_naive(), &amount.currency)
            .await?;
    let budget_ids: Vec<Uuid> = funds.iter().map(|f| f.budget_id).collect();
    let budgets = store::budgets_for_update(tx, &budget_ids).await?;
    let mut out = Vec::new();
    for fund in funds {
        let budget = budgets
            .iter()
            .find(|b| b.id == fund.budget_id)
            .ok_or_else(|| anyhow::anyhow!("fund {} without its budget", fund.id))?;
        // What earlier funds of this deal took from the same budget.
        let taken: i64 = out
            .iter()
            .filter(|a: &&Accrual| a.budget_id == budget.id)
            .map(|a| a.accrued_minor)
            .sum();
        let due = fund
            .tiers()?
            .accrual_for(fund.won_revenue_minor, amount.amount_minor);
        let accrued = due.min(budget.unallocated_minor() - taken).max(0);
        if !store::count_won_deal(tx, fund.id, deal_id, amount.amount_minor, accrued, won_at)
            .await?
        {
            continue;
        }
        store::add_won_revenue(tx, fund.id, amount.amount_minor).await?;
        let accrual = Accrual {
            fund_id: fund.id,
            budget_id: budget.id,
            accrued_minor: accrued,
            capped_by_budget: accrued < due,
        };
        if accrued > 0 {
            let fund = store::write_entry(
                tx,
                fund.id,
                &Entry::new(EntryKind::Accrued, accrued)
                    .deal(deal_id)
                    .note("won deal"),
                won_at,
            )
            .await?;
            outbox
                .stage_for(
                    tx,
                    "funds.accrued",
                    &fund,
                    &ev::MdfFundsAccrued {
                        fund_id: fund.id.to_string(),
                        partner_id: partner_id.to_string(),
                        deal_registration_id: deal_id.to_string(),
                        deal_amount: Some(amount.to_proto()),
                        accrued: Some(fund.money(accrued).to_proto()),
                        capped_by_budget: accrual.capped_by_budget,
                        accrued_at: Some(timestamp(won_at)),
                    },
                )
                .await?;
        }
        out.push(accrual);
    }
    Ok(out)
}
