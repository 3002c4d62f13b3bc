//! The audit log: every action of staff, and every partner admin's action
//! on its keys, users and payout profile, in every service, written in the
//! same transaction as the change.
//!
//! How it is written, once for every service:
//! - [`ACTIONS`] is the one list of audited calls: each mutating RPC, the
//!   action name it is logged as (`<resource>.<verb>`) and its target.
//! - [`crate::Idempotency`] (which every mutating handler starts and
//!   commits) recognises an audited call from its principal and RPC. It
//!   turns on `prm.audit` for the transaction, so that the capture trigger
//!   attached to the service's tables ([`attach_capture`]) records every
//!   row the call changes; at commit it appends one event: the actor, the
//!   action, the target (the first row the call changed in the action's
//!   table) and that row's changed fields before and after, secrets
//!   redacted.
//! - Events are append-only (a trigger refuses UPDATE, DELETE and
//!   TRUNCATE) and hash-chained per service: each event's hash is the
//!   SHA-256 of the previous hash and its own fields, appended while the
//!   chain's head row is locked, so replicas keep one order.
//!   [`verify`] recomputes the chain and reports the first broken link.
//!
//! The runtime serves [`AuditApi`] (`prm.audit.v1.AuditService`) beside
//! each service's own API; the gateway merges the services' events.

use std::collections::BTreeMap;

use chrono::{DateTime, SubsecRound, Utc};
use prm_proto::audit as pb;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::auth::{CallContext, Principal, Role};
use crate::error::ApiError;
use crate::paging::Page;
use crate::wire::{from_timestamp, opt_id, timestamp};

/// An audited call: the RPC, the action it is logged as, the table whose
/// changed row is its target, and whether a partner admin's call is
/// audited too (staff's always are).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Action {
    pub method: &'static str,
    pub action: &'static str,
    pub table: &'static str,
    pub partner_admin: bool,
}

const fn staff(method: &'static str, action: &'static str, table: &'static str) -> Action {
    Action {
        method,
        action,
        table,
        partner_admin: false,
    }
}

const fn both(method: &'static str, action: &'static str, table: &'static str) -> Action {
    Action {
        method,
        action,
        table,
        partner_admin: true,
    }
}

/// Every audited call of every service.
pub const ACTIONS: &[Action] = &[
    // Onboarding: programs, applications, partners, identity, enablement.
    staff("CreateProgram", "program.created", "programs"),
    staff("CreateTier", "tier.created", "tiers"),
    staff("UpdateTier", "tier.updated", "tiers"),
    staff("ApproveApplication", "application.approved", "applications"),
    staff("RejectApplication", "application.rejected", "applications"),
    staff("SuspendPartner", "partner.suspended", "partners"),
    staff("ReactivatePartner", "partner.reactivated", "partners"),
    staff("TerminatePartner", "partner.terminated", "partners"),
    staff("SetPartnerTier", "partner.tier_set", "partners"),
    staff("PublishTerms", "terms.published", "terms"),
    both("AcceptTerms", "terms.accepted", "terms_acceptances"),
    both("CreateUser", "user.created", "users"),
    both("DeactivateUser", "user.deactivated", "users"),
    both("CreateApiKey", "api_key.created", "api_keys"),
    both("RevokeApiKey", "api_key.revoked", "api_keys"),
    both("RotateApiKey", "api_key.rotated", "api_keys"),
    staff("SetApiKeyPolicy", "api_key_policy.set", "api_key_policies"),
    staff("RunTierReview", "tier_review.run", "partners"),
    staff("CreateContent", "content.created", "content"),
    staff("CreateCourse", "course.created", "courses"),
    staff(
        "RecordCourseAttempt",
        "course_attempt.recorded",
        "course_attempts",
    ),
    // Deal registration.
    staff(
        "SubmitRegistration",
        "deal_registration.submitted",
        "registrations",
    ),
    staff(
        "UpdateRegistration",
        "deal_registration.updated",
        "registrations",
    ),
    staff(
        "ResubmitRegistration",
        "deal_registration.resubmitted",
        "registrations",
    ),
    staff(
        "ApproveRegistration",
        "deal_registration.approved",
        "registrations",
    ),
    staff(
        "RejectRegistration",
        "deal_registration.rejected",
        "registrations",
    ),
    staff(
        "ReturnRegistration",
        "deal_registration.returned",
        "registrations",
    ),
    staff(
        "ExtendProtection",
        "deal_registration.extended",
        "registrations",
    ),
    staff("WinRegistration", "deal_registration.won", "registrations"),
    staff(
        "LoseRegistration",
        "deal_registration.lost",
        "registrations",
    ),
    staff(
        "CreateDirectAccount",
        "direct_account.created",
        "direct_accounts",
    ),
    staff(
        "DeleteDirectAccount",
        "direct_account.deleted",
        "direct_accounts",
    ),
    staff("UpdatePolicy", "deal_registration_policy.updated", "policy"),
    // MDF.
    staff("CreateBudget", "mdf_budget.created", "budgets"),
    staff("AllocateFunds", "mdf_fund.allocated", "funds"),
    staff("SubmitMdfRequest", "mdf_request.submitted", "mdf_requests"),
    staff("ApproveMdfRequest", "mdf_request.approved", "mdf_requests"),
    staff("RejectMdfRequest", "mdf_request.rejected", "mdf_requests"),
    staff("CancelMdfRequest", "mdf_request.cancelled", "mdf_requests"),
    staff("SubmitClaim", "mdf_claim.submitted", "claims"),
    staff("ApproveClaim", "mdf_claim.approved", "claims"),
    staff("RejectClaim", "mdf_claim.rejected", "claims"),
    // Commissions.
    staff(
        "PutProgramSettings",
        "commission_settings.put",
        "program_settings",
    ),
    staff("CreatePlan", "plan.created", "plans"),
    staff("CreateLink", "link.created", "links"),
    staff("DisableLink", "link.disabled", "links"),
    staff("ReleaseConversion", "conversion.released", "conversions"),
    staff("RejectConversion", "conversion.rejected", "conversions"),
    both("PutPayoutProfile", "payout_profile.put", "payout_profiles"),
    staff("CreatePayoutBatch", "payout.created", "payout_batches"),
    staff(
        "MarkPayoutBatchProcessing",
        "payout.processing",
        "payout_batches",
    ),
    staff("MarkPayoutBatchPaid", "payout.paid", "payout_batches"),
    staff("MarkPayoutBatchFailed", "payout.failed", "payout_batches"),
    staff("CancelPayoutBatch", "payout.cancelled", "payout_batches"),
    // Reporting.
    staff(
        "CreateAttributionModel",
        "attribution_model.created",
        "attribution_models",
    ),
    staff(
        "RebuildReadModels",
        "read_models.rebuilt",
        "partner_rollups",
    ),
];

/// The audited call `method`, if it is one.
pub fn action_of(method: &str) -> Option<&'static Action> {
    ACTIONS.iter().find(|a| a.method == method)
}

/// Where a call came from, as the gateway saw it (the gRPC metadata it
/// forwards; empty for direct callers).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: String,
    pub request_id: String,
}

/// gRPC metadata carrying [`ClientInfo`].
pub const CLIENT_IP_HEADER: &str = "x-prm-client-ip";
pub const USER_AGENT_HEADER: &str = "x-prm-user-agent";
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// One audited call in progress.
#[derive(Clone, Debug)]
pub struct AuditedCall {
    action: &'static Action,
    service: &'static str,
    actor: Principal,
    client: ClientInfo,
}

impl AuditedCall {
    /// The call `method` made in `ctx`, if it is audited: any listed call
    /// of staff, and a partner admin's calls listed for partner admins.
    pub fn of(ctx: &CallContext, method: &str) -> Option<AuditedCall> {
        let actor = ctx.principal.as_ref()?;
        let action = action_of(method)?;
        let audited =
            actor.is_staff() || (action.partner_admin && actor.roles.contains(&Role::PartnerAdmin));
        audited.then(|| AuditedCall {
            action,
            service: ctx.service,
            actor: actor.clone(),
            client: ctx.client.clone(),
        })
    }

    /// Turns on the capture of changed rows for the rest of `tx`.
    pub async fn start(&self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT set_config('prm.audit', 'on', true)")
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    /// Appends the call's event to the chain, from the rows it changed.
    pub async fn append(&self, tx: &mut PgConnection) -> Result<(), ApiError> {
        let changed: Vec<(String, Option<Value>, Option<Value>)> = sqlx::query_as(
            "SELECT table_name, before, after FROM audit_changes
             WHERE txid = txid_current() ORDER BY seq",
        )
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM audit_changes WHERE txid = txid_current()")
            .execute(&mut *tx)
            .await?;
        let target = changed
            .iter()
            .find(|(table, _, _)| table == self.action.table)
            .or_else(|| changed.first());
        let (target_id, partner_id, changes) = match target {
            Some((_, before, after)) => {
                let row = after.as_ref().or(before.as_ref());
                (
                    row.and_then(id_of).unwrap_or_default(),
                    row.and_then(|r| r.get("partner_id"))
                        .and_then(Value::as_str)
                        .and_then(|s| Uuid::parse_str(s).ok()),
                    diff(before.as_ref(), after.as_ref()),
                )
            }
            None => (String::new(), None, BTreeMap::new()),
        };
        let target_type = self
            .action
            .action
            .split_once('.')
            .map_or(self.action.action, |(t, _)| t);
        let event = NewEvent {
            id: Uuid::now_v7(),
            service: self.service,
            actor_user_id: self.actor.user_id,
            actor_api_key_id: self.actor.api_key_id,
            actor_roles: self
                .actor
                .roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(","),
            actor_partner_id: self.actor.partner_id,
            action: self.action.action,
            target_type,
            target_id,
            partner_id: partner_id.or(self.actor.partner_id),
            changes: serde_json::to_string(&changes).unwrap_or_else(|_| "{}".into()),
            client: &self.client,
        };
        append(tx, &event).await?;
        Ok(())
    }
}

/// A row's id, as text.
fn id_of(row: &Value) -> Option<String> {
    match row.get("id")? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// Columns never copied into the log.
fn secret(column: &str) -> bool {
    ["secret", "token", "hash", "password"]
        .iter()
        .any(|s| column.contains(s))
}

/// The fields that differ between `before` and `after` (a row inserted
/// has no before, a row deleted no after), secrets redacted.
fn diff(before: Option<&Value>, after: Option<&Value>) -> BTreeMap<String, Value> {
    let empty = serde_json::Map::new();
    let b = before.and_then(Value::as_object).unwrap_or(&empty);
    let a = after.and_then(Value::as_object).unwrap_or(&empty);
    let mut out = BTreeMap::new();
    for column in b.keys().chain(a.keys()) {
        if out.contains_key(column) || column == "version" {
            continue;
        }
        let (was, is) = (b.get(column), a.get(column));
        if was == is {
            continue;
        }
        let shown = |v: Option<&Value>| match v {
            None => Value::Null,
            Some(_) if secret(column) => Value::String("[redacted]".into()),
            Some(v) => v.clone(),
        };
        out.insert(
            column.clone(),
            serde_json::json!({"before": shown(was), "after": shown(is)}),
        );
    }
    out
}

struct NewEvent<'a> {
    id: Uuid,
    service: &'a str,
    actor_user_id: Uuid,
    actor_api_key_id: Option<Uuid>,
    actor_roles: String,
    actor_partner_id: Option<Uuid>,
    action: &'a str,
    target_type: &'a str,
    target_id: String,
    partner_id: Option<Uuid>,
    changes: String,
    client: &'a ClientInfo,
}

/// A stored event, as the chain hashes it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EventRow {
    pub seq: i64,
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub service: String,
    pub actor_user_id: Uuid,
    pub actor_api_key_id: Option<Uuid>,
    pub actor_roles: String,
    pub actor_partner_id: Option<Uuid>,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub partner_id: Option<Uuid>,
    pub changes: String,
    pub client_ip: String,
    pub user_agent: String,
    pub request_id: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

impl EventRow {
    /// The hash this event must have: SHA-256 of the previous hash and its
    /// fields (as stored), in a fixed order.
    pub fn expected_hash(&self) -> Vec<u8> {
        let opt = |u: Option<Uuid>| u.map(|u| u.to_string()).unwrap_or_default();
        let fields = serde_json::json!([
            self.seq,
            self.id.to_string(),
            self.occurred_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            self.service,
            self.actor_user_id.to_string(),
            opt(self.actor_api_key_id),
            self.actor_roles,
            opt(self.actor_partner_id),
            self.action,
            self.target_type,
            self.target_id,
            opt(self.partner_id),
            self.changes,
            self.client_ip,
            self.user_agent,
            self.request_id,
        ]);
        let mut h = Sha256::new();
        h.update(&self.prev_hash);
        h.update(fields.to_string().as_bytes());
        h.finalize().to_vec()
    }

    pub fn to_proto(&self) -> pb::AuditEvent {
        pb::AuditEvent {
            id: self.id.to_string(),
            seq: self.seq,
            service: self.service.clone(),
            occurred_at: Some(timestamp(self.occurred_at)),
            actor_user_id: self.actor_user_id.to_string(),
            actor_api_key_id: opt_id(self.actor_api_key_id),
            actor_roles: self.actor_roles.clone(),
            actor_partner_id: opt_id(self.actor_partner_id),
            action: self.action.clone(),
            target_type: self.target_type.clone(),
            target_id: self.target_id.clone(),
            partner_id: opt_id(self.partner_id),
            changes: self.changes.clone(),
            client_ip: self.client_ip.clone(),
            user_agent: self.user_agent.clone(),
            request_id: self.request_id.clone(),
            hash: hex(&self.hash),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Appends `e` at the head of the chain: the head row is locked until the
/// transaction ends, so concurrent appends (from any replica) queue.
async fn append(tx: &mut PgConnection, e: &NewEvent<'_>) -> Result<(), sqlx::Error> {
    let (seq, prev_hash, now): (i64, Vec<u8>, DateTime<Utc>) = sqlx::query_as(
        "SELECT seq, hash, clock_timestamp() FROM audit_chain_head WHERE only_row FOR UPDATE",
    )
    .fetch_one(&mut *tx)
    .await?;
    let mut row = EventRow {
        seq: seq + 1,
        id: e.id,
        occurred_at: now.trunc_subsecs(6),
        service: e.service.to_owned(),
        actor_user_id: e.actor_user_id,
        actor_api_key_id: e.actor_api_key_id,
        actor_roles: e.actor_roles.clone(),
        actor_partner_id: e.actor_partner_id,
        action: e.action.to_owned(),
        target_type: e.target_type.to_owned(),
        target_id: e.target_id.clone(),
        partner_id: e.partner_id,
        changes: e.changes.clone(),
        client_ip: e.client.ip.clone(),
        user_agent: e.client.user_agent.clone(),
        request_id: e.client.request_id.clone(),
        prev_hash,
        hash: Vec::new(),
    };
    row.hash = row.expected_hash();
    sqlx::query(
        "INSERT INTO audit_events (seq, id, occurred_at, service, actor_user_id, actor_api_key_id,
             actor_roles, actor_partner_id, action, target_type, target_id, partner_id, changes,
             client_ip, user_agent, request_id, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
    )
    .bind(row.seq)
    .bind(row.id)
    .bind(row.occurred_at)
    .bind(&row.service)
    .bind(row.actor_user_id)
    .bind(row.actor_api_key_id)
    .bind(&row.actor_roles)
    .bind(row.actor_partner_id)
    .bind(&row.action)
    .bind(&row.target_type)
    .bind(&row.target_id)
    .bind(row.partner_id)
    .bind(&row.changes)
    .bind(&row.client_ip)
    .bind(&row.user_agent)
    .bind(&row.request_id)
    .bind(&row.prev_hash)
    .bind(&row.hash)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE audit_chain_head SET seq = $1, hash = $2 WHERE only_row")
        .bind(row.seq)
        .bind(&row.hash)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Tables whose rows are never an action's target (the runtime's own).
const NOT_CAPTURED: &[&str] = &[
    "outbox",
    "inbox",
    "idempotency_keys",
    "audit_events",
    "audit_chain_head",
    "audit_changes",
    "_sqlx_migrations",
    "_prm_runtime_migrations",
];

/// Attaches the capture trigger to every table of the service that lacks
/// it (after migrations, so new tables are covered). It records rows only
/// in a transaction that turned `prm.audit` on; elsewhere its `WHEN`
/// condition skips it before the function runs.
pub async fn attach_capture(pool: &PgPool) -> Result<(), sqlx::Error> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
           AND NOT c.relname = ANY($1)
           AND NOT EXISTS (SELECT 1 FROM pg_trigger t
                           WHERE t.tgrelid = c.oid AND t.tgname = 'prm_audit_capture')",
    )
    .bind(NOT_CAPTURED)
    .fetch_all(pool)
    .await?;
    for table in tables {
        let ddl = format!(
            "CREATE OR REPLACE TRIGGER prm_audit_capture AFTER INSERT OR UPDATE OR DELETE ON \"{}\"
             FOR EACH ROW WHEN (current_setting('prm.audit', true) = 'on')
             EXECUTE FUNCTION prm_audit_capture()",
            table.replace('"', "\"\"")
        );
        sqlx::query(sqlx::AssertSqlSafe(ddl)).execute(pool).await?;
    }
    Ok(())
}

/// The outcome of [`verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    pub events: i64,
    /// The first event whose link does not hold, and why.
    pub broken: Option<(i64, String)>,
}

/// Recomputes the chain from its first event: each event's position,
/// previous hash and hash, then the head.
pub async fn verify(pool: &PgPool) -> Result<Verification, sqlx::Error> {
    use futures::TryStreamExt;
    let mut conn = pool.acquire().await?;
    let mut prev: Vec<u8> = Vec::new();
    let mut expected_seq = 1;
    let mut count = 0;
    {
        let mut rows = sqlx::query_as::<_, EventRow>("SELECT * FROM audit_events ORDER BY seq")
            .fetch(&mut *conn);
        while let Some(row) = rows.try_next().await? {
            count += 1;
            let broken = if row.seq != expected_seq {
                Some(format!("expected event {expected_seq}, found {}", row.seq))
            } else if row.prev_hash != prev {
                Some("its previous hash is not the hash of the event before it".to_owned())
            } else if row.hash != row.expected_hash() {
                Some("its fields do not match its hash".to_owned())
            } else {
                None
            };
            if let Some(reason) = broken {
                return Ok(Verification {
                    events: count,
                    broken: Some((expected_seq.min(row.seq), reason)),
                });
            }
            prev = row.hash;
            expected_seq += 1;
        }
    }
    let (head_seq, head_hash): (i64, Vec<u8>) =
        sqlx::query_as("SELECT seq, hash FROM audit_chain_head WHERE only_row")
            .fetch_one(&mut *conn)
            .await?;
    if head_seq != expected_seq - 1 || head_hash != prev {
        return Ok(Verification {
            events: count,
            broken: Some((
                expected_seq,
                format!(
                    "the chain ends at event {} but its head says {head_seq}",
                    expected_seq - 1
                ),
            )),
        });
    }
    Ok(Verification {
        events: count,
        broken: None,
    })
}

/// Staff who read the audit log (a partner admin reads its own
/// organisation's).
pub const AUDIT_READERS: &[Role] = &[Role::Admin, Role::Finance];

/// `prm.audit.v1.AuditService`, served by the runtime beside each
/// service's API.
#[derive(Clone)]
pub struct AuditApi {
    pool: PgPool,
    service: &'static str,
}

impl AuditApi {
    pub fn new(pool: PgPool, service: &'static str) -> Self {
        Self { pool, service }
    }

    async fn list(
        &self,
        ctx: CallContext,
        req: pb::ListAuditEventsRequest,
    ) -> Result<pb::ListAuditEventsResponse, ApiError> {
        let principal = ctx.principal()?;
        let mut errs = crate::FieldErrors::new();
        let actor = errs.check(
            "actor_user_id",
            crate::validate::optional_uuid(&req.actor_user_id),
        );
        let asked_partner = errs.check(
            "partner_id",
            crate::validate::optional_uuid(&req.partner_id),
        );
        let (actor, asked_partner) = errs.finish_with(|| Some((actor?, asked_partner?)))?;
        let partner = if principal.roles.contains(&Role::PartnerAdmin) {
            principal.partner_scope(asked_partner)?
        } else {
            principal.require_any_role(AUDIT_READERS)?;
            asked_partner
        };
        let filter = format!(
            "{}|{}|{}|{}|{:?}|{:?}|{:?}",
            req.action,
            req.target_type,
            req.target_id,
            req.actor_user_id,
            req.from,
            req.to,
            partner
        );
        let page = Page::parse(req.page_size, &req.page_token, &[&filter])?;
        let after = page.after_or_nil();
        // Ordered by the chain position: within a service it is the order
        // of the events (the time is taken under the chain's lock).
        let after_seq: i64 = if after.is_nil() {
            0
        } else {
            sqlx::query_scalar("SELECT seq FROM audit_events WHERE id = $1")
                .bind(after)
                .fetch_optional(&self.pool)
                .await?
                .unwrap_or(i64::MAX)
        };
        let mut rows: Vec<EventRow> = sqlx::query_as(
            "SELECT * FROM audit_events
             WHERE seq > $1
               AND ($2::uuid IS NULL OR actor_user_id = $2)
               AND ($3 = '' OR action = $3)
               AND ($4 = '' OR target_type = $4)
               AND ($5 = '' OR target_id = $5)
               AND ($6::timestamptz IS NULL OR occurred_at >= $6)
               AND ($7::timestamptz IS NULL OR occurred_at < $7)
               AND ($8::uuid IS NULL OR partner_id = $8)
             ORDER BY seq LIMIT $9",
        )
        .bind(after_seq)
        .bind(actor)
        .bind(&req.action)
        .bind(&req.target_type)
        .bind(&req.target_id)
        .bind(from_timestamp(req.from.as_ref()))
        .bind(from_timestamp(req.to.as_ref()))
        .bind(partner)
        .bind(page.fetch_limit())
        .fetch_all(&self.pool)
        .await?;
        let next_page_token = page.finish(&mut rows, |r| r.id);
        Ok(pb::ListAuditEventsResponse {
            events: rows.iter().map(EventRow::to_proto).collect(),
            next_page_token,
        })
    }

    async fn verify(
        &self,
        ctx: CallContext,
        _req: pb::VerifyAuditChainRequest,
    ) -> Result<pb::VerifyAuditChainResponse, ApiError> {
        ctx.principal()?.require_any_role(AUDIT_READERS)?;
        let v = verify(&self.pool).await?;
        Ok(pb::VerifyAuditChainResponse {
            service: self.service.to_owned(),
            intact: v.broken.is_none(),
            events: v.events,
            first_broken_seq: v.broken.as_ref().map_or(0, |b| b.0),
            reason: v.broken.map(|b| b.1).unwrap_or_default(),
        })
    }
}

#[crate::__private::async_trait]
impl pb::audit_service_server::AuditService for AuditApi {
    async fn list_audit_events(
        &self,
        request: tonic::Request<pb::ListAuditEventsRequest>,
    ) -> Result<tonic::Response<pb::ListAuditEventsResponse>, tonic::Status> {
        let ctx = CallContext::of(&request);
        ctx.require_scope("audit_events.read")?;
        self.list(ctx, request.into_inner())
            .await
            .map(tonic::Response::new)
            .map_err(tonic::Status::from)
    }

    async fn verify_audit_chain(
        &self,
        request: tonic::Request<pb::VerifyAuditChainRequest>,
    ) -> Result<tonic::Response<pb::VerifyAuditChainResponse>, tonic::Status> {
        let ctx = CallContext::of(&request);
        ctx.require_scope("audit_events.read")?;
        self.verify(ctx, request.into_inner())
            .await
            .map(tonic::Response::new)
            .map_err(tonic::Status::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_listed_once_and_named_resource_dot_verb() {
        let mut seen = std::collections::BTreeSet::new();
        for a in ACTIONS {
            assert!(seen.insert(a.method), "{} twice", a.method);
            let (resource, verb) = a.action.split_once('.').expect("resource.verb");
            assert!(!resource.is_empty() && !verb.is_empty(), "{}", a.action);
        }
    }

    #[test]
    fn the_diff_keeps_changed_fields_and_redacts_secrets() {
        let before = serde_json::json!({"id": "1", "status": "submitted", "postback_token": "a", "version": 1});
        let after = serde_json::json!({"id": "1", "status": "approved", "postback_token": "b", "version": 2});
        let d = diff(Some(&before), Some(&after));
        assert_eq!(
            serde_json::to_value(&d).expect("json"),
            serde_json::json!({
                "status": {"before": "submitted", "after": "approved"},
                "postback_token": {"before": "[redacted]", "after": "[redacted]"}
            })
        );
        let inserted = diff(None, Some(&after));
        assert_eq!(
            inserted["status"],
            serde_json::json!({"before": null, "after": "approved"})
        );
    }
}
