use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use prm_proto::commissions as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::dto::*;
use crate::extract::{ClientAddr, QueryParams};
use crate::forward::{Call, Reply, ok};
use crate::problem::{FieldError, Problem};
use crate::routes::json;
use crate::state::AppState;
use prm_runtime::throttle::client_key;
use std::net::IpAddr;

/// The header carrying an HMAC-SHA256 signature of the postback.
pub const SIGNATURE_HEADER: &str = "x-prm-signature";

/// The postback's fields, by name.
const FIELDS: &[&str] = &[
    "program_id",
    "token",
    "click_id",
    "transaction_id",
    "kind",
    "event_type",
    "amount",
    "currency",
    "status",
    "customer_id",
    "customer_domain",
    "occurred_at",
];

fn request_from(
    fields: &[(String, String)],
    signature: &str,
    payload: Vec<u8>,
) -> pb::RecordPostbackRequest {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    pb::RecordPostbackRequest {
        program_id: get("program_id"),
        token: get("token"),
        signature: signature.to_owned(),
        signed_payload: payload,
        click_id: get("click_id"),
        transaction_id: get("transaction_id"),
        kind: get("kind"),
        event_type: get("event_type"),
        amount: get("amount"),
        currency: get("currency"),
        status: get("status"),
        customer_id: get("customer_id"),
        customer_domain: get("customer_domain"),
        occurred_at: get("occurred_at"),
    }
}

/// Relays a postback and renders its answer: 200/201 with the answer, or
/// a problem whose `code` is the answer (`BAD_SIGNATURE`, `INVALID_FIELD`,
/// ...).
async fn relay(
    state: &AppState,
    from: IpAddr,
    req: pb::RecordPostbackRequest,
) -> Result<Response, Problem> {
    let limits = state.public_limits();
    limits.postbacks_by_address.admit(
        &client_key(from).to_string(),
        None,
        "too many postbacks from this address; slow down",
    )?;
    // A malformed program id is refused by the service; only real ones
    // get an allowance.
    if let Ok(program) = uuid::Uuid::parse_str(&req.program_id) {
        limits.postbacks_by_program.admit(
            &program.to_string(),
            None,
            "too many postbacks for this program; slow down",
        )?;
    }
    // Postbacks are idempotent by transaction id: safe to send again.
    let r = state.send(state.grpc_repeatable(req)).await?;
    let status = StatusCode::from_u16(r.http_status as u16).unwrap_or(StatusCode::OK);
    if status.is_success() {
        return Ok(json(
            status,
            &PostbackAnswer {
                answer: r.answer,
                reason: r.reason,
                conversion_id: dto_id(&r.conversion_id),
                postback_id: r.postback_id,
            },
        ));
    }
    let mut problem = Problem::new(status, &r.answer, r.reason.clone());
    if !r.field.is_empty() {
        problem.errors.push(FieldError {
            field: r.field,
            message: r.reason,
        });
    }
    Err(problem)
}

fn dto_id(s: &str) -> Option<String> {
    id(s)
}

/// Report a conversion, or a change to one, server to server (public;
/// authenticated by the program's `token`, or by an `X-PRM-Signature:
/// sha256=<hex>` HMAC-SHA256 of the raw query string under the program's
/// secret). The transaction id is the idempotency key. Every postback gets
/// a stable answer (see the README's table) and is logged.
#[utoipa::path(get, path = "/v1/postbacks", tag = "tracking",
    params(PostbackFields, ("X-PRM-Signature" = Option<String>, Header, description = "sha256=<hex HMAC-SHA256 of the raw query string>")),
    responses(
        (status = 200, description = "Duplicate, status updated, or held", body = PostbackAnswer),
        (status = 201, description = "Accepted", body = PostbackAnswer),
    ))]
pub async fn postback_get(
    State(state): State<AppState>,
    ClientAddr(from): ClientAddr,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, Problem> {
    let query = query.unwrap_or_default();
    let fields: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let signature = signature(&headers);
    relay(
        &state,
        from,
        request_from(&fields, &signature, query.into_bytes()),
    )
    .await
}

/// The same postback as a POST: a JSON object or a form, the signature
/// (if any) over the raw body.
#[utoipa::path(post, path = "/v1/postbacks", tag = "tracking",
    params(("X-PRM-Signature" = Option<String>, Header, description = "sha256=<hex HMAC-SHA256 of the raw body>")),
    request_body(content = PostbackBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Duplicate, status updated, or held", body = PostbackAnswer),
        (status = 201, description = "Accepted", body = PostbackAnswer),
    ))]
pub async fn postback_post(
    State(state): State<AppState>,
    ClientAddr(from): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let fields: Vec<(String, String)> = if is_form {
        form_urlencoded::parse(&body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    } else {
        let value: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| Problem::bad_request("body", format!("must be a JSON object: {e}")))?;
        let object = value
            .as_object()
            .ok_or_else(|| Problem::bad_request("body", "must be a JSON object"))?;
        let mut fields = Vec::new();
        for (k, v) in object {
            if !FIELDS.contains(&k.as_str()) {
                return Err(Problem::bad_request(k, "is not a postback field"));
            }
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Null => String::new(),
                _ => return Err(Problem::bad_request(k, "must be a string or a number")),
            };
            fields.push((k.clone(), text));
        }
        fields
    };
    let signature = signature(&headers);
    relay(
        &state,
        from,
        request_from(&fields, &signature, body.to_vec()),
    )
    .await
}

fn signature(headers: &HeaderMap) -> String {
    headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The postback log: staff see every program's, a partner the postbacks
/// attributed to it.
#[utoipa::path(get, path = "/v1/postback-log", tag = "tracking", security(("api_key" = ["postback_log.read"])),
    params(PageQuery, PostbackLogQuery),
    responses((status = 200, description = "OK", body = PostbackLogEntryList)))]
pub async fn postback_log(
    call: Call,
    QueryParams(page): QueryParams<PageQuery>,
    QueryParams(q): QueryParams<PostbackLogQuery>,
) -> Reply<PostbackLogEntryList> {
    let req = pb::ListPostbackLogRequest {
        partner_id: q.partner_id.unwrap_or_default().into(),
        program_id: q.program_id.unwrap_or_default().into(),
        answer: q.answer.unwrap_or_default(),
        page_size: page.page_size.unwrap_or_default(),
        page_token: page.page_token.unwrap_or_default(),
    };
    let r = call.send(req).await?;
    ok(List::of(&r.entries, r.next_page_token))
}

// ------------------------------------------------------------ JSON shapes

/// A postback's fields (query parameters, a form, or a JSON object).
/// What a postback carries (the handlers read them as sent; the service
/// checks them), as query parameters or a JSON object.
#[derive(Clone, Debug, Default, Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PostbackFields {
    /// The program the conversion belongs to.
    #[param(inline)]
    pub program_id: Id,
    /// The program's postback token (or sign with X-PRM-Signature).
    pub token: Option<String>,
    /// The `prm_click_id` the redirect appended.
    #[param(inline)]
    pub click_id: Option<Id>,
    /// The advertiser's id of the transaction: the idempotency key.
    #[param(inline)]
    pub transaction_id: TransactionId,
    /// `lead` or `sale` (a sale when an amount is given).
    #[param(inline)]
    pub kind: Option<ConversionKind>,
    /// CPA rates are per event type.
    #[param(inline)]
    pub event_type: Option<EventType>,
    /// Whole minor units (12500 is 125.00), with `currency`; for
    /// `status=refunded`, the total refunded so far. Never negative; a
    /// pending sale needs one.
    #[param(inline)]
    pub amount: Option<PostbackAmount>,
    #[param(inline)]
    pub currency: Option<CurrencyCode>,
    /// `pending` (default) or `approved` for a new conversion; `approved`,
    /// `rejected`, `refunded` or `chargeback` to change one.
    #[param(inline)]
    pub status: Option<PostbackStatus>,
    /// The advertiser's id of the customer: later sales recur under the
    /// plan without a new click.
    #[param(inline)]
    pub customer_id: Option<CustomerRef>,
    /// The customer's domain (for influence on channel deals and the
    /// self-referral check).
    #[param(inline)]
    pub customer_domain: Option<DomainName>,
    /// RFC 3339; defaults to when the postback arrives.
    pub occurred_at: Option<DateTime<Utc>>,
}

/// The JSON body of a POST postback: the same fields; `amount` may be a
/// number.
pub type PostbackBody = PostbackFields;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PostbackAnswer {
    /// ACCEPTED, STATUS_UPDATED, DUPLICATE, HELD, UNKNOWN_CLICK or
    /// OUTSIDE_ATTRIBUTION_WINDOW (refusals are problems with their code).
    #[schema(example = "ACCEPTED")]
    pub answer: String,
    /// Why it was held, or how the commission was computed.
    pub reason: String,
    pub conversion_id: Option<String>,
    pub postback_id: String,
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PostbackLogQuery {
    /// Staff only; a partner always sees its own.
    #[param(inline)]
    pub partner_id: Option<Id>,
    #[param(inline)]
    pub program_id: Option<Id>,
    /// One answer code, e.g. HELD.
    pub answer: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PostbackLogEntry {
    pub id: String,
    pub program_id: Option<String>,
    pub partner_id: Option<String>,
    pub transaction_id: String,
    pub answer: String,
    pub http_status: i32,
    pub reason: String,
    pub conversion_id: Option<String>,
    /// The fields received, without credentials (a JSON object).
    pub fields: serde_json::Value,
    pub received_at: Option<DateTime<Utc>>,
}

pub type PostbackLogEntryList = List<PostbackLogEntry>;

impl From<&pb::PostbackLogEntry> for PostbackLogEntry {
    fn from(e: &pb::PostbackLogEntry) -> Self {
        Self {
            id: e.postback_id.clone(),
            program_id: id(&e.program_id),
            partner_id: id(&e.partner_id),
            transaction_id: e.transaction_id.clone(),
            answer: e.answer.clone(),
            http_status: e.http_status,
            reason: e.reason.clone(),
            conversion_id: id(&e.conversion_id),
            fields: serde_json::from_str(&e.fields_json).unwrap_or_default(),
            received_at: time(&e.received_at),
        }
    }
}
