//! The platform as separate processes: every service binary and the
//! gateway's, each service on a fresh database, all in one NATS namespace,
//! on free ports. Any one process can be stopped (SIGTERM) and started
//! again in the same place, which is how the scenario test restarts
//! services mid-way.
//!
//! The binaries are the workspace's debug builds (`make test` builds them
//! before the tests; `PRM_BIN_DIR` names another directory).

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use prm_runtime::testing::{fresh_database, nats_url, unique_namespace};

/// The services, in start order (dealreg calls onboarding).
pub const SERVICES: &[&str] = &["onboarding", "dealreg", "mdf", "commissions", "reporting"];

struct Process {
    name: &'static str,
    /// Its gRPC (services) or HTTP (gateway) address.
    addr: SocketAddr,
    env: Vec<(String, String)>,
    child: Option<Child>,
    starts: u32,
}

pub struct Processes {
    processes: Vec<Process>,
    pub gateway: SocketAddr,
    pub admin_key: String,
    pub namespace: String,
    pub databases: HashMap<&'static str, String>,
    logs: PathBuf,
    bin: PathBuf,
}

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

fn bin_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("PRM_BIN_DIR") {
        return PathBuf::from(dir);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target")));
    target.join("debug")
}

impl Processes {
    /// Starts every service and the gateway, and waits until the gateway's
    /// `/readyz` answers 200 (every upstream serving).
    pub async fn start(name: &str) -> Processes {
        let bin = bin_dir();
        for b in SERVICES
            .iter()
            .map(|s| format!("prm-{s}"))
            .chain(["prm-gateway".into()])
        {
            assert!(
                bin.join(&b).exists(),
                "{} is missing: build the binaries first (cargo build --workspace --bins; make test does)",
                bin.join(&b).display()
            );
        }
        let logs = bin.join(format!("scenario-logs/{name}-{}", std::process::id()));
        std::fs::create_dir_all(&logs).expect("log directory");
        let namespace = unique_namespace();
        let admin_key = format!("prm_scenario_admin_{}", unique_namespace());
        let mut databases = HashMap::new();
        let mut processes = Vec::new();
        let mut upstreams = Vec::new();
        for &service in SERVICES {
            let db = fresh_database().await;
            databases.insert(service, db.url.clone());
            let addr = free_addr();
            let mut env = vec![
                ("PRM_GRPC__PORT".to_owned(), addr.port().to_string()),
                ("PRM_DATABASE__URL".to_owned(), db.url.clone()),
                ("PRM_NATS__URL".to_owned(), nats_url()),
                ("PRM_NATS__NAMESPACE".to_owned(), namespace.clone()),
                ("PRM_GRPC__DRAIN_DELAY_MS".to_owned(), "0".to_owned()),
                ("PRM_TELEMETRY__LOG_FILTER".to_owned(), "warn".to_owned()),
            ];
            match service {
                "onboarding" => env.push(("PRM_BOOTSTRAP_ADMIN_KEY".into(), admin_key.clone())),
                "dealreg" => env.push((
                    "PRM_ONBOARDING_URL".into(),
                    format!("http://{}", processes_addr(&processes, "onboarding")),
                )),
                // Commissions past their hold are approved within a second.
                "commissions" => env.push(("PRM_SWEEP_INTERVAL_SECS".into(), "1".into())),
                _ => {}
            }
            upstreams.push((
                format!("PRM_UPSTREAMS__{}", service.to_ascii_uppercase()),
                format!("http://{addr}"),
            ));
            processes.push(Process {
                name: service,
                addr,
                env,
                child: None,
                starts: 0,
            });
        }
        let gateway = free_addr();
        let mut env = upstreams;
        env.extend([
            ("PRM_HTTP__PORT".to_owned(), gateway.port().to_string()),
            ("PRM_HTTP__DRAIN_DELAY_MS".to_owned(), "0".to_owned()),
            ("PRM_TRACKING__NATS_URL".to_owned(), nats_url()),
            ("PRM_TRACKING__NATS_NAMESPACE".to_owned(), namespace.clone()),
            (
                "PRM_RATE_LIMIT__PUBLIC_PER_MINUTE".to_owned(),
                "1000".to_owned(),
            ),
            ("PRM_TELEMETRY__LOG_FILTER".to_owned(), "warn".to_owned()),
        ]);
        processes.push(Process {
            name: "gateway",
            addr: gateway,
            env,
            child: None,
            starts: 0,
        });
        let mut platform = Processes {
            processes,
            gateway,
            admin_key,
            namespace,
            databases,
            logs,
            bin,
        };
        for name in SERVICES.iter().copied().chain(["gateway"]) {
            platform.spawn(name);
        }
        platform.wait_ready().await;
        platform
    }

    fn process(&mut self, name: &str) -> &mut Process {
        self.processes
            .iter_mut()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no process {name}"))
    }

    fn spawn(&mut self, name: &str) {
        let bin = self.bin.join(format!("prm-{name}"));
        let log_path = self.logs.join(format!("{name}.log"));
        let p = self.process(name);
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .expect("log file");
        let child = Command::new(&bin)
            .arg("serve")
            .envs(p.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        p.child = Some(child);
        p.starts += 1;
    }

    /// Stops `name` with SIGTERM and waits for it to exit (a graceful stop:
    /// in-flight work finishes and the outbox is flushed), then starts it
    /// again on the same port, database and namespace, and waits until the
    /// gateway is ready again.
    pub async fn restart(&mut self, name: &str) {
        self.stop(name).await;
        self.spawn(name);
        self.wait_ready().await;
    }

    /// SIGTERM, then wait (SIGKILL after 30 s).
    pub async fn stop(&mut self, name: &str) {
        let p = self.process(name);
        let Some(mut child) = p.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                assert!(status.success(), "{name} exited with {status} on SIGTERM");
                return;
            }
            if started.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{name} did not stop within 30 s of SIGTERM");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the gateway answers `/readyz` with 200.
    pub async fn wait_ready(&mut self) {
        let http = reqwest::Client::new();
        let url = format!("http://{}/readyz", self.gateway);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(90) {
            if let Ok(r) = http.get(&url).send().await
                && r.status() == 200
            {
                return;
            }
            for p in &mut self.processes {
                if let Some(child) = p.child.as_mut()
                    && let Ok(Some(status)) = child.try_wait()
                {
                    panic!(
                        "{} exited ({status}); see {}",
                        p.name,
                        self.logs.join(format!("{}.log", p.name)).display()
                    );
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the platform did not become ready; logs in {}",
            self.logs.display()
        );
    }

    /// How often `name` was started.
    pub fn starts(&self, name: &str) -> u32 {
        self.processes
            .iter()
            .find(|p| p.name == name)
            .map_or(0, |p| p.starts)
    }

    pub fn addr(&self, name: &str) -> SocketAddr {
        processes_addr(&self.processes, name)
    }
}

fn processes_addr(processes: &[Process], name: &str) -> SocketAddr {
    processes
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.addr)
        .unwrap_or_else(|| panic!("no process {name}"))
}

impl Drop for Processes {
    fn drop(&mut self) {
        for p in &mut self.processes {
            if let Some(mut child) = p.child.take() {
                let _ = Command::new("kill")
                    .args(["-TERM", &child.id().to_string()])
                    .status();
                let started = Instant::now();
                while started.elapsed() < Duration::from_secs(10) {
                    if let Ok(Some(_)) = child.try_wait() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// The gateway of a [`Processes`] platform, over HTTP.
#[derive(Clone)]
pub struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    pub fn new(gateway: SocketAddr) -> Api {
        Api {
            base: format!("http://{gateway}"),
            // A connection per request: the gateway restarts under it.
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        }
    }

    fn authed(req: reqwest::RequestBuilder, key: Option<&str>) -> reqwest::RequestBuilder {
        match key {
            Some(k) => req.bearer_auth(k),
            None => req,
        }
    }

    pub async fn get(&self, path: &str, key: Option<&str>) -> crate::Reply {
        crate::send(Self::authed(
            self.http.get(format!("{}{path}", self.base)),
            key,
        ))
        .await
    }

    /// A GET as a browser makes it (for the tracking redirect).
    pub async fn browse(&self, path: &str) -> crate::Reply {
        crate::send(self.http.get(format!("{}{path}", self.base)).header(
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
        ))
        .await
    }

    pub async fn post(
        &self,
        path: &str,
        key: Option<&str>,
        body: serde_json::Value,
    ) -> crate::Reply {
        crate::send(Self::authed(self.http.post(format!("{}{path}", self.base)), key).json(&body))
            .await
    }

    pub async fn put(
        &self,
        path: &str,
        key: Option<&str>,
        body: serde_json::Value,
    ) -> crate::Reply {
        crate::send(Self::authed(self.http.put(format!("{}{path}", self.base)), key).json(&body))
            .await
    }
}
