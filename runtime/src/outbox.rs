//! The transactional outbox and its relay.
//!
//! A handler calls [`Outbox::stage`] inside the transaction that changes
//! state, so the event exists exactly when the change does. The
//! [`OutboxRelay`] publishes unpublished rows to JetStream with
//! `Nats-Msg-Id` = event id, waits for each ack, and only then marks rows
//! published. It keeps retrying through a NATS outage and resumes after a
//! restart, because the rows themselves are the queue.
//!
//! Replica safety: a relay holds a transaction-scoped advisory lock while it
//! publishes a batch, so with several replicas exactly one relays at a time
//! and events leave in commit order of their ids. It never reads "after the
//! last id seen": a row whose id was allocated earlier but committed later
//! is still unpublished, and is picked up by the next scan. NOTIFY only
//! wakes the relay early; it also polls.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, message::PublishMessage};
use bytes::Bytes;
use prm_proto::events::EventEnvelope;
use prost::{Message, Name};
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::Clock;
use crate::config::{NatsSettings, OutboxSettings};
use crate::db::advisory_key;
use crate::nats::{Subjects, ensure_stream, is_connected};
use crate::telemetry::current_trace_context;

/// What an event is about, besides its payload.
#[derive(Clone, Debug)]
pub struct EventMeta {
    /// `<entity>.<verb>`, e.g. "partner.approved".
    pub entity_verb: &'static str,
    pub partner_id: Option<Uuid>,
    pub aggregate_type: &'static str,
    pub aggregate_id: Uuid,
    /// The aggregate's version after the change.
    pub aggregate_version: i64,
}

/// What events are about: an entity with an identity and a version that
/// every change to it bumps. Event metadata takes both from the aggregate
/// itself, so a consumer can order the events of one aggregate. A row
/// declares it with [`aggregate!`](crate::aggregate).
pub trait Aggregate {
    /// e.g. "partner"; the envelope's `aggregate_type`.
    const TYPE: &'static str;
    fn aggregate_id(&self) -> Uuid;
    /// The version after the change the event announces.
    fn aggregate_version(&self) -> i64;
    /// The partner the aggregate belongs to, if any.
    fn partner_id(&self) -> Option<Uuid>;
}

/// Implements [`Aggregate`] for a row with an `id: Uuid` and a
/// `version` (an `i64` or `i32`), naming its type and the partner it belongs to: a field
/// (`partner = partner_id`), an optional field
/// (`partner = optional partner_id`), itself (`partner = id`, a partner)
/// or none (`partner = none`):
///
/// ```ignore
/// prm_runtime::aggregate!(RegistrationRow: "deal_registration", partner = partner_id);
/// ```
#[macro_export]
macro_rules! aggregate {
    ($row:ty : $type:literal, partner = none) => {
        $crate::aggregate!(@impl $row, $type, |_row| ::core::option::Option::None);
    };
    ($row:ty : $type:literal, partner = optional $field:ident) => {
        $crate::aggregate!(@impl $row, $type, |row| row.$field);
    };
    ($row:ty : $type:literal, partner = $field:ident) => {
        $crate::aggregate!(@impl $row, $type, |row| ::core::option::Option::Some(row.$field));
    };
    (@impl $row:ty, $type:literal, |$r:ident| $partner:expr) => {
        impl $crate::Aggregate for $row {
            const TYPE: &'static str = $type;
            fn aggregate_id(&self) -> $crate::__private::Uuid {
                self.id
            }
            fn aggregate_version(&self) -> i64 {
                i64::from(self.version)
            }
            fn partner_id(&self) -> ::core::option::Option<$crate::__private::Uuid> {
                let $r = self;
                $partner
            }
        }
    };
}

impl EventMeta {
    /// Metadata for an event about `aggregate`, as it is after the change.
    pub fn of<A: Aggregate>(entity_verb: &'static str, aggregate: &A) -> Self {
        Self {
            entity_verb,
            partner_id: aggregate.partner_id(),
            aggregate_type: A::TYPE,
            aggregate_id: aggregate.aggregate_id(),
            aggregate_version: aggregate.aggregate_version(),
        }
    }
}

/// Writes a service's events into its outbox, dated by its clock.
#[derive(Clone, Debug)]
pub struct Outbox {
    producer: &'static str,
    subjects: Subjects,
    clock: Clock,
}

impl Outbox {
    pub fn new(producer: &'static str, subjects: Subjects, clock: Clock) -> Self {
        Self {
            producer,
            subjects,
            clock,
        }
    }

    pub fn producer(&self) -> &'static str {
        self.producer
    }

    /// Stages `<entity>.<verb>` about `aggregate` (as it is after the
    /// change) in the caller's transaction. Returns the event id.
    pub async fn stage_for<A: Aggregate, M: Message + Name>(
        &self,
        tx: &mut PgConnection,
        entity_verb: &'static str,
        aggregate: &A,
        payload: &M,
    ) -> Result<Uuid, sqlx::Error> {
        self.stage(tx, EventMeta::of(entity_verb, aggregate), payload)
            .await
    }

    /// Stages an event in the caller's transaction. Returns its id.
    pub async fn stage<M: Message + Name>(
        &self,
        tx: &mut PgConnection,
        meta: EventMeta,
        payload: &M,
    ) -> Result<Uuid, sqlx::Error> {
        let event_id = Uuid::now_v7();
        let now = self.clock.now();
        let envelope = EventEnvelope {
            event_id: event_id.to_string(),
            r#type: M::full_name(),
            occurred_at: Some(crate::wire::timestamp(now)),
            producer: self.producer.to_owned(),
            partner_id: meta.partner_id.map(|p| p.to_string()).unwrap_or_default(),
            aggregate_type: meta.aggregate_type.to_owned(),
            aggregate_id: meta.aggregate_id.to_string(),
            aggregate_version: meta.aggregate_version,
            payload: payload.encode_to_vec(),
        };
        let trace = serde_json::to_value(current_trace_context()).unwrap_or_default();
        sqlx::query(
            "INSERT INTO outbox (event_id, subject, envelope, trace_context) VALUES ($1, $2, $3, $4)",
        )
        .bind(event_id)
        .bind(self.subjects.subject(self.producer, meta.entity_verb))
        .bind(envelope.encode_to_vec())
        .bind(trace)
        .execute(&mut *tx)
        .await?;
        Ok(event_id)
    }
}

/// Counters the relay keeps, for metrics and tests.
#[derive(Debug, Default)]
pub struct RelayStats {
    /// Events acked by JetStream and marked published.
    pub published: AtomicU64,
    /// Publishes JetStream acked as duplicates of an earlier `Nats-Msg-Id`.
    pub duplicates: AtomicU64,
    /// Batches that failed (NATS unreachable, ack timeout, database error).
    pub failed_batches: AtomicU64,
}

#[derive(sqlx::FromRow)]
struct PendingEvent {
    id: i64,
    event_id: Uuid,
    subject: String,
    envelope: Vec<u8>,
    trace_context: serde_json::Value,
}

/// Publishes a service's outbox to its JetStream stream.
pub struct OutboxRelay {
    pool: PgPool,
    client: async_nats::Client,
    js: jetstream::Context,
    subjects: Subjects,
    producer: &'static str,
    nats: NatsSettings,
    settings: OutboxSettings,
    stats: Arc<RelayStats>,
    lock_key: i64,
}

enum BatchOutcome {
    /// This many events were published.
    Published(usize),
    /// Another replica holds the relay lock.
    Busy,
}

impl OutboxRelay {
    pub fn new(
        pool: PgPool,
        client: async_nats::Client,
        subjects: Subjects,
        producer: &'static str,
        nats: NatsSettings,
        settings: OutboxSettings,
    ) -> Self {
        let js = crate::nats::jetstream(client.clone());
        Self {
            pool,
            client,
            js,
            subjects,
            producer,
            nats,
            settings,
            stats: Arc::new(RelayStats::default()),
            lock_key: advisory_key("prm.outbox.relay"),
        }
    }

    pub fn stats(&self) -> Arc<RelayStats> {
        self.stats.clone()
    }

    /// Relays until `shutdown` fires, then makes one last bounded attempt
    /// to flush what is pending.
    pub async fn run(self, shutdown: CancellationToken) {
        let poll = Duration::from_millis(self.settings.poll_interval_ms.max(10));
        let mut listener = None;
        let mut backoff = Duration::from_millis(100);
        let mut stream_ready = false;
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            if listener.is_none() {
                listener = self.listen().await;
            }
            if !stream_ready && is_connected(&self.client) {
                match ensure_stream(&self.js, &self.subjects, self.producer, &self.nats).await {
                    Ok(()) => stream_ready = true,
                    Err(e) => {
                        tracing::warn!(error = %e, "outbox relay cannot ensure its stream yet")
                    }
                }
            }
            let outcome = if stream_ready {
                self.publish_batch().await
            } else {
                Err(anyhow::anyhow!("NATS is not connected"))
            };
            match outcome {
                Ok(BatchOutcome::Published(n)) if n as i64 >= self.settings.batch_size => {
                    backoff = Duration::from_millis(100);
                    continue;
                }
                Ok(_) => backoff = Duration::from_millis(100),
                Err(e) => {
                    self.stats.failed_batches.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "outbox relay batch failed");
                    // Re-check the stream next time: it may have been
                    // deleted, or NATS restarted without its store.
                    stream_ready = false;
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = shutdown.cancelled() => break,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            }
            // Idle: wait for a NOTIFY, the poll interval, or shutdown.
            let notified = async {
                match listener.as_mut() {
                    Some(l) => l.recv().await.map(|_| ()),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                r = notified => if r.is_err() { listener = None },
                _ = tokio::time::sleep(poll) => {}
                _ = shutdown.cancelled() => break,
            }
        }
        // Flush: publish what is pending, within the publish timeout.
        let deadline = Duration::from_millis(self.settings.publish_timeout_ms);
        match tokio::time::timeout(deadline, self.drain()).await {
            Ok(Ok(n)) if n > 0 => tracing::info!(published = n, "outbox flushed on shutdown"),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "outbox flush on shutdown failed; rows stay for the next start")
            }
            Err(_) => {
                tracing::warn!("outbox flush on shutdown timed out; rows stay for the next start")
            }
            _ => {}
        }
    }

    async fn drain(&self) -> anyhow::Result<usize> {
        let mut total = 0;
        if !is_connected(&self.client) {
            return Ok(0);
        }
        loop {
            match self.publish_batch().await? {
                BatchOutcome::Published(0) | BatchOutcome::Busy => return Ok(total),
                BatchOutcome::Published(n) => total += n,
            }
        }
    }

    async fn listen(&self) -> Option<sqlx::postgres::PgListener> {
        let mut l = sqlx::postgres::PgListener::connect_with(&self.pool)
            .await
            .ok()?;
        l.listen("prm_outbox").await.ok()?;
        Some(l)
    }

    /// Publishes one batch of pending events under the relay lock.
    async fn publish_batch(&self) -> anyhow::Result<BatchOutcome> {
        if !is_connected(&self.client) {
            // Publishing now would only buffer in the client; wait instead.
            anyhow::bail!("NATS is not connected");
        }
        let mut tx = self.pool.begin().await?;
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(self.lock_key)
            .fetch_one(&mut *tx)
            .await?;
        if !locked {
            return Ok(BatchOutcome::Busy);
        }
        let rows: Vec<PendingEvent> = sqlx::query_as(
            "SELECT id, event_id, subject, envelope, trace_context FROM outbox
             WHERE published_at IS NULL ORDER BY id LIMIT $1",
        )
        .bind(self.settings.batch_size)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(BatchOutcome::Published(0));
        }

        // Send the whole batch, then collect the acks: one round trip of
        // latency per batch instead of per event.
        let mut pending_acks = Vec::with_capacity(rows.len());
        let mut send_error = None;
        for row in &rows {
            let mut headers = HeaderMap::new();
            if let Ok(map) =
                serde_json::from_value::<HashMap<String, String>>(row.trace_context.clone())
            {
                for (k, v) in map {
                    if let Ok(value) = <async_nats::HeaderValue as std::str::FromStr>::from_str(&v)
                    {
                        headers.insert(k.as_str(), value);
                    }
                }
            }
            // Headers first: `headers()` replaces the map, so setting it after
            // `message_id()` would drop the Nats-Msg-Id deduplication header.
            let msg = PublishMessage::build()
                .headers(headers)
                .message_id(row.event_id.to_string())
                .payload(Bytes::from(row.envelope.clone()));
            match self.js.send_publish(row.subject.clone(), msg).await {
                Ok(ack) => pending_acks.push((row.id, ack)),
                Err(e) => {
                    send_error = Some(anyhow::anyhow!("publish {}: {e}", row.event_id));
                    break;
                }
            }
        }
        let timeout = Duration::from_millis(self.settings.publish_timeout_ms);
        let mut acked = Vec::with_capacity(pending_acks.len());
        let mut ack_error = None;
        for (id, ack) in pending_acks {
            match tokio::time::timeout(timeout, ack).await {
                Ok(Ok(ack)) => {
                    if ack.duplicate {
                        self.stats.duplicates.fetch_add(1, Ordering::Relaxed);
                    }
                    acked.push(id);
                }
                Ok(Err(e)) => {
                    ack_error.get_or_insert_with(|| anyhow::anyhow!("JetStream ack: {e}"));
                }
                Err(_) => {
                    ack_error.get_or_insert_with(|| anyhow::anyhow!("JetStream ack timed out"));
                }
            }
        }
        if !acked.is_empty() {
            sqlx::query("UPDATE outbox SET published_at = now() WHERE id = ANY($1)")
                .bind(&acked)
                .execute(&mut *tx)
                .await?;
        }
        let failed: Vec<i64> = rows
            .iter()
            .map(|r| r.id)
            .filter(|id| !acked.contains(id))
            .collect();
        let error = send_error.or(ack_error);
        if let Some(e) = &error
            && !failed.is_empty()
        {
            sqlx::query(
                "UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1)",
            )
            .bind(&failed)
            .bind(e.to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.stats
            .published
            .fetch_add(acked.len() as u64, Ordering::Relaxed);
        match error {
            Some(e) => Err(e),
            None => Ok(BatchOutcome::Published(acked.len())),
        }
    }
}

/// Deletes published rows older than `retention`; unpublished rows are kept
/// whatever their age.
pub async fn purge_published(pool: &PgPool, retention: Duration) -> Result<u64, sqlx::Error> {
    let secs = retention.as_secs() as f64;
    Ok(sqlx::query(
        "DELETE FROM outbox WHERE published_at IS NOT NULL
         AND published_at < now() - make_interval(secs => $1)",
    )
    .bind(secs)
    .execute(pool)
    .await?
    .rows_affected())
}

/// Unpublished outbox rows (a readiness and alerting signal).
pub async fn backlog(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        .fetch_one(pool)
        .await
}
