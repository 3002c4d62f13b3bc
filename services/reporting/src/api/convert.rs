//! Read-model rows and raw sums as protobuf messages (and CSV lines): the
//! ratios and their definitions are taken here, once.

use chrono::{DateTime, Utc};
use prm_proto::reporting::*;
use prm_runtime::wire::{opt_id, timestamp};

use crate::domain::period::Period;
use crate::domain::{CHECKLIST_ITEMS, ratio};
use crate::store::{CreditRow, ModelRow, PartnerRow, RawFigures};

pub fn partner(row: &PartnerRow) -> PartnerSummary {
    PartnerSummary {
        partner_id: row.partner_id.to_string(),
        company_name: row.company_name.clone(),
        partner_type: row.partner_type.to_proto(),
        program_id: row.program_id.to_string(),
        tier_name: row.tier_name.clone(),
        status: row.status.as_str().to_owned(),
    }
}

pub fn period(p: &Period) -> prm_proto::reporting::Period {
    prm_proto::reporting::Period {
        name: p.name.clone(),
        start: Some(timestamp(p.start)),
        end: Some(timestamp(p.end)),
    }
}

fn r(value: Option<f64>) -> Option<Ratio> {
    Some(Ratio {
        defined: value.is_some(),
        value: value.unwrap_or(0.0),
    })
}

fn m(value: Option<f64>) -> Option<Measure> {
    Some(Measure {
        defined: value.is_some(),
        value: value.unwrap_or(0.0),
    })
}

fn f(n: i64) -> f64 {
    n as f64
}

/// The figures of one partner or group, ratios taken over the sums.
pub fn figures(raw: &RawFigures, period: &Period, now: DateTime<Utc>) -> Figures {
    let end = period.as_of(now).date_naive();
    let days_since_last_conversion = raw
        .last_conversion_day
        .map(|d| f((end - d).num_days().max(0)));
    Figures {
        sourced_pipeline_minor: raw.sourced_pipeline,
        influenced_pipeline_minor: raw.influenced_pipeline,
        won_revenue_minor: raw.won_revenue,
        credited_revenue_minor: raw.credited_revenue,
        deals_registered: raw.deals_registered,
        deals_approved: raw.deals_approved,
        deals_rejected: raw.deals_rejected,
        deals_won: raw.deals_won,
        deals_lost: raw.deals_lost,
        deals_expired: raw.deals_expired,
        sla_breaches: raw.sla_breaches,
        registration_conversion_rate: r(ratio(f(raw.cohort_won), f(raw.deals_registered))),
        median_approval_hours: m(raw.median_approval_hours),
        deal_velocity_days: m(raw.median_velocity_days),
        win_rate: r(ratio(f(raw.deals_won), f(raw.deals_won + raw.deals_lost))),
        mdf_requested_minor: raw.mdf_requested,
        mdf_approved_minor: raw.mdf_approved,
        mdf_claimed_minor: raw.mdf_claimed,
        mdf_paid_minor: raw.mdf_paid,
        mdf_roi: r(ratio(f(raw.mdf_backed_won), f(raw.mdf_paid))),
        commissions_earned_minor: raw.commissions_earned,
        commissions_reversed_minor: raw.commissions_reversed,
        commissions_paid_minor: raw.commissions_paid,
        clicks: raw.clicks,
        conversions: raw.conversions,
        click_conversion_rate: r(ratio(f(raw.conversions), f(raw.clicks))),
        conversion_revenue_minor: raw.conversion_revenue,
        earnings_per_click_minor: r(ratio(f(raw.conversion_commissions), f(raw.clicks))),
        revenue_per_click_minor: r(ratio(f(raw.conversion_revenue), f(raw.clicks))),
        days_since_last_conversion: m(days_since_last_conversion),
        return_on_commission_spend: r(ratio(
            f(raw.conversion_revenue + raw.credited_revenue),
            f(raw.commissions_paid),
        )),
        checklist_completion: r(ratio(
            f(raw.checklist_items_done),
            f(CHECKLIST_ITEMS * raw.partners),
        )),
        certifications_held: raw.certifications_held,
        time_to_first_deal_days: m(raw.median_days_to_first_deal),
        other_currencies: raw.other_currencies.clone(),
    }
}

pub fn group(key: &str, raw: &RawFigures, period: &Period, now: DateTime<Utc>) -> ProgramGroup {
    let partners = f(raw.partners);
    ProgramGroup {
        key: key.to_owned(),
        partners: raw.partners,
        figures: Some(figures(raw, period, now)),
        leading: Some(LeadingIndicators {
            onboarding_completion_rate: r(ratio(f(raw.partners_onboarded), partners)),
            certification_rate: r(ratio(f(raw.partners_certified), partners)),
            registrations_per_partner_week: r(ratio(
                f(raw.deals_registered),
                partners * period.weeks(),
            )),
        }),
    }
}

pub const CSV_HEADER: &str = "partner_id,company_name,partner_type,tier,status,period,currency,\
sourced_pipeline_minor,influenced_pipeline_minor,won_revenue_minor,credited_revenue_minor,\
deals_registered,deals_approved,deals_rejected,deals_won,deals_lost,deals_expired,sla_breaches,\
registration_conversion_rate,median_approval_hours,deal_velocity_days,win_rate,\
mdf_requested_minor,mdf_approved_minor,mdf_claimed_minor,mdf_paid_minor,mdf_roi,\
commissions_earned_minor,commissions_reversed_minor,commissions_paid_minor,clicks,conversions,\
click_conversion_rate,conversion_revenue_minor,earnings_per_click_minor,revenue_per_click_minor,\
days_since_last_conversion,return_on_commission_spend,checklist_completion,certifications_held,\
time_to_first_deal_days\r\n";

/// A text cell: quoted when it must be (RFC 4180), and a leading
/// formula character defused so spreadsheets do not run it.
fn text(value: &str) -> String {
    let mut v = value.to_owned();
    if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        v.insert(0, '\'');
    }
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

fn num(value: &Option<Ratio>) -> String {
    match value {
        Some(Ratio {
            defined: true,
            value,
        }) => format!("{value:.6}"),
        _ => String::new(),
    }
}

fn measure(value: &Option<Measure>) -> String {
    match value {
        Some(Measure {
            defined: true,
            value,
        }) => format!("{value:.3}"),
        _ => String::new(),
    }
}

/// One partner's scorecard as a CSV line (undefined ratios are empty).
pub fn csv_line(
    p: &PartnerRow,
    period: &Period,
    currency: &str,
    raw: &RawFigures,
    now: DateTime<Utc>,
) -> String {
    let x = figures(raw, period, now);
    let cells: Vec<String> = vec![
        p.partner_id.to_string(),
        text(&p.company_name),
        p.partner_type.as_str().to_owned(),
        text(&p.tier_name),
        p.status.as_str().to_owned(),
        period.name.clone(),
        currency.to_owned(),
        x.sourced_pipeline_minor.to_string(),
        x.influenced_pipeline_minor.to_string(),
        x.won_revenue_minor.to_string(),
        x.credited_revenue_minor.to_string(),
        x.deals_registered.to_string(),
        x.deals_approved.to_string(),
        x.deals_rejected.to_string(),
        x.deals_won.to_string(),
        x.deals_lost.to_string(),
        x.deals_expired.to_string(),
        x.sla_breaches.to_string(),
        num(&x.registration_conversion_rate),
        measure(&x.median_approval_hours),
        measure(&x.deal_velocity_days),
        num(&x.win_rate),
        x.mdf_requested_minor.to_string(),
        x.mdf_approved_minor.to_string(),
        x.mdf_claimed_minor.to_string(),
        x.mdf_paid_minor.to_string(),
        num(&x.mdf_roi),
        x.commissions_earned_minor.to_string(),
        x.commissions_reversed_minor.to_string(),
        x.commissions_paid_minor.to_string(),
        x.clicks.to_string(),
        x.conversions.to_string(),
        num(&x.click_conversion_rate),
        x.conversion_revenue_minor.to_string(),
        num(&x.earnings_per_click_minor),
        num(&x.revenue_per_click_minor),
        measure(&x.days_since_last_conversion),
        num(&x.return_on_commission_spend),
        num(&x.checklist_completion),
        x.certifications_held.to_string(),
        measure(&x.time_to_first_deal_days),
    ];
    let mut line = cells.join(",");
    line.push_str("\r\n");
    line
}

pub fn model(row: &ModelRow) -> AttributionModel {
    AttributionModel {
        id: row.id.to_string(),
        version: row.version,
        name: row.name.clone(),
        sourced_bps: row.sourced_bps,
        influencer_bps: row.influencer_bps,
        direct_bps: row.direct_bps,
        window_days: row.window_days,
        effective_from: Some(timestamp(row.effective_from)),
        created_at: Some(timestamp(row.created_at)),
        created_by_user_id: opt_id(row.created_by_user_id),
    }
}

pub fn share(row: &CreditRow) -> CreditShare {
    CreditShare {
        role: row.role.to_proto(),
        partner_id: opt_id(row.partner_id),
        weight_bps: row.weight_bps,
        amount: Some(prm_proto::common::Money {
            amount_minor: row.amount_minor,
            currency: row.currency.clone(),
        }),
        reason: row.reason.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(text("Acme, Inc."), "\"Acme, Inc.\"");
        assert_eq!(text("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(text("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(text("plain"), "plain");
        assert_eq!(CSV_HEADER.split(',').count(), 41);
    }
}
