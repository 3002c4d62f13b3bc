//! NATS JetStream: the connection, subject and stream naming, and streams.
//!
//! Subjects are `<namespace>.<service>.<entity>.<verb>`; with the production
//! namespace "prm" that is `prm.dealreg.deal.won`. Each producer owns one
//! stream holding `<namespace>.<service>.>`, named `<NAMESPACE>_<SERVICE>`.
//! Tests give every test its own namespace, so they can share one server.

use std::time::Duration;

use async_nats::jetstream::{self, stream};
use secrecy::ExposeSecret;

use crate::config::NatsSettings;

/// Subject and stream names within one namespace.
#[derive(Clone, Debug)]
pub struct Subjects {
    namespace: String,
}

impl Subjects {
    pub fn new(namespace: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
        }
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// `prm.onboarding.partner.approved` for ("onboarding", "partner.approved").
    pub fn subject(&self, service: &str, entity_verb: &str) -> String {
        format!("{}.{service}.{entity_verb}", self.namespace)
    }

    /// Everything a service publishes: `prm.onboarding.>`.
    pub fn service_wildcard(&self, service: &str) -> String {
        format!("{}.{service}.>", self.namespace)
    }

    /// The stream a service publishes into, e.g. `PRM_ONBOARDING`.
    pub fn stream_name(&self, service: &str) -> String {
        format!("{}_{service}", self.namespace)
            .to_ascii_uppercase()
            .replace(['.', '-', ' ', '*', '>'], "_")
    }
}

/// Connects in the background: the client is returned at once and keeps
/// (re)connecting, so a service can start while NATS is still down.
pub async fn connect(
    settings: &NatsSettings,
    client_name: &str,
) -> anyhow::Result<async_nats::Client> {
    let mut opts = async_nats::ConnectOptions::new()
        .name(client_name)
        .retry_on_initial_connect()
        .max_reconnects(None)
        .connection_timeout(Duration::from_secs(2))
        .reconnect_delay_callback(|attempts| {
            Duration::from_millis((100 * attempts as u64).min(2_000))
        });
    if let Some(token) = &settings.token {
        opts = opts.token(token.expose_secret().to_owned());
    }
    opts.connect(server_addrs(&settings.url)?)
        .await
        .map_err(|e| anyhow::anyhow!("NATS connection to {} failed: {e}", settings.url))
}

/// `nats.url` may list a cluster's servers, comma-separated.
pub fn server_addrs(url: &str) -> anyhow::Result<Vec<async_nats::ServerAddr>> {
    url.split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|u| {
            u.parse::<async_nats::ServerAddr>()
                .map_err(|e| anyhow::anyhow!("nats.url entry {u:?} is not a NATS address: {e}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()
        .and_then(|v| {
            anyhow::ensure!(!v.is_empty(), "nats.url is empty");
            Ok(v)
        })
}

pub fn jetstream(client: async_nats::Client) -> jetstream::Context {
    jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(5))
        .build(client)
}

/// The stream configuration of a producer's stream: limits-based
/// retention, file storage, no age limit unless configured, so read models
/// can be rebuilt by replay.
pub fn stream_config(
    subjects: &Subjects,
    service: &str,
    settings: &NatsSettings,
) -> stream::Config {
    stream::Config {
        name: subjects.stream_name(service),
        subjects: vec![subjects.service_wildcard(service)],
        retention: stream::RetentionPolicy::Limits,
        storage: stream::StorageType::File,
        num_replicas: settings.stream_replicas.max(1),
        max_bytes: settings.stream_max_bytes,
        max_age: Duration::from_secs(settings.stream_max_age_secs),
        duplicate_window: Duration::from_secs(settings.duplicate_window_secs.max(1)),
        description: Some(format!("Domain events published by the {service} service")),
        ..Default::default()
    }
}

/// Creates the producer's stream, or updates it to the configured limits.
pub async fn ensure_stream(
    js: &jetstream::Context,
    subjects: &Subjects,
    service: &str,
    settings: &NatsSettings,
) -> anyhow::Result<()> {
    let config = stream_config(subjects, service, settings);
    js.create_or_update_stream(config)
        .await
        .map_err(|e| anyhow::anyhow!("ensuring stream for {service}: {e}"))?;
    Ok(())
}

pub fn is_connected(client: &async_nats::Client) -> bool {
    client.connection_state() == async_nats::connection::State::Connected
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_design() {
        let s = Subjects::new("prm");
        assert_eq!(s.subject("dealreg", "deal.won"), "prm.dealreg.deal.won");
        assert_eq!(s.service_wildcard("onboarding"), "prm.onboarding.>");
        assert_eq!(s.stream_name("onboarding"), "PRM_ONBOARDING");
        assert_eq!(Subjects::new("t-1a").stream_name("mdf"), "T_1A_MDF");
    }

    #[test]
    fn a_cluster_url_lists_every_server() {
        let addrs = server_addrs(
            "nats://nats-0.nats:4222, nats://nats-1.nats:4222,nats://nats-2.nats:4222",
        )
        .expect("parses");
        assert_eq!(addrs.len(), 3);
        assert!(server_addrs("").is_err());
    }
}
