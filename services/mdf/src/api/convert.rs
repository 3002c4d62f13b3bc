//! Rows to proto messages.

use prm_proto::mdf as pb;
use prm_runtime::Money;
use prm_runtime::wire::{opt_id, opt_timestamp, timestamp};

use crate::store::{BudgetRow, BudgetTotalsRow, ClaimRow, EntryRow, FundRow, RequestRow};

pub fn budget(b: &BudgetRow, totals: &BudgetTotalsRow) -> pb::Budget {
    let m = |amount_minor| Some(Money::new(amount_minor, b.currency.clone()).to_proto());
    pb::Budget {
        id: b.id.to_string(),
        program_id: b.program_id.to_string(),
        name: b.name.clone(),
        period: b.period.clone(),
        starts_on: b.starts_on.to_string(),
        ends_on: b.ends_on.to_string(),
        amount: Some(b.amount().to_proto()),
        claim_window_days: b.claim_window_days,
        totals: Some(pb::BudgetTotals {
            allocated: m(b.allocated_minor),
            unallocated: m(b.unallocated_minor()),
            requested: m(totals.requested),
            approved: m(totals.approved),
            claimed: m(totals.claimed),
            reimbursed: m(totals.reimbursed),
            expired: m(totals.expired),
        }),
        created_at: Some(timestamp(b.created_at)),
    }
}

pub fn fund(f: &FundRow) -> Result<pb::Fund, sqlx::Error> {
    let b = f.balance();
    let m = |amount_minor| Some(f.money(amount_minor).to_proto());
    Ok(pb::Fund {
        id: f.id.to_string(),
        budget_id: f.budget_id.to_string(),
        partner_id: f.partner_id.to_string(),
        kind: f.kind.to_proto(),
        currency: f.currency.clone(),
        reimbursement_rate_bps: f.reimbursement_rate_bps,
        accrual_tiers: f.tiers()?.to_proto(),
        accrual_grace_days: f.accrual_grace_days,
        expires_at: opt_timestamp(f.expires_at),
        balance: Some(pb::FundBalance {
            allocated: m(b.allocated),
            accrued: m(b.accrued),
            reserved: m(b.reserved_outstanding()),
            reimbursed: m(b.reimbursed),
            expired: m(b.expired),
            available: m(b.available()),
        }),
        won_revenue: m(f.won_revenue_minor),
        created_at: Some(timestamp(f.created_at)),
    })
}

pub fn entry(e: &EntryRow, currency: &str) -> pb::FundEntry {
    pb::FundEntry {
        id: e.id.to_string(),
        fund_id: e.fund_id.to_string(),
        kind: e.kind.to_proto(),
        amount: Some(Money::new(e.amount_minor, currency.to_owned()).to_proto()),
        request_id: opt_id(e.request_id),
        claim_id: opt_id(e.claim_id),
        deal_registration_id: opt_id(e.deal_registration_id),
        actor_user_id: opt_id(e.actor_user_id),
        note: e.note.clone(),
        at: Some(timestamp(e.at)),
    }
}

pub fn request(r: &RequestRow) -> pb::MdfRequest {
    pb::MdfRequest {
        id: r.id.to_string(),
        fund_id: r.fund_id.to_string(),
        partner_id: r.partner_id.to_string(),
        status: r.status.to_proto(),
        activity_type: r.activity_type.to_proto(),
        description: r.description.clone(),
        starts_on: r.starts_on.to_string(),
        ends_on: r.ends_on.to_string(),
        expected_leads: r.expected_leads,
        campaign_code: r.campaign_code.clone(),
        requested: Some(r.requested().to_proto()),
        approved: r.approved_minor.map(|a| r.money(a).to_proto()),
        claim_deadline: r.claim_deadline.to_string(),
        decision_reason: r.decision_reason.clone(),
        submitted_at: Some(timestamp(r.submitted_at)),
        decided_at: opt_timestamp(r.decided_at),
    }
}

pub fn claim(c: &ClaimRow) -> Result<pb::Claim, sqlx::Error> {
    Ok(pb::Claim {
        id: c.id.to_string(),
        request_id: c.request_id.to_string(),
        fund_id: c.fund_id.to_string(),
        partner_id: c.partner_id.to_string(),
        status: c.status.to_proto(),
        proven_cost: Some(c.money(c.proven_cost_minor).to_proto()),
        reimbursable: Some(c.money(c.reimbursable_minor).to_proto()),
        reimbursed: c.reimbursed_minor.map(|a| c.money(a).to_proto()),
        invoice_number: c.invoice_number.clone(),
        leads_generated: c.leads_generated,
        attendees: c.attendees,
        documents: c.documents()?.iter().map(|d| d.to_proto()).collect(),
        decision_reason: c.decision_reason.clone(),
        submitted_at: Some(timestamp(c.submitted_at)),
        decided_at: opt_timestamp(c.decided_at),
    })
}
