//! Deal registration writes: registrations through the gateway against the
//! PostgreSQL they land in, measured with pgbench (single-row inserts at
//! the same concurrency on the same server, in the same run), first on an
//! empty table and then with a million registrations already held, to show
//! that the conflict checks stay index lookups as the table grows.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;
use sqlx::{Connection, PgConnection};

use crate::load::LoadResult;

/// pgbench's single-row insert, `concurrency` clients for `seconds`, on a
/// scratch table in a scratch database: the reference for a write path.
/// Latencies come from pgbench's per-transaction log.
pub async fn pgbench_inserts(
    admin_url: &str,
    concurrency: usize,
    seconds: u64,
) -> anyhow::Result<LoadResult> {
    let pgbench = std::env::var("PRM_BENCH_PGBENCH").unwrap_or_else(|_| "pgbench".into());
    let database = format!("prm_bench_pgbench_{}", std::process::id());
    let mut admin = PgConnection::connect(admin_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE \"{database}\""
    )))
    .execute(&mut admin)
    .await?;
    let base = admin_url.rsplit_once('/').map_or(admin_url, |(b, _)| b);
    let url = format!("{base}/{database}");
    let result = async {
        let mut conn = PgConnection::connect(&url).await?;
        sqlx::query(
            "CREATE TABLE bench_rows (id bigserial PRIMARY KEY, v text NOT NULL, at timestamptz NOT NULL DEFAULT now())",
        )
        .execute(&mut conn)
        .await?;
        let dir: PathBuf = std::env::temp_dir().join(format!("prm-pgbench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let script = dir.join("insert.sql");
        std::fs::write(&script, "INSERT INTO bench_rows (v) VALUES ('registration');\n")?;
        let started = Instant::now();
        let out = Command::new(&pgbench)
            .args(["-n", "-c", &concurrency.to_string(), "-j", "2"])
            .args(["-T", &seconds.to_string(), "-l", "--log-prefix"])
            .arg(dir.join("pgbench_log"))
            .arg("-f")
            .arg(&script)
            .arg(&url)
            .current_dir(&dir)
            .output()
            .with_context(|| format!("running {pgbench} (make bench sets PRM_BENCH_PGBENCH)"))?;
        anyhow::ensure!(
            out.status.success(),
            "pgbench failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let elapsed = started.elapsed().min(Duration::from_secs(seconds));
        // Each log line: client_id transaction_no time_us script_no epoch us.
        let mut latencies_us = Vec::new();
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("pgbench_log")) {
                for line in std::fs::read_to_string(&path)?.lines() {
                    if let Some(us) = line.split_whitespace().nth(2).and_then(|v| v.parse::<u32>().ok()) {
                        latencies_us.push(us);
                    }
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        latencies_us.sort_unstable();
        anyhow::Ok(LoadResult {
            latencies_us,
            errors: 0,
            elapsed,
        })
    }
    .await;
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await;
    result
}

/// Adds `n` approved registrations of `partner_id`, each holding its own
/// customer (distinct domain and a random 14-letter company name), as the
/// service would have written them; returns how long it took.
pub async fn seed_registrations(
    db_url: &str,
    partner_id: &str,
    n: u64,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut conn = PgConnection::connect(db_url).await?;
    let batch = 100_000u64;
    let mut from = 1u64;
    while from <= n {
        let to = (from + batch - 1).min(n);
        sqlx::query(
            "INSERT INTO registrations (id, partner_id, status, customer_company, company_key,
                customer_domain, domain_key, contact_name, contact_email, value_minor, currency,
                expected_close_date, submitted_at, decision_due_at, decided_at, protected_until)
             SELECT gen_random_uuid(), $1::uuid, 'approved', name, name,
                'seed' || i || '.example', 'seed' || i || '.example', 'Seed', 'seed@seed.example',
                100000, 'EUR', current_date + 30, now(), now() + interval '2 days', now(),
                now() + interval '90 days'
             FROM (SELECT i, (SELECT string_agg(chr(97 + get_byte(h, k) % 26), '')
                              FROM generate_series(0, 13) k) AS name
                   FROM (SELECT i, decode(md5(i::text), 'hex') AS h
                         FROM generate_series($2::bigint, $3::bigint) i) hashed) named",
        )
        .bind(partner_id)
        .bind(from as i64)
        .bind(to as i64)
        .execute(&mut conn)
        .await
        .context("seeding registrations")?;
        from = to + 1;
    }
    sqlx::query("VACUUM ANALYZE registrations")
        .execute(&mut conn)
        .await?;
    Ok(started.elapsed())
}
