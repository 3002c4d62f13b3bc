//! The gateway's settings: `PRM_` environment variables with `__` between
//! levels (e.g. `PRM_HTTP__PORT`, `PRM_UPSTREAMS__ONBOARDING`), over an
//! optional `PRM_CONFIG_FILE`, over these defaults.

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct GatewaySettings {
    pub http: HttpSettings,
    pub upstreams: Upstreams,
    pub auth: AuthSettings,
    pub rate_limit: RateLimitSettings,
    pub cors: CorsSettings,
    pub telemetry: prm_runtime::config::TelemetrySettings,
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
    /// Time allowed after SIGTERM to finish in-flight requests.
    pub grace_period_secs: u64,
    /// Take the client address from `X-Forwarded-For` (behind a trusted
    /// load balancer); otherwise the TCP peer address is used.
    pub trust_forwarded_for: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct Upstreams {
    /// gRPC address of the onboarding service.
    pub onboarding: String,
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
    /// Upper bound on cached keys.
    pub cache_capacity: usize,
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
            grace_period_secs: 20,
            trust_forwarded_for: false,
        }
    }
}

impl Default for Upstreams {
    fn default() -> Self {
        Self {
            onboarding: "http://127.0.0.1:50051".into(),
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
        }
    }
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            per_key_per_second: 100,
            per_key_burst: 200,
            public_per_minute: 10,
        }
    }
}

impl GatewaySettings {
    pub fn load() -> anyhow::Result<Self> {
        Self::load_from(std::env::vars().collect())
    }

    /// As [`GatewaySettings::load`], from the given environment variables.
    pub fn load_from(vars: std::collections::HashMap<String, String>) -> anyhow::Result<Self> {
        layered(vars)?
            .try_deserialize()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))
    }
}

/// `prm-gateway check-config`: what the environment resolves to, and any
/// PRM_ variable the gateway does not read.
pub fn check_config() -> anyhow::Result<()> {
    let cfg = layered(std::env::vars().collect())?;
    let settings: GatewaySettings = cfg
        .clone()
        .try_deserialize()
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
    let unread = prm_runtime::config::unread_keys::<GatewaySettings>(&cfg)?;
    prm_runtime::cli::ConfigReport {
        listen_port: settings.http.port,
        grace_period_secs: settings.http.grace_period_secs,
        unread: unread
            .into_iter()
            .filter(|k| k != "PRM_CONFIG_FILE")
            .collect(),
    }
    .finish()
}

fn layered(vars: std::collections::HashMap<String, String>) -> anyhow::Result<config::Config> {
    let mut builder = config::Config::builder();
    if let Some(path) = vars.get("PRM_CONFIG_FILE") {
        builder = builder.add_source(config::File::with_name(path).required(true));
    }
    Ok(builder
        .add_source(
            config::Environment::with_prefix("PRM")
                .prefix_separator("_")
                .separator("__")
                .list_separator(",")
                .with_list_parse_key("cors.allowed_origins")
                .try_parsing(true)
                .source(Some(vars.into_iter().collect())),
        )
        .build()?)
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
        assert_eq!(s.upstreams.onboarding, "http://127.0.0.1:50051");
        assert!(s.cors.allowed_origins.is_empty());
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
