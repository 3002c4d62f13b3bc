//! What reporting consumes: every stream of the other services, whole
//! (onboarding, dealreg, mdf, commissions), each through its own durable
//! consumer named `reporting`. One projector applies every event type it
//! knows to the read models, inside the inbox transaction, so each event
//! counts once. The writes are additive counters and set-once columns, so
//! the streams may be applied in any order relative to each other (a
//! rebuild replays them in another order than they arrived live).
//!
//! What reporting publishes (attribution model versions, rebuilds) is
//! staged by its handlers; see `proto/prm/events/v1/reporting.proto`.

use std::collections::HashSet;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use prm_proto::common::Money;
use prm_proto::events as ev;
use prm_runtime::PartnerStatus::{Active, Suspended, Terminated};
use prm_runtime::inbox::{EventHandler, ReceivedEvent};
use prm_runtime::wire::from_timestamp;
use prm_runtime::{ConversionKind, PartnerType, validate};
use prost::Name;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::store::{self, DayCounts, DayMoney, DealDates, DealFacts, NewPartner};

/// The streams reporting reads, by producing service.
pub const SOURCES: [&str; 4] = ["onboarding", "dealreg", "mdf", "commissions"];

/// Applies the other services' events to the read models.
pub struct Projector;

fn id(what: &str, value: &str) -> anyhow::Result<Uuid> {
    validate::uuid(value).map_err(|m| anyhow::anyhow!("{what} {m}"))
}

/// The event's business time, or when it was published.
fn at(t: Option<&prost_types::Timestamp>, event: &ReceivedEvent) -> DateTime<Utc> {
    from_timestamp(t)
        .or_else(|| from_timestamp(event.envelope.occurred_at.as_ref()))
        .unwrap_or_else(Utc::now)
}

fn money(m: &Option<Money>) -> (i64, String) {
    m.as_ref()
        .map_or((0, String::new()), |m| (m.amount_minor, m.currency.clone()))
}

/// Every payload type the projector applies, looked up once per message.
static KNOWN_TYPES: LazyLock<HashSet<String>> = LazyLock::new(|| known_types().into());

/// Every payload type the projector applies.
fn known_types() -> [String; 24] {
    [
        ev::PartnerApproved::full_name(),
        ev::PartnerTierChanged::full_name(),
        ev::PartnerSuspended::full_name(),
        ev::PartnerReactivated::full_name(),
        ev::PartnerTerminated::full_name(),
        ev::OnboardingChecklistItemCompleted::full_name(),
        ev::CertificationEarned::full_name(),
        ev::CertificationExpired::full_name(),
        ev::DealRegistered::full_name(),
        ev::DealRegistrationApproved::full_name(),
        ev::DealRejected::full_name(),
        ev::DealWon::full_name(),
        ev::DealLost::full_name(),
        ev::DealExpired::full_name(),
        ev::DealSlaBreached::full_name(),
        ev::MdfRequestSubmitted::full_name(),
        ev::MdfRequestApproved::full_name(),
        ev::MdfClaimSubmitted::full_name(),
        ev::MdfClaimReimbursed::full_name(),
        ev::TrackingLinkClicksCounted::full_name(),
        ev::ConversionRecorded::full_name(),
        ev::CommissionEarned::full_name(),
        ev::CommissionReversed::full_name(),
        ev::PartnerPaidOut::full_name(),
    ]
}

#[async_trait::async_trait]
impl EventHandler for Projector {
    fn wants(&self, event_type: &str) -> bool {
        KNOWN_TYPES.contains(event_type)
    }

    async fn handle(&self, tx: &mut PgConnection, event: &ReceivedEvent) -> anyhow::Result<()> {
        onboarding(tx, event).await?;
        dealreg(tx, event).await?;
        mdf(tx, event).await?;
        commissions(tx, event).await
    }
}

async fn onboarding(tx: &mut PgConnection, event: &ReceivedEvent) -> anyhow::Result<()> {
    let version = event.envelope.aggregate_version;
    if event.is::<ev::PartnerApproved>() {
        let e: ev::PartnerApproved = event.decode()?;
        let partner_type = PartnerType::from_proto(e.partner_type)
            .map_err(|m| anyhow::anyhow!("partner type {m}"))?;
        store::upsert_partner(
            tx,
            &NewPartner {
                partner_id: id("partner id", &e.partner_id)?,
                program_id: id("program id", &e.program_id)?,
                company_name: &e.company_name,
                partner_type,
                tier_name: &e.tier_name,
                approved_at: at(e.approved_at.as_ref(), event),
                version,
            },
        )
        .await?;
    } else if event.is::<ev::PartnerTierChanged>() {
        let e: ev::PartnerTierChanged = event.decode()?;
        store::set_partner_tier(
            tx,
            id("partner id", &e.partner_id)?,
            &e.to_tier_name,
            version,
        )
        .await?;
    } else if event.is::<ev::PartnerSuspended>() {
        let e: ev::PartnerSuspended = event.decode()?;
        store::set_partner_status(tx, id("partner id", &e.partner_id)?, Suspended, version).await?;
    } else if event.is::<ev::PartnerReactivated>() {
        let e: ev::PartnerReactivated = event.decode()?;
        store::set_partner_status(tx, id("partner id", &e.partner_id)?, Active, version).await?;
    } else if event.is::<ev::PartnerTerminated>() {
        let e: ev::PartnerTerminated = event.decode()?;
        store::set_partner_status(tx, id("partner id", &e.partner_id)?, Terminated, version)
            .await?;
    } else if event.is::<ev::OnboardingChecklistItemCompleted>() {
        let e: ev::OnboardingChecklistItemCompleted = event.decode()?;
        let when = at(e.completed_at.as_ref(), event);
        store::complete_checklist_item(tx, id("partner id", &e.partner_id)?, &e.item, when).await?;
    } else if event.is::<ev::CertificationEarned>() {
        let e: ev::CertificationEarned = event.decode()?;
        store::earn_certification(
            tx,
            id("certification id", &e.certification_id)?,
            id("partner id", &e.partner_id)?,
            at(None, event),
            from_timestamp(e.expires_at.as_ref()),
        )
        .await?;
    } else if event.is::<ev::CertificationExpired>() {
        let e: ev::CertificationExpired = event.decode()?;
        store::expire_certification(
            tx,
            id("certification id", &e.certification_id)?,
            id("partner id", &e.partner_id)?,
            at(None, event),
        )
        .await?;
    }
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

async fn dealreg(tx: &mut PgConnection, event: &ReceivedEvent) -> anyhow::Result<()> {
    if event.is::<ev::DealRegistered>() {
        let e: ev::DealRegistered = event.decode()?;
        lock_customer_domain(tx, &e.customer_domain).await?;
        let when = at(e.submitted_at.as_ref(), event);
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
    } else if event.is::<ev::DealRegistrationApproved>() {
        let e: ev::DealRegistrationApproved = event.decode()?;
        let when = at(e.approved_at.as_ref(), event);
        let partner = dated_step(
            tx,
            DealStep::Approved,
            &e.deal_registration_id,
            &e.partner_id,
            when,
        )
        .await?;
        store::first_approved_deal(tx, partner, when).await?;
    } else if event.is::<ev::DealRejected>() {
        let e: ev::DealRejected = event.decode()?;
        let when = at(e.rejected_at.as_ref(), event);
        dated_step(
            tx,
            DealStep::Rejected,
            &e.deal_registration_id,
            &e.partner_id,
            when,
        )
        .await?;
    } else if event.is::<ev::DealWon>() {
        let e: ev::DealWon = event.decode()?;
        lock_customer_domain(tx, &e.customer_domain).await?;
        let when = at(e.won_at.as_ref(), event);
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
    } else if event.is::<ev::DealLost>() {
        let e: ev::DealLost = event.decode()?;
        let when = at(e.lost_at.as_ref(), event);
        dated_step(
            tx,
            DealStep::Lost,
            &e.deal_registration_id,
            &e.partner_id,
            when,
        )
        .await?;
    } else if event.is::<ev::DealExpired>() {
        let e: ev::DealExpired = event.decode()?;
        let when = at(e.expired_at.as_ref(), event);
        dated_step(
            tx,
            DealStep::Expired,
            &e.deal_registration_id,
            &e.partner_id,
            when,
        )
        .await?;
    } else if event.is::<ev::DealSlaBreached>() {
        let e: ev::DealSlaBreached = event.decode()?;
        let when = at(e.decision_due_at.as_ref(), event);
        dated_step(
            tx,
            DealStep::SlaBreached,
            &e.deal_registration_id,
            &e.partner_id,
            when,
        )
        .await?;
    }
    Ok(())
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

async fn mdf(tx: &mut PgConnection, event: &ReceivedEvent) -> anyhow::Result<()> {
    if event.is::<ev::MdfRequestSubmitted>() {
        let e: ev::MdfRequestSubmitted = event.decode()?;
        let when = at(e.submitted_at.as_ref(), event);
        add_money(tx, &e.partner_id, when, &e.requested, |v| DayMoney {
            mdf_requested: v,
            ..Default::default()
        })
        .await?;
    } else if event.is::<ev::MdfRequestApproved>() {
        let e: ev::MdfRequestApproved = event.decode()?;
        let when = at(e.approved_at.as_ref(), event);
        add_money(tx, &e.partner_id, when, &e.approved, |v| DayMoney {
            mdf_approved: v,
            ..Default::default()
        })
        .await?;
    } else if event.is::<ev::MdfClaimSubmitted>() {
        let e: ev::MdfClaimSubmitted = event.decode()?;
        let when = at(e.submitted_at.as_ref(), event);
        add_money(tx, &e.partner_id, when, &e.reimbursable, |v| DayMoney {
            mdf_claimed: v,
            ..Default::default()
        })
        .await?;
    } else if event.is::<ev::MdfClaimReimbursed>() {
        let e: ev::MdfClaimReimbursed = event.decode()?;
        let when = at(e.reimbursed_at.as_ref(), event);
        add_money(tx, &e.partner_id, when, &e.reimbursed, |v| DayMoney {
            mdf_paid: v,
            ..Default::default()
        })
        .await?;
    }
    Ok(())
}

async fn commissions(tx: &mut PgConnection, event: &ReceivedEvent) -> anyhow::Result<()> {
    if event.is::<ev::TrackingLinkClicksCounted>() {
        let e: ev::TrackingLinkClicksCounted = event.decode()?;
        let when = at(e.hour_start.as_ref(), event);
        let counts = DayCounts {
            clicks: e.counted_clicks,
            ..Default::default()
        };
        store::add_day_counts(
            tx,
            id("partner id", &e.partner_id)?,
            when.date_naive(),
            &counts,
        )
        .await?;
    } else if event.is::<ev::ConversionRecorded>() {
        let e: ev::ConversionRecorded = event.decode()?;
        // Held conversions (conversion.held) earn nothing and influence
        // nothing; neither does one without a partner.
        if !e.hold_reason.is_empty() || e.partner_id.is_empty() {
            return Ok(());
        }
        lock_customer_domain(tx, &e.customer_domain).await?;
        let when = at(e.occurred_at.as_ref(), event);
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
            store::record_domain_conversion(tx, conversion, partner, &e.customer_domain, when)
                .await?;
            store::influences_of_conversion(tx, partner, &e.customer_domain, when).await?;
            // A conversion applied after the deals it influenced were
            // credited: credit them again.
            for deal in store::won_deals_influenced_by(tx, &e.customer_domain, when).await? {
                store::credit_deal(tx, deal).await?;
            }
        }
    } else if event.is::<ev::CommissionEarned>() {
        let e: ev::CommissionEarned = event.decode()?;
        let when = at(None, event);
        let on_conversion = !e.conversion_id.is_empty();
        add_money(tx, &e.partner_id, when, &e.amount, |v| DayMoney {
            commissions_earned: v,
            conversion_commissions: if on_conversion { v } else { 0 },
            ..Default::default()
        })
        .await?;
    } else if event.is::<ev::CommissionReversed>() {
        let e: ev::CommissionReversed = event.decode()?;
        let when = at(e.reversed_at.as_ref(), event);
        add_money(tx, &e.partner_id, when, &e.reversed, |v| DayMoney {
            commissions_reversed: v,
            ..Default::default()
        })
        .await?;
    } else if event.is::<ev::PartnerPaidOut>() {
        let e: ev::PartnerPaidOut = event.decode()?;
        let when = at(e.paid_at.as_ref(), event);
        add_money(tx, &e.partner_id, when, &e.amount, |v| DayMoney {
            commissions_paid: v,
            ..Default::default()
        })
        .await?;
    }
    Ok(())
}
