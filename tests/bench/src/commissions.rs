//! Commissions: tracking-link redirects through the gateway against a bare
//! hyper server answering the same 302, and postbacks end to end (the
//! conversion attributed and its commission computed) against pgbench's
//! single-row insert. Then the clicks the gateway served are counted in
//! the commissions database: after the flush, the two must be equal.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use tokio::net::{TcpListener, TcpStream};

use crate::load::{LoadResult, http_json};

pub const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// What the benchmarks need: a program with a plan, partners with a link
/// and a click each.
pub struct Prepared {
    pub program_id: String,
    pub token: String,
    /// The first partner's link, which the redirect benchmark follows.
    pub link_code: String,
    pub link_id: String,
    /// One click per partner (postback worker `w` converts `clicks[w]`).
    pub clicks: Arc<Vec<String>>,
}

/// Clicks the gateway redirected on the benchmark link, against the rows
/// the commissions service holds for it after the flush.
#[derive(Clone, Debug, Serialize)]
pub struct ClickAccounting {
    pub served: u64,
    pub persisted: u64,
    pub equal: bool,
}

async fn call(
    gateway: SocketAddr,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Value,
) -> anyhow::Result<Value> {
    let (status, body) = http_json(gateway, method, path, key, Some(body)).await?;
    anyhow::ensure!(status < 300, "{method} {path}: {status} {body}");
    Ok(body)
}

/// Follows `/t/{code}` once as a browser (`user_agent`); the click id
/// appended.
async fn follow(gateway: SocketAddr, code: &str, user_agent: &str) -> anyhow::Result<String> {
    let stream = TcpStream::connect(gateway).await?;
    let (mut sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let req = http::Request::get(format!("/t/{code}"))
        .header("host", gateway.to_string())
        .header("user-agent", user_agent)
        .body(Full::new(Bytes::new()))?;
    let res = sender.send_request(req).await?;
    anyhow::ensure!(res.status() == 302, "GET /t/{code}: {}", res.status());
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    Ok(location.rsplit('=').next().unwrap_or_default().to_owned())
}

pub async fn prepare(
    gateway: SocketAddr,
    admin: &str,
    partners: usize,
) -> anyhow::Result<Prepared> {
    let program = call(
        gateway,
        "POST",
        "/v1/programs",
        Some(admin),
        json!({"name": "Bench affiliates", "currency": "EUR"}),
    )
    .await?;
    let program_id = program["id"].as_str().unwrap_or_default().to_owned();
    call(
        gateway,
        "POST",
        &format!("/v1/programs/{program_id}/tiers"),
        Some(admin),
        json!({"name": "registered", "rank": 0}),
    )
    .await?;
    let token = format!("bench-postback-token-{}", std::process::id());
    call(
        gateway,
        "PUT",
        &format!("/v1/programs/{program_id}/commission-settings"),
        Some(admin),
        json!({"allowed_domains": ["shop.example"], "min_seconds_to_convert": 0,
               "postback_token": token}),
    )
    .await?;
    call(
        gateway,
        "POST",
        "/v1/plans",
        Some(admin),
        json!({"program_id": program_id, "name": "Bench plan", "currency": "EUR",
               "revshare_bps": 2000, "volume_tiers": [{"from_sale": 100, "revshare_bps": 2500}]}),
    )
    .await?;
    let mut links = Vec::new();
    for p in 0..partners {
        let app = call(
            gateway,
            "POST",
            "/v1/applications",
            None,
            json!({"company_name": format!("Affiliate {p}"), "domain": format!("aff{p}.example"),
                   "country": "GB", "partner_type": "affiliate", "contact_name": "A",
                   "contact_email": format!("a@aff{p}.example")}),
        )
        .await?;
        let app_id = app["id"].as_str().unwrap_or_default().to_owned();
        let approved = call(
            gateway,
            "POST",
            &format!("/v1/applications/{app_id}/approve"),
            Some(admin),
            json!({"program_id": program_id}),
        )
        .await?;
        let key = approved["admin_api_key"]["secret"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        // The commissions service hears of the partner through NATS.
        let mut link = None;
        for _ in 0..100 {
            let (status, body) = http_json(
                gateway,
                "POST",
                "/v1/links",
                Some(&key),
                Some(json!({"destination_url": "https://shop.example/landing"})),
            )
            .await?;
            if status == 201 {
                link = Some(body);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        links.push(link.ok_or_else(|| anyhow::anyhow!("partner {p} could not create a link"))?);
    }
    let mut clicks = Vec::new();
    // Each partner's click from a visitor of its own (one address, so the
    // user agent tells them apart): the redirect benchmark's flood of
    // clicks is another source.
    for (p, link) in links.iter().enumerate() {
        let visitor = format!("{BROWSER} visitor/{p}");
        clicks.push(follow(gateway, link["code"].as_str().unwrap_or_default(), &visitor).await?);
    }
    // The gateway hands clicks over at least every second.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    Ok(Prepared {
        program_id,
        token,
        link_code: links[0]["code"].as_str().unwrap_or_default().to_owned(),
        link_id: links[0]["id"].as_str().unwrap_or_default().to_owned(),
        clicks: Arc::new(clicks),
    })
}

/// A bare hyper HTTP/1.1 server answering every request with the 302 the
/// gateway sends (a fresh UUIDv7 click id in the Location), on its own
/// two-thread runtime like the gateway's.
pub fn bare_redirect_server() -> anyhow::Result<SocketAddr> {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    std_listener.set_nonblocking(true)?;
    let addr = std_listener.local_addr()?;
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = TcpListener::from_std(std_listener).expect("listener");
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(|_req| async {
                        let location = format!(
                            "https://shop.example/landing?prm_click_id={}",
                            uuid::Uuid::now_v7()
                        );
                        http::Response::builder()
                            .status(302)
                            .header("location", location)
                            .header("cache-control", "no-store")
                            .body(Full::new(Bytes::new()))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    Ok(addr)
}

/// A closed-loop worker following `path` (expecting 302) on one keep-alive
/// connection until `deadline`.
pub async fn redirect_worker(
    addr: SocketAddr,
    path: &str,
    deadline: Instant,
) -> anyhow::Result<LoadResult> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let host = addr.to_string();
    let mut out = LoadResult::default();
    while Instant::now() < deadline {
        let req = http::Request::get(path)
            .header("host", host.as_str())
            .header("user-agent", BROWSER)
            .body(Full::new(Bytes::new()))?;
        let t = Instant::now();
        sender.ready().await?;
        let res = sender.send_request(req).await?;
        let ok = res.status() == http::StatusCode::FOUND;
        let _ = res.into_body().collect().await?;
        if ok {
            out.latencies_us
                .push(t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
        } else {
            out.errors += 1;
        }
    }
    Ok(out)
}

/// A closed-loop worker posting sales (a new transaction id each) on its
/// partner's click until `deadline`; 201 ACCEPTED counts.
pub async fn postback_worker(
    addr: SocketAddr,
    query: &str,
    click: &str,
    salt: u64,
    worker: usize,
    deadline: Instant,
) -> anyhow::Result<LoadResult> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let host = addr.to_string();
    let mut out = LoadResult::default();
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let path = format!(
            "/v1/postbacks?{query}&click_id={click}&transaction_id=b{salt:x}-{worker}-{n}&amount=10000&currency=EUR"
        );
        let req = http::Request::get(path)
            .header("host", host.as_str())
            .body(Full::new(Bytes::new()))?;
        let t = Instant::now();
        sender.ready().await?;
        let res = sender.send_request(req).await?;
        let status = res.status();
        let body = res.into_body().collect().await?.to_bytes();
        if status == http::StatusCode::CREATED {
            out.latencies_us
                .push(t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
        } else {
            if out.errors == 0 && worker == 0 {
                eprintln!(
                    "  a postback answered {status}: {}",
                    String::from_utf8_lossy(&body)
                );
            }
            out.errors += 1;
        }
    }
    Ok(out)
}

/// Clicks the commissions database holds for the link, once the counts stop
/// growing (the gateway's last batch handed over).
pub async fn persisted_clicks(database_url: &str, link_id: &str) -> anyhow::Result<u64> {
    let mut conn = PgConnection::connect(database_url).await?;
    let id: uuid::Uuid = link_id.parse()?;
    let mut last = -1i64;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(1_200)).await;
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM clicks WHERE link_id = $1")
            .bind(id)
            .fetch_one(&mut conn)
            .await?;
        if n == last {
            break;
        }
        last = n;
    }
    Ok(last.max(0) as u64)
}

/// A one-source click flood: `n` clicks on `link_id` from one address and
/// user agent within the last hour, written straight to the commissions
/// database, then `ANALYZE clicks`, after which PostgreSQL's statistics
/// see a handful of sources (as after a real flood). Returns the estimated
/// number of distinct sources.
pub async fn flood_clicks(database_url: &str, link_id: &str, n: u64) -> anyhow::Result<f32> {
    let mut conn = PgConnection::connect(database_url).await?;
    let id: uuid::Uuid = link_id.parse()?;
    sqlx::query(
        "INSERT INTO clicks (id, link_id, program_id, partner_id, clicked_at, ip_hash, user_agent,
             referrer, sub1, sub2, sub3, sub4, sub5, source_hash, bot, counted)
         SELECT gen_random_uuid(), l.id, l.program_id, l.partner_id,
                now() - random() * interval '1 hour', 'flood-ip', 'Mozilla/5.0 flood', '',
                '', '', '', '', '', 'flood-source', false, false
         FROM links l, generate_series(1, $2) WHERE l.id = $1",
    )
    .bind(id)
    .bind(n as i64)
    .execute(&mut conn)
    .await?;
    sqlx::query("ANALYZE clicks").execute(&mut conn).await?;
    let distinct: f32 = sqlx::query_scalar(
        "SELECT n_distinct FROM pg_stats WHERE tablename = 'clicks' AND attname = 'source_hash'",
    )
    .fetch_one(&mut conn)
    .await?;
    Ok(distinct)
}
