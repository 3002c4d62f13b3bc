//! Load generators: closed-loop workers, each with its own connection
//! (HTTP/1.1 keep-alive to the gateway) or sharing one HTTP/2 channel
//! (direct gRPC, as the gateway itself does upstream).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use prm_proto::onboarding::GetPartnerRequest;
use prm_proto::onboarding::onboarding_service_client::OnboardingServiceClient;
use serde_json::Value;
use tokio::net::TcpStream;
use tonic::transport::Channel;

#[derive(Clone)]
pub enum Target {
    Gateway {
        addr: SocketAddr,
        partner_id: String,
        key: String,
    },
    Grpc {
        addr: SocketAddr,
        partner_id: String,
        principal: String,
        service_token: String,
    },
    /// A partner registering deals through the gateway, each for a customer
    /// no one holds (`salt` keeps runs apart).
    Register {
        addr: SocketAddr,
        key: String,
        salt: u64,
    },
    /// A browser following a tracking link (`path`), expecting 302: the
    /// gateway's `/t/{code}`, or the bare hyper server.
    Redirect { addr: SocketAddr, path: String },
    /// An advertiser reporting sales by postback (`query` holds the
    /// program and token); worker `w` converts `clicks[w]`.
    Postback {
        addr: SocketAddr,
        query: String,
        clicks: std::sync::Arc<Vec<String>>,
        salt: u64,
    },
}

/// What one run measured.
#[derive(Clone, Debug, Default)]
pub struct LoadResult {
    /// Latency of each successful request, in microseconds.
    pub latencies_us: Vec<u32>,
    pub errors: u64,
    pub elapsed: Duration,
}

impl LoadResult {
    pub fn merge(runs: Vec<LoadResult>) -> LoadResult {
        let mut all = LoadResult::default();
        for r in runs {
            all.latencies_us.extend(r.latencies_us);
            all.errors += r.errors;
            all.elapsed += r.elapsed;
        }
        all.latencies_us.sort_unstable();
        all
    }

    pub fn throughput(&self) -> f64 {
        self.latencies_us.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `q` quantile (0..=1) in milliseconds; latencies must be sorted.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let idx = ((self.latencies_us.len() - 1) as f64 * q).round() as usize;
        f64::from(self.latencies_us[idx]) / 1000.0
    }
}

/// One request on a new connection; the body parsed as JSON (Null if it
/// is not JSON).
pub async fn http_json(
    addr: SocketAddr,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> anyhow::Result<(u16, Value)> {
    HttpConnection::open(addr)
        .await?
        .json(method, path, key, body)
        .await
}

/// An HTTP/1.1 connection kept alive across requests, as a dashboard or
/// an SDK keeps one (and as the SQL references keep theirs).
pub struct HttpConnection {
    addr: SocketAddr,
    sender: http1::SendRequest<Full<Bytes>>,
}

impl HttpConnection {
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        Ok(Self { addr, sender })
    }

    /// A request; the body parsed as JSON (Null if it is not JSON).
    pub async fn json(
        &mut self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut req = http::Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.addr.to_string());
        if let Some(k) = key {
            req = req.header("authorization", format!("Bearer {k}"));
        }
        let body = match body {
            Some(b) => {
                req = req.header("content-type", "application/json");
                Full::new(Bytes::from(serde_json::to_vec(&b)?))
            }
            None => Full::new(Bytes::new()),
        };
        self.sender.ready().await?;
        let res = self.sender.send_request(req.body(body)?).await?;
        let status = res.status().as_u16();
        let bytes = res.into_body().collect().await?.to_bytes();
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }
}

/// Runs `concurrency` workers against `target` for `duration`.
pub async fn run(
    target: &Target,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<LoadResult> {
    let channel = match target {
        Target::Grpc { addr, .. } => Some(
            Channel::from_shared(format!("http://{addr}"))?
                .tcp_nodelay(true)
                .connect()
                .await?,
        ),
        Target::Gateway { .. }
        | Target::Register { .. }
        | Target::Redirect { .. }
        | Target::Postback { .. } => None,
    };
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = Vec::with_capacity(concurrency);
    for worker in 0..concurrency {
        let target = target.clone();
        let channel = channel.clone();
        workers.push(tokio::spawn(async move {
            match target {
                Target::Gateway {
                    addr,
                    partner_id,
                    key,
                } => gateway_worker(addr, &partner_id, &key, deadline).await,
                Target::Register { addr, key, salt } => {
                    register_worker(addr, &key, salt, worker, deadline).await
                }
                Target::Redirect { addr, path } => {
                    crate::commissions::redirect_worker(addr, &path, deadline).await
                }
                Target::Postback {
                    addr,
                    query,
                    clicks,
                    salt,
                } => {
                    let click = &clicks[worker % clicks.len()];
                    crate::commissions::postback_worker(addr, &query, click, salt, worker, deadline)
                        .await
                }
                Target::Grpc {
                    partner_id,
                    principal,
                    service_token,
                    ..
                } => {
                    grpc_worker(
                        channel.expect("channel"),
                        &partner_id,
                        &principal,
                        &service_token,
                        deadline,
                    )
                    .await
                }
            }
        }));
    }
    let mut result = LoadResult::default();
    for w in workers {
        let r = w.await??;
        result.latencies_us.extend(r.latencies_us);
        result.errors += r.errors;
    }
    result.elapsed = started.elapsed();
    result.latencies_us.sort_unstable();
    Ok(result)
}

async fn gateway_worker(
    addr: SocketAddr,
    partner_id: &str,
    key: &str,
    deadline: Instant,
) -> anyhow::Result<LoadResult> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let path = format!("/v1/partners/{partner_id}");
    let auth = format!("Bearer {key}");
    let host = addr.to_string();
    let mut out = LoadResult::default();
    while Instant::now() < deadline {
        let req = http::Request::get(path.as_str())
            .header("host", host.as_str())
            .header("authorization", auth.as_str())
            .body(Full::new(Bytes::new()))?;
        let t = Instant::now();
        sender.ready().await?;
        let res = sender.send_request(req).await?;
        let ok = res.status() == http::StatusCode::OK;
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

/// A customer no other request of the run uses: a distinct domain and a
/// 14-letter pseudo-random company name.
fn customer(salt: u64, worker: usize, n: u64) -> (String, String) {
    let mut x = salt ^ ((worker as u64) << 40) ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let name: String = (0..14)
        .map(|_| {
            // xorshift64
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'a' + (x % 26) as u8)
        })
        .collect();
    (name, format!("r{salt:x}-{worker}-{n}.example"))
}

async fn register_worker(
    addr: SocketAddr,
    key: &str,
    salt: u64,
    worker: usize,
    deadline: Instant,
) -> anyhow::Result<LoadResult> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let auth = format!("Bearer {key}");
    let host = addr.to_string();
    let close = (chrono::Utc::now().date_naive() + chrono::Duration::days(60)).to_string();
    let mut out = LoadResult::default();
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let (company, domain) = customer(salt, worker, n);
        let body = serde_json::to_vec(&serde_json::json!({
            "customer_company": company, "customer_domain": domain,
            "contact": {"name": "Bench Buyer", "email": format!("buyer@{domain}")},
            "estimated_value": {"amount_minor": 2_500_000, "currency": "EUR"},
            "expected_close_date": close,
        }))?;
        let req = http::Request::post("/v1/deal-registrations")
            .header("host", host.as_str())
            .header("authorization", auth.as_str())
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))?;
        let t = Instant::now();
        sender.ready().await?;
        let res = sender.send_request(req).await?;
        let status = res.status();
        let ok = status == http::StatusCode::CREATED;
        let body = res.into_body().collect().await?.to_bytes();
        if !ok && out.errors == 0 && worker == 0 {
            eprintln!(
                "  a registration answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        if ok {
            out.latencies_us
                .push(t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
        } else {
            out.errors += 1;
        }
    }
    Ok(out)
}

async fn grpc_worker(
    channel: Channel,
    partner_id: &str,
    principal: &str,
    service_token: &str,
    deadline: Instant,
) -> anyhow::Result<LoadResult> {
    let mut client = OnboardingServiceClient::new(channel);
    let principal: tonic::metadata::MetadataValue<_> = principal.parse()?;
    let token: tonic::metadata::MetadataValue<_> = service_token.parse()?;
    let mut out = LoadResult::default();
    while Instant::now() < deadline {
        let mut req = tonic::Request::new(GetPartnerRequest {
            partner_id: partner_id.to_owned(),
        });
        req.metadata_mut()
            .insert(prm_runtime::auth::SERVICE_TOKEN_HEADER, token.clone());
        req.metadata_mut()
            .insert(prm_runtime::auth::PRINCIPAL_HEADER, principal.clone());
        let t = Instant::now();
        match client.get_partner(req).await {
            Ok(_) => out
                .latencies_us
                .push(t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32),
            Err(_) => out.errors += 1,
        }
    }
    Ok(out)
}
