//! The end-to-end harness: the services and the REST gateway in one
//! process, each service on a fresh database, all in one NATS namespace,
//! driven over HTTP as a partner or staff member would.

pub mod balancer;
pub mod load;
pub mod processes;

use std::net::SocketAddr;

use prm_gateway::config::GatewaySettings;
use prm_onboarding::testing::{RunningService, SpawnOptions};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use prm_onboarding::testing::BOOTSTRAP_KEY as ADMIN_KEY;

pub struct Stack {
    pub onboarding: RunningService,
    pub dealreg: RunningService,
    pub mdf: RunningService,
    pub commissions: RunningService,
    pub reporting: RunningService,
    pub gateway: SocketAddr,
    /// The gateway's authenticator, to count what it asked onboarding.
    pub auth: std::sync::Arc<prm_gateway::auth::Authenticator>,
    pub http: reqwest::Client,
    shutdown: CancellationToken,
    _handle: JoinHandle<anyhow::Result<()>>,
}

/// An HTTP response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `code` of a problem+json reply.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    /// The fields named in a problem's `errors`.
    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn is_problem(&self) -> bool {
        self.header("content-type") == Some(prm_gateway::problem::CONTENT_TYPE)
    }

    pub fn str(&self, pointer: &str) -> String {
        self.body
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }
}

/// Sends `req` and reads the whole reply (JSON, or text as a string).
pub async fn send(req: reqwest::RequestBuilder) -> Reply {
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let bytes = res.bytes().await.expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Reply {
        status,
        headers,
        body,
    }
}

/// Gateway settings pointing at onboarding and at `others` (name and
/// service); tweak before [`spawn_with`].
pub fn gateway_settings(
    onboarding: &RunningService,
    others: &[(&str, &RunningService)],
) -> GatewaySettings {
    let mut s = GatewaySettings::default();
    s.http.port = 0;
    s.upstreams.insert("onboarding".into(), onboarding.url());
    for (name, service) in others {
        s.upstreams.insert((*name).into(), service.url());
    }
    // Tests create many applications from one address; the rate-limit test
    // sets its own limits.
    s.rate_limit.public_per_minute = 10_000;
    s.rate_limit.postbacks_per_address_per_second = 100_000;
    s.rate_limit.postbacks_per_program_per_second = 100_000;
    s.rate_limit.redirects_per_address_per_minute = 1_000_000;
    // The tracking-link cache hears of link changes in the services'
    // namespace.
    s.tracking.nats_url = prm_runtime::testing::nats_url();
    s.tracking.nats_namespace = onboarding.namespace.clone();
    s
}

/// A gateway running in-process, until stopped or dropped.
pub struct RunningGateway {
    pub addr: SocketAddr,
    /// Cancelling it is SIGTERM.
    pub shutdown: CancellationToken,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
}

impl RunningGateway {
    pub async fn start(settings: GatewaySettings) -> RunningGateway {
        let gateway = prm_gateway::Gateway::build(settings)
            .await
            .expect("gateway");
        RunningGateway {
            addr: gateway.local_addr(),
            shutdown: gateway.shutdown_token(),
            handle: Some(tokio::spawn(gateway.run_until_stopped())),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Waits for the gateway to exit (after [`Self::shutdown`]).
    pub async fn stopped(&mut self) -> anyhow::Result<()> {
        match self.handle.take() {
            Some(h) => h.await.map_err(|e| anyhow::anyhow!("gateway task: {e}"))?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningGateway {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub async fn spawn() -> Stack {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(tweak: impl FnOnce(&mut GatewaySettings)) -> Stack {
    let onboarding = prm_onboarding::testing::spawn(SpawnOptions::default()).await;
    let dealreg = prm_dealreg::testing::spawn(
        SpawnOptions {
            namespace: Some(onboarding.namespace.clone()),
            ..SpawnOptions::default()
        },
        &onboarding.url(),
    )
    .await;
    let mdf = prm_mdf::testing::spawn(
        SpawnOptions {
            namespace: Some(onboarding.namespace.clone()),
            ..SpawnOptions::default()
        },
        prm_runtime::Clock::system(),
    )
    .await;
    let commissions = prm_commissions::testing::spawn(
        SpawnOptions {
            namespace: Some(onboarding.namespace.clone()),
            ..SpawnOptions::default()
        },
        prm_runtime::Clock::system(),
    )
    .await;
    let reporting = prm_reporting::testing::spawn(
        SpawnOptions {
            namespace: Some(onboarding.namespace.clone()),
            ..SpawnOptions::default()
        },
        prm_runtime::Clock::system(),
    )
    .await;
    onboarding.wait_serving().await;
    dealreg.wait_serving().await;
    mdf.wait_serving().await;
    commissions.wait_serving().await;
    reporting.wait_serving().await;
    let mut settings = gateway_settings(
        &onboarding,
        &[
            ("dealreg", &dealreg),
            ("mdf", &mdf),
            ("commissions", &commissions),
            ("reporting", &reporting),
        ],
    );
    tweak(&mut settings);
    let gateway = prm_gateway::Gateway::build(settings)
        .await
        .expect("gateway");
    let addr = gateway.local_addr();
    let shutdown = gateway.shutdown_token();
    let auth = gateway.authenticator();
    let handle = tokio::spawn(gateway.run_until_stopped());
    Stack {
        auth,
        onboarding,
        dealreg,
        mdf,
        commissions,
        reporting,
        gateway: addr,
        http: reqwest::Client::new(),
        shutdown,
        _handle: handle,
    }
}

/// A partner as the gateway sees it.
#[derive(Clone, Debug)]
pub struct PartnerAccount {
    pub id: String,
    pub application_id: String,
    pub admin_user_id: String,
    pub key: String,
    pub key_id: String,
}

#[derive(Clone, Debug)]
pub struct ProgramIds {
    pub id: String,
    /// registered, silver, gold.
    pub tiers: Vec<String>,
}

impl Stack {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.gateway)
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        send(req).await
    }

    fn auth(req: reqwest::RequestBuilder, key: Option<&str>) -> reqwest::RequestBuilder {
        match key {
            Some(k) => req.bearer_auth(k),
            None => req,
        }
    }

    pub async fn get(&self, path: &str, key: Option<&str>) -> Reply {
        self.send(Self::auth(self.http.get(self.url(path)), key))
            .await
    }

    pub async fn delete(&self, path: &str, key: Option<&str>) -> Reply {
        self.send(Self::auth(self.http.delete(self.url(path)), key))
            .await
    }

    pub async fn post(&self, path: &str, key: Option<&str>, body: Value) -> Reply {
        self.send(Self::auth(self.http.post(self.url(path)), key).json(&body))
            .await
    }

    pub async fn post_idem(&self, path: &str, key: Option<&str>, idem: &str, body: Value) -> Reply {
        self.send(
            Self::auth(self.http.post(self.url(path)), key)
                .header("Idempotency-Key", idem)
                .json(&body),
        )
        .await
    }

    pub async fn put(&self, path: &str, key: Option<&str>, body: Value) -> Reply {
        self.send(Self::auth(self.http.put(self.url(path)), key).json(&body))
            .await
    }

    pub async fn patch(&self, path: &str, key: Option<&str>, body: Value) -> Reply {
        self.send(Self::auth(self.http.patch(self.url(path)), key).json(&body))
            .await
    }

    /// A EUR program with registered, silver and gold tiers.
    pub async fn program(&self, name: &str) -> ProgramIds {
        let p = self
            .post(
                "/v1/programs",
                Some(ADMIN_KEY),
                json!({"name": name, "currency": "EUR"}),
            )
            .await;
        assert_eq!(p.status, 201, "{p:?}");
        let id = p.str("/id");
        let mut tiers = Vec::new();
        for (rank, name, rev) in [
            (0, "registered", 0),
            (1, "silver", 5_000_000),
            (2, "gold", 25_000_000),
        ] {
            let t = self
                .post(
                    &format!("/v1/programs/{id}/tiers"),
                    Some(ADMIN_KEY),
                    json!({"name": name, "rank": rank, "requirements": {"min_revenue_won": {"amount_minor": rev, "currency": "EUR"}, "min_deals_won": rank}}),
                )
                .await;
            assert_eq!(t.status, 201, "{t:?}");
            tiers.push(t.str("/id"));
        }
        ProgramIds { id, tiers }
    }

    /// Applies (publicly), is approved by the admin, and keeps the key.
    pub async fn partner(
        &self,
        program: &ProgramIds,
        domain: &str,
        partner_type: &str,
    ) -> PartnerAccount {
        let app = self
            .post(
                "/v1/applications",
                None,
                json!({
                    "company_name": format!("{domain} Ltd"), "domain": domain, "country": "GB",
                    "partner_type": partner_type, "contact_name": "Pat Partner", "contact_email": format!("pat@{domain}")
                }),
            )
            .await;
        assert_eq!(app.status, 201, "{app:?}");
        let application_id = app.str("/id");
        let approved = self
            .post(
                &format!("/v1/applications/{application_id}/approve"),
                Some(ADMIN_KEY),
                json!({"program_id": program.id}),
            )
            .await;
        assert_eq!(approved.status, 200, "{approved:?}");
        PartnerAccount {
            id: approved.str("/partner/id"),
            application_id,
            admin_user_id: approved.str("/admin_user/id"),
            key: approved.str("/admin_api_key/secret"),
            key_id: approved.str("/admin_api_key/id"),
        }
    }

    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        let _ = self.reporting.stop().await;
        let _ = self.commissions.stop().await;
        let _ = self.mdf.stop().await;
        let _ = self.dealreg.stop().await;
        let _ = self.onboarding.stop().await;
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
