//! Steps the postback handler, staff's decisions and the jobs share:
//! crediting a conversion, earning a commission, approving it after its
//! hold, and reversing it (in part or whole). Each
//! takes the loaded (for a change, locked) rows, writes its ledger entry
//! and stages its event in the caller's transaction.

use chrono::{DateTime, Duration, Utc};
use prm_proto::events as ev;
use prm_runtime::Outbox;
use prm_runtime::wire::{opt_id, timestamp};
use sqlx::PgConnection;

use crate::domain::ledger::{CommissionStatus, EntryKind};
use crate::domain::plan::ConversionFacts;
use crate::domain::postback::ConversionKind;
use crate::store::{
    self, CommissionRow, ConversionRow, NewCommission, NewEntry, PartnerRow, PlanRow,
};

/// Credits an attributed conversion (a new one that passed its checks, or
/// a held one staff released) to `partner` under `plan`: remembers its
/// customer for recurring sales, numbers the partner's sale in the month,
/// and earns what the plan pays. Returns what it earned, in words.
pub async fn credit_conversion(
    tx: &mut PgConnection,
    outbox: &Outbox,
    row: &ConversionRow,
    partner: &PartnerRow,
    plan: &PlanRow,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    if let (Some(customer), ConversionKind::Sale) = (&row.customer_id, row.kind) {
        store::remember_customer(
            tx,
            row.program_id,
            customer,
            partner.partner_id,
            row.link_id,
            row.occurred_at,
        )
        .await?;
    }
    // Numbered once credited, so a duplicate never takes a number.
    let nth_sale = match row.kind {
        ConversionKind::Sale => {
            store::next_sale_in_month(tx, partner.partner_id, row.occurred_at).await?
        }
        ConversionKind::Lead => 0,
    };
    let facts = ConversionFacts {
        event_type: &row.event_type,
        sale: match (row.kind, row.amount_minor, &row.currency) {
            (ConversionKind::Sale, Some(a), Some(c)) => Some((a, c.as_str())),
            _ => None,
        },
        nth_sale_in_month: nth_sale,
    };
    Ok(match plan.rules().commission(&facts) {
        Some(earning) => {
            let new = NewCommission {
                partner_id: partner.partner_id,
                program_id: row.program_id,
                conversion_id: Some(row.id),
                deal_id: None,
                plan_id: plan.id,
                plan_version: plan.version,
                currency: &earning.currency,
                amount_minor: earning.amount_minor,
                basis: &earning.basis,
                hold_until: row.occurred_at,
            };
            earn(tx, outbox, new, plan, row.occurred_at, now).await?;
            format!("plan {} v{}: {}", plan.name, plan.version, earning.basis)
        }
        None => format!(
            "plan {} v{} pays nothing for this conversion",
            plan.name, plan.version
        ),
    })
}

/// Writes a commission (a conversion's, or a won deal's), pending for the
/// plan's hold period from `occurred_at` (or approved at once when it is
/// zero). `None` when the deal already earned one.
pub async fn earn(
    tx: &mut PgConnection,
    outbox: &Outbox,
    new: NewCommission<'_>,
    plan: &PlanRow,
    occurred_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<CommissionRow>> {
    let hold_until = occurred_at.max(now) + Duration::days(i64::from(plan.hold_days));
    let Some(row) = store::insert_commission(
        tx,
        &NewCommission {
            hold_until,
            plan_id: plan.id,
            plan_version: plan.version,
            ..new
        },
        now,
    )
    .await?
    else {
        return Ok(None);
    };
    store::append_entry(
        tx,
        &NewEntry {
            partner_id: row.partner_id,
            currency: &row.currency,
            kind: EntryKind::Earned,
            amount_minor: row.amount_minor,
            after_approval: false,
            commission_id: Some(row.id),
            payout_id: None,
            note: &row.basis,
        },
        now,
    )
    .await?;
    outbox
        .stage_for(
            tx,
            "commission.earned",
            &row,
            &ev::CommissionEarned {
                commission_id: row.id.to_string(),
                partner_id: row.partner_id.to_string(),
                program_id: row.program_id.to_string(),
                conversion_id: opt_id(row.conversion_id),
                deal_registration_id: opt_id(row.deal_id),
                plan_id: row.plan_id.to_string(),
                plan_version: row.plan_version,
                amount: Some(row.money(row.amount_minor).to_proto()),
                basis: row.basis.clone(),
                hold_until: Some(timestamp(row.hold_until)),
            },
        )
        .await?;
    if hold_until <= now {
        return approve(tx, outbox, row, now).await.map(Some);
    }
    Ok(Some(row))
}

/// Approves a pending commission (its hold is over): what is left of it
/// moves from pending to the payable balance. Anything else is unchanged.
pub async fn approve(
    tx: &mut PgConnection,
    outbox: &Outbox,
    mut row: CommissionRow,
    now: DateTime<Utc>,
) -> anyhow::Result<CommissionRow> {
    if row.status != CommissionStatus::Pending || row.outstanding() <= 0 {
        return Ok(row);
    }
    let amount = row.outstanding();
    store::append_entry(
        tx,
        &NewEntry {
            partner_id: row.partner_id,
            currency: &row.currency,
            kind: EntryKind::Approved,
            amount_minor: amount,
            after_approval: false,
            commission_id: Some(row.id),
            payout_id: None,
            note: "hold period over",
        },
        now,
    )
    .await?;
    row.status = CommissionStatus::Approved;
    row.approved_at = Some(now);
    let row = store::save_commission(tx, &row).await?;
    outbox
        .stage_for(
            tx,
            "commission.approved",
            &row,
            &ev::CommissionApproved {
                commission_id: row.id.to_string(),
                partner_id: row.partner_id.to_string(),
                amount: Some(row.money(amount).to_proto()),
                approved_at: Some(timestamp(now)),
            },
        )
        .await?;
    Ok(row)
}

/// Reverses the commission up to `total_due` in all (never more than it
/// earned; nothing when that much is already reversed). Money already
/// approved comes off the payable balance, even when it was paid out: the
/// balance goes below zero and the next payout nets it.
pub async fn reverse_to(
    tx: &mut PgConnection,
    outbox: &Outbox,
    mut row: CommissionRow,
    total_due: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<CommissionRow> {
    let amount = total_due.min(row.amount_minor) - row.reversed_minor;
    if amount <= 0 {
        return Ok(row);
    }
    let after_approval = row.status == CommissionStatus::Approved;
    store::append_entry(
        tx,
        &NewEntry {
            partner_id: row.partner_id,
            currency: &row.currency,
            kind: EntryKind::Reversed,
            amount_minor: amount,
            after_approval,
            commission_id: Some(row.id),
            payout_id: None,
            note: reason,
        },
        now,
    )
    .await?;
    row.reversed_minor += amount;
    if row.reversed_minor == row.amount_minor {
        row.status = CommissionStatus::Reversed;
    }
    let row = store::save_commission(tx, &row).await?;
    outbox
        .stage_for(
            tx,
            "commission.reversed",
            &row,
            &ev::CommissionReversed {
                commission_id: row.id.to_string(),
                partner_id: row.partner_id.to_string(),
                reversed: Some(row.money(amount).to_proto()),
                reversed_total_minor: row.reversed_minor,
                reason: reason.to_owned(),
                after_approval,
                reversed_at: Some(timestamp(now)),
            },
        )
        .await?;
    Ok(row)
}
