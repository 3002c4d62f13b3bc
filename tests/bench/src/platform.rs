//! The system under test: the release binaries started as separate
//! processes (as Kubernetes runs them), each service with a fresh database
//! of its own, all in one fresh NATS namespace.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::load::http_json;

pub const ADMIN_KEY: &str = "bench-admin-key-0123456789abcdef";
const SERVICE_TOKEN: &str = "bench-service-token";

/// The services `make bench` starts behind the gateway (binary
/// `prm-<name>`): one line per service, in start order, each after the
/// services it calls (see [`service_env`]).
const SERVICES: &[&str] = &["onboarding", "dealreg", "mdf", "commissions", "reporting"];

/// A service's settings beyond its port, database and NATS: its own
/// secrets, and the addresses of the services it calls, from those already
/// started (`started`, in the order of [`SERVICES`]).
fn service_env(name: &str, started: &[(&'static str, SocketAddr)]) -> Vec<(&'static str, String)> {
    let address = |callee: &str| {
        started
            .iter()
            .find(|(n, _)| *n == callee)
            .map(|(_, addr)| format!("http://{addr}"))
            .unwrap_or_else(|| panic!("{callee} must come before {name} in SERVICES"))
    };
    match name {
        "onboarding" => vec![("PRM_BOOTSTRAP_ADMIN_KEY", ADMIN_KEY.to_owned())],
        "dealreg" => vec![("PRM_ONBOARDING_URL", address("onboarding"))],
        _ => Vec::new(),
    }
}

pub struct Platform {
    /// Each service's gRPC address, in the order of [`SERVICES`].
    pub services: Vec<(&'static str, SocketAddr)>,
    pub gateway_addr: SocketAddr,
    pub service_token: String,
    /// The NATS server and the run's namespace.
    pub nats_url: String,
    pub namespace: String,
    processes: Vec<(&'static str, Child)>,
    admin_url: String,
    databases: Vec<String>,
}

pub struct Seeded {
    pub partner_id: String,
    pub key: String,
    /// The principal header the gateway sends for this key.
    pub principal: String,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn binary(name: &str) -> anyhow::Result<PathBuf> {
    let dir = std::env::current_exe()?
        .parent()
        .context("exe dir")?
        .to_path_buf();
    let path = dir.join(name);
    anyhow::ensure!(
        path.exists(),
        "{} not found; build with `cargo build --release`",
        path.display()
    );
    Ok(path)
}

fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or_default()
}

async fn wait_for(addr: SocketAddr, what: &str) -> anyhow::Result<()> {
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("{what} did not start listening on {addr}")
}

impl Platform {
    pub async fn start() -> anyhow::Result<Self> {
        let admin_url = std::env::var("PRM_BENCH_DATABASE_URL")
            .context("PRM_BENCH_DATABASE_URL (make bench sets it)")?;
        let nats_url = std::env::var("PRM_BENCH_NATS_URL")
            .context("PRM_BENCH_NATS_URL (make bench sets it)")?;
        let suffix = format!(
            "{:x}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_millis()
        );
        let mut conn = PgConnection::connect(&admin_url)
            .await
            .context("bench PostgreSQL")?;
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b.to_owned())
            .unwrap_or(admin_url.clone());
        let quiet = [
            ("PRM_TELEMETRY__LOG_FILTER", "warn"),
            ("PRM_AUTH__SERVICE_TOKEN", SERVICE_TOKEN),
            // Nothing balances across these processes: stop at once.
            ("PRM_GRPC__DRAIN_DELAY_MS", "0"),
            ("PRM_HTTP__DRAIN_DELAY_MS", "0"),
        ];
        let mut platform = Platform {
            services: Vec::new(),
            gateway_addr: format!("127.0.0.1:{}", free_port()?).parse()?,
            service_token: SERVICE_TOKEN.into(),
            nats_url: nats_url.clone(),
            namespace: format!("bench{suffix}"),
            processes: Vec::new(),
            admin_url: admin_url.clone(),
            databases: Vec::new(),
        };
        let mut gateway = Command::new(binary("prm-gateway")?);
        for &name in SERVICES {
            let database = format!("prm_bench_{suffix}_{name}");
            sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{database}\"")))
                .execute(&mut conn)
                .await?;
            platform.databases.push(database.clone());
            let addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
            let child = Command::new(binary(&format!("prm-{name}"))?)
                .arg("serve")
                .envs(quiet)
                .env("PRM_GRPC__PORT", addr.port().to_string())
                .env("PRM_GRPC__CONCURRENCY_LIMIT", "4096")
                .env("PRM_DATABASE__URL", format!("{base}/{database}"))
                .env("PRM_DATABASE__MAX_CONNECTIONS", "32")
                .env("PRM_NATS__URL", &nats_url)
                .env("PRM_NATS__NAMESPACE", format!("bench{suffix}"))
                .envs(service_env(name, &platform.services))
                .stdout(Stdio::null())
                .spawn()
                .with_context(|| format!("starting prm-{name}"))?;
            platform.processes.push((name, child));
            platform.services.push((name, addr));
            gateway.env(
                format!("PRM_UPSTREAMS__{}", name.to_ascii_uppercase()),
                format!("http://{addr}"),
            );
        }
        let gateway = gateway
            .envs(quiet)
            .env("PRM_HTTP__PORT", platform.gateway_addr.port().to_string())
            .env("PRM_RATE_LIMIT__PER_KEY_PER_SECOND", "10000000")
            .env("PRM_RATE_LIMIT__PER_KEY_BURST", "10000000")
            .env("PRM_RATE_LIMIT__PUBLIC_PER_MINUTE", "10000")
            // The load comes from one address: the public limits would
            // measure themselves, not the path.
            .env(
                "PRM_RATE_LIMIT__POSTBACKS_PER_ADDRESS_PER_SECOND",
                "10000000",
            )
            .env(
                "PRM_RATE_LIMIT__POSTBACKS_PER_PROGRAM_PER_SECOND",
                "10000000",
            )
            .env(
                "PRM_RATE_LIMIT__REDIRECTS_PER_ADDRESS_PER_MINUTE",
                "1000000000",
            )
            .env("PRM_TRACKING__NATS_URL", &nats_url)
            .env("PRM_TRACKING__NATS_NAMESPACE", format!("bench{suffix}"))
            .stdout(Stdio::null())
            .spawn()
            .context("starting prm-gateway")?;
        platform.processes.push(("gateway", gateway));
        for (name, addr) in &platform.services {
            wait_for(*addr, name).await?;
        }
        wait_for(platform.gateway_addr, "gateway").await?;
        for _ in 0..300 {
            if let Ok((200, _)) =
                http_json(platform.gateway_addr, "GET", "/readyz", None, None).await
            {
                return Ok(platform);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("the platform did not become ready")
    }

    /// The database URL of a service in [`SERVICES`].
    pub fn database_url(&self, name: &str) -> String {
        let base = self
            .admin_url
            .rsplit_once('/')
            .map_or(self.admin_url.as_str(), |(b, _)| b);
        let database = self
            .databases
            .iter()
            .find(|d| d.ends_with(&format!("_{name}")))
            .unwrap_or_else(|| panic!("{name} is not in SERVICES"));
        format!("{base}/{database}")
    }

    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// The gRPC address of a service in [`SERVICES`].
    pub fn service(&self, name: &str) -> SocketAddr {
        self.services
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, addr)| *addr)
            .unwrap_or_else(|| panic!("{name} is not in SERVICES"))
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.processes.iter().map(|(n, _)| *n).collect()
    }

    /// A program, an approved partner and its admin key.
    pub async fn seed(&self) -> anyhow::Result<Seeded> {
        let g = self.gateway_addr;
        let call = |method: &'static str, path: String, key: Option<&'static str>, body: Value| async move {
            let (status, body) = http_json(g, method, &path, key, Some(body)).await?;
            anyhow::ensure!(status < 300, "{method} {path}: {status} {body}");
            anyhow::Ok(body)
        };
        let program = call(
            "POST",
            "/v1/programs".into(),
            Some(ADMIN_KEY),
            json!({"name": "Bench", "currency": "EUR"}),
        )
        .await?;
        let program_id = program["id"].as_str().unwrap_or_default().to_owned();
        call(
            "POST",
            format!("/v1/programs/{program_id}/tiers"),
            Some(ADMIN_KEY),
            json!({"name": "registered", "rank": 0}),
        )
        .await?;
        let app = call(
            "POST",
            "/v1/applications".into(),
            None,
            json!({"company_name": "Bench Ltd", "domain": "bench.example", "country": "GB", "partner_type": "reseller",
                   "contact_name": "B", "contact_email": "b@bench.example"}),
        )
        .await?;
        let app_id = app["id"].as_str().unwrap_or_default().to_owned();
        let approved = call(
            "POST",
            format!("/v1/applications/{app_id}/approve"),
            Some(ADMIN_KEY),
            json!({"program_id": program_id}),
        )
        .await?;
        let partner_id = approved["partner"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let key = approved["admin_api_key"]["secret"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let user_id = approved["admin_user"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let key_id = approved["admin_api_key"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let principal = prm_runtime::Principal {
            user_id: user_id.parse()?,
            partner_id: Some(partner_id.parse()?),
            roles: vec![prm_runtime::Role::PartnerAdmin],
            api_key_id: Some(key_id.parse()?),
            scopes: prm_runtime::Scopes::all(),
        }
        .to_header_value();
        Ok(Seeded {
            partner_id,
            key,
            principal,
        })
    }

    pub fn rss(&self) -> HashMap<&'static str, f64> {
        self.processes
            .iter()
            .map(|(n, c)| (*n, rss_mib(c.id())))
            .collect()
    }

    /// Samples the peak RSS of each process until stopped.
    pub fn start_rss_sampler(&self) -> RssSampler {
        let pids: Vec<(&'static str, u32)> =
            self.processes.iter().map(|(n, c)| (*n, c.id())).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = tokio::spawn(async move {
            let mut peak: HashMap<&'static str, f64> = HashMap::new();
            while !flag.load(Ordering::Relaxed) {
                for (name, pid) in &pids {
                    let v = rss_mib(*pid);
                    let e = peak.entry(name).or_default();
                    *e = e.max(v);
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            peak
        });
        RssSampler { stop, handle }
    }

    pub async fn stop(mut self) {
        for (_, child) in &mut self.processes {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
        }
        for (_, child) in &mut self.processes {
            let _ = child.wait();
        }
        self.processes.clear();
        if let Ok(mut conn) = PgConnection::connect(&self.admin_url).await {
            for database in &self.databases {
                let _ = sqlx::query(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{database}\""
                )))
                .execute(&mut conn)
                .await;
            }
        }
    }
}

impl Drop for Platform {
    /// On any early return the services must not outlive the harness.
    fn drop(&mut self) {
        for (_, child) in &mut self.processes {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub struct RssSampler {
    stop: Arc<AtomicBool>,
    handle: tokio::task::JoinHandle<HashMap<&'static str, f64>>,
}

impl RssSampler {
    pub async fn stop(self) -> HashMap<&'static str, f64> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.await.unwrap_or_default()
    }
}
