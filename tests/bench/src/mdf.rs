//! MDF approvals under contention: 32 clients approving requests through
//! the gateway against one fund (every approval takes that fund's row
//! lock), against the same 32 clients each approving on a fund of its own.
//! Then the contended fund is overdrawn on purpose (more approvals at once
//! than it can cover) and its ledger is checked: the stored balance equals
//! the sum of its entries, and it never went below zero.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use tokio::net::TcpStream;

use crate::load::{LoadResult, http_json};

/// Each approval reserves this much (minor units).
const REQUEST_MINOR: i64 = 100;

/// What the ledger of the contended fund showed after the run.
#[derive(Clone, Debug, Serialize)]
pub struct LedgerCheck {
    pub fund_id: String,
    pub entries: i64,
    pub approvals_reserved: i64,
    /// Approvals refused at the end, when more were made at once than the
    /// fund could cover.
    pub refused_insufficient_funds: u64,
    /// The fund's stored per-kind sums equal the sums of its entries.
    pub stored_balance_equals_entries: bool,
    pub available_minor: i64,
    /// The lowest available balance after any entry, replaying the
    /// ledger in id order.
    pub lowest_available_minor: i64,
}

/// The funds and requests a run approves.
pub struct Prepared {
    /// One fund shared by every worker: worker i approves `contended[i]`.
    pub contended_fund: String,
    pub contended: Vec<Vec<String>>,
    /// A fund per worker: worker i approves `uncontended[i]` on its own.
    pub uncontended: Vec<Vec<String>>,
}

async fn call(
    gateway: SocketAddr,
    method: &str,
    path: &str,
    key: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let (status, body) = http_json(gateway, method, path, Some(key), Some(body)).await?;
    anyhow::ensure!(status < 300, "{method} {path}: {status} {body}");
    Ok(body)
}

/// A fund of `amount_minor` for the partner, in a budget of its own.
async fn fund(
    gateway: SocketAddr,
    admin: &str,
    partner_id: &str,
    amount_minor: i64,
) -> anyhow::Result<String> {
    let budget = call(
        gateway,
        "POST",
        "/v1/mdf/budgets",
        admin,
        json!({"program_id": uuid::Uuid::now_v7(), "name": "Bench MDF", "period": "2031-Q1",
               "amount": {"amount_minor": amount_minor, "currency": "EUR"}}),
    )
    .await?;
    let fund = call(
        gateway,
        "POST",
        "/v1/mdf/allocations",
        admin,
        json!({"budget_id": budget["id"], "partner_id": partner_id, "kind": "discretionary",
               "amount": {"amount_minor": amount_minor, "currency": "EUR"}}),
    )
    .await?;
    Ok(fund["id"].as_str().unwrap_or_default().to_owned())
}

/// `n` requests of `amount_minor` on `fund_id`, submitted by the partner.
async fn requests(
    gateway: SocketAddr,
    key: &str,
    fund_id: &str,
    n: usize,
    amount_minor: i64,
) -> anyhow::Result<Vec<String>> {
    let day =
        |ago: i64| (chrono::Utc::now().date_naive() - chrono::Duration::days(ago)).to_string();
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        let r = call(
            gateway,
            "POST",
            "/v1/mdf/requests",
            key,
            json!({"fund_id": fund_id, "activity_type": "webinar", "description": "Bench webinar",
                   "starts_on": day(3), "ends_on": day(2),
                   "amount": {"amount_minor": amount_minor, "currency": "EUR"}}),
        )
        .await?;
        ids.push(r["id"].as_str().unwrap_or_default().to_owned());
    }
    Ok(ids)
}

/// Funds and `per_worker` requests for each of `workers` workers, on both
/// sides; every fund covers all of its requests.
pub async fn prepare(
    gateway: SocketAddr,
    admin: &str,
    partner_key: &str,
    partner_id: &str,
    workers: usize,
    per_worker: usize,
) -> anyhow::Result<Prepared> {
    let cover = REQUEST_MINOR * (workers * per_worker) as i64;
    let contended_fund = fund(gateway, admin, partner_id, cover).await?;
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (admin, key, partner, shared) = (
            admin.to_owned(),
            partner_key.to_owned(),
            partner_id.to_owned(),
            contended_fund.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let own = fund(gateway, &admin, &partner, REQUEST_MINOR * per_worker as i64).await?;
            let contended = requests(gateway, &key, &shared, per_worker, REQUEST_MINOR).await?;
            let uncontended = requests(gateway, &key, &own, per_worker, REQUEST_MINOR).await?;
            anyhow::Ok((contended, uncontended))
        }));
    }
    let mut prepared = Prepared {
        contended_fund,
        contended: Vec::new(),
        uncontended: Vec::new(),
    };
    for t in tasks {
        let (c, u) = t.await??;
        prepared.contended.push(c);
        prepared.uncontended.push(u);
    }
    Ok(prepared)
}

/// One worker per list, each approving its requests in turn over its own
/// keep-alive connection, until `deadline` or the list ends. 200 is a
/// success; 409 `INSUFFICIENT_FUNDS` is counted apart.
pub async fn approve(
    gateway: SocketAddr,
    admin: &str,
    lists: &[Vec<String>],
    duration: Duration,
) -> anyhow::Result<(LoadResult, u64)> {
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut workers = Vec::new();
    for ids in lists.iter().cloned() {
        let auth = format!("Bearer {admin}");
        workers.push(tokio::spawn(async move {
            let stream = TcpStream::connect(gateway).await?;
            stream.set_nodelay(true)?;
            let (mut sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(conn);
            let mut out = LoadResult::default();
            let mut refused = 0u64;
            for id in ids {
                if Instant::now() >= deadline {
                    break;
                }
                let req = http::Request::post(format!("/v1/mdf/requests/{id}/approve"))
                    .header("host", gateway.to_string())
                    .header("authorization", auth.as_str())
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from_static(b"{}")))?;
                let t = Instant::now();
                sender.ready().await?;
                let res = sender.send_request(req).await?;
                let status = res.status();
                let body = res.into_body().collect().await?.to_bytes();
                if status == http::StatusCode::OK {
                    out.latencies_us
                        .push(t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                } else if status == http::StatusCode::CONFLICT
                    && String::from_utf8_lossy(&body).contains("INSUFFICIENT_FUNDS")
                {
                    refused += 1;
                } else {
                    if out.errors == 0 {
                        eprintln!(
                            "  an approval answered {status}: {}",
                            String::from_utf8_lossy(&body)
                        );
                    }
                    out.errors += 1;
                }
            }
            anyhow::Ok((out, refused))
        }));
    }
    let mut runs = Vec::new();
    let mut refused = 0;
    for w in workers {
        let (r, n) = w.await??;
        runs.push(r);
        refused += n;
    }
    let mut all = LoadResult::merge(runs);
    all.elapsed = started.elapsed();
    Ok((all, refused))
}

/// Overdraws the contended fund on purpose (`workers` approvals at once,
/// together asking twice what it has left), then checks its ledger in the
/// MDF database.
pub async fn overdraw_and_check(
    gateway: SocketAddr,
    admin: &str,
    partner_key: &str,
    fund_id: &str,
    workers: usize,
    mdf_database_url: &str,
) -> anyhow::Result<LedgerCheck> {
    let (_, f) = http_json(
        gateway,
        "GET",
        &format!("/v1/mdf/funds/{fund_id}"),
        Some(admin),
        None,
    )
    .await?;
    let left = f["balance"]["available"]["amount_minor"]
        .as_i64()
        .unwrap_or_default();
    let each = (left * 2 / workers as i64).max(1);
    let mut lists = Vec::new();
    for _ in 0..workers {
        lists.push(requests(gateway, partner_key, fund_id, 1, each).await?);
    }
    let (_, refused) = approve(gateway, admin, &lists, Duration::from_secs(60)).await?;

    let mut db = PgConnection::connect(mdf_database_url).await?;
    let id: uuid::Uuid = fund_id.parse()?;
    let stored: (i64, i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT allocated_minor, accrued_minor, reserved_minor, released_minor, reimbursed_minor, expired_minor
         FROM funds WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&mut db)
    .await?;
    let sums: (i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT COALESCE(SUM(amount_minor) FILTER (WHERE kind = 'allocated'), 0)::bigint,
                COALESCE(SUM(amount_minor) FILTER (WHERE kind = 'accrued'), 0)::bigint,
                COALESCE(SUM(amount_minor) FILTER (WHERE kind = 'reserved'), 0)::bigint,
                COALESCE(SUM(amount_minor) FILTER (WHERE kind = 'released'), 0)::bigint,
                COALESCE(SUM(amount_minor) FILTER (WHERE kind = 'reimbursed'), 0)::bigint,
                COALESCE(SUM(amount_minor) FILTER (WHERE kind = 'expired'), 0)::bigint,
                COUNT(*)
         FROM fund_entries WHERE fund_id = $1",
    )
    .bind(id)
    .fetch_one(&mut db)
    .await?;
    let lowest: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MIN(available), 0)::bigint FROM (
           SELECT SUM(CASE WHEN kind IN ('allocated', 'accrued', 'released') THEN amount_minor
                           WHEN kind IN ('reserved', 'expired') THEN -amount_minor
                           ELSE 0 END) OVER (ORDER BY id) AS available
           FROM fund_entries WHERE fund_id = $1) replay",
    )
    .bind(id)
    .fetch_one(&mut db)
    .await?;
    let reserved_count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM fund_entries WHERE fund_id = $1 AND kind = 'reserved'",
    )
    .bind(id)
    .fetch_one(&mut db)
    .await?;
    let (a, ac, r, rl, _reimbursed, e) = stored;
    Ok(LedgerCheck {
        fund_id: fund_id.to_owned(),
        entries: sums.6,
        approvals_reserved: reserved_count,
        refused_insufficient_funds: refused,
        stored_balance_equals_entries: stored == (sums.0, sums.1, sums.2, sums.3, sums.4, sums.5),
        available_minor: a + ac - r + rl - e,
        lowest_available_minor: lowest,
    })
}
