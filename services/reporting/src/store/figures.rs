//! The figures queries: one set of statements computes any group of
//! partners' figures (one partner, a tier, a partner type, a program),
//! from the daily rollups for what adds up, and from the deals for
//! medians and cohorts. The grouping is a parameter ($1), so the SQL is
//! static.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{Db, Result};

/// How partners are grouped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grouping {
    Partner,
    Tier,
    PartnerType,
}

impl Grouping {
    fn as_str(self) -> &'static str {
        match self {
            Grouping::Partner => "partner",
            Grouping::Tier => "tier",
            Grouping::PartnerType => "partner_type",
        }
    }
}

/// Which partners, which period, which currency.
#[derive(Clone, Debug)]
pub struct Selection {
    pub grouping: Grouping,
    /// Only these partners; every one when None.
    pub partners: Option<Vec<Uuid>>,
    pub program: Option<Uuid>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub currency: String,
    /// The influence window for influenced pipeline, in days.
    pub window_days: i32,
    /// "Now", for what is as of now (certifications held).
    pub now: DateTime<Utc>,
    /// The period is whole calendar months (a month or a quarter): the
    /// monthly rollups serve it.
    pub whole_months: bool,
}

impl Selection {
    fn first_day(&self) -> NaiveDate {
        self.start.date_naive()
    }
    fn end_day(&self) -> NaiveDate {
        self.end.date_naive()
    }
}

/// A group's raw sums and medians, before ratios are taken.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawFigures {
    pub partners: i64,
    pub sourced_pipeline: i64,
    pub influenced_pipeline: i64,
    pub won_revenue: i64,
    pub credited_revenue: i64,
    pub mdf_backed_won: i64,
    pub deals_registered: i64,
    pub deals_approved: i64,
    pub deals_rejected: i64,
    pub deals_won: i64,
    pub deals_lost: i64,
    pub deals_expired: i64,
    pub sla_breaches: i64,
    pub cohort_registered: i64,
    pub cohort_won: i64,
    pub median_approval_hours: Option<f64>,
    pub median_velocity_days: Option<f64>,
    pub mdf_requested: i64,
    pub mdf_approved: i64,
    pub mdf_claimed: i64,
    pub mdf_paid: i64,
    pub commissions_earned: i64,
    pub conversion_commissions: i64,
    pub commissions_reversed: i64,
    pub commissions_paid: i64,
    pub clicks: i64,
    pub conversions: i64,
    pub conversion_revenue: i64,
    pub last_conversion_day: Option<NaiveDate>,
    pub checklist_items_done: i64,
    pub partners_onboarded: i64,
    pub certifications_held: i64,
    pub partners_certified: i64,
    pub median_days_to_first_deal: Option<f64>,
    pub other_currencies: Vec<String>,
}

/// The partners selected, each with its group key.
macro_rules! selected {
    () => {
        "WITH p AS (
             SELECT partner_id, CASE $1 WHEN 'tier' THEN tier_name
                                        WHEN 'partner_type' THEN partner_type
                                        ELSE partner_id::text END AS grp
             FROM partners
             WHERE ($2::uuid[] IS NULL OR partner_id = ANY($2)) AND ($3::uuid IS NULL OR program_id = $3)) "
    };
}

/// Figures by group key; `None` is every selected partner together (each
/// query computes both with GROUPING SETS, in one pass).
type Groups = BTreeMap<Option<String>, RawFigures>;

fn group(groups: &mut Groups, key: Option<String>) -> &mut RawFigures {
    groups.entry(key).or_default()
}

/// The figures of each group and of all of them together.
#[derive(Clone, Debug, Default)]
pub struct GroupFigures {
    /// By group key (a partner id, a tier name, a partner type), in key
    /// order; groups without partners are absent.
    pub groups: Vec<(String, RawFigures)>,
    pub total: RawFigures,
}

/// Every group's figures and the total. Run it in a transaction: it sets
/// the sort memory its medians need for that transaction only.
pub async fn figures(db: Db<'_>, s: &Selection) -> Result<GroupFigures> {
    sqlx::query("SET LOCAL work_mem = '32MB'")
        .execute(&mut *db)
        .await?;
    let mut groups = Groups::new();
    let (mode, partner, program) = (s.grouping.as_str(), &s.partners, s.program);

    let rows: Vec<(Option<String>, i64, i64, i64, i64)> = sqlx::query_as(concat!(
        selected!(),
        "SELECT CASE WHEN GROUPING(p.grp) = 1 THEN NULL ELSE p.grp END, COUNT(*),
                COALESCE(SUM(ck.done), 0)::bigint,
                COUNT(*) FILTER (WHERE ck.done >= 4),
                COUNT(*) FILTER (WHERE COALESCE(ce.held, 0) > 0)
         FROM p
         LEFT JOIN (SELECT partner_id, COUNT(*) AS done FROM checklist_items GROUP BY partner_id) ck
                ON ck.partner_id = p.partner_id
         LEFT JOIN (SELECT partner_id, COUNT(*) AS held FROM certifications
                    WHERE expired_at IS NULL AND (expires_at IS NULL OR expires_at > $4)
                    GROUP BY partner_id) ce ON ce.partner_id = p.partner_id
         GROUP BY GROUPING SETS ((p.grp), ())"
    ))
    .bind(mode)
    .bind(partner)
    .bind(program)
    .bind(s.now)
    .fetch_all(&mut *db)
    .await?;
    for (key, partners, done, onboarded, certified) in rows {
        let g = group(&mut groups, key);
        g.partners = partners;
        g.checklist_items_done = done;
        g.partners_onboarded = onboarded;
        g.partners_certified = certified;
    }

    let rows: Vec<(Option<String>, i64)> = sqlx::query_as(concat!(
        selected!(),
        "SELECT CASE WHEN GROUPING(p.grp) = 1 THEN NULL ELSE p.grp END, COUNT(*) FROM p JOIN certifications c ON c.partner_id = p.partner_id
         WHERE c.expired_at IS NULL AND (c.expires_at IS NULL OR c.expires_at > $4)
         GROUP BY GROUPING SETS ((p.grp), ())"
    ))
    .bind(mode)
    .bind(partner)
    .bind(program)
    .bind(s.now)
    .fetch_all(&mut *db)
    .await?;
    for (key, held) in rows {
        group(&mut groups, key).certifications_held = held;
    }

    // Sums: whole months read the monthly rollups (one to three rows per
    // partner), weeks the daily ones.
    let grain = if s.whole_months { "m" } else { "d" };
    type Counts = (
        Option<String>,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
    );
    let rows: Vec<Counts> = sqlx::query_as(concat!(
        selected!(),
        "SELECT CASE WHEN GROUPING(p.grp) = 1 THEN NULL ELSE p.grp END, COALESCE(SUM(r.deals_registered), 0)::bigint, COALESCE(SUM(r.deals_approved), 0)::bigint,
                COALESCE(SUM(r.deals_rejected), 0)::bigint, COALESCE(SUM(r.deals_won), 0)::bigint, COALESCE(SUM(r.deals_lost), 0)::bigint,
                COALESCE(SUM(r.deals_expired), 0)::bigint, COALESCE(SUM(r.sla_breaches), 0)::bigint,
                COALESCE(SUM(r.cohort_won), 0)::bigint, COALESCE(SUM(r.clicks), 0)::bigint, COALESCE(SUM(r.conversions), 0)::bigint
         FROM p JOIN partner_rollups r ON r.partner_id = p.partner_id
         WHERE r.grain = ($6::text)::\"char\" AND r.starts_on >= $4 AND r.starts_on < $5
         GROUP BY GROUPING SETS ((p.grp), ())"
    ))
    .bind(mode)
    .bind(partner)
    .bind(program)
    .bind(s.first_day())
    .bind(s.end_day())
    .bind(grain)
    .fetch_all(&mut *db)
    .await?;
    for (key, reg, appr, rej, won, lost, exp, sla, cohort_won, clicks, conv) in rows {
        let g = group(&mut groups, key);
        (g.deals_registered, g.deals_approved, g.deals_rejected) = (reg, appr, rej);
        (g.deals_won, g.deals_lost, g.deals_expired, g.sla_breaches) = (won, lost, exp, sla);
        (g.cohort_registered, g.cohort_won) = (reg, cohort_won);
        (g.clicks, g.conversions) = (clicks, conv);
    }

    let rows: Vec<(Option<String>, Option<NaiveDate>)> = sqlx::query_as(concat!(
        selected!(),
        "SELECT CASE WHEN GROUPING(p.grp) = 1 THEN NULL ELSE p.grp END, MAX(l.starts_on) FROM p
         CROSS JOIN LATERAL (SELECT starts_on FROM partner_rollups r
                             WHERE r.partner_id = p.partner_id AND r.grain = 'd'
                               AND r.conversions > 0 AND r.starts_on < $4
                             ORDER BY starts_on DESC LIMIT 1) l
         GROUP BY GROUPING SETS ((p.grp), ())"
    ))
    .bind(mode)
    .bind(partner)
    .bind(program)
    .bind(s.end_day())
    .fetch_all(&mut *db)
    .await?;
    for (key, day) in rows {
        group(&mut groups, key).last_conversion_day = day;
    }

    type Money = (
        Option<String>,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
    );
    let rows: Vec<Money> = sqlx::query_as(concat!(
        selected!(),
        "SELECT CASE WHEN GROUPING(p.grp) = 1 THEN NULL ELSE p.grp END, COALESCE(SUM(m.sourced_pipeline), 0)::bigint, COALESCE(SUM(m.won_revenue), 0)::bigint,
                COALESCE(SUM(m.mdf_backed_won), 0)::bigint, COALESCE(SUM(m.credited_revenue), 0)::bigint,
                COALESCE(SUM(m.mdf_requested), 0)::bigint, COALESCE(SUM(m.mdf_approved), 0)::bigint,
                COALESCE(SUM(m.mdf_claimed), 0)::bigint, COALESCE(SUM(m.mdf_paid), 0)::bigint,
                COALESCE(SUM(m.commissions_earned), 0)::bigint, COALESCE(SUM(m.conversion_commissions), 0)::bigint,
                COALESCE(SUM(m.commissions_reversed), 0)::bigint, COALESCE(SUM(m.commissions_paid), 0)::bigint,
                COALESCE(SUM(m.conversion_revenue), 0)::bigint
         FROM p JOIN partner_money_rollups m ON m.partner_id = p.partner_id
         WHERE m.grain = ($7::text)::\"char\" AND m.starts_on >= $4 AND m.starts_on < $5
           AND m.currency = $6
         GROUP BY GROUPING SETS ((p.grp), ())"
    ))
    .bind(mode)
    .bind(partner)
    .bind(program)
    .bind(s.first_day())
    .bind(s.end_day())
    .bind(&s.currency)
    .bind(grain)
    .fetch_all(&mut *db)
    .await?;
    for (
        key,
        src,
        won,
        mdfw,
        credited,
        req,
        appr,
        claimed,
        paid,
        earned,
        conv_c,
        rev,
        paid_c,
        conv_rev,
    ) in rows
    {
        let g = group(&mut groups, key);
        (g.sourced_pipeline, g.won_revenue, g.mdf_backed_won) = (src, won, mdfw);
        g.credited_revenue = credited;
        (g.mdf_requested, g.mdf_approved, g.mdf_claimed, g.mdf_paid) = (req, appr, claimed, paid);
        (g.commissions_earned, g.conversion_commissions) = (earned, conv_c);
        (g.commissions_reversed, g.commissions_paid) = (rev, paid_c);
        g.conversion_revenue = conv_rev;
    }

    let rows: Vec<(Option<String>, Vec<String>)> = sqlx::query_as(concat!(
        selected!(),
        "SELECT CASE WHEN GROUPING(p.grp) = 1 THEN NULL ELSE p.grp END, COALESCE(array_agg(DISTINCT m.currency ORDER BY m.currency), '{}')
         FROM p JOIN partner_money_rollups m ON m.partner_id = p.partner_id
         WHERE m.grain = ($7::text)::\"char\" AND m.starts_on >= $4 AND m.starts_on < $5
           AND m.currency <> $6
         GROUP BY GROUPING SETS ((p.grp), ())"
    ))
    .bind(mode)
    .bind(partner)
    .bind(program)
    .bind(s.first_day())
    .bind(s.end_day())
    .bind(&s.currency)
    .bind(grain)
    .fetch_all(&mut *db)
    .await?;
    for (key, currencies) in rows {
        group(&mut groups, key).other_currencies = currencies;
    }

    // Medians over the deals themselves (covering indexes by time).
    let rows: Vec<(Option<String>, Option<f64>)> = sqlx::query_as(concat!(
        selected!(),
        "SELECT CASE WHEN GROUPING(p.grp) = 1 THEN NULL ELSE p.grp END, percentile_cont(0.5) WITHIN GROUP (
                    ORDER BY EXTRACT(EPOCH FROM d.approved_at - d.registered_at) / 3600.0)::float8
         FROM p JOIN deals d ON d.partner_id = p.partner_id
         WHERE d.approved_at >= $4 AND d.approved_at < $5 AND d.registered_at IS NOT NULL
         GROUP BY GROUPING SETS ((p.grp), ())"
    ))
    .bind(mode)
    .bind(partner)
    .bind(program)
    .bind(s.start)
    .bind(s.end)
    .fetch_all(&mut *db)
    .await?;
    for (key, median) in rows {
        group(&mut groups, key).median_approval_hours = median;
    }

    let rows: Vec<(Option<String>, Option<f64>)> = sqlx::query_as(concat!(
        selected!(),
        "SELECT CASE WHEN GROUPING(p.grp) = 1 THEN NULL ELSE p.grp END, percentile_cont(0.5) WITHIN GROUP (
                    ORDER BY EXTRACT(EPOCH FROM d.won_at - d.registered_at) / 86400.0)::float8
         FROM p JOIN deals d ON d.partner_id = p.partner_id
         WHERE d.won_at >= $4 AND d.won_at < $5 AND d.registered_at IS NOT NULL
         GROUP BY GROUPING SETS ((p.grp), ())"
    ))
    .bind(mode)
    .bind(partner)
    .bind(program)
    .bind(s.start)
    .bind(s.end)
    .fetch_all(&mut *db)
    .await?;
    for (key, median) in rows {
        group(&mut groups, key).median_velocity_days = median;
    }

    let rows: Vec<(Option<String>, Option<f64>)> = sqlx::query_as(concat!(
        selected!(),
        "SELECT CASE WHEN GROUPING(p.grp) = 1 THEN NULL ELSE p.grp END, percentile_cont(0.5) WITHIN GROUP (
                    ORDER BY EXTRACT(EPOCH FROM f.first_approved_at - pa.approved_at) / 86400.0)::float8
         FROM p JOIN partners pa ON pa.partner_id = p.partner_id
         JOIN partner_first_deals f ON f.partner_id = p.partner_id
         GROUP BY GROUPING SETS ((p.grp), ())"
    ))
    .bind(mode)
    .bind(partner)
    .bind(program)
    .fetch_all(&mut *db)
    .await?;
    for (key, median) in rows {
        group(&mut groups, key).median_days_to_first_deal = median;
    }

    let rows: Vec<(Option<String>, i64)> = sqlx::query_as(concat!(
        selected!(),
        "SELECT CASE WHEN GROUPING(p.grp) = 1 THEN NULL ELSE p.grp END, COALESCE(SUM(i.estimated_minor), 0)::bigint
         FROM p JOIN deal_influences i ON i.partner_id = p.partner_id
         WHERE i.registered_at >= $4 AND i.registered_at < $5 AND i.currency = $6
           AND i.last_at >= i.registered_at - make_interval(days => $7)
         GROUP BY GROUPING SETS ((p.grp), ())"
    ))
    .bind(mode)
    .bind(partner)
    .bind(program)
    .bind(s.start)
    .bind(s.end)
    .bind(&s.currency)
    .bind(s.window_days)
    .fetch_all(&mut *db)
    .await?;
    for (key, influenced) in rows {
        group(&mut groups, key).influenced_pipeline = influenced;
    }

    let total = groups.remove(&None).unwrap_or_default();
    Ok(GroupFigures {
        groups: groups
            .into_iter()
            .filter(|(_, g)| g.partners > 0)
            .filter_map(|(k, g)| k.map(|k| (k, g)))
            .collect(),
        total,
    })
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PartnerRow {
    pub partner_id: Uuid,
    pub program_id: Uuid,
    pub company_name: String,
    pub partner_type: prm_runtime::PartnerType,
    pub tier_name: String,
    pub status: String,
}

pub async fn partner(db: Db<'_>, id: Uuid) -> Result<Option<PartnerRow>> {
    sqlx::query_as(
        "SELECT partner_id, program_id, company_name, partner_type, tier_name, status
         FROM partners WHERE partner_id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Partners in id order after `after`, for the export.
pub async fn partners_page(db: Db<'_>, after: Uuid, limit: i64) -> Result<Vec<PartnerRow>> {
    sqlx::query_as(
        "SELECT partner_id, program_id, company_name, partner_type, tier_name, status
         FROM partners WHERE partner_id > $1 ORDER BY partner_id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await
}
