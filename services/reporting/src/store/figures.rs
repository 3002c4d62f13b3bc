//! The figures queries: one set of statements computes any group of
//! partners' figures (one partner, a tier, a partner type, a program),
//! and their total (GROUPING SETS), from the monthly rollups (daily for a
//! week) for what adds up, and from the deals for medians. The grouping
//! is a parameter ($1), so the SQL is static.

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
    /// The influence window, in days, when no attribution model is in
    /// force at the period's end (or now, if sooner); otherwise that
    /// model's (the statement looks it up, as `models::model_at` does).
    pub default_window_days: i32,
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
#[derive(Clone, Debug, Default, PartialEq, sqlx::FromRow)]
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
    /// Of the deals registered in the period (`deals_registered`), those
    /// won so far.
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

#[derive(sqlx::FromRow)]
struct FiguresRow {
    /// The group key; NULL for the total of every group.
    key: Option<String>,
    #[sqlx(flatten)]
    figures: RawFigures,
}

/// The figures of each group and of all of them together.
#[derive(Clone, Debug, Default)]
pub struct GroupFigures {
    /// By group key (a partner id, a tier name, a partner type), in key
    /// order; groups without partners are absent.
    pub groups: Vec<(String, RawFigures)>,
    pub total: RawFigures,
}

/// Every figure of every group and of the total, in one statement (one
/// round trip): each part groups by GROUPING SETS ((grp), ()), so the
/// total comes from the same pass, and the parts are joined on the key.
///
/// $1 grouping, $2 partners (or NULL), $3 program (or NULL), $4 / $5 the
/// period's start and end, $6 / $7 their days, $8 currency, $9 the rollup
/// grain ('m' or 'd'), $10 the influence window in days when no model is
/// in force, $11 now.
const FIGURES: &str = r#"
WITH p AS (
    SELECT partner_id, CASE $1 WHEN 'tier' THEN tier_name
                               WHEN 'partner_type' THEN partner_type
                               ELSE partner_id::text END COLLATE "C" AS grp
    FROM partners
    WHERE ($2::uuid[] IS NULL OR partner_id = ANY($2)) AND ($3::uuid IS NULL OR program_id = $3)),
window_days AS (
    SELECT COALESCE((SELECT window_days FROM attribution_models
                     WHERE effective_from <= LEAST($5, $11)
                     ORDER BY effective_from DESC, version DESC LIMIT 1), $10) AS days),
base AS (
    SELECT CASE WHEN GROUPING(p.grp) = 1 THEN NULL ELSE p.grp END AS key,
           COUNT(*) AS partners,
           COALESCE(SUM(ck.done), 0)::bigint AS checklist_items_done,
           COUNT(*) FILTER (WHERE ck.done >= 4) AS partners_onboarded,
           COALESCE(SUM(ce.held), 0)::bigint AS certifications_held,
           COUNT(*) FILTER (WHERE COALESCE(ce.held, 0) > 0) AS partners_certified
    FROM p
    LEFT JOIN (SELECT partner_id, COUNT(*) AS done FROM checklist_items GROUP BY partner_id) ck
           ON ck.partner_id = p.partner_id
    LEFT JOIN (SELECT partner_id, COUNT(*) AS held FROM certifications
               WHERE expired_at IS NULL AND (expires_at IS NULL OR expires_at > $11)
               GROUP BY partner_id) ce ON ce.partner_id = p.partner_id
    GROUP BY GROUPING SETS ((p.grp), ())),
counts AS (
    SELECT CASE WHEN GROUPING(p.grp) = 1 THEN NULL ELSE p.grp END AS key,
           SUM(r.deals_registered)::bigint AS deals_registered,
           SUM(r.deals_approved)::bigint AS deals_approved,
           SUM(r.deals_rejected)::bigint AS deals_rejected,
           SUM(r.deals_won)::bigint AS deals_won,
           SUM(r.deals_lost)::bigint AS deals_lost,
           SUM(r.deals_expired)::bigint AS deals_expired,
           SUM(r.sla_breaches)::bigint AS sla_breaches,
           SUM(r.cohort_won)::bigint AS cohort_won,
           SUM(r.clicks)::bigint AS clicks,
           SUM(r.conversions)::bigint AS conversions
    FROM p JOIN partner_rollups r ON r.partner_id = p.partner_id
    WHERE r.grain = ($9::text)::"char" AND r.starts_on >= $6 AND r.starts_on < $7
    GROUP BY GROUPING SETS ((p.grp), ())),
last_conversion AS (
    SELECT CASE WHEN GROUPING(p.grp) = 1 THEN NULL ELSE p.grp END AS key,
           MAX(l.starts_on) AS last_conversion_day
    FROM p
    CROSS JOIN LATERAL (SELECT starts_on FROM partner_rollups r
                        WHERE r.partner_id = p.partner_id AND r.grain = 'd'
                          AND r.conversions > 0 AND r.starts_on < $7
                        ORDER BY starts_on DESC LIMIT 1) l
    GROUP BY GROUPING SETS ((p.grp), ())),
money AS (
    SELECT CASE WHEN GROUPING(p.grp) = 1 THEN NULL ELSE p.grp END AS key,
           SUM(m.sourced_pipeline)::bigint AS sourced_pipeline,
           SUM(m.won_revenue)::bigint AS won_revenue,
           SUM(m.mdf_backed_won)::bigint AS mdf_backed_won,
           SUM(m.credited_revenue)::bigint AS credited_revenue,
           SUM(m.mdf_requested)::bigint AS mdf_requested,
           SUM(m.mdf_approved)::bigint AS mdf_approved,
           SUM(m.mdf_claimed)::bigint AS mdf_claimed,
           SUM(m.mdf_paid)::bigint AS mdf_paid,
           SUM(m.commissions_earned)::bigint AS commissions_earned,
           SUM(m.conversion_commissions)::bigint AS conversion_commissions,
           SUM(m.commissions_reversed)::bigint AS commissions_reversed,
           SUM(m.commissions_paid)::bigint AS commissions_paid,
           SUM(m.conversion_revenue)::bigint AS conversion_revenue
    FROM p JOIN partner_money_rollups m ON m.partner_id = p.partner_id
    WHERE m.grain = ($9::text)::"char" AND m.starts_on >= $6 AND m.starts_on < $7
      AND m.currency = $8
    GROUP BY GROUPING SETS ((p.grp), ())),
currencies AS (
    SELECT CASE WHEN GROUPING(p.grp) = 1 THEN NULL ELSE p.grp END AS key,
           array_agg(DISTINCT m.currency ORDER BY m.currency) AS other_currencies
    FROM p JOIN partner_money_rollups m ON m.partner_id = p.partner_id
    WHERE m.grain = ($9::text)::"char" AND m.starts_on >= $6 AND m.starts_on < $7
      AND m.currency <> $8
    GROUP BY GROUPING SETS ((p.grp), ())),
approval AS (
    SELECT CASE WHEN GROUPING(p.grp) = 1 THEN NULL ELSE p.grp END AS key,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY d.approval_hours)::float8
               AS median_approval_hours
    FROM p JOIN deals d ON d.partner_id = p.partner_id
    WHERE d.approved_at >= $4 AND d.approved_at < $5 AND d.approval_hours IS NOT NULL
    GROUP BY GROUPING SETS ((p.grp), ())),
velocity AS (
    SELECT CASE WHEN GROUPING(p.grp) = 1 THEN NULL ELSE p.grp END AS key,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY d.velocity_days)::float8
               AS median_velocity_days
    FROM p JOIN deals d ON d.partner_id = p.partner_id
    WHERE d.won_at >= $4 AND d.won_at < $5 AND d.velocity_days IS NOT NULL
    GROUP BY GROUPING SETS ((p.grp), ())),
first_deal AS (
    SELECT CASE WHEN GROUPING(p.grp) = 1 THEN NULL ELSE p.grp END AS key,
           percentile_cont(0.5) WITHIN GROUP (
               ORDER BY EXTRACT(EPOCH FROM f.first_approved_at - pa.approved_at) / 86400.0)::float8
               AS median_days_to_first_deal
    FROM p JOIN partners pa ON pa.partner_id = p.partner_id
    JOIN partner_first_deals f ON f.partner_id = p.partner_id
    GROUP BY GROUPING SETS ((p.grp), ())),
influenced AS (
    SELECT CASE WHEN GROUPING(p.grp) = 1 THEN NULL ELSE p.grp END AS key,
           SUM(i.estimated_minor)::bigint AS influenced_pipeline
    FROM p JOIN deal_influences i ON i.partner_id = p.partner_id CROSS JOIN window_days w
    WHERE i.registered_at >= $4 AND i.registered_at < $5 AND i.currency = $8
      AND i.last_at >= i.registered_at - make_interval(days => w.days)
    GROUP BY GROUPING SETS ((p.grp), ()))
SELECT base.key, base.partners, base.checklist_items_done, base.partners_onboarded,
       base.certifications_held, base.partners_certified,
       COALESCE(c.deals_registered, 0) AS deals_registered,
       COALESCE(c.deals_approved, 0) AS deals_approved,
       COALESCE(c.deals_rejected, 0) AS deals_rejected,
       COALESCE(c.deals_won, 0) AS deals_won,
       COALESCE(c.deals_lost, 0) AS deals_lost,
       COALESCE(c.deals_expired, 0) AS deals_expired,
       COALESCE(c.sla_breaches, 0) AS sla_breaches,
       COALESCE(c.cohort_won, 0) AS cohort_won,
       COALESCE(c.clicks, 0) AS clicks,
       COALESCE(c.conversions, 0) AS conversions,
       l.last_conversion_day,
       COALESCE(m.sourced_pipeline, 0) AS sourced_pipeline,
       COALESCE(m.won_revenue, 0) AS won_revenue,
       COALESCE(m.mdf_backed_won, 0) AS mdf_backed_won,
       COALESCE(m.credited_revenue, 0) AS credited_revenue,
       COALESCE(m.mdf_requested, 0) AS mdf_requested,
       COALESCE(m.mdf_approved, 0) AS mdf_approved,
       COALESCE(m.mdf_claimed, 0) AS mdf_claimed,
       COALESCE(m.mdf_paid, 0) AS mdf_paid,
       COALESCE(m.commissions_earned, 0) AS commissions_earned,
       COALESCE(m.conversion_commissions, 0) AS conversion_commissions,
       COALESCE(m.commissions_reversed, 0) AS commissions_reversed,
       COALESCE(m.commissions_paid, 0) AS commissions_paid,
       COALESCE(m.conversion_revenue, 0) AS conversion_revenue,
       COALESCE(cu.other_currencies, '{}') AS other_currencies,
       a.median_approval_hours, v.median_velocity_days, f.median_days_to_first_deal,
       COALESCE(i.influenced_pipeline, 0) AS influenced_pipeline
FROM base
LEFT JOIN counts c ON c.key IS NOT DISTINCT FROM base.key
LEFT JOIN last_conversion l ON l.key IS NOT DISTINCT FROM base.key
LEFT JOIN money m ON m.key IS NOT DISTINCT FROM base.key
LEFT JOIN currencies cu ON cu.key IS NOT DISTINCT FROM base.key
LEFT JOIN approval a ON a.key IS NOT DISTINCT FROM base.key
LEFT JOIN velocity v ON v.key IS NOT DISTINCT FROM base.key
LEFT JOIN first_deal f ON f.key IS NOT DISTINCT FROM base.key
LEFT JOIN influenced i ON i.key IS NOT DISTINCT FROM base.key
ORDER BY base.key COLLATE "C" NULLS FIRST
"#;

/// Every group's figures and the total. The service's connections keep
/// one generic plan of it and give its medians 32 MB to sort in (see
/// `app.rs`).
pub async fn figures(db: Db<'_>, s: &Selection) -> Result<GroupFigures> {
    let rows: Vec<FiguresRow> = sqlx::query_as(FIGURES)
        .bind(s.grouping.as_str())
        .bind(&s.partners)
        .bind(s.program)
        .bind(s.start)
        .bind(s.end)
        .bind(s.first_day())
        .bind(s.end_day())
        .bind(&s.currency)
        .bind(if s.whole_months { "m" } else { "d" })
        .bind(s.default_window_days)
        .bind(s.now)
        .fetch_all(db)
        .await?;
    let mut out = GroupFigures::default();
    for row in rows {
        match row.key {
            None => out.total = row.figures,
            Some(key) if row.figures.partners > 0 => out.groups.push((key, row.figures)),
            Some(_) => {}
        }
    }
    Ok(out)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PartnerRow {
    pub partner_id: Uuid,
    pub program_id: Uuid,
    pub company_name: String,
    pub partner_type: prm_runtime::PartnerType,
    pub tier_name: String,
    pub status: prm_runtime::PartnerStatus,
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
