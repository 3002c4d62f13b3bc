//! What reporting consumes: every stream of the other services, whole
//! (onboarding, dealreg, mdf, commissions), each through its own durable
//! consumer named `reporting`. Each event type it knows has a function
//! that applies it to the read models, inside the inbox transaction, so
//! each event counts once. The writes are additive counters and set-once
//! columns, so the streams may be applied in any order relative to each
//! other (a rebuild replays them in another order than they arrived live).
//!
//! What reporting publishes (attribution model versions, rebuilds) is
//! staged by its handlers; see `proto/prm/events/v1/reporting.proto`.

use chrono::{DateTime, Utc};
use prm_proto::common::Money;
use prm_proto::events as ev;

use prm_runtime::events::payload_id as id;
use prm_runtime::wire::from_timestamp;
use prm_runtime::{ConversionKind, Delivery, EventRoutes, PartnerStatusChanged, PartnerType};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::store::{self, DayCounts, DayMoney, DealDates, DealFacts, NewPartner};

/// The streams reporting reads, whole, by producing service.
pub const SOURCES: [&str; 4] = ["onboarding", "dealreg", "mdf", "commissions"];

/// What reporting applies from each stream of [`SOURCES`], in its order.
pub fn routes() -> [EventRoutes; 4] {
    [onboarding(), dealreg(), mdf(), commissions()]
}

fn money(m: &Option<Money>) -> (i64, String) {
    m.as_ref()
        .map_or((0, String::new()), |m| (m.amount_minor, m.currency.clone()))
}

fn onboarding() -> EventRoutes {
    EventRoutes::new()
        .on(partner_approved)
        .on(partner_tier_changed)
        .on_partner_status(status)
        .on(checklist_item_completed)
        .on(certification_earned)
        .on(certification_expired)
}

async fn partner_approved(
    tx: &mut PgConnection,
    e: ev::PartnerApproved,
    on: Delivery<'_>,
) -> anyhow::Result<()> {
    let partner_type =
        PartnerType::from_proto(e.partner_type).map_err(|m| anyhow::anyhow!("partner type {m}"))?;
    let partner = NewPartner {
        partner_id: id("partner id", &e.partner_id)?,
        program_id: id("program id", &e.program_id)?,
        company_name: &e.company_name,
        partner_type,
        tier_name: &e.tier_name,
        approved_at: on.at(e.approved_at.as_ref()),
        version: on.version(),
    };
    store::upsert_partner(tx, &partner).await?;
    Ok(())
}

async fn partner_tier_changed(
    tx: &mut PgConnection,
    e: ev::PartnerTierChanged,
    on: Delivery<'_>,
) -> anyhow::Result<()> {
    let partner = id("partner id", &e.partner_id)?;
    store::set_partner_tier(tx, partner, &e.to_tier_name, on.version()).await?;
    Ok(())
}

/// A partner's status changed (suspended, reactivated, terminated).
async fn status(
    tx: &mut PgConnection,
    e: PartnerStatusChanged,
    on: Delivery<'_>,
) -> anyhow::Result<()> {
    store::set_partner_status(tx, id("partner id", &e.partner_id)?, e.status, on.version()).await?;
    Ok(())
}

async fn checklist_item_completed(
    tx: &mut PgConnection,
    e: ev::OnboardingChecklistItemCompleted,
    on: Delivery<'_>,
) -> anyhow::Result<()> {
    let when = on.at(e.completed_at.as_ref());
    store::complete_checklist_item(tx, id("partner id", &e.partner_id)?, &e.item, when).await?;
    Ok(())
}

async fn certification_earned(
    tx: &mut PgConnection,
    e: ev::CertificationEarned,
    on: Delivery<'_>,
) -> anyhow::Result<()> {
    store::earn_certification(
        tx,
        id("certification id", &e.certification_id)?,
        id("partner id", &e.partner_id)?,
        on.at(None),
        from_timestamp(e.expires_at.as_ref()),
    )
    .await?;
    Ok(())
}

async fn certification_expired(
    tx: &mut PgConnection,
    e: ev::CertificationExpired,
    on: Delivery<'_>,
) -> anyhow::Result<()> {
    store::expire_certification(
        tx,
        id("certification id", &e.certification_id)?,
        id("partner id", &e.partner_id)?,
        on.at(None),
    )
    .await?;
    Ok(())
}

/// A deal event's effect: its facts on the deal, and its day's counters.
async fn deal_event(
    tx: &mut PgConnection,
    deal: &str,
    partner: &str,
    when: DateTime<Utc>,
    facts: DealFacts<'_>,
    counts: DayCounts,
    money: Option<(&str, DayMoney)>,
) -> anyhow::Result<(Uuid, Uuid, DealDates)> {
    let (deal, partner) = (id("deal id", deal)?, id("partner id", partner)?);
    let dates = store::record_deal(tx, deal, partner, &facts).await?;
    store::add_day_counts(tx, partner, when.date_naive(), &counts).await?;
    if let Some((currency, m)) = money {
        store::add_day_money(tx, partner, when.date_naive(), currency, &m).await?;
    }
    Ok((deal, partner, dates))
}

/// A step in a deal's life that only dates the deal and counts once on
/// its day (registration and win carry more, and are written out).
#[derive(Clone, Copy)]
enum DealStep {
    Approved,
    Rejected,
    Lost,
    Expired,
    SlaBreached,
}

/// Records `step` of a deal at `when`; returns the partner.
async fn dated_step(
    tx: &mut PgConnection,
    step: DealStep,
    deal: &str,
    partner: &str,
    when: DateTime<Utc>,
) -> anyhow::Result<Uuid> {
    let (mut facts, mut counts) = (DealFacts::default(), DayCounts::default());
    let (date, counter) = match step {
        DealStep::Approved => (&mut facts.approved_at, &mut counts.deals_approved),
        DealStep::Rejected => (&mut facts.rejected_at, &mut counts.deals_rejected),
        DealStep::Lost => (&mut facts.lost_at, &mut counts.deals_lost),
        DealStep::Expired => (&mut facts.expired_at, &mut counts.deals_expired),
        DealStep::SlaBreached => (&mut facts.sla_breached_at, &mut counts.sla_breaches),
    };
    *date = Some(when);
    *counter = 1;
    let (_, partner, _) = deal_event(tx, deal, partner, when, facts, counts, None).await?;
    Ok(partner)
}

/// See [`store::lock_customer_domain`]; no domain, nothing to meet on.
async fn lock_customer_domain(tx: &mut PgConnection, domain: &str) -> anyhow::Result<()> {
    if !domain.is_empty() {
        store::lock_customer_domain(tx, domain).await?;
    }
    Ok(())
}

/// Counts a won deal in the cohort of its registration day, once both its
/// registration and its win are known (whichever comes second does it).
async fn count_cohort_win(
    tx: &mut PgConnection,
    partner: Uuid,
    registered_at: DateTime<Utc>,
) -> anyhow::Result<()> {
    let counts = DayCounts {
        cohort_won: 1,
        ..Default::default()
    };
    store::add_day_counts(tx, partner, registered_at.date_naive(), &counts).await?;
    Ok(())
}

fn dealreg() -> EventRoutes {
    EventRoutes::new()
        .on(deal_registered)
        .on(deal_approved)
        .on(deal_rejected)
        .on(deal_won)
        .on(deal_lost)
        .on(deal_expired)
        .on(deal_sla_breached)
}

async fn deal_registered(
    tx: &mut PgConnection,
    e: ev::DealRegistered,
    on: Delivery<'_>,
) -> anyhow::Result<()> {
    lock_customer_domain(tx, &e.customer_domain).await?;
    let when = on.at(e.submitted_at.as_ref());
    let (value, currency) = money(&e.estimated_value);
    let facts = DealFacts {
        customer_domain: Some(&e.customer_domain),
        estimated: Some((value, &currency)),
        registered_at: Some(when),
        ..Default::default()
    };
    let counts = DayCounts {
        deals_registered: 1,
        ..Default::default()
    };
    let m = DayMoney {
        sourced_pipeline: value,
        ..Default::default()
    };
    let money = (!currency.is_empty()).then_some((currency.as_str(), m));
    let (deal, partner, dates) = deal_event(
        tx,
        &e.deal_registration_id,
        &e.partner_id,
        when,
        facts,
        counts,
        money,
    )
    .await?;
    store::influences_on_registration(tx, deal).await?;
    if dates.won_at.is_some() {
        count_cohort_win(tx, partner, when).await?;
    }
    Ok(())
}

async fn deal_approved(
    tx: &mut PgConnection,
    e: ev::DealRegistrationApproved,
    on: Delivery<'_>,
) -> anyhow::Result<()> {
    let when = on.at(e.approved_at.as_ref());
    let (deal, partner) = (&e.deal_registration_id, &e.partner_id);
    let partner = dated_step(tx, DealStep::Approved, deal, partner, when).await?;
    store::first_approved_deal(tx, partner, when).await?;
    Ok(())
}

async fn deal_won(tx: &mut PgConnection, e: ev::DealWon, on: Delivery<'_>) -> anyhow::Result<()> {
    lock_customer_domain(tx, &e.customer_domain).await?;
    let when = on.at(e.won_at.as_ref());
    let (amount, currency) = money(&e.amount);
    let mdf_backed = !e.mdf_reference.is_empty();
    let facts = DealFacts {
        customer_domain: Some(&e.customer_domain),
        won: Some((when, amount, &currency, mdf_backed)),
        ..Default::default()
    };
    let counts = DayCounts {
        deals_won: 1,
        ..Default::default()
    };
    let m = DayMoney {
        won_revenue: amount,
        mdf_backed_won: if mdf_backed { amount } else { 0 },
        ..Default::default()
    };
    let money = (!currency.is_empty()).then_some((currency.as_str(), m));
    let (deal, partner, dates) = deal_event(
        tx,
        &e.deal_registration_id,
        &e.partner_id,
        when,
        facts,
        counts,
        money,
    )
    .await?;
    if let Some(registered_at) = dates.registered_at {
        count_cohort_win(tx, partner, registered_at).await?;
    }
    store::credit_deal(tx, deal).await?;
    Ok(())
}

/// Handlers that only date a step of the deal (and count it on that day).
macro_rules! dated_steps {
    ($($handler:ident($event:ty): $step:ident on $at:ident;)*) => {$(
        async fn $handler(tx: &mut PgConnection, e: $event, on: Delivery<'_>) -> anyhow::Result<()> {
            let when = on.at(e.$at.as_ref());
            let (deal, partner) = (&e.deal_registration_id, &e.partner_id);
            dated_step(tx, DealStep::$step, deal, partner, when).await?;
            Ok(())
        }
    )*};
}

dated_steps! {
    deal_rejected(ev::DealRejected): Rejected on rejected_at;
    deal_lost(ev::DealLost): Lost on lost_at;
    deal_expired(ev::DealExpired): Expired on expired_at;
    deal_sla_breached(ev::DealSlaBreached): SlaBreached on decision_due_at;
}

/// Adds `m` to the partner's day in the money's currency.
async fn add_money(
    tx: &mut PgConnection,
    partner: &str,
    when: DateTime<Utc>,
    amount: &Option<Money>,
    m: impl FnOnce(i64) -> DayMoney,
) -> anyhow::Result<()> {
    let (minor, currency) = money(amount);
    if currency.is_empty() || partner.is_empty() {
        return Ok(());
    }
    let partner = id("partner id", partner)?;
    store::add_day_money(tx, partner, when.date_naive(), &currency, &m(minor)).await?;
    Ok(())
}

/// Handlers that add an event's amount, on the day it names, to one
/// money column of its partner's rollups.
macro_rules! money_added {
    ($($handler:ident($event:ty): $amount:ident on $at:ident => $column:ident;)*) => {$(
        async fn $handler(tx: &mut PgConnection, e: $event, on: Delivery<'_>) -> anyhow::Result<()> {
            let when = on.at(e.$at.as_ref());
            add_money(tx, &e.partner_id, when, &e.$amount, |v| DayMoney {
                $column: v,
                ..Default::default()
            })
            .await
        }
    )*};
}

money_added! {
    mdf_request_submitted(ev::MdfRequestSubmitted): requested on submitted_at => mdf_requested;
    mdf_request_approved(ev::MdfRequestApproved): approved on approved_at => mdf_approved;
    mdf_claim_submitted(ev::MdfClaimSubmitted): reimbursable on submitted_at => mdf_claimed;
    mdf_claim_reimbursed(ev::MdfClaimReimbursed): reimbursed on reimbursed_at => mdf_paid;
    commission_reversed(ev::CommissionReversed): reversed on reversed_at => commissions_reversed;
    partner_paid_out(ev::PartnerPaidOut): amount on paid_at => commissions_paid;
}

fn mdf() -> EventRoutes {
    EventRoutes::new()
        .on(mdf_request_submitted)
        .on(mdf_request_approved)
        .on(mdf_claim_submitted)
        .on(mdf_claim_reimbursed)
}

fn commissions() -> EventRoutes {
    EventRoutes::new()
        .on(clicks_counted)
        .on(conversion_recorded)
        .on(commission_earned)
        .on(commission_reversed)
        .on(partner_paid_out)
}

async fn clicks_counted(
    tx: &mut PgConnection,
    e: ev::TrackingLinkClicksCounted,
    on: Delivery<'_>,
) -> anyhow::Result<()> {
    let when = on.at(e.hour_start.as_ref());
    let counts = DayCounts {
        clicks: e.counted_clicks,
        ..Default::default()
    };
    let partner = id("partner id", &e.partner_id)?;
    store::add_day_counts(tx, partner, when.date_naive(), &counts).await?;
    Ok(())
}

async fn conversion_recorded(
    tx: &mut PgConnection,
    e: ev::ConversionRecorded,
    on: Delivery<'_>,
) -> anyhow::Result<()> {
    // Held conversions (conversion.held) earn nothing and influence
    // nothing; neither does one without a partner.
    if !e.hold_reason.is_empty() || e.partner_id.is_empty() {
        return Ok(());
    }
    lock_customer_domain(tx, &e.customer_domain).await?;
    let when = on.at(e.occurred_at.as_ref());
    let partner = id("partner id", &e.partner_id)?;
    let counts = DayCounts {
        conversions: 1,
        ..Default::default()
    };
    store::add_day_counts(tx, partner, when.date_naive(), &counts).await?;
    if ConversionKind::parse(&e.kind) == Some(ConversionKind::Sale) {
        add_money(tx, &e.partner_id, when, &e.amount, |v| DayMoney {
            conversion_revenue: v,
            ..Default::default()
        })
        .await?;
    }
    if !e.customer_domain.is_empty() {
        let conversion = id("conversion id", &e.conversion_id)?;
        store::record_domain_conversion(tx, conversion, partner, &e.customer_domain, when).await?;
        store::influences_of_conversion(tx, partner, &e.customer_domain, when).await?;
        // A conversion applied after the deals it influenced were
        // credited: credit them again.
        for deal in store::won_deals_influenced_by(tx, &e.customer_domain, when).await? {
            store::credit_deal(tx, deal).await?;
        }
    }
    Ok(())
}

async fn commission_earned(
    tx: &mut PgConnection,
    e: ev::CommissionEarned,
    on: Delivery<'_>,
) -> anyhow::Result<()> {
    let on_conversion = !e.conversion_id.is_empty();
    add_money(tx, &e.partner_id, on.at(None), &e.amount, |v| DayMoney {
        commissions_earned: v,
        conversion_commissions: if on_conversion { v } else { 0 },
        ..Default::default()
    })
    .await
}
