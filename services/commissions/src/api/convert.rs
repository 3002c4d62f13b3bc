//! Rows to protobuf messages.

use prm_proto::commissions as pb;
use prm_runtime::wire::{opt_id, opt_timestamp, timestamp};

use crate::domain::ledger::Balance;
use crate::store::{
    BatchRow, CommissionRow, ConversionRow, EntryRow, ExclusionRow, ItemRow, LinkRow, PlanRow,
    PostbackLogRow, ProfileRow, SettingsRow,
};

pub fn settings(r: &SettingsRow) -> pb::ProgramSettings {
    pb::ProgramSettings {
        program_id: r.program_id.to_string(),
        allowed_domains: r.allowed_domains.clone(),
        attribution_model: r.attribution_model.to_proto(),
        attribution_window_days: r.attribution_window_days,
        min_seconds_to_convert: r.min_seconds_to_convert,
        max_clicks_per_source_hour: r.max_clicks_per_source_hour,
        min_payout_minor: r.min_payout_minor,
        has_postback_token: r.postback_token_sha256.is_some(),
        has_postback_secret: r.postback_secret.is_some(),
        updated_at: Some(timestamp(r.updated_at)),
    }
}

pub fn plan(r: &PlanRow) -> pb::Plan {
    let rules = r.rules();
    pb::Plan {
        plan_id: r.id.to_string(),
        program_id: r.program_id.to_string(),
        tier_id: opt_id(r.tier_id),
        version: r.version,
        effective_from: Some(timestamp(r.effective_from)),
        name: r.name.clone(),
        currency: r.currency.clone(),
        cpa: rules
            .cpa
            .iter()
            .map(|c| pb::CpaRate {
                event_type: c.event_type.clone(),
                amount_minor: c.amount_minor,
            })
            .collect(),
        revshare_bps: r.revshare_bps,
        volume_tiers: rules
            .volume_tiers
            .iter()
            .map(|t| pb::VolumeTier {
                from_sale: t.from_sale,
                revshare_bps: t.revshare_bps,
            })
            .collect(),
        recurrence: r.recurrence.to_proto(),
        recurring_months: r.recurring_months,
        reseller_margin_bps: r.reseller_margin_bps,
        referral_fee_bps: r.referral_fee_bps,
        hold_days: r.hold_days,
        created_at: Some(timestamp(r.created_at)),
    }
}

pub fn link(r: &LinkRow) -> pb::Link {
    pb::Link {
        link_id: r.id.to_string(),
        code: r.code.clone(),
        partner_id: r.partner_id.to_string(),
        program_id: r.program_id.to_string(),
        destination_url: r.destination_url.clone(),
        status: r.status.to_proto(),
        created_at: Some(timestamp(r.created_at)),
    }
}

pub fn conversion(r: &ConversionRow) -> pb::Conversion {
    pb::Conversion {
        conversion_id: r.id.to_string(),
        program_id: r.program_id.to_string(),
        partner_id: opt_id(r.partner_id),
        link_id: opt_id(r.link_id),
        click_id: opt_id(r.click_id),
        transaction_id: r.transaction_id.clone(),
        kind: r.kind.to_proto(),
        event_type: r.event_type.clone(),
        amount: r.amount().map(|m| m.to_proto()),
        status: r.status.to_proto(),
        hold_reason: r.hold_reason.map_or(0, |h| h.to_proto()),
        refunded_minor: r.refunded_minor,
        customer_id: r.customer_id.clone().unwrap_or_default(),
        customer_domain: r.customer_domain.clone().unwrap_or_default(),
        occurred_at: Some(timestamp(r.occurred_at)),
        created_at: Some(timestamp(r.created_at)),
        decision_reason: r.decision_reason.clone(),
    }
}

pub fn commission(r: &CommissionRow) -> pb::Commission {
    pb::Commission {
        commission_id: r.id.to_string(),
        partner_id: r.partner_id.to_string(),
        program_id: r.program_id.to_string(),
        conversion_id: opt_id(r.conversion_id),
        deal_registration_id: opt_id(r.deal_id),
        plan_id: r.plan_id.to_string(),
        plan_version: r.plan_version,
        amount: Some(r.money(r.amount_minor).to_proto()),
        reversed_minor: r.reversed_minor,
        status: r.status.to_proto(),
        basis: r.basis.clone(),
        hold_until: Some(timestamp(r.hold_until)),
        created_at: Some(timestamp(r.created_at)),
        approved_at: opt_timestamp(r.approved_at),
    }
}

pub fn entry(r: &EntryRow) -> pb::LedgerEntry {
    pb::LedgerEntry {
        entry_id: r.id.to_string(),
        partner_id: r.partner_id.to_string(),
        currency: r.currency.clone(),
        kind: r.kind.to_proto(),
        pending_delta_minor: r.pending_delta,
        available_delta_minor: r.available_delta,
        commission_id: opt_id(r.commission_id),
        payout_id: opt_id(r.payout_id),
        note: r.note.clone(),
        created_at: Some(timestamp(r.created_at)),
    }
}

pub fn balance(currency: &str, b: &Balance) -> pb::Balance {
    pb::Balance {
        currency: currency.to_owned(),
        pending_minor: b.pending,
        available_minor: b.available,
        paid_minor: b.paid,
    }
}

pub fn log_entry(r: &PostbackLogRow) -> pb::PostbackLogEntry {
    pb::PostbackLogEntry {
        postback_id: r.id.to_string(),
        program_id: opt_id(r.program_id),
        partner_id: opt_id(r.partner_id),
        transaction_id: r.transaction_id.clone(),
        answer: r.answer.clone(),
        http_status: r.http_status,
        reason: r.reason.clone(),
        conversion_id: opt_id(r.conversion_id),
        fields_json: r.fields_json.clone(),
        received_at: Some(timestamp(r.received_at)),
    }
}

pub fn profile(r: &ProfileRow) -> pb::PayoutProfile {
    pb::PayoutProfile {
        partner_id: r.partner_id.to_string(),
        method: r.method.to_proto(),
        paypal_email: r.paypal_email.clone(),
        bank_reference: r.bank_reference.clone(),
        stripe_account_id: r.stripe_account_id.clone(),
        payee_name: r.payee_name.clone(),
        tax_form: r.tax_form.map_or(0, |t| t.to_proto()),
        tax_form_received_on: r
            .tax_form_received_on
            .map(|d| d.to_string())
            .unwrap_or_default(),
        updated_at: Some(timestamp(r.updated_at)),
    }
}

pub fn batch(r: &BatchRow, items: &[ItemRow], excluded: &[ExclusionRow]) -> pb::PayoutBatch {
    let money = |amount_minor| Some(pb_money(amount_minor, &r.currency));
    pb::PayoutBatch {
        batch_id: r.id.to_string(),
        program_id: r.program_id.to_string(),
        status: r.status.to_proto(),
        total: money(r.total_minor),
        min_payout_minor: r.min_payout_minor,
        items: items
            .iter()
            .map(|i| pb::PayoutItem {
                partner_id: i.partner_id.to_string(),
                amount: money(i.amount_minor),
                method: i.method.to_proto(),
                destination: i.destination.clone(),
                payee_name: i.payee_name.clone(),
                reference: i.reference(),
            })
            .collect(),
        excluded: excluded
            .iter()
            .map(|e| pb::PayoutExclusion {
                partner_id: e.partner_id.to_string(),
                available: money(e.available_minor),
                reason: e.reason.to_ascii_uppercase(),
            })
            .collect(),
        provider_reference: r.provider_reference.clone(),
        failure_reason: r.failure_reason.clone(),
        created_at: Some(timestamp(r.created_at)),
        updated_at: Some(timestamp(r.updated_at)),
    }
}

fn pb_money(amount_minor: i64, currency: &str) -> prm_proto::common::Money {
    prm_proto::common::Money {
        amount_minor,
        currency: currency.to_owned(),
    }
}
