//! Idempotent event consumers.
//!
//! A consumer is a durable JetStream pull consumer named after the consuming
//! service, on the producer's stream. For each message it records the event
//! id in the `inbox` table in the same transaction as the handler's effect,
//! commits, and only then acks. A redelivery (after a crash between commit
//! and ack, a lost ack, or a republish beyond the duplicate window) finds
//! the id already recorded and changes nothing. Unknown event types are
//! acknowledged and ignored. An event that keeps failing is set aside in
//! `inbox_dead_letters` after `nats.consumer_max_deliver` deliveries.
//!
//! Several replicas can share one durable consumer: JetStream spreads the
//! messages, and the inbox keeps the effect single.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::pull};
use futures::StreamExt;
use prm_proto::events::EventEnvelope;
use prost::{Message, Name};
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

use crate::config::NatsSettings;
use crate::nats::Subjects;
use crate::telemetry::adopt_parent_from_map;

enum ConsumeError {
    /// The source stream does not exist (yet).
    NoStream(anyhow::Error),
    Other(anyhow::Error),
}

/// An event as a consumer sees it.
#[derive(Clone, Debug)]
pub struct ReceivedEvent {
    pub event_id: Uuid,
    pub subject: String,
    pub envelope: EventEnvelope,
}

impl ReceivedEvent {
    /// Whether the payload is an `M`.
    pub fn is<M: Name>(&self) -> bool {
        self.envelope.r#type == M::full_name()
    }

    pub fn decode<M: Message + Default>(&self) -> anyhow::Result<M> {
        M::decode(self.envelope.payload.as_slice())
            .map_err(|e| anyhow::anyhow!("event {} payload: {e}", self.event_id))
    }

    pub fn partner_id(&self) -> Option<Uuid> {
        Uuid::parse_str(&self.envelope.partner_id).ok()
    }
}

/// What a consuming service does with an event, inside the inbox transaction.
#[async_trait::async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// Applies the event's effect in `tx`. Return `Ok(())` for event types
    /// the service does not know: they are acknowledged and skipped.
    async fn handle(&self, tx: &mut PgConnection, event: &ReceivedEvent) -> anyhow::Result<()>;

    /// Whether events of this type (`EventEnvelope.type`) have an effect.
    /// Others are acknowledged without a transaction or an inbox row: a
    /// stream carries many events a consumer has no use for (onboarding
    /// reads every deal event, and acts on two). All, by default.
    fn wants(&self, _event_type: &str) -> bool {
        true
    }
}

/// Which stream a consumer reads and what it is called.
#[derive(Clone, Debug)]
pub struct ConsumerSpec {
    /// The consuming service; also the durable consumer's name.
    pub consumer: &'static str,
    /// The producing service whose stream is read.
    pub source: &'static str,
    /// `<entity>.<verb>` pattern within the source's subjects, e.g. "deal.*";
    /// `None` takes the whole stream. One filter per consumer, which every
    /// NATS server version honours.
    pub filter: Option<&'static str>,
}

impl ConsumerSpec {
    /// `consumer` reads the `<entity>.<verb>` subjects of `source`'s stream
    /// that match `filter`, e.g. `ConsumerSpec::new("onboarding", "dealreg", "deal.*")`.
    pub fn new(consumer: &'static str, source: &'static str, filter: &'static str) -> Self {
        Self {
            consumer,
            source,
            filter: Some(filter),
        }
    }
}

#[derive(Debug, Default)]
pub struct ConsumerStats {
    /// Events whose effect was applied.
    pub applied: AtomicU64,
    /// Deliveries of events already in the inbox.
    pub redeliveries: AtomicU64,
    pub failures: AtomicU64,
    pub dead_lettered: AtomicU64,
    /// Events of types the handler has no use for, acknowledged untouched.
    pub ignored: AtomicU64,
}

pub struct IdempotentConsumer {
    pool: PgPool,
    js: jetstream::Context,
    subjects: Subjects,
    spec: ConsumerSpec,
    handler: Arc<dyn EventHandler>,
    max_deliver: i64,
    stats: Arc<ConsumerStats>,
}

impl IdempotentConsumer {
    pub fn new(
        pool: PgPool,
        client: async_nats::Client,
        subjects: Subjects,
        spec: ConsumerSpec,
        handler: Arc<dyn EventHandler>,
        settings: &NatsSettings,
    ) -> Self {
        Self {
            pool,
            js: crate::nats::jetstream(client),
            subjects,
            spec,
            handler,
            max_deliver: settings.consumer_max_deliver.max(1),
            stats: Arc::new(ConsumerStats::default()),
        }
    }

    /// The producing service whose stream this consumer reads.
    pub fn source(&self) -> &'static str {
        self.spec.source
    }

    pub fn stats(&self) -> Arc<ConsumerStats> {
        self.stats.clone()
    }

    /// Consumes until `shutdown`. A missing stream (its producer not deployed
    /// yet) or a NATS outage is retried with backoff.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(200);
        let mut waiting_for_stream = false;
        loop {
            match self.consume(&shutdown).await {
                Ok(()) => return,
                Err(ConsumeError::NoStream(e)) => {
                    // Normal while the producing service is not deployed yet:
                    // say so once, then quietly keep checking.
                    if !waiting_for_stream {
                        tracing::info!(consumer = self.spec.consumer, source = self.spec.source, error = %e,
                            "waiting for the source stream to exist");
                        waiting_for_stream = true;
                    } else {
                        tracing::debug!(
                            consumer = self.spec.consumer,
                            source = self.spec.source,
                            "source stream still missing"
                        );
                    }
                }
                Err(ConsumeError::Other(e)) => {
                    waiting_for_stream = false;
                    tracing::warn!(
                        consumer = self.spec.consumer,
                        source = self.spec.source,
                        error = %e,
                        "event consumer interrupted; retrying"
                    );
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = shutdown.cancelled() => return,
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }

    async fn consume(&self, shutdown: &CancellationToken) -> Result<(), ConsumeError> {
        let stream_name = self.subjects.stream_name(self.spec.source);
        let stream = self.js.get_stream(&stream_name).await.map_err(|e| {
            let missing = matches!(e.kind(), jetstream::context::GetStreamErrorKind::JetStream(js)
                if js.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND);
            if missing {
                ConsumeError::NoStream(anyhow::anyhow!("stream {stream_name}: {e}"))
            } else {
                ConsumeError::Other(anyhow::anyhow!("stream {stream_name}: {e}"))
            }
        })?;
        let filter_subject = match self.spec.filter {
            Some(f) => self.subjects.subject(self.spec.source, f),
            None => String::new(),
        };
        let consumer: jetstream::consumer::Consumer<pull::Config> = stream
            .get_or_create_consumer(
                self.spec.consumer,
                pull::Config {
                    durable_name: Some(self.spec.consumer.to_owned()),
                    description: Some(format!(
                        "{} reacting to {}",
                        self.spec.consumer, self.spec.source
                    )),
                    filter_subject,
                    ack_policy: jetstream::consumer::AckPolicy::Explicit,
                    deliver_policy: jetstream::consumer::DeliverPolicy::All,
                    ack_wait: Duration::from_secs(30),
                    max_ack_pending: 1_000,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| {
                ConsumeError::Other(anyhow::anyhow!("consumer {}: {e}", self.spec.consumer))
            })?;
        let mut messages = consumer.messages().await.map_err(|e| {
            ConsumeError::Other(anyhow::anyhow!(
                "consumer {} messages: {e}",
                self.spec.consumer
            ))
        })?;
        loop {
            tokio::select! {
                next = messages.next() => match next {
                    Some(Ok(msg)) => self.process(msg).await,
                    Some(Err(e)) => return Err(ConsumeError::Other(anyhow::anyhow!("message stream: {e}"))),
                    None => return Err(ConsumeError::Other(anyhow::anyhow!("message stream ended"))),
                },
                _ = shutdown.cancelled() => return Ok(()),
            }
        }
    }

    async fn process(&self, msg: jetstream::Message) {
        let delivered = msg.info().map(|i| i.delivered).unwrap_or(1);
        let envelope = match EventEnvelope::decode(msg.payload.as_ref()) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(subject = %msg.subject, error = %e, "undecodable event; terminating it");
                let _ = msg.ack_with(AckKind::Term).await;
                return;
            }
        };
        let Ok(event_id) = Uuid::parse_str(&envelope.event_id) else {
            tracing::error!(subject = %msg.subject, "event without a valid id; terminating it");
            let _ = msg.ack_with(AckKind::Term).await;
            return;
        };
        if !self.handler.wants(&envelope.r#type) {
            self.stats.ignored.fetch_add(1, Ordering::Relaxed);
            if let Err(e) = msg.double_ack().await {
                tracing::debug!(error = %e, "ack of an ignored event failed; it will come again");
            }
            return;
        }
        let event = ReceivedEvent {
            event_id,
            subject: msg.subject.to_string(),
            envelope,
        };
        let span = tracing::info_span!(
            "event.consume",
            otel.kind = "consumer",
            consumer = self.spec.consumer,
            event_id = %event.event_id,
            event_type = %event.envelope.r#type,
        );
        if let Some(headers) = &msg.headers {
            let map: HashMap<String, String> = headers
                .iter()
                .filter_map(|(k, v)| v.first().map(|v| (k.to_string(), v.as_str().to_owned())))
                .collect();
            adopt_parent_from_map(&span, &map);
        }
        let result = self.apply(&event).instrument(span.clone()).await;
        let _guard = span.enter();
        match result {
            Ok(applied) => {
                if applied {
                    self.stats.applied.fetch_add(1, Ordering::Relaxed);
                } else {
                    self.stats.redeliveries.fetch_add(1, Ordering::Relaxed);
                }
                // The effect is committed; if this ack is lost the redelivery
                // finds the inbox row and changes nothing.
                if let Err(e) = msg.double_ack().await {
                    tracing::warn!(error = %e, "ack failed; the event will be redelivered and skipped");
                }
            }
            Err(e) => {
                self.stats.failures.fetch_add(1, Ordering::Relaxed);
                // An unreachable database is an outage, not a bad event:
                // never set an event aside for that, however often it fails.
                if delivered >= self.max_deliver && crate::db::ping(&self.pool).await {
                    tracing::error!(error = ?e, delivered, "event failed too often; dead-lettering it");
                    if let Err(db) = self.dead_letter(&event, &msg, &e, delivered).await {
                        tracing::error!(error = %db, "recording the dead letter failed; it will be redelivered");
                        let _ = msg
                            .ack_with(AckKind::Nak(Some(Duration::from_secs(30))))
                            .await;
                        return;
                    }
                    self.stats.dead_lettered.fetch_add(1, Ordering::Relaxed);
                    let _ = msg.ack_with(AckKind::Term).await;
                } else {
                    tracing::warn!(error = ?e, delivered, "event handler failed; it will be redelivered");
                    let delay = Duration::from_millis((250 * delivered.max(1) as u64).min(30_000));
                    let _ = msg.ack_with(AckKind::Nak(Some(delay))).await;
                }
            }
        }
    }

    /// Returns whether the effect was applied (false: a redelivery).
    async fn apply(&self, event: &ReceivedEvent) -> anyhow::Result<bool> {
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO inbox (consumer, event_id, subject) VALUES ($1, $2, $3)
             ON CONFLICT (consumer, event_id) DO NOTHING",
        )
        .bind(self.spec.consumer)
        .bind(event.event_id)
        .bind(&event.subject)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        self.handler.handle(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn dead_letter(
        &self,
        event: &ReceivedEvent,
        msg: &jetstream::Message,
        error: &anyhow::Error,
        delivered: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO inbox_dead_letters (consumer, event_id, subject, envelope, error, deliveries)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (consumer, event_id) DO UPDATE
             SET error = EXCLUDED.error, deliveries = EXCLUDED.deliveries, failed_at = now()",
        )
        .bind(self.spec.consumer)
        .bind(event.event_id)
        .bind(&event.subject)
        .bind(msg.payload.to_vec())
        .bind(format!("{error:#}"))
        .bind(delivered)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
