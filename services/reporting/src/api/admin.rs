//! Operating the read models: how far behind each stream they are, and
//! rebuilding them by replay.

use std::sync::atomic::Ordering;

use async_nats::jetstream;
use prm_proto::events as ev;
use prm_proto::events::EventEnvelope;
use prm_proto::reporting::*;
use prm_runtime::wire::from_timestamp;
use prm_runtime::{ApiError, CallContext, EventMeta, Idempotency, begin_or_replay};
use prost::Message;
use uuid::Uuid;

use super::Reporting;
use super::scorecards::require_staff;
use crate::config::IDENTITY;
use crate::domain::access::REBUILD;
use crate::events::SOURCES;
use crate::store;

impl Reporting {
    pub(super) async fn get_lag(
        &self,
        ctx: CallContext,
        _req: GetLagRequest,
    ) -> Result<GetLagResponse, ApiError> {
        require_staff(ctx.principal()?)?;
        let mut streams = Vec::with_capacity(SOURCES.len());
        for source in SOURCES {
            let applied = self
                .consumers
                .iter()
                .find(|(s, _)| *s == source)
                .map_or(0, |(_, stats)| stats.applied.load(Ordering::Relaxed));
            let mut lag = self.stream_lag(source).await.unwrap_or_else(|e| {
                tracing::debug!(source, error = %e, "no lag for this stream yet");
                StreamLag {
                    source: source.to_owned(),
                    ..Default::default()
                }
            });
            lag.applied_by_this_replica = applied;
            streams.push(lag);
        }
        Ok(GetLagResponse { streams })
    }

    /// Events the consumer has not acknowledged, and the age of the oldest.
    async fn stream_lag(&self, source: &str) -> anyhow::Result<StreamLag> {
        let mut stream = self
            .js
            .get_stream(self.subjects.stream_name(source))
            .await?;
        let last = stream.info().await?.state.last_sequence;
        let info = stream.consumer_info(IDENTITY.name).await?;
        let pending = info.num_pending + info.num_ack_pending as u64;
        let lag_seconds = if pending == 0 {
            0.0
        } else {
            let oldest = info.ack_floor.stream_sequence + 1;
            match stream.get_raw_message(oldest).await {
                Ok(msg) => EventEnvelope::decode(msg.payload.as_ref())
                    .ok()
                    .and_then(|e| from_timestamp(e.occurred_at.as_ref()))
                    .map_or(0.0, |t| {
                        ((self.clock.now() - t).num_milliseconds().max(0) as f64) / 1000.0
                    }),
                // Removed by the stream's limits: the oldest pending is
                // later; say nothing rather than guess.
                Err(_) => 0.0,
            }
        };
        Ok(StreamLag {
            source: source.to_owned(),
            pending_events: pending,
            lag_seconds,
            stream_last_sequence: last,
            applied_by_this_replica: 0,
            available: true,
        })
    }

    pub(super) async fn rebuild_read_models(
        &self,
        ctx: CallContext,
        req: RebuildReadModelsRequest,
    ) -> Result<RebuildReadModelsResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        principal.require_any_role(REBUILD)?;
        let idem = Idempotency::new(&ctx, "RebuildReadModels", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        store::empty_read_models(&mut tx, IDENTITY.name).await?;
        let resp = RebuildReadModelsResponse {
            sources: SOURCES.iter().map(|s| (*s).to_owned()).collect(),
        };
        self.outbox
            .stage(
                &mut tx,
                EventMeta {
                    entity_verb: "read_models.rebuild_started",
                    partner_id: None,
                    aggregate_type: "read_models",
                    aggregate_id: Uuid::nil(),
                    aggregate_version: 0,
                },
                &ev::ReadModelsRebuildStarted {
                    sources: resp.sources.clone(),
                    actor_user_id: principal.user_id.to_string(),
                },
            )
            .await?;
        idem.commit(tx, &resp).await?;
        // With the read models empty and the inbox forgotten, the durable
        // consumers start again from each stream's first event: every
        // replica's consumer loop finds its consumer gone and creates it
        // anew. Events applied between the commit and this deletion stay
        // in the inbox and are skipped by the replay, so none counts twice.
        for source in SOURCES {
            self.reset_consumer(source).await?;
        }
        tracing::info!(user = %principal.user_id, "read models rebuilding from the streams");
        Ok(resp)
    }

    async fn reset_consumer(&self, source: &str) -> Result<(), ApiError> {
        let stream = match self.js.get_stream(self.subjects.stream_name(source)).await {
            Ok(stream) => stream,
            Err(e)
                if matches!(e.kind(), jetstream::context::GetStreamErrorKind::JetStream(js)
                    if js.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND) =>
            {
                return Ok(());
            }
            Err(e) => return Err(ApiError::Unavailable(format!("stream of {source}: {e}"))),
        };
        match stream.delete_consumer(IDENTITY.name).await {
            Ok(_) => Ok(()),
            Err(e) if e.to_string().contains("not found") => Ok(()),
            Err(e) => Err(ApiError::Unavailable(format!(
                "resetting the consumer of {source}: {e}"
            ))),
        }
    }
}
