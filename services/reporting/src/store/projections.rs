//! The read models the event handlers write. Every write is an upsert
//! that either adds to a counter or sets a column once, so applying the
//! events of different streams in any order gives the same rows.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use prm_runtime::{PartnerStatus, PartnerType};
use uuid::Uuid;

use super::{Db, Result};

pub struct NewPartner<'a> {
    pub partner_id: Uuid,
    pub program_id: Uuid,
    pub company_name: &'a str,
    pub partner_type: PartnerType,
    pub tier_name: &'a str,
    pub approved_at: DateTime<Utc>,
    pub version: i64,
}

pub async fn upsert_partner(db: Db<'_>, p: &NewPartner<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO partners (partner_id, program_id, company_name, partner_type, tier_name,
                               status, approved_at, version)
         VALUES ($1, $2, $3, $4, $5, 'active', $6, $7)
         ON CONFLICT (partner_id) DO UPDATE
         SET program_id = EXCLUDED.program_id, company_name = EXCLUDED.company_name,
             partner_type = EXCLUDED.partner_type, approved_at = EXCLUDED.approved_at,
             tier_name = CASE WHEN partners.version < EXCLUDED.version
                              THEN EXCLUDED.tier_name ELSE partners.tier_name END,
             version = GREATEST(partners.version, EXCLUDED.version)",
    )
    .bind(p.partner_id)
    .bind(p.program_id)
    .bind(p.company_name)
    .bind(p.partner_type.as_str())
    .bind(p.tier_name)
    .bind(p.approved_at)
    .bind(p.version)
    .execute(db)
    .await?;
    Ok(())
}

/// The partner's tier, unless a later change was applied already.
pub async fn set_partner_tier(db: Db<'_>, partner: Uuid, tier: &str, version: i64) -> Result<()> {
    sqlx::query(
        "UPDATE partners SET tier_name = $2, version = $3 WHERE partner_id = $1 AND version < $3",
    )
    .bind(partner)
    .bind(tier)
    .bind(version)
    .execute(db)
    .await?;
    Ok(())
}

/// The partner's status (active, suspended, terminated), unless a later
/// change was applied already.
pub async fn set_partner_status(
    db: Db<'_>,
    partner: Uuid,
    status: PartnerStatus,
    version: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE partners SET status = $2, version = $3 WHERE partner_id = $1 AND version < $3",
    )
    .bind(partner)
    .bind(status)
    .bind(version)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn complete_checklist_item(
    db: Db<'_>,
    partner: Uuid,
    item: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO checklist_items (partner_id, item, completed_at) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(partner)
    .bind(item)
    .bind(at)
    .execute(db)
    .await?;
    Ok(())
}

/// A certification earned or renewed (a renewal moves its expiry on and
/// clears an expiry seen before).
pub async fn earn_certification(
    db: Db<'_>,
    certification: Uuid,
    partner: Uuid,
    at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO certifications (certification_id, partner_id, earned_at, expires_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (certification_id) DO UPDATE
         SET expires_at = GREATEST(certifications.expires_at, EXCLUDED.expires_at),
             expired_at = CASE WHEN certifications.expired_at < EXCLUDED.earned_at
                               THEN NULL ELSE certifications.expired_at END,
             earned_at = LEAST(certifications.earned_at, EXCLUDED.earned_at)",
    )
    .bind(certification)
    .bind(partner)
    .bind(at)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn expire_certification(
    db: Db<'_>,
    certification: Uuid,
    partner: Uuid,
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO certifications (certification_id, partner_id, earned_at, expired_at)
         VALUES ($1, $2, $3, $3)
         ON CONFLICT (certification_id) DO UPDATE
         SET expired_at = GREATEST(certifications.expired_at, EXCLUDED.expired_at)",
    )
    .bind(certification)
    .bind(partner)
    .bind(at)
    .execute(db)
    .await?;
    Ok(())
}

/// What one deal event sets. Columns already set stay as they are.
#[derive(Default)]
pub struct DealFacts<'a> {
    pub customer_domain: Option<&'a str>,
    pub estimated: Option<(i64, &'a str)>,
    pub registered_at: Option<DateTime<Utc>>,
    pub approved_at: Option<DateTime<Utc>>,
    pub rejected_at: Option<DateTime<Utc>>,
    pub won: Option<(DateTime<Utc>, i64, &'a str, bool)>,
    pub lost_at: Option<DateTime<Utc>>,
    pub expired_at: Option<DateTime<Utc>>,
    pub sla_breached_at: Option<DateTime<Utc>>,
}

/// The deal as it stands after an event: when it was registered and won.
#[derive(Clone, Copy, Debug, sqlx::FromRow)]
pub struct DealDates {
    pub registered_at: Option<DateTime<Utc>>,
    pub won_at: Option<DateTime<Utc>>,
}

/// Records a deal event's facts (columns another event set stay), and
/// returns the deal's dates as they now are.
pub async fn record_deal(
    db: Db<'_>,
    deal: Uuid,
    partner: Uuid,
    f: &DealFacts<'_>,
) -> Result<DealDates> {
    let (won_at, won_minor, won_currency, mdf_backed) = match f.won {
        Some((at, minor, currency, mdf)) => (Some(at), Some(minor), Some(currency), mdf),
        None => (None, None, None, false),
    };
    sqlx::query_as(
        "INSERT INTO deals (deal_id, partner_id, customer_domain, estimated_minor, currency,
                            registered_at, approved_at, rejected_at, won_at, won_minor,
                            won_currency, mdf_backed, lost_at, expired_at, sla_breached_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT (deal_id) DO UPDATE SET
             customer_domain = COALESCE(deals.customer_domain, EXCLUDED.customer_domain),
             estimated_minor = COALESCE(deals.estimated_minor, EXCLUDED.estimated_minor),
             currency = COALESCE(deals.currency, EXCLUDED.currency),
             registered_at = COALESCE(deals.registered_at, EXCLUDED.registered_at),
             approved_at = COALESCE(deals.approved_at, EXCLUDED.approved_at),
             rejected_at = COALESCE(deals.rejected_at, EXCLUDED.rejected_at),
             won_at = COALESCE(deals.won_at, EXCLUDED.won_at),
             won_minor = COALESCE(deals.won_minor, EXCLUDED.won_minor),
             won_currency = COALESCE(deals.won_currency, EXCLUDED.won_currency),
             mdf_backed = deals.mdf_backed OR EXCLUDED.mdf_backed,
             lost_at = COALESCE(deals.lost_at, EXCLUDED.lost_at),
             expired_at = COALESCE(deals.expired_at, EXCLUDED.expired_at),
             sla_breached_at = COALESCE(deals.sla_breached_at, EXCLUDED.sla_breached_at)
         RETURNING registered_at, won_at",
    )
    .bind(deal)
    .bind(partner)
    .bind(f.customer_domain)
    .bind(f.estimated.map(|e| e.0))
    .bind(f.estimated.map(|e| e.1))
    .bind(f.registered_at)
    .bind(f.approved_at)
    .bind(f.rejected_at)
    .bind(won_at)
    .bind(won_minor)
    .bind(won_currency)
    .bind(mdf_backed)
    .bind(f.lost_at)
    .bind(f.expired_at)
    .bind(f.sla_breached_at)
    .fetch_one(db)
    .await
}

/// Counters one event adds to a partner's day (and month).
#[derive(Clone, Copy, Debug, Default)]
pub struct DayCounts {
    pub deals_registered: i64,
    pub deals_approved: i64,
    pub deals_rejected: i64,
    pub deals_won: i64,
    pub deals_lost: i64,
    pub deals_expired: i64,
    pub sla_breaches: i64,
    pub cohort_won: i64,
    pub clicks: i64,
    pub conversions: i64,
}

/// The first of `day`'s month.
fn month_of(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// Adds `c` to the partner's rows of `day` and of its month.
pub async fn add_day_counts(
    db: Db<'_>,
    partner: Uuid,
    day: NaiveDate,
    c: &DayCounts,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO partner_rollups AS r (partner_id, grain, starts_on, deals_registered,
                 deals_approved, deals_rejected, deals_won, deals_lost, deals_expired,
                 sla_breaches, cohort_won, clicks, conversions)
         SELECT $1, g.grain, g.starts_on, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13
         FROM (VALUES ('d'::\"char\", $2::date), ('m'::\"char\", $3::date)) g(grain, starts_on)
         ON CONFLICT (partner_id, grain, starts_on) DO UPDATE SET
             deals_registered = r.deals_registered + EXCLUDED.deals_registered,
             deals_approved = r.deals_approved + EXCLUDED.deals_approved,
             deals_rejected = r.deals_rejected + EXCLUDED.deals_rejected,
             deals_won = r.deals_won + EXCLUDED.deals_won,
             deals_lost = r.deals_lost + EXCLUDED.deals_lost,
             deals_expired = r.deals_expired + EXCLUDED.deals_expired,
             sla_breaches = r.sla_breaches + EXCLUDED.sla_breaches,
             cohort_won = r.cohort_won + EXCLUDED.cohort_won,
             clicks = r.clicks + EXCLUDED.clicks,
             conversions = r.conversions + EXCLUDED.conversions",
    )
    .bind(partner)
    .bind(day)
    .bind(month_of(day))
    .bind(c.deals_registered)
    .bind(c.deals_approved)
    .bind(c.deals_rejected)
    .bind(c.deals_won)
    .bind(c.deals_lost)
    .bind(c.deals_expired)
    .bind(c.sla_breaches)
    .bind(c.cohort_won)
    .bind(c.clicks)
    .bind(c.conversions)
    .execute(db)
    .await?;
    Ok(())
}

/// Money one event adds to a partner's day (and month), in one currency.
#[derive(Clone, Copy, Debug, Default)]
pub struct DayMoney {
    pub sourced_pipeline: i64,
    pub won_revenue: i64,
    pub mdf_backed_won: i64,
    pub credited_revenue: i64,
    pub mdf_requested: i64,
    pub mdf_approved: i64,
    pub mdf_claimed: i64,
    pub mdf_paid: i64,
    pub commissions_earned: i64,
    pub conversion_commissions: i64,
    pub commissions_reversed: i64,
    pub commissions_paid: i64,
    pub conversion_revenue: i64,
}

/// Adds `m` to the partner's rows of `day` and of its month.
pub async fn add_day_money(
    db: Db<'_>,
    partner: Uuid,
    day: NaiveDate,
    currency: &str,
    m: &DayMoney,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO partner_money_rollups AS r (partner_id, grain, starts_on, currency,
                 sourced_pipeline, won_revenue, mdf_backed_won, credited_revenue, mdf_requested,
                 mdf_approved, mdf_claimed, mdf_paid, commissions_earned, conversion_commissions,
                 commissions_reversed, commissions_paid, conversion_revenue)
         SELECT $1, g.grain, g.starts_on, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                $16, $17
         FROM (VALUES ('d'::\"char\", $2::date), ('m'::\"char\", $3::date)) g(grain, starts_on)
         ON CONFLICT (partner_id, grain, starts_on, currency) DO UPDATE SET
             sourced_pipeline = r.sourced_pipeline + EXCLUDED.sourced_pipeline,
             won_revenue = r.won_revenue + EXCLUDED.won_revenue,
             mdf_backed_won = r.mdf_backed_won + EXCLUDED.mdf_backed_won,
             credited_revenue = r.credited_revenue + EXCLUDED.credited_revenue,
             mdf_requested = r.mdf_requested + EXCLUDED.mdf_requested,
             mdf_approved = r.mdf_approved + EXCLUDED.mdf_approved,
             mdf_claimed = r.mdf_claimed + EXCLUDED.mdf_claimed,
             mdf_paid = r.mdf_paid + EXCLUDED.mdf_paid,
             commissions_earned = r.commissions_earned + EXCLUDED.commissions_earned,
             conversion_commissions = r.conversion_commissions + EXCLUDED.conversion_commissions,
             commissions_reversed = r.commissions_reversed + EXCLUDED.commissions_reversed,
             commissions_paid = r.commissions_paid + EXCLUDED.commissions_paid,
             conversion_revenue = r.conversion_revenue + EXCLUDED.conversion_revenue",
    )
    .bind(partner)
    .bind(day)
    .bind(month_of(day))
    .bind(currency)
    .bind(m.sourced_pipeline)
    .bind(m.won_revenue)
    .bind(m.mdf_backed_won)
    .bind(m.credited_revenue)
    .bind(m.mdf_requested)
    .bind(m.mdf_approved)
    .bind(m.mdf_claimed)
    .bind(m.mdf_paid)
    .bind(m.commissions_earned)
    .bind(m.conversion_commissions)
    .bind(m.commissions_reversed)
    .bind(m.commissions_paid)
    .bind(m.conversion_revenue)
    .execute(db)
    .await?;
    Ok(())
}

/// The partner's first approved deal, if `at` is earlier than the one known.
pub async fn first_approved_deal(db: Db<'_>, partner: Uuid, at: DateTime<Utc>) -> Result<()> {
    sqlx::query(
        "INSERT INTO partner_first_deals (partner_id, first_approved_at) VALUES ($1, $2)
         ON CONFLICT (partner_id) DO UPDATE
         SET first_approved_at = LEAST(partner_first_deals.first_approved_at, EXCLUDED.first_approved_at)",
    )
    .bind(partner)
    .bind(at)
    .execute(db)
    .await?;
    Ok(())
}

/// Influences on a newly registered deal: other partners' conversions for
/// its domain in the year before.
pub async fn influences_on_registration(db: Db<'_>, deal: Uuid) -> Result<()> {
    sqlx::query(
        "INSERT INTO deal_influences (deal_id, partner_id, last_at, registered_at,
                                      estimated_minor, currency)
         SELECT d.deal_id, c.partner_id, MAX(c.occurred_at), d.registered_at, d.estimated_minor,
                d.currency
         FROM deals d
         JOIN domain_conversions c ON c.customer_domain = d.customer_domain
                                  AND c.occurred_at BETWEEN d.registered_at - interval '365 days'
                                                        AND d.registered_at
                                  AND c.partner_id <> d.partner_id
         WHERE d.deal_id = $1 AND d.registered_at IS NOT NULL AND d.estimated_minor IS NOT NULL
           AND d.currency IS NOT NULL
         GROUP BY d.deal_id, c.partner_id, d.registered_at, d.estimated_minor, d.currency
         ON CONFLICT (deal_id, partner_id) DO UPDATE
         SET last_at = GREATEST(deal_influences.last_at, EXCLUDED.last_at)",
    )
    .bind(deal)
    .execute(db)
    .await?;
    Ok(())
}

/// A conversion's influence on deals registered for its domain in the
/// year after it, by other partners.
pub async fn influences_of_conversion(
    db: Db<'_>,
    partner: Uuid,
    domain: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO deal_influences (deal_id, partner_id, last_at, registered_at,
                                      estimated_minor, currency)
         SELECT d.deal_id, $1, $3, d.registered_at, d.estimated_minor, d.currency
         FROM deals d
         WHERE d.customer_domain = $2
           AND d.registered_at BETWEEN $3 AND $3 + interval '365 days'
           AND d.partner_id <> $1 AND d.estimated_minor IS NOT NULL AND d.currency IS NOT NULL
         ON CONFLICT (deal_id, partner_id) DO UPDATE
         SET last_at = GREATEST(deal_influences.last_at, EXCLUDED.last_at)",
    )
    .bind(partner)
    .bind(domain)
    .bind(at)
    .execute(db)
    .await?;
    Ok(())
}

/// The advisory-lock class of customer domains (with `hashtext(domain)`).
const CUSTOMER_DOMAIN_LOCK: i32 = 0x5245_5044;

/// Serializes, until commit, the events that meet on a customer domain
/// from two streams: a deal's registration or win, and a conversion. Two
/// consumers apply them at once, and under READ COMMITTED neither sees the
/// other's uncommitted row, so the influence between them would be
/// recorded by neither. With the lock, the second to take it reads the
/// first's committed rows. Take it before the event's other writes (its
/// rollup rows), so two events never wait on each other.
pub async fn lock_customer_domain(db: Db<'_>, domain: &str) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(CUSTOMER_DOMAIN_LOCK)
        .bind(domain)
        .execute(db)
        .await?;
    Ok(())
}

/// An attributed conversion for a customer domain (an influence).
pub async fn record_domain_conversion(
    db: Db<'_>,
    conversion: Uuid,
    partner: Uuid,
    domain: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO domain_conversions (conversion_id, partner_id, customer_domain, occurred_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(conversion)
    .bind(partner)
    .bind(domain)
    .bind(at)
    .execute(db)
    .await?;
    Ok(())
}
