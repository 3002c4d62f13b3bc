//! The printed table and the JSON file.

use serde::Serialize;

use crate::load::LoadResult;

#[derive(Serialize)]
pub struct Measured {
    pub label: String,
    pub requests: usize,
    pub errors: u64,
    pub throughput_rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl Measured {
    fn of(label: &str, r: &LoadResult) -> Self {
        Self {
            label: label.to_owned(),
            requests: r.latencies_us.len(),
            errors: r.errors,
            throughput_rps: r.throughput(),
            p50_ms: r.quantile_ms(0.50),
            p99_ms: r.quantile_ms(0.99),
        }
    }
}

#[derive(Serialize)]
pub struct BenchmarkReport {
    pub name: String,
    pub subject: Measured,
    pub reference: Measured,
    /// Subject throughput over reference throughput.
    pub throughput_ratio: f64,
    /// Subject p50 minus reference p50, in milliseconds.
    pub added_p50_ms: f64,
}

impl BenchmarkReport {
    pub fn compare(
        name: &str,
        subject_label: &str,
        subject: &LoadResult,
        reference_label: &str,
        reference: &LoadResult,
    ) -> Self {
        let s = Measured::of(subject_label, subject);
        let r = Measured::of(reference_label, reference);
        Self {
            name: name.to_owned(),
            throughput_ratio: s.throughput_rps / r.throughput_rps.max(1e-9),
            added_p50_ms: s.p50_ms - r.p50_ms,
            subject: s,
            reference: r,
        }
    }
}

#[derive(Serialize)]
pub struct MemoryReport {
    pub process: String,
    pub idle_rss_mib: f64,
    pub loaded_rss_mib: f64,
}

#[derive(Serialize)]
pub struct Report {
    pub concurrency: usize,
    pub seconds_per_round: u64,
    pub rounds: u32,
    pub cpus: usize,
    pub benchmarks: Vec<BenchmarkReport>,
    /// The MDF fund approved under contention, checked afterwards.
    pub mdf_ledger: Option<crate::mdf::LedgerCheck>,
    /// Clicks the gateway redirected against clicks the commissions
    /// service stored, after the flush.
    pub clicks: Option<crate::commissions::ClickAccounting>,
    /// Reporting's ingestion rate, what its read models were seeded with,
    /// and their speed-up over aggregating the raw events.
    pub reporting: Option<crate::reporting::ReportingFacts>,
    pub memory: Vec<MemoryReport>,
}

impl Report {
    pub fn print(&self) {
        println!();
        println!(
            "PRM benchmarks — {} concurrent, {} x {} s per side, {} CPUs (load generator shares them)",
            self.concurrency, self.rounds, self.seconds_per_round, self.cpus
        );
        println!();
        println!(
            "{:<44} {:>10} {:>9} {:>9} {:>8}",
            "measurement", "req/s", "p50 ms", "p99 ms", "errors"
        );
        for b in &self.benchmarks {
            for m in [&b.reference, &b.subject] {
                println!(
                    "{:<44} {:>10.0} {:>9.3} {:>9.3} {:>8}",
                    m.label, m.throughput_rps, m.p50_ms, m.p99_ms, m.errors
                );
            }
            println!(
                "{:<44} throughput ratio {:.3} (subject/reference), added p50 {:+.3} ms",
                format!("=> {}", b.name),
                b.throughput_ratio,
                b.added_p50_ms
            );
            println!();
        }
        if let Some(l) = &self.mdf_ledger {
            println!(
                "MDF ledger of the contended fund: {} entries, {} approvals reserved, {} refused for insufficient funds;",
                l.entries, l.approvals_reserved, l.refused_insufficient_funds
            );
            println!(
                "  stored balance equals the sum of its entries: {}; available {} (lowest ever {})",
                l.stored_balance_equals_entries, l.available_minor, l.lowest_available_minor
            );
            println!();
        }
        if let Some(c) = &self.clicks {
            println!(
                "Tracking clicks: {} redirects served, {} clicks persisted after the flush: {}",
                c.served,
                c.persisted,
                if c.equal { "equal" } else { "NOT EQUAL" }
            );
            println!();
        }
        if let Some(r) = &self.reporting {
            println!(
                "Reporting: {:.0} events applied per second ({} events in {:.1} s)",
                r.ingestion.events_per_second, r.ingestion.events, r.ingestion.seconds
            );
            println!(
                "  read models over {} deal registrations and {} conversions ({} raw events, seeded in {:.0} s):",
                r.seeded.deal_registrations,
                r.seeded.conversions,
                r.seeded.raw_events,
                r.seeded.seconds
            );
            println!(
                "  p50 speed-up over the raw aggregate: scorecard {:.1}x, program view {:.1}x (target 10x)",
                r.scorecard_speedup_p50, r.program_view_speedup_p50
            );
            println!();
        }
        println!(
            "{:<14} {:>14} {:>16}",
            "process", "idle RSS MiB", "loaded RSS MiB"
        );
        for m in &self.memory {
            println!(
                "{:<14} {:>14.1} {:>16.1}",
                m.process, m.idle_rss_mib, m.loaded_rss_mib
            );
        }
        println!();
    }

    pub fn write(&self, path: &str) -> anyhow::Result<()> {
        if let Some(dir) = std::path::Path::new(path).parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_vec_pretty(self)?)?;
        Ok(())
    }
}
