//! Layered configuration: built-in defaults, then an optional TOML file
//! (`PRM_CONFIG_FILE`), then environment variables prefixed `PRM_` with `__`
//! between levels, e.g. `PRM_DATABASE__URL` or `PRM_GRPC__PORT`.
//!
//! Only infrastructure settings live here. Business policy (SLA hours,
//! grace periods, ...) is per-program data that staff change through the API.

use secrecy::SecretString;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Which service is loading its settings; supplies the per-service defaults
/// (its port, its database name, its NATS stream).
#[derive(Clone, Copy, Debug)]
pub struct ServiceIdentity {
    /// Short name, e.g. "onboarding". Used in subjects, stream and consumer names.
    pub name: &'static str,
    /// The gRPC port from the platform's port table.
    pub default_grpc_port: u16,
}

/// Local defaults shared by `make up`, the test helpers and the Kubernetes base.
pub const DEFAULT_POSTGRES_PORT: u16 = 55432;
pub const DEFAULT_NATS_PORT: u16 = 54222;

/// Settings every service has.
#[derive(Clone, Debug, Deserialize)]
pub struct RuntimeSettings {
    pub grpc: GrpcSettings,
    pub database: DatabaseSettings,
    pub nats: NatsSettings,
    pub outbox: OutboxSettings,
    pub telemetry: TelemetrySettings,
    pub auth: AuthSettings,
}

#[derive(Clone, Debug, Deserialize)]
pub struct GrpcSettings {
    /// Address to bind. Kubernetes sets 0.0.0.0; locally we stay on loopback.
    pub host: String,
    /// 0 picks a free port (tests).
    pub port: u16,
    /// Deadline for a single request, unless the caller's is shorter.
    pub request_timeout_ms: u64,
    /// Requests in flight across all connections; more are refused with
    /// RESOURCE_EXHAUSTED rather than queued.
    pub concurrency_limit: usize,
    /// Connections are closed (gracefully) after this long, so clients
    /// re-resolve and spread over new replicas behind a Kubernetes Service.
    pub max_connection_age_secs: u64,
    /// After SIGTERM the service reports NOT_SERVING at once but keeps
    /// serving this long, so that load balancers and clients move away
    /// before it stops accepting connections.
    pub drain_delay_ms: u64,
    /// Once the drain delay has passed and the listener is closed: time
    /// allowed to finish in-flight requests, then flush the outbox.
    pub grace_period_secs: u64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct DatabaseSettings {
    pub url: SecretString,
    pub max_connections: u32,
    pub acquire_timeout_ms: u64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct NatsSettings {
    pub url: String,
    /// First token of every subject and the prefix of every stream name.
    /// "prm" in production; tests use a random one each, so they can share a
    /// NATS server without seeing each other's events.
    pub namespace: String,
    /// Optional token or user credentials for the NATS connection.
    pub token: Option<SecretString>,
    pub stream_replicas: usize,
    /// Limits-based retention. -1 is unlimited; 0 seconds is no age limit.
    pub stream_max_bytes: i64,
    pub stream_max_age_secs: u64,
    /// JetStream deduplicates equal `Nats-Msg-Id`s within this window.
    pub duplicate_window_secs: u64,
    /// A consumed event that keeps failing is set aside after this many deliveries.
    pub consumer_max_deliver: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct OutboxSettings {
    /// The relay polls this often even without a NOTIFY wake-up.
    pub poll_interval_ms: u64,
    pub batch_size: i64,
    /// How long to wait for the JetStream ack of a publish.
    pub publish_timeout_ms: u64,
    /// Published outbox rows and idempotency records are kept this long.
    pub retention_hours: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct TelemetrySettings {
    /// `tracing` filter directives, e.g. "info,sqlx=warn".
    pub log_filter: String,
    /// "json" (default) or "pretty".
    pub log_format: String,
    /// OTLP/gRPC collector endpoint with its scheme, e.g. "http://otel:4317".
    /// Export is off when unset.
    pub otlp_endpoint: Option<String>,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            log_filter: "info".into(),
            log_format: "json".into(),
            otlp_endpoint: None,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct AuthSettings {
    /// The credential every caller (the gateway, internal clients, other
    /// services) presents in `x-prm-service-token`.
    pub service_token: SecretString,
    /// Calls with a wrong service credential allowed from one address at
    /// once; beyond them the address is refused until one is forgiven.
    pub failure_burst: u32,
    /// The time over which a spent burst of failures is forgiven.
    pub failure_window_secs: u64,
}

/// The service credential used when none is configured. Local runs only:
/// the Kubernetes manifests take it from a Secret.
pub const LOCAL_SERVICE_TOKEN: &str = "local-dev-service-token";

fn defaults(
    builder: config::ConfigBuilder<config::builder::DefaultState>,
    id: ServiceIdentity,
) -> Result<config::ConfigBuilder<config::builder::DefaultState>, config::ConfigError> {
    builder
        .set_default("grpc.host", "127.0.0.1")?
        .set_default("grpc.port", i64::from(id.default_grpc_port))?
        .set_default("grpc.request_timeout_ms", 10_000)?
        .set_default("grpc.concurrency_limit", 512)?
        .set_default("grpc.max_connection_age_secs", 300)?
        .set_default("grpc.grace_period_secs", 20)?
        .set_default("grpc.drain_delay_ms", 5_000)?
        .set_default(
            "database.url",
            format!(
                "postgres://postgres@127.0.0.1:{DEFAULT_POSTGRES_PORT}/prm_{}",
                id.name
            ),
        )?
        .set_default("database.max_connections", 16)?
        .set_default("database.acquire_timeout_ms", 3_000)?
        .set_default("nats.url", format!("nats://127.0.0.1:{DEFAULT_NATS_PORT}"))?
        .set_default("nats.namespace", "prm")?
        .set_default("nats.stream_replicas", 1)?
        .set_default("nats.stream_max_bytes", -1)?
        .set_default("nats.stream_max_age_secs", 0)?
        .set_default("nats.duplicate_window_secs", 120)?
        .set_default("nats.consumer_max_deliver", 20)?
        .set_default("outbox.poll_interval_ms", 500)?
        .set_default("outbox.batch_size", 200)?
        .set_default("outbox.publish_timeout_ms", 5_000)?
        .set_default("outbox.retention_hours", 72)?
        .set_default("telemetry.log_filter", "info")?
        .set_default("telemetry.log_format", "json")?
        .set_default("auth.service_token", LOCAL_SERVICE_TOKEN)?
        .set_default("auth.failure_burst", 20)?
        .set_default("auth.failure_window_secs", 300)
}

/// The layers every PRM process reads, over `defaults`: an optional TOML
/// file named by `PRM_CONFIG_FILE`, then `PRM_` environment variables
/// (from `env`; tests cannot safely mutate the process environment).
/// `list_keys` are settings given in the environment as comma-separated
/// lists, e.g. `cors.allowed_origins`.
pub fn layers(
    defaults: config::ConfigBuilder<config::builder::DefaultState>,
    mut env: std::collections::HashMap<String, String>,
    list_keys: &[&str],
) -> Result<config::Config, config::ConfigError> {
    let mut builder = defaults;
    if let Some(path) = env.get("PRM_CONFIG_FILE") {
        builder = builder.add_source(config::File::with_name(path).required(true));
    }
    // Lists are split here rather than by `config`, whose list parsing
    // also turns every numeric-looking value (a secret such as "0123")
    // into a number.
    let mut lists = Vec::new();
    for key in list_keys {
        let var = format!("PRM_{}", key.replace('.', "__").to_ascii_uppercase());
        if let Some(value) = env.remove(&var) {
            let items: Vec<String> = value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            lists.push((*key, items));
        }
    }
    builder = builder.add_source(
        config::Environment::with_prefix("PRM")
            .prefix_separator("_")
            .separator("__")
            .source(Some(env.into_iter().collect())),
    );
    for (key, items) in lists {
        builder = builder.set_override(key, items)?;
    }
    builder.build()
}

/// Builds the layered configuration for a service from the process
/// environment.
pub fn layered(id: ServiceIdentity) -> Result<config::Config, config::ConfigError> {
    layered_from(id, None)
}

/// As [`layered`], reading environment variables from `env` instead of the
/// process when given.
pub fn layered_from(
    id: ServiceIdentity,
    env: Option<std::collections::HashMap<String, String>>,
) -> Result<config::Config, config::ConfigError> {
    let vars = env.unwrap_or_else(|| std::env::vars().collect());
    layers(defaults(config::Config::builder(), id)?, vars, &[])
}

/// Loads any settings struct from the layered configuration. A service
/// calls this once for [`RuntimeSettings`] and once for its own settings;
/// each struct ignores the other's keys.
pub fn load<T: DeserializeOwned>(id: ServiceIdentity) -> anyhow::Result<T> {
    let cfg = layered(id)?;
    cfg.try_deserialize::<T>()
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))
}

/// The configuration keys that none of `T`'s fields read, as environment
/// variable names (e.g. `PRM_GRPC__PROT`), so a deployment can be checked
/// against what the binary actually reads.
pub fn unread_keys<T: DeserializeOwned>(
    cfg: &config::Config,
) -> anyhow::Result<std::collections::BTreeSet<String>> {
    let mut unread = std::collections::BTreeSet::new();
    serde_ignored::deserialize(cfg.clone(), |path| {
        unread.insert(format!(
            "PRM_{}",
            path.to_string().replace('.', "__").to_ascii_uppercase()
        ));
    })
    .map(|_: T| ())
    .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
    Ok(unread)
}

/// The settings of a service that has none of its own beyond the
/// runtime's (`type Settings = NoSettings;`).
#[derive(Clone, Copy, Debug, Default, Deserialize)]
pub struct NoSettings {}

/// Everything a service process is configured with: the runtime's
/// settings, and the service's own (`S`), read from the same layers. Each
/// ignores the other's keys.
#[derive(Clone, Debug)]
pub struct ServiceSettings<S> {
    pub runtime: RuntimeSettings,
    pub service: S,
}

impl<S: DeserializeOwned> ServiceSettings<S> {
    pub fn load(id: ServiceIdentity) -> anyhow::Result<Self> {
        Ok(Self {
            runtime: RuntimeSettings::load(id)?,
            service: load(id)?,
        })
    }
}

impl RuntimeSettings {
    /// Loads the runtime settings from defaults, file and environment.
    pub fn load(id: ServiceIdentity) -> anyhow::Result<Self> {
        load(id)
    }

    /// The built-in defaults alone, ignoring file and environment (tests).
    pub fn defaults(id: ServiceIdentity) -> Self {
        defaults(config::Config::builder(), id)
            .and_then(|b| b.build())
            .and_then(|c| c.try_deserialize())
            .expect("built-in defaults deserialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    const ID: ServiceIdentity = ServiceIdentity {
        name: "onboarding",
        default_grpc_port: 50051,
    };

    #[test]
    fn defaults_follow_the_port_table() {
        let s = RuntimeSettings::defaults(ID);
        assert_eq!(s.grpc.port, 50051);
        assert_eq!(s.nats.namespace, "prm");
        assert!(s.database.url.expose_secret().ends_with("/prm_onboarding"));
        assert!(s.telemetry.otlp_endpoint.is_none());
    }

    #[test]
    fn environment_overrides_with_double_underscore() {
        let env = [
            ("PRM_GRPC__PORT", "6000"),
            ("PRM_AUTH__SERVICE_TOKEN", "123456"),
            ("PRM_NATS__NAMESPACE", "t1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let s: RuntimeSettings = layered_from(ID, Some(env))
            .and_then(|c| c.try_deserialize())
            .expect("loads");
        assert_eq!(s.grpc.port, 6000);
        assert_eq!(s.nats.namespace, "t1");
        // A numeric-looking secret stays a string.
        assert_eq!(s.auth.service_token.expose_secret(), "123456");
    }
}
