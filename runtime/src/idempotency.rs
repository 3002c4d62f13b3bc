//! Idempotency keys, used by services inside their own transactions.
//!
//! A handler claims the key at the start of its transaction and records the
//! response at the end, so the key, a hash of the request and the response
//! commit together with the effect. A crash at any point leaves either
//! everything or nothing, so a retry either replays the first response or
//! performs the effect for the first time. A concurrent retry blocks on the
//! claimed key until the first transaction ends, then replays it.

use prost::Message;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::audit::AuditedCall;
use crate::auth::CallContext;
use crate::error::ApiError;

/// The transaction of one mutating call.
pub type Tx = Transaction<'static, Postgres>;

/// A mutating call's start: either the response an earlier call with the
/// same key produced, or a fresh transaction that holds the key.
pub enum Begun<R> {
    Replay(R),
    Fresh(Tx),
}

/// Starts a mutating call's transaction, or returns early from the handler
/// with the response an earlier call with the same idempotency key produced:
///
/// ```ignore
/// let idem = Idempotency::new(&ctx, "CreateUser", &req);
/// let mut tx = begin_or_replay!(self.db, idem);
/// // ... the effect, its outbox events ...
/// idem.commit(tx, &resp).await?;
/// ```
///
/// The response type is inferred from the handler's return type; name it
/// (`begin_or_replay!(pool, idem, MyResponse)`) where it cannot be.
#[macro_export]
macro_rules! begin_or_replay {
    ($pool:expr, $idem:expr) => {
        match $idem.begin(&$pool).await? {
            $crate::Begun::Replay(replayed) => return ::core::result::Result::Ok(replayed),
            $crate::Begun::Fresh(tx) => tx,
        }
    };
    ($pool:expr, $idem:expr, $response:ty) => {
        match $idem.begin::<$response>(&$pool).await? {
            $crate::Begun::Replay(replayed) => return ::core::result::Result::Ok(replayed),
            $crate::Begun::Fresh(tx) => tx,
        }
    };
}

/// The idempotency key of one call, if the caller sent one; and, if the
/// call is audited ([`crate::audit`]), its audit event, appended when the
/// call commits.
#[derive(Clone, Debug)]
pub struct Idempotency(Option<KeyedCall>, Option<AuditedCall>);

#[derive(Clone, Debug)]
struct KeyedCall {
    scope: String,
    key: String,
    method: &'static str,
    request_hash: Vec<u8>,
}

impl Idempotency {
    /// `method` names the RPC; a key reused for another method or another
    /// request body is refused.
    pub fn new(ctx: &CallContext, method: &'static str, request: &impl Message) -> Self {
        let audited = AuditedCall::of(ctx, method);
        let Some(key) = ctx.idempotency_key.clone() else {
            return Self(None, audited);
        };
        let mut hasher = Sha256::new();
        hasher.update(method.as_bytes());
        hasher.update([0]);
        hasher.update(request.encode_to_vec());
        let request_hash = hasher.finalize().to_vec();
        // Anonymous callers (the public application form) share one scope.
        // Keys are meant to be unguessable (UUIDs), so a clash is a client
        // bug, and it is answered like any reuse: a different body is refused.
        let scope = match &ctx.principal {
            Some(p) => p.user_id.to_string(),
            None => "public".to_owned(),
        };
        Self(
            Some(KeyedCall {
                scope,
                key,
                method,
                request_hash,
            }),
            audited,
        )
    }

    /// A call without a key (background work, tests).
    pub fn none() -> Self {
        Self(None, None)
    }

    pub fn is_keyed(&self) -> bool {
        self.0.is_some()
    }

    /// Starts the call's transaction and claims the key in it; see
    /// [`begin_or_replay!`](crate::begin_or_replay).
    pub async fn begin<R: Message + Default>(&self, pool: &PgPool) -> Result<Begun<R>, ApiError> {
        let mut tx = pool.begin().await?;
        match self.claim::<R>(&mut tx).await? {
            Some(replayed) => {
                tx.rollback().await?;
                Ok(Begun::Replay(replayed))
            }
            None => {
                if let Some(audited) = &self.1 {
                    audited.start(&mut tx).await?;
                }
                Ok(Begun::Fresh(tx))
            }
        }
    }

    /// Records `stored` (the response a retry will replay) with the key,
    /// and commits it together with the call's effect.
    pub async fn commit<R: Message>(&self, mut tx: Tx, stored: &R) -> Result<(), ApiError> {
        if let Some(audited) = &self.1 {
            audited.append(&mut tx).await?;
        }
        self.record(&mut tx, stored).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Claims the key inside `tx`. Returns the stored response when this
    /// key was already used for the same request, so the caller returns it
    /// instead of repeating the effect.
    pub async fn claim<R: Message + Default>(
        &self,
        tx: &mut PgConnection,
    ) -> Result<Option<R>, ApiError> {
        let Some(call) = &self.0 else {
            return Ok(None);
        };
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (scope, key, method, request_hash)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (scope, key) DO NOTHING",
        )
        .bind(&call.scope)
        .bind(&call.key)
        .bind(call.method)
        .bind(&call.request_hash)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(None);
        }
        let (method, hash, response): (String, Vec<u8>, Option<Vec<u8>>) = sqlx::query_as(
            "SELECT method, request_hash, response FROM idempotency_keys
             WHERE scope = $1 AND key = $2",
        )
        .bind(&call.scope)
        .bind(&call.key)
        .fetch_one(&mut *tx)
        .await?;
        if method != call.method || hash != call.request_hash {
            return Err(ApiError::precondition(
                "IDEMPOTENCY_KEY_REUSED",
                "idempotency-key",
                "this idempotency key was already used with a different request",
            ));
        }
        let Some(bytes) = response else {
            return Err(ApiError::Aborted {
                reason: "IDEMPOTENCY_KEY_IN_USE",
                message: "a request with this idempotency key is still in progress".into(),
            });
        };
        let decoded = R::decode(bytes.as_slice())
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored response: {e}")))?;
        Ok(Some(decoded))
    }

    /// Records the response in `tx`, the transaction that made the effect.
    pub async fn record<R: Message>(
        &self,
        tx: &mut PgConnection,
        response: &R,
    ) -> Result<(), ApiError> {
        let Some(call) = &self.0 else {
            return Ok(());
        };
        sqlx::query("UPDATE idempotency_keys SET response = $3 WHERE scope = $1 AND key = $2")
            .bind(&call.scope)
            .bind(&call.key)
            .bind(response.encode_to_vec())
            .execute(&mut *tx)
            .await?;
        Ok(())
    }
}

/// Deletes idempotency records older than `retention`.
pub async fn purge_expired(
    pool: &sqlx::PgPool,
    retention: std::time::Duration,
) -> Result<u64, sqlx::Error> {
    let secs = i64::try_from(retention.as_secs()).unwrap_or(i64::MAX);
    Ok(sqlx::query(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)",
    )
    .bind(secs as f64)
    .execute(pool)
    .await?
    .rows_affected())
}
