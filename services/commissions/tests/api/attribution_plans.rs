//! Attribution stays an index probe under any click distribution: after a
//! one-source flood and an `ANALYZE` that sees it (the planner then thinks
//! the table holds a handful of sources), every statement the postback path
//! runs on `clicks` reads a bounded number of its rows, never scans it, for
//! a normal click and for a click of the flooding source, with the plan
//! made for the values (custom) and the one PostgreSQL caches for any
//! values (generic).

use chrono::{DateTime, Duration, DurationRound, Utc};
use prm_commissions::store::{
    CLICK_AND_EARLIEST_RIVAL, CLICK_AND_LATEST_RIVAL, SOURCE_CLICKS_IN_HOUR,
};
use serde_json::Value;
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection};
use uuid::Uuid;

use crate::helpers::*;

/// Clicks of the flooding source.
const FLOOD: i64 = 300_000;
/// The flood count's cap in the test (a program's `max_clicks_per_source_hour` + 1).
const CAP: i64 = 51;

/// The rows one plan node of `clicks` read: returned over every loop, plus
/// those its filters removed.
fn rows_read(node: &Value) -> i64 {
    let n = |k: &str| node.get(k).and_then(Value::as_f64).unwrap_or(0.0);
    let loops = n("Actual Loops").max(1.0);
    ((n("Actual Rows") + n("Rows Removed by Filter") + n("Rows Removed by Index Recheck")) * loops)
        as i64
}

/// Every node of a plan that reads `clicks`, as (node type, rows read).
fn clicks_nodes(plan: &Value, out: &mut Vec<(String, i64)>) {
    if plan.get("Relation Name").and_then(Value::as_str) == Some("clicks") {
        let kind = plan["Node Type"].as_str().unwrap_or_default().to_owned();
        out.push((kind, rows_read(plan)));
    }
    for child in plan
        .get("Plans")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        clicks_nodes(child, out);
    }
}

async fn explain(
    conn: &mut PgConnection,
    mode: &str,
    sql: &str,
    types: &str,
    args: &str,
) -> Vec<(String, i64)> {
    conn.execute(AssertSqlSafe(format!("SET plan_cache_mode = {mode}")))
        .await
        .expect("plan mode");
    let name = format!("postback_step_{}", Uuid::now_v7().simple());
    conn.execute(AssertSqlSafe(format!("PREPARE {name}({types}) AS {sql}")))
        .await
        .expect("prepare");
    let (plan,): (Value,) = sqlx::query_as(AssertSqlSafe(format!(
        "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE {name}({args})"
    )))
    .persistent(false)
    .fetch_one(&mut *conn)
    .await
    .expect("explain");
    let mut nodes = Vec::new();
    clicks_nodes(&plan[0]["Plan"], &mut nodes);
    nodes
}

fn ts(t: DateTime<Utc>) -> String {
    format!("'{}'::timestamptz", t.to_rfc3339())
}

#[tokio::test]
async fn no_postback_statement_scans_clicks_after_a_one_source_flood() {
    let t = commissions().await;
    let mut conn = PgConnection::connect(&t.svc.db.url).await.expect("connect");
    let (program, partner, link) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let hour = Utc::now().duration_trunc(Duration::hours(1)).expect("hour") - Duration::hours(2);
    sqlx::query(
        "INSERT INTO links (id, code, program_id, partner_id, destination_url, status, created_at)
         VALUES ($1, 'flooded', $2, $3, 'https://vendor.example/', 'active', $4)",
    )
    .bind(link)
    .bind(program)
    .bind(partner)
    .bind(hour)
    .execute(&mut conn)
    .await
    .expect("link");
    // The flood: one address and User-Agent, a click every few
    // milliseconds across the hour; then five ordinary sources.
    let insert = "INSERT INTO clicks (id, link_id, program_id, partner_id, clicked_at, ip_hash,
                      user_agent, referrer, sub1, sub2, sub3, sub4, sub5, source_hash, bot, counted)
                  SELECT gen_random_uuid(), $1, $2, $3,
                         $4::timestamptz + (g * $6::double precision) * interval '1 millisecond',
                         'ip', 'ua', '', '', '', '', '', '', $5, false, g = 0
                  FROM generate_series(0, $7 - 1) g";
    sqlx::query(insert)
        .bind(link)
        .bind(program)
        .bind(partner)
        .bind(hour)
        .bind("flood-source")
        .bind(3_600_000.0 / FLOOD as f64)
        .bind(FLOOD)
        .execute(&mut conn)
        .await
        .expect("flood");
    for s in 0..5 {
        sqlx::query(insert)
            .bind(link)
            .bind(program)
            .bind(partner)
            .bind(hour + Duration::minutes(s))
            .bind(format!("source-{s}"))
            .bind(60_000.0)
            .bind(3_i64)
            .execute(&mut conn)
            .await
            .expect("ordinary clicks");
    }
    conn.execute("ANALYZE clicks").await.expect("analyze");
    let (distinct,): (f32,) = sqlx::query_as(
        "SELECT n_distinct FROM pg_stats WHERE tablename = 'clicks' AND attname = 'source_hash'",
    )
    .fetch_one(&mut conn)
    .await
    .expect("statistics");
    assert!(
        (1.0..=10.0).contains(&distinct),
        "the statistics see a handful of sources ({distinct}), as after a real flood"
    );

    let pick = |source: &'static str| {
        let url = t.svc.db.url.clone();
        async move {
            let mut c = PgConnection::connect(&url).await.expect("connect");
            let (id, at): (Uuid, DateTime<Utc>) = sqlx::query_as(
                "SELECT id, clicked_at FROM clicks WHERE source_hash = $1
                 ORDER BY clicked_at DESC LIMIT 1 OFFSET 1",
            )
            .bind(source)
            .fetch_one(&mut c)
            .await
            .expect("a click");
            (id, at)
        }
    };
    let clicks = [
        ("a normal click", pick("source-2").await),
        ("a flood-source click", pick("flood-source").await),
    ];
    for (what, (click, at)) in clicks {
        let from = at - Duration::days(30);
        let to = at + Duration::minutes(5);
        let steps = [
            (
                "click_and_rival (last click)",
                CLICK_AND_LATEST_RIVAL,
                "uuid, timestamptz, timestamptz",
                format!("'{click}'::uuid, {}, {}", ts(from), ts(to)),
            ),
            (
                "click_and_rival (first click)",
                CLICK_AND_EARLIEST_RIVAL,
                "uuid, timestamptz, timestamptz",
                format!("'{click}'::uuid, {}, {}", ts(from), ts(to)),
            ),
            (
                "source_clicks_in_hour",
                SOURCE_CLICKS_IN_HOUR,
                "uuid, text, timestamptz, bigint",
                format!(
                    "'{program}'::uuid, '{}', {}, {CAP}",
                    if what.contains("flood") {
                        "flood-source"
                    } else {
                        "source-2"
                    },
                    ts(at)
                ),
            ),
        ];
        for mode in ["force_custom_plan", "force_generic_plan"] {
            for (step, sql, types, args) in &steps {
                let nodes = explain(&mut conn, mode, sql, types, args).await;
                assert!(!nodes.is_empty(), "{step} reads clicks");
                for (kind, read) in &nodes {
                    assert_ne!(
                        kind, "Seq Scan",
                        "{step} scans clicks for {what} ({mode}): {nodes:?}"
                    );
                    assert!(
                        *read <= CAP + 2,
                        "{step} read {read} rows of clicks for {what} ({mode}): {nodes:?}"
                    );
                }
            }
        }
    }
}
