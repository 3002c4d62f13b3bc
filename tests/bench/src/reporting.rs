//! Reporting: how fast events are applied to the read models, and how fast
//! the read models answer a scorecard and the program view with a million
//! deal registrations and ten million conversions behind them, against the
//! same figures computed by aggregate SQL over the raw events.
//!
//! Ingestion: a burst of synthetic commissions events (conversions,
//! commissions earned, hourly click counts) published into the run's
//! commissions stream once reporting has caught up; the rate is the burst
//! over the time until reporting's lag is zero again.
//!
//! Latency: the raw events (every deal registration, approval, win and
//! loss, and every conversion) are generated into a table of the reporting
//! database, indexed by partner and time, and the read models are built
//! from them by aggregate SQL (what the projector would have written, had
//! the events come over NATS: applying eleven million events one
//! transaction each would take the bench hours). The subject is the
//! gateway's scorecard (every figure) and program view; the reference is
//! one aggregate query over the raw events computing the deal and
//! conversion figures only (a subset, which favours the reference). Both
//! run one request at a time, alternating, and the first answer of each is
//! checked to agree.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context;
use prm_proto::common::Money;
use prm_proto::events::{
    CommissionEarned, ConversionRecorded, EventEnvelope, TrackingLinkClicksCounted,
};
use prost::{Message, Name};
use serde::Serialize;
use serde_json::Value;
use sqlx::{Connection, PgConnection, Row};
use uuid::Uuid;

use crate::load::{HttpConnection, LoadResult, http_json};

/// A bench partner's id (1-based).
const PARTNER_ID: &str =
    "('10000000-0000-7000-8000-' || lpad(to_hex(1 + (g % 1000)), 12, '0'))::uuid";

#[derive(Serialize)]
pub struct Ingestion {
    pub events: u64,
    pub seconds: f64,
    pub events_per_second: f64,
}

#[derive(Serialize)]
pub struct Seeded {
    pub partners: u64,
    pub deal_registrations: u64,
    pub conversions: u64,
    pub raw_events: i64,
    pub seconds: f64,
}

#[derive(Serialize)]
pub struct ReportingFacts {
    pub ingestion: Ingestion,
    pub seeded: Seeded,
    /// Read model p50 speed-up over the raw aggregate, per view.
    pub scorecard_speedup_p50: f64,
    pub program_view_speedup_p50: f64,
}

/// Pending events in every stream, from the gateway's lag report.
async fn pending(gateway: SocketAddr, key: &str) -> anyhow::Result<Option<u64>> {
    let (status, body) = http_json(gateway, "GET", "/v1/reports/lag", Some(key), None).await?;
    anyhow::ensure!(status == 200, "lag: {status} {body}");
    let streams = body["streams"].as_array().cloned().unwrap_or_default();
    if streams.iter().any(|s| s["available"] != Value::Bool(true)) {
        return Ok(None);
    }
    Ok(Some(
        streams
            .iter()
            .map(|s| s["pending_events"].as_u64().unwrap_or(0))
            .sum(),
    ))
}

async fn caught_up(gateway: SocketAddr, key: &str, within: Duration) -> anyhow::Result<()> {
    let started = Instant::now();
    while started.elapsed() < within {
        if pending(gateway, key).await? == Some(0) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("reporting did not catch up within {within:?}")
}

fn envelope<M: Message + Name>(partner: Uuid, at: prost_types::Timestamp, m: &M) -> EventEnvelope {
    EventEnvelope {
        event_id: Uuid::now_v7().to_string(),
        r#type: M::full_name(),
        occurred_at: Some(at),
        producer: "commissions".into(),
        partner_id: partner.to_string(),
        aggregate_type: "conversion".into(),
        aggregate_id: Uuid::now_v7().to_string(),
        aggregate_version: 1,
        payload: m.encode_to_vec(),
    }
}

/// Publishes `events` commissions events once reporting has caught up, and
/// times how long it takes to apply them.
pub async fn ingestion(
    gateway: SocketAddr,
    key: &str,
    nats_url: &str,
    namespace: &str,
    events: u64,
) -> anyhow::Result<Ingestion> {
    caught_up(gateway, key, Duration::from_secs(600)).await?;
    let client = async_nats::connect(nats_url).await?;
    let js = async_nats::jetstream::new(client);
    let usd = |minor| {
        Some(Money {
            amount_minor: minor,
            currency: "USD".into(),
        })
    };
    let started = Instant::now();
    let mut acks = Vec::with_capacity(1_000);
    for i in 0..events {
        // Partners of their own, so that the seeded days below stay apart.
        let partner =
            Uuid::from_u128(0x3000_0000_0000_7000_8000_0000_0000_0000 | u128::from(1 + i % 1000));
        let at = prm_runtime::wire::timestamp(chrono::Utc::now());
        let (verb, env) = match i % 4 {
            0 | 1 => (
                "conversion.recorded",
                envelope(
                    partner,
                    at,
                    &ConversionRecorded {
                        conversion_id: Uuid::now_v7().to_string(),
                        partner_id: partner.to_string(),
                        kind: "sale".into(),
                        amount: usd(1_000 + (i % 5_000) as i64),
                        customer_domain: if i % 10 == 0 {
                            format!("ingest{}.example", i % 500)
                        } else {
                            String::new()
                        },
                        occurred_at: Some(at),
                        ..Default::default()
                    },
                ),
            ),
            2 => (
                "commission.earned",
                envelope(
                    partner,
                    at,
                    &CommissionEarned {
                        commission_id: Uuid::now_v7().to_string(),
                        partner_id: partner.to_string(),
                        conversion_id: Uuid::now_v7().to_string(),
                        amount: usd(100),
                        ..Default::default()
                    },
                ),
            ),
            _ => (
                "link.clicks_counted",
                envelope(
                    partner,
                    at,
                    &TrackingLinkClicksCounted {
                        link_id: Uuid::now_v7().to_string(),
                        partner_id: partner.to_string(),
                        hour_start: Some(at),
                        clicks: 12,
                        counted_clicks: 10,
                        ..Default::default()
                    },
                ),
            ),
        };
        let subject = format!("{namespace}.commissions.{verb}");
        acks.push(js.publish(subject, env.encode_to_vec().into()).await?);
        if acks.len() == 1_000 {
            for ack in acks.drain(..) {
                ack.await?;
            }
        }
    }
    for ack in acks.drain(..) {
        ack.await?;
    }
    caught_up(gateway, key, Duration::from_secs(1_800)).await?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(Ingestion {
        events,
        seconds,
        events_per_second: events as f64 / seconds,
    })
}

/// Generates the raw events and builds the read models from them.
pub async fn seed(database_url: &str, deals: u64, conversions: u64) -> anyhow::Result<Seeded> {
    let started = Instant::now();
    let mut db = PgConnection::connect(database_url).await?;
    for statement in [
        "SET TIME ZONE 'UTC'",
        "SET maintenance_work_mem = '256MB'",
        "SET work_mem = '64MB'",
        "CREATE TABLE bench_raw_events (
             event_type text NOT NULL,
             partner_id uuid NOT NULL,
             deal_id uuid,
             occurred_at timestamptz NOT NULL,
             amount_minor bigint,
             customer_domain text)",
    ] {
        sqlx::query(statement).execute(&mut db).await?;
    }
    // Deals: registered through the year; 90% approved within 48 hours;
    // 30% won and 20% lost 3 to 62 days later.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO bench_raw_events (event_type, partner_id, deal_id, occurred_at, amount_minor, customer_domain)
         SELECT e.event_type, d.partner_id, d.deal_id, e.at, e.amount, d.domain
         FROM (SELECT g, {PARTNER_ID} AS partner_id,
                      ('20000000-0000-7000-8000-' || lpad(to_hex(g), 12, '0'))::uuid AS deal_id,
                      timestamptz '2026-01-01' + g * interval '31 seconds' AS registered_at,
                      'c' || ((g * 7) % 200000) || '.example' AS domain,
                      10000 + (g % 97) * 1000 AS estimate
               FROM generate_series(1, $1::bigint) g) d
         CROSS JOIN LATERAL (VALUES
             ('deal.registered', d.registered_at, d.estimate),
             (CASE WHEN d.g % 10 <> 0 THEN 'deal.approved' END,
              d.registered_at + (1 + d.g % 48) * interval '1 hour', NULL),
             (CASE WHEN d.g % 10 BETWEEN 1 AND 3 THEN 'deal.won'
                   WHEN d.g % 10 IN (4, 5) THEN 'deal.lost' END,
              d.registered_at + (3 + d.g % 60) * interval '1 day',
              CASE WHEN d.g % 10 BETWEEN 1 AND 3 THEN d.estimate - 1000 END)
         ) e(event_type, at, amount)
         WHERE e.event_type IS NOT NULL"
    )))
    .bind(deals as i64)
    .execute(&mut db)
    .await
    .context("raw deal events")?;
    // Conversions through the year; half are sales, a tenth name a domain.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO bench_raw_events (event_type, partner_id, occurred_at, amount_minor, customer_domain)
         SELECT 'conversion', {PARTNER_ID},
                timestamptz '2026-01-01' + g * interval '3100 milliseconds',
                CASE WHEN g % 2 = 0 THEN 2000 + g % 50000 END,
                CASE WHEN g % 10 = 0 THEN 'c' || (g % 200000) || '.example' END
         FROM generate_series(1, $1::bigint) g"
    )))
    .bind(conversions as i64)
    .execute(&mut db)
    .await
    .context("raw conversions")?;
    let build = [
        "CREATE INDEX bench_raw_events_partner ON bench_raw_events (partner_id, occurred_at)",
        "CREATE INDEX bench_raw_events_time ON bench_raw_events (occurred_at)",
        "CREATE INDEX bench_raw_events_deal ON bench_raw_events (deal_id) WHERE deal_id IS NOT NULL",
        // The read models, as the projector writes them.
        "INSERT INTO partners (partner_id, program_id, company_name, partner_type, tier_name,
                               status, approved_at, version)
         SELECT ('10000000-0000-7000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
                '10000000-0000-7000-8000-ffffffffffff'::uuid, 'Bench partner ' || g,
                (ARRAY['reseller','si','technology','referral','affiliate'])[1 + g % 5],
                (ARRAY['Bench Gold','Bench Silver','Bench Registered'])[1 + g % 3],
                'active', timestamptz '2025-12-01', 1
         FROM generate_series(1, 1000) g",
        "INSERT INTO deals (deal_id, partner_id, customer_domain, currency, estimated_minor,
                            registered_at, approved_at, won_at, won_minor, won_currency, lost_at)
         SELECT deal_id, partner_id, customer_domain, 'USD',
                MAX(amount_minor) FILTER (WHERE event_type = 'deal.registered'),
                MAX(occurred_at) FILTER (WHERE event_type = 'deal.registered'),
                MAX(occurred_at) FILTER (WHERE event_type = 'deal.approved'),
                MAX(occurred_at) FILTER (WHERE event_type = 'deal.won'),
                MAX(amount_minor) FILTER (WHERE event_type = 'deal.won'),
                CASE WHEN bool_or(event_type = 'deal.won') THEN 'USD' END,
                MAX(occurred_at) FILTER (WHERE event_type = 'deal.lost')
         FROM bench_raw_events WHERE deal_id IS NOT NULL
         GROUP BY deal_id, partner_id, customer_domain",
        "INSERT INTO partner_rollups (partner_id, grain, starts_on, deals_registered,
                                      deals_approved, deals_won, deals_lost, conversions)
         SELECT partner_id, g.grain,
                CASE g.grain WHEN 'd' THEN occurred_at::date
                             ELSE date_trunc('month', occurred_at)::date END,
                COUNT(*) FILTER (WHERE event_type = 'deal.registered'),
                COUNT(*) FILTER (WHERE event_type = 'deal.approved'),
                COUNT(*) FILTER (WHERE event_type = 'deal.won'),
                COUNT(*) FILTER (WHERE event_type = 'deal.lost'),
                COUNT(*) FILTER (WHERE event_type = 'conversion')
         FROM bench_raw_events CROSS JOIN (VALUES ('d'::\"char\"), ('m'::\"char\")) g(grain)
         GROUP BY 1, 2, 3",
        "INSERT INTO partner_rollups AS r (partner_id, grain, starts_on, cohort_won)
         SELECT partner_id, g.grain,
                CASE g.grain WHEN 'd' THEN registered_at::date
                             ELSE date_trunc('month', registered_at)::date END,
                COUNT(*)
         FROM deals CROSS JOIN (VALUES ('d'::\"char\"), ('m'::\"char\")) g(grain)
         WHERE won_at IS NOT NULL AND deal_id::text LIKE '20000000-%'
         GROUP BY 1, 2, 3
         ON CONFLICT (partner_id, grain, starts_on) DO UPDATE SET cohort_won = EXCLUDED.cohort_won",
        "INSERT INTO partner_money_rollups (partner_id, grain, starts_on, currency,
                     sourced_pipeline, won_revenue, credited_revenue, conversion_revenue)
         SELECT partner_id, g.grain,
                CASE g.grain WHEN 'd' THEN occurred_at::date
                             ELSE date_trunc('month', occurred_at)::date END,
                'USD',
                COALESCE(SUM(amount_minor) FILTER (WHERE event_type = 'deal.registered'), 0),
                COALESCE(SUM(amount_minor) FILTER (WHERE event_type = 'deal.won'), 0),
                -- No model: the registering partner is credited the whole deal.
                COALESCE(SUM(amount_minor) FILTER (WHERE event_type = 'deal.won'), 0),
                COALESCE(SUM(amount_minor) FILTER (WHERE event_type = 'conversion'), 0)
         FROM bench_raw_events CROSS JOIN (VALUES ('d'::\"char\"), ('m'::\"char\")) g(grain)
         GROUP BY 1, 2, 3",
        "INSERT INTO domain_conversions (conversion_id, partner_id, customer_domain, occurred_at)
         SELECT gen_random_uuid(), partner_id, customer_domain, occurred_at
         FROM bench_raw_events WHERE event_type = 'conversion' AND customer_domain IS NOT NULL",
        "INSERT INTO deal_influences (deal_id, partner_id, last_at, registered_at, estimated_minor,
                                      currency)
         SELECT d.deal_id, c.partner_id, MAX(c.occurred_at), d.registered_at, d.estimated_minor,
                'USD'
         FROM deals d JOIN domain_conversions c
              ON c.customer_domain = d.customer_domain
             AND c.occurred_at BETWEEN d.registered_at - interval '365 days' AND d.registered_at
             AND c.partner_id <> d.partner_id
         WHERE d.deal_id::text LIKE '20000000-%'
         GROUP BY d.deal_id, c.partner_id, d.registered_at, d.estimated_minor",
        "INSERT INTO partner_first_deals (partner_id, first_approved_at)
         SELECT partner_id, MIN(approved_at) FROM deals
         WHERE approved_at IS NOT NULL AND deal_id::text LIKE '20000000-%'
         GROUP BY partner_id",
        "INSERT INTO deal_credits (deal_id, position, role, partner_id, weight_bps, amount_minor,
                                   currency, reason, won_at, model_version)
         SELECT deal_id, 0, 'sourced', partner_id, 10000, won_minor, 'USD',
                'registered the deal', won_at, 0
         FROM deals WHERE won_at IS NOT NULL AND deal_id::text LIKE '20000000-%'",
        // As autovacuum would have by the time anyone reads: statistics,
        // and the visibility map index-only scans need (both sides gain).
        "VACUUM (ANALYZE)",
    ];
    for statement in build {
        sqlx::query(statement)
            .execute(&mut db)
            .await
            .with_context(|| statement.chars().take(60).collect::<String>())?;
    }
    let raw_events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bench_raw_events")
        .fetch_one(&mut db)
        .await?;
    Ok(Seeded {
        partners: 1000,
        deal_registrations: deals,
        conversions,
        raw_events,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// One partner's deal and conversion figures for a month, from the raw
/// events.
const RAW_SCORECARD: &str = "
WITH per AS (
    SELECT event_type, deal_id, occurred_at, amount_minor FROM bench_raw_events
    WHERE partner_id = $1 AND occurred_at >= $2 AND occurred_at < $3),
reg AS (
    SELECT deal_id, occurred_at FROM bench_raw_events
    WHERE partner_id = $1 AND event_type = 'deal.registered' AND occurred_at < $3),
won AS (
    SELECT deal_id FROM bench_raw_events WHERE partner_id = $1 AND event_type = 'deal.won')
SELECT
    COUNT(*) FILTER (WHERE event_type = 'deal.registered') AS registered,
    COUNT(*) FILTER (WHERE event_type = 'deal.approved') AS approved,
    COUNT(*) FILTER (WHERE event_type = 'deal.won') AS won,
    COUNT(*) FILTER (WHERE event_type = 'deal.lost') AS lost,
    COALESCE(SUM(amount_minor) FILTER (WHERE event_type = 'deal.registered'), 0)::bigint AS sourced,
    COALESCE(SUM(amount_minor) FILTER (WHERE event_type = 'deal.won'), 0)::bigint AS won_revenue,
    COUNT(*) FILTER (WHERE event_type = 'conversion') AS conversions,
    COALESCE(SUM(amount_minor) FILTER (WHERE event_type = 'conversion'), 0)::bigint AS revenue,
    (SELECT percentile_cont(0.5) WITHIN GROUP (
         ORDER BY EXTRACT(EPOCH FROM a.occurred_at - r.occurred_at) / 3600.0)
     FROM per a JOIN reg r USING (deal_id) WHERE a.event_type = 'deal.approved')::float8 AS approval,
    (SELECT percentile_cont(0.5) WITHIN GROUP (
         ORDER BY EXTRACT(EPOCH FROM a.occurred_at - r.occurred_at) / 86400.0)
     FROM per a JOIN reg r USING (deal_id) WHERE a.event_type = 'deal.won')::float8 AS velocity,
    (SELECT COUNT(*) FROM per r JOIN won w USING (deal_id)
     WHERE r.event_type = 'deal.registered') AS cohort_won
FROM per";

/// The same, for every partner, by tier.
const RAW_PROGRAM: &str = "
WITH per AS (
    SELECT e.event_type, e.deal_id, e.occurred_at, e.amount_minor, p.tier_name
    FROM bench_raw_events e JOIN partners p USING (partner_id)
    WHERE e.occurred_at >= $1 AND e.occurred_at < $2),
reg AS (
    SELECT deal_id, occurred_at FROM bench_raw_events
    WHERE event_type = 'deal.registered' AND occurred_at < $2),
won AS (SELECT deal_id FROM bench_raw_events WHERE event_type = 'deal.won'),
med AS (
    SELECT a.tier_name,
           percentile_cont(0.5) WITHIN GROUP (
               ORDER BY EXTRACT(EPOCH FROM a.occurred_at - r.occurred_at) / 3600.0)
               FILTER (WHERE a.event_type = 'deal.approved') AS approval,
           percentile_cont(0.5) WITHIN GROUP (
               ORDER BY EXTRACT(EPOCH FROM a.occurred_at - r.occurred_at) / 86400.0)
               FILTER (WHERE a.event_type = 'deal.won') AS velocity
    FROM per a JOIN reg r USING (deal_id)
    WHERE a.event_type IN ('deal.approved', 'deal.won')
    GROUP BY a.tier_name),
coh AS (
    SELECT r.tier_name, COUNT(*) AS cohort_won
    FROM per r JOIN won w USING (deal_id) WHERE r.event_type = 'deal.registered'
    GROUP BY r.tier_name),
sums AS (
    SELECT tier_name,
           COUNT(*) FILTER (WHERE event_type = 'deal.registered') AS registered,
           COUNT(*) FILTER (WHERE event_type = 'deal.won') AS won,
           COUNT(*) FILTER (WHERE event_type = 'deal.lost') AS lost,
           COALESCE(SUM(amount_minor) FILTER (WHERE event_type = 'deal.won'), 0)::bigint AS won_revenue,
           COUNT(*) FILTER (WHERE event_type = 'conversion') AS conversions,
           COALESCE(SUM(amount_minor) FILTER (WHERE event_type = 'conversion'), 0)::bigint AS revenue
    FROM per GROUP BY tier_name)
SELECT s.tier_name, s.registered, s.won, s.lost, s.won_revenue, s.conversions, s.revenue,
       m.approval::float8 AS approval, m.velocity::float8 AS velocity, c.cohort_won
FROM sums s LEFT JOIN med m USING (tier_name) LEFT JOIN coh c USING (tier_name)
ORDER BY s.tier_name";

fn month_bounds(month: u32) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
    use chrono::TimeZone;
    let start = chrono::Utc
        .with_ymd_and_hms(2026, month, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let end = if month == 12 {
        chrono::Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0)
    } else {
        chrono::Utc.with_ymd_and_hms(2026, month + 1, 1, 0, 0, 0)
    }
    .single()
    .unwrap_or_default();
    (start, end)
}

/// A pass over the requests: the first only warms caches (both sides').
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    WarmUp,
    Measured,
}

impl Pass {
    /// Where this pass's timings go: `measured`, or a scratch result.
    fn pick<'a>(
        self,
        measured: &'a mut LoadResult,
        scratch: &'a mut LoadResult,
    ) -> &'a mut LoadResult {
        match self {
            Pass::WarmUp => scratch,
            Pass::Measured => measured,
        }
    }
}

fn timed(result: &mut LoadResult, started: Instant) {
    result
        .latencies_us
        .push(started.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
    result.elapsed += started.elapsed();
}

/// Scorecards one at a time over `n` (partner, month) pairs: the gateway's
/// (read models) and the raw aggregate's, each side on a connection it
/// keeps. Each pass asks all `n` of one side back to back, then all `n` of
/// the other, so neither side's requests land on processes the other side
/// left idle. A first pass warms both sides' caches and is not counted.
/// The first pair's figures must agree.
pub async fn scorecards(
    gateway: SocketAddr,
    key: &str,
    database_url: &str,
    n: usize,
) -> anyhow::Result<(LoadResult, LoadResult)> {
    let mut db = PgConnection::connect(database_url).await?;
    let mut http = HttpConnection::open(gateway).await?;
    let pairs: Vec<(Uuid, u32)> = (0..n)
        .map(|i| {
            let g = 1 + (i * 7919) % 1000;
            let partner = Uuid::from_u128(0x10000000_0000_7000_8000_000000000000 | g as u128);
            (partner, 1 + (i % 12) as u32)
        })
        .collect();
    let (mut subject, mut reference) = (LoadResult::default(), LoadResult::default());
    let (mut first_card, mut first_row) = (None, None);
    for pass in [Pass::WarmUp, Pass::Measured] {
        let mut scratch = LoadResult::default();
        for &(partner, month) in &pairs {
            let started = Instant::now();
            let (status, card) = http
                .json(
                    "GET",
                    &format!("/v1/reports/partners/{partner}/scorecard?period=2026-{month:02}"),
                    Some(key),
                    None,
                )
                .await?;
            timed(pass.pick(&mut subject, &mut scratch), started);
            anyhow::ensure!(status == 200, "scorecard: {status} {card}");
            first_card.get_or_insert(card);
        }
        for &(partner, month) in &pairs {
            let (start, end) = month_bounds(month);
            let started = Instant::now();
            let row = sqlx::query(RAW_SCORECARD)
                .bind(partner)
                .bind(start)
                .bind(end)
                .fetch_one(&mut db)
                .await?;
            timed(pass.pick(&mut reference, &mut scratch), started);
            first_row.get_or_insert(row);
        }
    }
    let (Some(card), Some(row)) = (first_card, first_row) else {
        anyhow::bail!("no scorecard was asked for");
    };
    let f = &card["figures"];
    for (figure, column) in [
        ("deals_registered", "registered"),
        ("deals_approved", "approved"),
        ("deals_won", "won"),
        ("deals_lost", "lost"),
        ("sourced_pipeline_minor", "sourced"),
        ("won_revenue_minor", "won_revenue"),
        ("conversions", "conversions"),
        ("conversion_revenue_minor", "revenue"),
    ] {
        let raw: i64 = row.try_get(column)?;
        anyhow::ensure!(
            f[figure].as_i64() == Some(raw),
            "scorecard {figure} {} differs from the raw events' {raw}",
            f[figure]
        );
    }
    let approval: Option<f64> = row.try_get("approval")?;
    let served = f["median_approval_hours"].as_f64();
    anyhow::ensure!(
        match (served, approval) {
            (Some(a), Some(b)) => (a - b).abs() < 1e-6,
            (a, b) => a.is_none() && b.is_none(),
        },
        "median approval {served:?} differs from the raw events' {approval:?}"
    );
    subject.latencies_us.sort_unstable();
    reference.latencies_us.sort_unstable();
    Ok((subject, reference))
}

/// The program view by tier, one quarter at a time, `n` requests a side,
/// as [`scorecards`] does; the first quarter's figures must agree.
pub async fn program_views(
    gateway: SocketAddr,
    key: &str,
    database_url: &str,
    n: usize,
) -> anyhow::Result<(LoadResult, LoadResult)> {
    let mut db = PgConnection::connect(database_url).await?;
    let mut http = HttpConnection::open(gateway).await?;
    let quarters: Vec<u32> = (0..n).map(|i| 1 + (i % 4) as u32).collect();
    let (mut subject, mut reference) = (LoadResult::default(), LoadResult::default());
    let (mut first_view, mut first_rows) = (None, None);
    for pass in [Pass::WarmUp, Pass::Measured] {
        let mut scratch = LoadResult::default();
        for &quarter in &quarters {
            let started = Instant::now();
            let (status, view) = http
                .json(
                    "GET",
                    &format!("/v1/reports/program?group_by=tier&period=2026-Q{quarter}"),
                    Some(key),
                    None,
                )
                .await?;
            timed(pass.pick(&mut subject, &mut scratch), started);
            anyhow::ensure!(status == 200, "program view: {status} {view}");
            first_view.get_or_insert(view);
        }
        for &quarter in &quarters {
            let (start, _) = month_bounds(3 * quarter - 2);
            let end = month_bounds(3 * quarter).1;
            let started = Instant::now();
            let rows = sqlx::query(RAW_PROGRAM)
                .bind(start)
                .bind(end)
                .fetch_all(&mut db)
                .await?;
            timed(pass.pick(&mut reference, &mut scratch), started);
            first_rows.get_or_insert(rows);
        }
    }
    let (Some(view), Some(rows)) = (first_view, first_rows) else {
        anyhow::bail!("no program view was asked for");
    };
    let groups = view["groups"].as_array().cloned().unwrap_or_default();
    for row in rows {
        let tier: String = row.try_get("tier_name")?;
        if !tier.starts_with("Bench ") {
            continue;
        }
        let g = groups
            .iter()
            .find(|g| g["key"] == Value::String(tier.clone()))
            .with_context(|| format!("no group {tier} in the program view"))?;
        for (figure, column) in [
            ("deals_registered", "registered"),
            ("deals_won", "won"),
            ("won_revenue_minor", "won_revenue"),
            ("conversions", "conversions"),
        ] {
            let raw: i64 = row.try_get(column)?;
            anyhow::ensure!(
                g["figures"][figure].as_i64() == Some(raw),
                "{tier} {figure} {} differs from the raw events' {raw}",
                g["figures"][figure]
            );
        }
    }
    subject.latencies_us.sort_unstable();
    reference.latencies_us.sort_unstable();
    Ok((subject, reference))
}
