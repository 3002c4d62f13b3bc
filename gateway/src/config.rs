//! The gateway's settings, read from the same layers as every PRM process
//! (`prm_runtime::config::layers`): `PRM_` environment variables with `__`
//! between levels (e.g. `PRM_HTTP__PORT`, `PRM_UPSTREAMS__ONBOARDING`), over
//! an optional `PRM_CONFIG_FILE`, over these defaults.

use std::collections::{BTreeMap, HashMap};

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct GatewaySettings {
    pub http: HttpSettings,
    /// gRPC address per upstream service (`PRM_UPSTREAMS__<NAME>`), e.g.
    /// `onboarding = "http://prm-onboarding:50051"`. A service left out is
    /// at its default local address (`http://127.0.0.1:<its port>`).
    pub upstreams: BTreeMap<String, String>,
    pub upstream: UpstreamSettings,
    pub auth: AuthSettings,
    pub rate_limit: RateLimitSettings,
    pub cors: CorsSettings,
    pub tracking: TrackingSettings,
    pub telemetry: prm_runtime::config::TelemetrySettings,
}

/// Tracking-link redirects (`GET /t/{code}`): the click buffer and the
/// link cache (see `crate::tracking`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct TrackingSettings {
    /// Clicks held in memory before they are handed to the commissions
    /// service; when full, redirects still work but their clicks are
    /// dropped (counted and logged).
    pub click_buffer: usize,
    /// A redirect finding the buffer full waits this long for room before
    /// its click is dropped (counted and logged).
    pub full_buffer_wait_ms: u64,
    /// Buffered clicks are sent at least this often.
    pub flush_interval_ms: u64,
    /// How long a link is served from the cache without asking again (its
    /// events drop it sooner).
    pub link_ttl_ms: u64,
    /// How long an unknown code is remembered as unknown.
    pub unknown_code_ttl_ms: u64,
    /// Upper bound on cached links.
    pub link_cache_capacity: usize,
    /// The key client addresses are hashed with (clicks keep the hash,
    /// never the address). Set it in production, and keep it: a new key
    /// makes every source new.
    pub ip_hash_key: SecretString,
    /// NATS, to hear of link changes (`PRM_TRACKING__NATS_URL`); empty
    /// leaves unknown codes to their TTL.
    pub nats_url: String,
    /// The event namespace the services publish under.
    pub nats_namespace: String,
    /// NATS auth token, if the server wants one (`PRM_TRACKING__NATS_TOKEN`).
    pub nats_token: Option<SecretString>,
}

impl Default for TrackingSettings {
    fn default() -> Self {
        Self {
            click_buffer: 100_000,
            full_buffer_wait_ms: 100,
            flush_interval_ms: 1_000,
            link_ttl_ms: 60_000,
            unknown_code_ttl_ms: 5_000,
            link_cache_capacity: 200_000,
            ip_hash_key: SecretString::from("prm-local-ip-hash-key"),
            nats_url: String::new(),
            nats_namespace: "prm".into(),
            nats_token: None,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct HttpSettings {
    pub host: String,
    /// 0 picks a free port (tests).
    pub port: u16,
    /// Every request gets at most this long, upstream calls included.
    pub request_timeout_ms: u64,
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
    /// After SIGTERM `/readyz` answers 503 at once, but the gateway keeps
    /// serving (closing each connection after its response) this long, so
    /// that load balancers move away before the listener closes.
    pub drain_delay_ms: u64,
    /// Once the listener is closed: time allowed to finish in-flight
    /// requests.
    pub grace_period_secs: u64,
    /// Proxies in front of the gateway (load balancers, the web app) that
    /// append the address they received from to `X-Forwarded-For`. The
    /// client address is the entry the outermost of them wrote; 0 uses the
    /// TCP peer address and ignores the header.
    pub trusted_proxy_hops: usize,
}

/// How the gateway connects to every upstream.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct UpstreamSettings {
    pub connect_timeout_ms: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// The credential the gateway presents to services.
    pub service_token: SecretString,
    /// How long an API key's authentication is cached; a revocation takes
    /// effect within this time.
    pub cache_ttl_ms: u64,
    /// Upper bound on cached valid keys; the oldest are forgotten first.
    pub cache_capacity: usize,
    /// Upper bound on cached invalid keys, kept apart from the valid ones
    /// so that a stream of random keys cannot push a valid key out.
    pub negative_cache_capacity: usize,
    /// Failed authentications allowed from one client address (an IPv6
    /// /64) at once; beyond them the address is answered 429 without its
    /// keys being looked up, until one failure is forgiven.
    pub failure_burst: u32,
    /// The time over which a spent burst of failures is forgiven.
    pub failure_window_secs: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct RateLimitSettings {
    /// Sustained requests per second per API key.
    pub per_key_per_second: u32,
    /// Requests a key may burst above the sustained rate.
    pub per_key_burst: u32,
    /// Public application submissions per client address per minute.
    pub public_per_minute: u32,
    /// Postbacks per client address per second (an advertiser's server
    /// sends from a few addresses), bursting to twice as many.
    pub postbacks_per_address_per_second: u32,
    /// Postbacks per program per second, whoever sends them, bursting to
    /// twice as many.
    pub postbacks_per_program_per_second: u32,
    /// Tracking-link redirects per client address per minute, all at once
    /// if need be: generous, since many people can share one address, but
    /// a flood is answered 429 rather than counted.
    pub redirects_per_address_per_minute: u32,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct CorsSettings {
    /// Origins allowed to call the API from a browser, e.g.
    /// "https://portal.example.com"; "*" allows any. Empty disables CORS.
    pub allowed_origins: Vec<String>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8080,
            request_timeout_ms: 10_000,
            body_limit_bytes: 64 * 1024,
            drain_delay_ms: 5_000,
            grace_period_secs: 20,
            trusted_proxy_hops: 0,
        }
    }
}

impl Default for UpstreamSettings {
    fn default() -> Self {
        Self {
            connect_timeout_ms: 2_000,
        }
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            service_token: SecretString::from(prm_runtime::config::LOCAL_SERVICE_TOKEN),
            cache_ttl_ms: 5_000,
            cache_capacity: 100_000,
            negative_cache_capacity: 20_000,
            failure_burst: 20,
            failure_window_secs: 300,
        }
    }
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            per_key_per_second: 100,
            per_key_burst: 200,
            public_per_minute: 10,
            postbacks_per_address_per_second: 200,
            postbacks_per_program_per_second: 500,
            redirects_per_address_per_minute: 600,
        }
    }
}

/// Settings given in the environment as comma-separated lists.
const LIST_KEYS: &[&str] = &["cors.allowed_origins"];

impl GatewaySettings {
    pub fn load() -> anyhow::Result<Self> {
        Self::load_from(std::env::vars().collect())
    }

    /// As [`GatewaySettings::load`], from the given environment variables.
    pub fn load_from(vars: HashMap<String, String>) -> anyhow::Result<Self> {
        let mut settings: Self = layered(vars)?
            .try_deserialize()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        settings.adopt_old_names()?;
        Ok(settings)
    }

    /// `PRM_UPSTREAMS__CONNECT_TIMEOUT_MS` predates the list of upstreams
    /// (where it would name a service); it is still read, as
    /// `upstream.connect_timeout_ms`.
    fn adopt_old_names(&mut self) -> anyhow::Result<()> {
        if let Some(ms) = self.upstreams.remove("connect_timeout_ms") {
            self.upstream.connect_timeout_ms = ms.parse().map_err(|_| {
                anyhow::anyhow!(
                    "invalid configuration: upstreams.connect_timeout_ms is not a number"
                )
            })?;
        }
        Ok(())
    }

    /// The address of an upstream: its setting, or its default.
    pub fn upstream_address(&self, spec: &crate::upstream::UpstreamSpec) -> String {
        self.upstreams
            .get(spec.name)
            .cloned()
            .unwrap_or_else(|| spec.default_address())
    }
}

/// `prm-gateway check-config`: what the environment resolves to, and any
/// PRM_ variable the gateway does not read (an upstream other than
/// `upstreams` counts as unread).
pub fn check_config(upstreams: &[crate::upstream::UpstreamSpec]) -> anyhow::Result<()> {
    let cfg = layered(std::env::vars().collect())?;
    let mut settings: GatewaySettings = cfg
        .clone()
        .try_deserialize()
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
    settings.adopt_old_names()?;
    let mut unread = prm_runtime::config::unread_keys::<GatewaySettings>(&cfg)?;
    for name in settings.upstreams.keys() {
        if !upstreams.iter().any(|u| u.name == name) {
            unread.insert(format!("PRM_UPSTREAMS__{}", name.to_ascii_uppercase()));
        }
    }
    prm_runtime::cli::ConfigReport {
        listen_port: settings.http.port,
        drain_delay_ms: settings.http.drain_delay_ms,
        grace_period_secs: settings.http.grace_period_secs,
        unread: unread
            .into_iter()
            .filter(|k| k != "PRM_CONFIG_FILE")
            .collect(),
    }
    .finish()
}

fn layered(vars: HashMap<String, String>) -> anyhow::Result<config::Config> {
    Ok(prm_runtime::config::layers(
        config::Config::builder(),
        vars,
        LIST_KEYS,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn load(pairs: &[(&str, &str)]) -> GatewaySettings {
        GatewaySettings::load_from(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
        .expect("loads")
    }

    #[test]
    fn defaults_follow_the_port_table() {
        let s = load(&[]);
        assert_eq!(s.http.port, 8080);
        let onboarding = &crate::upstream::UpstreamSpec {
            name: "onboarding",
            default_port: 50051,
        };
        assert_eq!(s.upstream_address(onboarding), "http://127.0.0.1:50051");
        let moved = load(&[("PRM_UPSTREAMS__ONBOARDING", "http://prm-onboarding:50051")]);
        assert_eq!(
            moved.upstream_address(onboarding),
            "http://prm-onboarding:50051"
        );
        assert!(s.cors.allowed_origins.is_empty());
    }

    #[test]
    fn the_old_connect_timeout_name_still_works() {
        let s = load(&[("PRM_UPSTREAMS__CONNECT_TIMEOUT_MS", "750")]);
        assert_eq!(s.upstream.connect_timeout_ms, 750);
        assert!(s.upstreams.is_empty());
    }

    #[test]
    fn unread_variables_are_reported() {
        let cfg = layered(
            [("PRM_HTTP__PROT", "1"), ("PRM_HTTP__PORT", "2")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
        .expect("builds");
        let unread = prm_runtime::config::unread_keys::<GatewaySettings>(&cfg).expect("valid");
        assert_eq!(unread.into_iter().collect::<Vec<_>>(), ["PRM_HTTP__PROT"]);
    }

    #[test]
    fn partial_overrides_keep_the_other_defaults() {
        let s = load(&[
            ("PRM_TELEMETRY__LOG_FILTER", "warn"),
            ("PRM_HTTP__PORT", "9000"),
            ("PRM_AUTH__SERVICE_TOKEN", "123"),
            ("PRM_RATE_LIMIT__PER_KEY_BURST", "7"),
            (
                "PRM_CORS__ALLOWED_ORIGINS",
                "https://a.example,https://b.example",
            ),
        ]);
        assert_eq!(s.telemetry.log_filter, "warn");
        assert_eq!(s.telemetry.log_format, "json");
        assert_eq!(s.http.port, 9000);
        assert_eq!(s.http.body_limit_bytes, 64 * 1024);
        assert_eq!(s.auth.service_token.expose_secret(), "123");
        assert_eq!(s.rate_limit.per_key_burst, 7);
        assert_eq!(s.rate_limit.per_key_per_second, 100);
        assert_eq!(
            s.cors.allowed_origins,
            ["https://a.example", "https://b.example"]
        );
    }
}
