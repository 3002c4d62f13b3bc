//! `make bench`: starts the release binaries of the platform as their own
//! processes on the project's PostgreSQL and NATS, drives real load, and
//! prints each benchmark as a ratio against a reference measured in the
//! same run, at the same concurrency, on the same machine. Figures go to a
//! table on stdout and to `target/bench/results.json`.
//!
//! Benchmarks:
//! - `partner_read`: the same authenticated read (a partner reading its own
//!   partner record) through the REST gateway and directly over gRPC, at the
//!   configured concurrency and then one request at a time. The reference is
//!   direct gRPC; the figures of merit are gateway throughput over direct
//!   throughput under load, and the p50 latency the gateway adds (one at a
//!   time, where queueing does not hide or inflate it).
//!
//! - `deal_registration`: registrations through the gateway (32 clients,
//!   each request a customer no one holds) against pgbench's single-row
//!   insert at the same concurrency on the same PostgreSQL; then again with
//!   `PRM_BENCH_EXISTING_REGISTRATIONS` (a million) already held, so the
//!   conflict and near-match checks meet a large table. The target is at
//!   least 0.25 of pgbench.
//!
//! - `mdf_approvals`: 32 clients approving MDF requests through the
//!   gateway against one fund (each approval takes its row lock) against
//!   the same clients each on a fund of its own. Then the shared fund is
//!   overdrawn on purpose and its ledger checked: the stored balance is
//!   the sum of the entries and never went below zero.
//!
//! - `redirects`: browsers following a tracking link (`GET /t/{code}`)
//!   through the gateway against a bare hyper server answering the same
//!   302, with the same load generator, alternating. Target: at least 0.5
//!   of bare hyper. Then the clicks the gateway served on that link are
//!   counted in the commissions database after the flush: they must equal.
//!
//! - `postbacks`: sales reported by postback through the gateway (each
//!   attributed to its partner's click and its commission computed and
//!   written to the ledger; one partner per client) against pgbench's
//!   single-row insert. Target: at least 0.25 of pgbench. Then
//!   `PRM_BENCH_FLOOD_CLICKS` (a million) clicks from one source are
//!   written and `ANALYZE` run, and the postbacks run again, against the
//!   first run: attribution must stay an index probe (goal: at least 0.9).
//!
//! - `reporting`: events applied per second (a burst of commissions
//!   events published once reporting has caught up, timed until its lag is
//!   zero again); then the scorecard and the program view (by tier) through
//!   the gateway, with `PRM_BENCH_REPORTING_DEALS` (a million) deal
//!   registrations and `PRM_BENCH_REPORTING_CONVERSIONS` (ten million)
//!   conversions behind them, one request at a time on a kept-alive
//!   connection, against the same figures by aggregate SQL over the raw
//!   events on a kept connection: a warm-up pass of both, then each side's
//!   requests back to back. Target: read models at least 10x faster (p50).
//!
//! Later services add their benchmarks here.

mod commissions;
mod dealreg;
mod load;
mod mdf;
mod platform;
mod report;
mod reporting;

use std::time::Duration;

use anyhow::Context;

use crate::load::{LoadResult, Target};
use crate::platform::Platform;
use crate::report::{BenchmarkReport, MemoryReport, Report};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds: u64 = env_or("PRM_BENCH_SECONDS", 5);
    let existing: u64 = env_or("PRM_BENCH_EXISTING_REGISTRATIONS", 1_000_000);
    let rounds: u32 = env_or("PRM_BENCH_ROUNDS", 2);
    let concurrency: usize = env_or("PRM_BENCH_CONCURRENCY", 32);
    let mdf_per_client: usize = env_or("PRM_BENCH_MDF_REQUESTS_PER_CLIENT", 150);
    let out = std::env::var("PRM_BENCH_OUT").unwrap_or_else(|_| "target/bench/results.json".into());

    eprintln!("starting the services and the gateway (release binaries)...");
    let platform = Platform::start().await.context("starting the platform")?;
    let seeded = platform.seed().await.context("seeding a partner")?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = platform.rss();

    let gateway_target = Target::Gateway {
        addr: platform.gateway_addr,
        partner_id: seeded.partner_id.clone(),
        key: seeded.key.clone(),
    };
    let direct_target = Target::Grpc {
        addr: platform.service("onboarding"),
        partner_id: seeded.partner_id.clone(),
        principal: seeded.principal.clone(),
        service_token: platform.service_token.clone(),
    };

    eprintln!("warming up...");
    load::run(&direct_target, concurrency, Duration::from_secs(1)).await?;
    load::run(&gateway_target, concurrency, Duration::from_secs(1)).await?;

    // Alternate the two so drift (caches, autovacuum, the other core) hits both.
    let mut direct_runs = Vec::new();
    let mut gateway_runs = Vec::new();
    let sampler = platform.start_rss_sampler();
    for round in 1..=rounds {
        eprintln!("round {round}/{rounds}: direct gRPC, {concurrency} concurrent, {seconds}s");
        direct_runs
            .push(load::run(&direct_target, concurrency, Duration::from_secs(seconds)).await?);
        eprintln!("round {round}/{rounds}: via gateway, {concurrency} concurrent, {seconds}s");
        gateway_runs
            .push(load::run(&gateway_target, concurrency, Duration::from_secs(seconds)).await?);
    }
    let loaded = sampler.stop().await;
    let direct = LoadResult::merge(direct_runs);
    let gateway = LoadResult::merge(gateway_runs);

    // One request at a time: the latency the extra hop adds, without queueing.
    eprintln!("one request at a time, {seconds}s each side");
    let direct_one = load::run(&direct_target, 1, Duration::from_secs(seconds)).await?;
    let gateway_one = load::run(&gateway_target, 1, Duration::from_secs(seconds)).await?;

    // MDF approvals: one fund for every client, then a fund each.
    eprintln!(
        "mdf approvals: preparing {} requests on each side...",
        concurrency * mdf_per_client
    );
    let prepared = mdf::prepare(
        platform.gateway_addr,
        platform::ADMIN_KEY,
        &seeded.key,
        &seeded.partner_id,
        concurrency,
        mdf_per_client,
    )
    .await?;
    eprintln!("mdf approvals: each client on its own fund, {concurrency} concurrent");
    let (uncontended, _) = mdf::approve(
        platform.gateway_addr,
        platform::ADMIN_KEY,
        &prepared.uncontended,
        Duration::from_secs(seconds),
    )
    .await?;
    eprintln!("mdf approvals: every client on one fund, {concurrency} concurrent");
    let (contended, _) = mdf::approve(
        platform.gateway_addr,
        platform::ADMIN_KEY,
        &prepared.contended,
        Duration::from_secs(seconds),
    )
    .await?;
    let mdf_ledger = mdf::overdraw_and_check(
        platform.gateway_addr,
        platform::ADMIN_KEY,
        &seeded.key,
        &prepared.contended_fund,
        concurrency,
        &platform.database_url("mdf"),
    )
    .await?;

    // Commissions: redirects against bare hyper, then postbacks.
    eprintln!(
        "commissions: preparing a program, {concurrency} partners with a link and a click each..."
    );
    let prepared =
        commissions::prepare(platform.gateway_addr, platform::ADMIN_KEY, concurrency).await?;
    let bare = commissions::bare_redirect_server()?;
    let redirect_path = format!("/t/{}", prepared.link_code);
    let via_gateway = Target::Redirect {
        addr: platform.gateway_addr,
        path: redirect_path.clone(),
    };
    let bare_target = Target::Redirect {
        addr: bare,
        path: redirect_path,
    };
    // The click `prepare` made on this link, then every 302 the gateway sends.
    let mut served: u64 = 1;
    served += load::run(&via_gateway, concurrency, Duration::from_secs(1))
        .await?
        .latencies_us
        .len() as u64;
    load::run(&bare_target, concurrency, Duration::from_secs(1)).await?;
    let mut bare_runs = Vec::new();
    let mut redirect_runs = Vec::new();
    for round in 1..=rounds {
        eprintln!("round {round}/{rounds}: bare hyper 302, {concurrency} concurrent, {seconds}s");
        bare_runs.push(load::run(&bare_target, concurrency, Duration::from_secs(seconds)).await?);
        eprintln!(
            "round {round}/{rounds}: GET /t/{{code}} via gateway, {concurrency} concurrent, {seconds}s"
        );
        let run = load::run(&via_gateway, concurrency, Duration::from_secs(seconds)).await?;
        served += run.latencies_us.len() as u64;
        redirect_runs.push(run);
    }
    let bare_redirects = LoadResult::merge(bare_runs);
    let redirects = LoadResult::merge(redirect_runs);
    eprintln!("commissions: counting the persisted clicks...");
    let persisted =
        commissions::persisted_clicks(&platform.database_url("commissions"), &prepared.link_id)
            .await?;
    let clicks = commissions::ClickAccounting {
        served,
        persisted,
        equal: served == persisted,
    };
    eprintln!("commissions: postbacks via gateway, {concurrency} concurrent, {seconds}s");
    let postback_target = Target::Postback {
        addr: platform.gateway_addr,
        query: format!(
            "program_id={}&token={}",
            prepared.program_id, prepared.token
        ),
        clicks: prepared.clicks.clone(),
        salt: std::process::id().into(),
    };
    let postbacks = load::run(&postback_target, concurrency, Duration::from_secs(seconds)).await?;
    let flood: u64 = env_or("PRM_BENCH_FLOOD_CLICKS", 1_000_000);
    eprintln!("commissions: a one-source flood of {flood} clicks, then ANALYZE...");
    let sources = commissions::flood_clicks(
        &platform.database_url("commissions"),
        &prepared.link_id,
        flood,
    )
    .await?;
    eprintln!("  the statistics now estimate {sources} distinct sources");
    eprintln!("commissions: postbacks after the flood, {concurrency} concurrent, {seconds}s");
    let flooded_target = Target::Postback {
        addr: platform.gateway_addr,
        query: format!(
            "program_id={}&token={}",
            prepared.program_id, prepared.token
        ),
        clicks: prepared.clicks.clone(),
        salt: u64::from(std::process::id()) << 32 | 2,
    };
    let flooded = load::run(&flooded_target, concurrency, Duration::from_secs(seconds)).await?;

    // Deal registration writes against pgbench, then with a full table.
    let register = Target::Register {
        addr: platform.gateway_addr,
        key: seeded.key.clone(),
        salt: std::process::id().into(),
    };
    eprintln!(
        "deal registration: pgbench single-row inserts, {concurrency} concurrent, {seconds}s"
    );
    let pgbench = dealreg::pgbench_inserts(platform.admin_url(), concurrency, seconds).await?;
    eprintln!("deal registration: registrations via gateway, {concurrency} concurrent, {seconds}s");
    let registered = load::run(&register, concurrency, Duration::from_secs(seconds)).await?;
    eprintln!("deal registration: seeding {existing} existing registrations...");
    let took = dealreg::seed_registrations(
        &platform.database_url("dealreg"),
        &seeded.partner_id,
        existing,
    )
    .await?;
    eprintln!("  seeded in {:.0}s", took.as_secs_f64());
    let pgbench_full = dealreg::pgbench_inserts(platform.admin_url(), concurrency, seconds).await?;
    // New customers again: the first run's are held now.
    let register = Target::Register {
        addr: platform.gateway_addr,
        key: seeded.key.clone(),
        salt: u64::from(std::process::id()) << 32 | 1,
    };
    let registered_full = load::run(&register, concurrency, Duration::from_secs(seconds)).await?;

    // Reporting: ingestion, then the read models against the raw events.
    let reporting_events: u64 = env_or("PRM_BENCH_REPORTING_EVENTS", 20_000);
    let reporting_deals: u64 = env_or("PRM_BENCH_REPORTING_DEALS", 1_000_000);
    let reporting_conversions: u64 = env_or("PRM_BENCH_REPORTING_CONVERSIONS", 10_000_000);
    eprintln!("reporting: catching up, then applying {reporting_events} events...");
    let ingestion = reporting::ingestion(
        platform.gateway_addr,
        platform::ADMIN_KEY,
        &platform.nats_url,
        &platform.namespace,
        reporting_events,
    )
    .await
    .context("reporting ingestion")?;
    eprintln!(
        "  {:.0} events/s ({} in {:.1}s)",
        ingestion.events_per_second, ingestion.events, ingestion.seconds
    );
    eprintln!(
        "reporting: generating {reporting_deals} deal registrations and {reporting_conversions} conversions..."
    );
    let reporting_db = platform.database_url("reporting");
    let seeded_reporting =
        reporting::seed(&reporting_db, reporting_deals, reporting_conversions).await?;
    eprintln!("  seeded in {:.0}s", seeded_reporting.seconds);
    eprintln!("reporting: scorecards, read models against the raw events, one at a time");
    let (cards, raw_cards) = reporting::scorecards(
        platform.gateway_addr,
        platform::ADMIN_KEY,
        &reporting_db,
        40,
    )
    .await?;
    eprintln!("reporting: program views by tier, read models against the raw events");
    let (views, raw_views) =
        reporting::program_views(platform.gateway_addr, platform::ADMIN_KEY, &reporting_db, 4)
            .await?;
    let reporting_facts = reporting::ReportingFacts {
        scorecard_speedup_p50: raw_cards.quantile_ms(0.5) / cards.quantile_ms(0.5).max(1e-9),
        program_view_speedup_p50: raw_views.quantile_ms(0.5) / views.quantile_ms(0.5).max(1e-9),
        ingestion,
        seeded: seeded_reporting,
    };

    let report = Report {
        concurrency,
        seconds_per_round: seconds,
        rounds,
        cpus: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        benchmarks: vec![
            BenchmarkReport::compare(
                &format!("partner_read, {concurrency} concurrent"),
                "GET /v1/partners/{id} via gateway",
                &gateway,
                "GetPartner direct gRPC",
                &direct,
            ),
            BenchmarkReport::compare(
                "partner_read, 1 at a time",
                "GET /v1/partners/{id} via gateway, 1 at a time",
                &gateway_one,
                "GetPartner direct gRPC, 1 at a time",
                &direct_one,
            ),
            BenchmarkReport::compare(
                &format!("deal_registration, {concurrency} concurrent"),
                "POST /v1/deal-registrations via gateway",
                &registered,
                "pgbench single-row INSERT",
                &pgbench,
            ),
            BenchmarkReport::compare(
                &format!("deal_registration, {existing} held, {concurrency} concurrent"),
                "POST /v1/deal-registrations, table full",
                &registered_full,
                "pgbench single-row INSERT",
                &pgbench_full,
            ),
            BenchmarkReport::compare(
                &format!("redirects, {concurrency} concurrent"),
                "GET /t/{code} via gateway",
                &redirects,
                "bare hyper 302",
                &bare_redirects,
            ),
            BenchmarkReport::compare(
                &format!("postbacks, {concurrency} concurrent"),
                "GET /v1/postbacks (sale, commission)",
                &postbacks,
                "pgbench single-row INSERT",
                &pgbench,
            ),
            BenchmarkReport::compare(
                &format!("postbacks after a one-source flood of {flood} clicks + ANALYZE"),
                "GET /v1/postbacks, flooded clicks table",
                &flooded,
                "the same postbacks before the flood",
                &postbacks,
            ),
            BenchmarkReport::compare(
                &format!(
                    "reporting scorecard, {reporting_deals} deals, {reporting_conversions} conversions, 1 at a time"
                ),
                "GET .../scorecard (read models)",
                &cards,
                "aggregate SQL over raw events",
                &raw_cards,
            ),
            BenchmarkReport::compare(
                "reporting program view by tier, a quarter, 1 at a time",
                "GET /v1/reports/program (read models)",
                &views,
                "aggregate SQL over raw events",
                &raw_views,
            ),
            BenchmarkReport::compare(
                &format!("mdf_approvals, {concurrency} concurrent"),
                "approve, every client on one fund",
                &contended,
                "approve, each client on its own fund",
                &uncontended,
            ),
        ],
        mdf_ledger: Some(mdf_ledger),
        clicks: Some(clicks),
        reporting: Some(reporting_facts),
        memory: platform
            .names()
            .into_iter()
            .map(|name| MemoryReport {
                idle_rss_mib: idle.get(name).copied().unwrap_or_default(),
                loaded_rss_mib: loaded.get(name).copied().unwrap_or_default(),
                process: name.to_owned(),
            })
            .collect(),
    };
    report.print();
    report.write(&out)?;
    eprintln!("wrote {out}");
    platform.stop().await;
    Ok(())
}
