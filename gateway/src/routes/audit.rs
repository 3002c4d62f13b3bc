//! The audit log, merged across the services: each keeps its own
//! hash-chained log of staff and partner-admin actions (`prm_runtime::audit`)
//! and serves it over `prm.audit.v1.AuditService`; the gateway merges the
//! services' events by time into one list, pages it with one cursor per
//! service inside one opaque page token, exports it as CSV, and asks every
//! service to verify its chain.

use std::collections::BTreeMap;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, Utc};
use prm_proto::audit as pb;
use prm_proto::audit::audit_service_client::AuditServiceClient;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Documented, json};
use crate::dto::*;
use crate::extract::QueryParams;
use crate::forward::Call;
use crate::problem::Problem;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .operations(routes!(list_audit_events))
        .operations(routes!(export_audit_events))
        .operations(routes!(verify_audit_chains))
}

/// Events per service asked for at once when exporting.
const EXPORT_PAGE: i32 = 500;
/// The most events one CSV export holds.
const EXPORT_LIMIT: usize = 50_000;

/// The audit log of staff and partner-admin actions in every service,
/// oldest first (admins and finance; a partner admin sees its own
/// organisation's).
#[utoipa::path(get, path = "/v1/audit-events", tag = "audit", security(("api_key" = ["audit_events.read"])),
    params(PageQuery, AuditQuery),
    responses((status = 200, description = "A page of events", body = AuditEventList)))]
pub async fn list_audit_events(
    call: Call,
    QueryParams(page): QueryParams<PageQuery>,
    QueryParams(q): QueryParams<AuditQuery>,
) -> Result<Response, Problem> {
    let services = services(&call, q.service.as_deref())?;
    let size = match page.page_size {
        None | Some(0) => 50,
        Some(n) if (1..=500).contains(&n) => n,
        Some(_) => return Err(Problem::bad_request("page_size", "must be 1 to 500")),
    };
    let cursor = match page.page_token.as_deref() {
        None | Some("") => Cursor::default(),
        Some(t) => Cursor::decode(t)
            .ok_or_else(|| Problem::bad_request("page_token", "is not a token this list gave"))?,
    };
    let (items, next) = merged_page(&call, &q, &services, cursor, size).await?;
    Ok(json(
        StatusCode::OK,
        &AuditEventList {
            items,
            next_page_token: next.map(|c| c.encode()),
        },
    ))
}

/// Every matching event (up to 50,000), oldest first, as CSV: the same
/// filters and readers as the list.
#[utoipa::path(get, path = "/v1/audit-events/export", tag = "audit", security(("api_key" = ["audit_events.read"])),
    params(AuditQuery),
    responses((status = 200, description = "The events", content_type = "text/csv", body = String)))]
pub async fn export_audit_events(
    call: Call,
    QueryParams(q): QueryParams<AuditQuery>,
) -> Result<Response, Problem> {
    let services = services(&call, q.service.as_deref())?;
    let mut cursor = Cursor::default();
    let mut rows = Vec::new();
    loop {
        let (events, next) = merged_page(&call, &q, &services, cursor, EXPORT_PAGE).await?;
        rows.extend(events);
        match next {
            Some(c) if rows.len() < EXPORT_LIMIT => cursor = c,
            _ => break,
        }
    }
    rows.truncate(EXPORT_LIMIT);
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit-events.csv\"",
            ),
        ],
        csv(&rows),
    )
        .into_response())
}

/// Every service recomputes its audit chain; the answer names the first
/// broken link of each (admins and finance).
#[utoipa::path(get, path = "/v1/audit-events/verification", tag = "audit", security(("api_key" = ["audit_events.read"])),
    responses((status = 200, description = "OK", body = AuditVerification)))]
pub async fn verify_audit_chains(call: Call) -> Result<Response, Problem> {
    let mut services = Vec::new();
    for name in services_all(&call) {
        let req = call
            .state()
            .grpc(pb::VerifyAuditChainRequest {}, Some(call.principal()), None);
        let r = AuditServiceClient::new(call.state().channel(name))
            .verify_audit_chain(req)
            .await?
            .into_inner();
        services.push(ChainVerification {
            service: r.service,
            intact: r.intact,
            events: r.events,
            first_broken_seq: (r.first_broken_seq > 0).then_some(r.first_broken_seq),
            reason: (!r.reason.is_empty()).then_some(r.reason),
        });
    }
    Ok(json(
        StatusCode::OK,
        &AuditVerification {
            intact: services.iter().all(|s| s.intact),
            services,
        },
    ))
}

fn services_all(call: &Call) -> Vec<&'static str> {
    call.state().upstreams().iter().map(|u| u.name).collect()
}

fn services(call: &Call, only: Option<&str>) -> Result<Vec<&'static str>, Problem> {
    let all = services_all(call);
    match only {
        None | Some("") => Ok(all),
        Some(s) => all
            .into_iter()
            .find(|n| *n == s)
            .map(|n| vec![n])
            .ok_or_else(|| Problem::bad_request("service", "is not a service of the platform")),
    }
}

/// Where each service's part of the merged list stands: the service's
/// page token and how many events of that page were already given. A
/// service that gave everything is `done`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Cursor(BTreeMap<String, Position>);

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Position {
    #[serde(default)]
    token: String,
    #[serde(default)]
    skip: usize,
    #[serde(default)]
    done: bool,
}

impl Cursor {
    fn encode(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(token: &str) -> Option<Cursor> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// One page of the merged list from `cursor`, and the cursor after it
/// (`None` at the end).
async fn merged_page(
    call: &Call,
    q: &AuditQuery,
    services: &[&'static str],
    mut cursor: Cursor,
    size: i32,
) -> Result<(Vec<AuditEvent>, Option<Cursor>), Problem> {
    let mut fetched: Vec<(&'static str, Vec<pb::AuditEvent>, String)> = Vec::new();
    for name in services {
        let pos = cursor.0.get(*name).cloned().unwrap_or_default();
        if pos.done {
            continue;
        }
        let req = call.state().grpc(
            pb::ListAuditEventsRequest {
                actor_user_id: q.actor_user_id.clone().unwrap_or_default().into(),
                action: q.action.clone().unwrap_or_default(),
                target_type: q.target_type.clone().unwrap_or_default(),
                target_id: q.target_id.clone().unwrap_or_default(),
                from: q.from.map(prm_runtime::wire::timestamp),
                to: q.to.map(prm_runtime::wire::timestamp),
                partner_id: q.partner_id.clone().unwrap_or_default().into(),
                page_size: size + pos.skip as i32,
                page_token: pos.token.clone(),
            },
            Some(call.principal()),
            None,
        );
        let r = AuditServiceClient::new(call.state().channel(name))
            .list_audit_events(req)
            .await?
            .into_inner();
        let events: Vec<pb::AuditEvent> = r.events.into_iter().skip(pos.skip).collect();
        fetched.push((name, events, r.next_page_token));
    }
    let mut all: Vec<(&'static str, pb::AuditEvent)> = fetched
        .iter()
        .flat_map(|(name, events, _)| events.iter().map(move |e| (*name, e.clone())))
        .collect();
    all.sort_by(|(sa, a), (sb, b)| {
        let t = |e: &pb::AuditEvent| e.occurred_at.as_ref().map(|t| (t.seconds, t.nanos));
        t(a).cmp(&t(b)).then(sa.cmp(sb)).then(a.seq.cmp(&b.seq))
    });
    let taken: Vec<(&'static str, pb::AuditEvent)> = all.into_iter().take(size as usize).collect();
    let mut more = false;
    for (name, events, next) in &fetched {
        let given = taken.iter().filter(|(n, _)| n == name).count();
        let pos = cursor.0.entry((*name).to_owned()).or_default();
        if given < events.len() {
            pos.skip += given;
            more = true;
        } else if next.is_empty() {
            pos.done = true;
        } else {
            *pos = Position {
                token: next.clone(),
                skip: 0,
                done: false,
            };
            more = true;
        }
    }
    let items = taken.iter().map(|(_, e)| AuditEvent::from(e)).collect();
    Ok((items, more.then_some(cursor)))
}

fn csv(rows: &[AuditEvent]) -> String {
    let field = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    let mut out = String::from(
        "occurred_at,service,seq,action,target_type,target_id,partner_id,actor_user_id,actor_api_key_id,actor_roles,client_ip,user_agent,request_id,changes,hash\n",
    );
    for e in rows {
        let cells = [
            e.occurred_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            e.service.clone(),
            e.seq.to_string(),
            e.action.clone(),
            e.target_type.clone(),
            e.target_id.clone(),
            e.partner_id.clone().unwrap_or_default(),
            e.actor.user_id.clone(),
            e.actor.api_key_id.clone().unwrap_or_default(),
            e.actor.roles.join(" "),
            e.client_ip.clone(),
            e.user_agent.clone(),
            e.request_id.clone(),
            e.changes.to_string(),
            e.hash.clone(),
        ];
        out.push_str(&cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

// ------------------------------------------------------------ JSON shapes

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this actor's events.
    pub actor_user_id: Option<Id>,
    /// Only this action, e.g. `partner.suspended`.
    pub action: Option<String>,
    /// Only events about this kind of target, e.g. `partner`.
    pub target_type: Option<String>,
    /// Only events about this target.
    pub target_id: Option<String>,
    /// Only one service's events.
    pub service: Option<String>,
    /// Only events about this partner (staff; a partner admin always sees
    /// its own).
    pub partner_id: Option<Id>,
    /// From this time (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Until this time (exclusive).
    pub to: Option<DateTime<Utc>>,
}

/// Who acted.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AuditActor {
    pub user_id: String,
    pub api_key_id: Option<String>,
    pub roles: Vec<String>,
    pub partner_id: Option<String>,
}

/// One audited action.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: String,
    /// The service that wrote it, and its place in that service's chain.
    pub service: String,
    pub seq: i64,
    pub occurred_at: Option<DateTime<Utc>>,
    pub actor: AuditActor,
    /// `<resource>.<verb>`, e.g. `partner.suspended`.
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    /// The organisation the target belongs to, if a partner's.
    pub partner_id: Option<String>,
    /// The target's changed fields: `{"status": {"before": "active", "after": "suspended"}}`.
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
    pub client_ip: String,
    pub user_agent: String,
    pub request_id: String,
    /// The event's link in its service's hash chain (hex SHA-256).
    pub hash: String,
}

impl From<&pb::AuditEvent> for AuditEvent {
    fn from(e: &pb::AuditEvent) -> Self {
        Self {
            id: e.id.clone(),
            service: e.service.clone(),
            seq: e.seq,
            occurred_at: time(&e.occurred_at),
            actor: AuditActor {
                user_id: e.actor_user_id.clone(),
                api_key_id: id(&e.actor_api_key_id),
                roles: e
                    .actor_roles
                    .split(',')
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned)
                    .collect(),
                partner_id: id(&e.actor_partner_id),
            },
            action: e.action.clone(),
            target_type: e.target_type.clone(),
            target_id: e.target_id.clone(),
            partner_id: id(&e.partner_id),
            changes: serde_json::from_str(&e.changes).unwrap_or(serde_json::Value::Null),
            client_ip: e.client_ip.clone(),
            user_agent: e.user_agent.clone(),
            request_id: e.request_id.clone(),
            hash: e.hash.clone(),
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AuditEventList {
    pub items: Vec<AuditEvent>,
    /// Pass as `page_token` for the next page; absent on the last.
    pub next_page_token: Option<String>,
}

/// Whether every service's chain holds.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AuditVerification {
    pub intact: bool,
    pub services: Vec<ChainVerification>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ChainVerification {
    pub service: String,
    pub intact: bool,
    pub events: i64,
    /// The first event whose link does not hold.
    pub first_broken_seq: Option<i64>,
    pub reason: Option<String>,
}
