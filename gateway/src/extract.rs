//! Request extractors that fail with problem+json instead of axum's plain
//! text: JSON bodies (naming the offending field), query strings, path ids,
//! the `Idempotency-Key` header and the client address.

use std::any::TypeId;
use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::dto::PageQuery;
use crate::problem::{FieldError, Problem};
use crate::state::AppState;

/// A JSON request body. Malformed JSON, wrong types and unknown fields are
/// 400s that name the field; a missing JSON content type is a 415; an
/// oversize body is a 413.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|m| {
                let m = m.trim().to_ascii_lowercase();
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Problem::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "PAYLOAD_TOO_LARGE",
                    "the request body is too large",
                )
            } else {
                Problem::new(
                    StatusCode::BAD_REQUEST,
                    "MALFORMED_BODY",
                    "the request body could not be read",
                )
            }
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// A JSON body that may be left out: an empty body, or `null` (which the
/// document allows where the body is optional), is `T::default()`.
/// Otherwise as [`JsonBody`].
pub struct OptionalJsonBody<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let empty = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() == "0")
            || (!req.headers().contains_key(header::CONTENT_LENGTH)
                && !req.headers().contains_key(header::TRANSFER_ENCODING));
        if empty {
            return Ok(Self(T::default()));
        }
        JsonBody::<Option<T>>::from_request(req, state)
            .await
            .map(|JsonBody(v)| Self(v.unwrap_or_default()))
    }
}

/// Deserialises JSON, reporting the path of the offending field.
///
/// A number with no fraction is an integer, as JSON Schema (and so the
/// OpenAPI document) has it: `188.0` is read as `188` wherever an integer
/// is expected. (serde would refuse it as a float.)
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED_JSON",
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    // Every request body of this API is an object; say so rather than
    // letting serde read an array as a struct's fields.
    let optional_and_null = value.is_null() && accepts_null::<T>();
    if !value.is_object() && !optional_and_null {
        return Err(Problem::bad_request("body", "must be a JSON object"));
    }
    match serde_path_to_error::deserialize::<_, T>(integral_numbers(value)) {
        Ok(v) => Ok(v),
        Err(e) => {
            let inner = e.inner();
            let message = strip_position(&inner.to_string());
            let path = e.path().to_string();
            let field = match unknown_field(&message) {
                // The path already ends with the unknown field's name.
                Some(name) if path == "." => name.to_owned(),
                Some(_) => path,
                None if path == "." => "body".to_owned(),
                None => path,
            };
            let mut p = Problem::new(
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                format!("{field}: {message}"),
            );
            p.errors.push(FieldError { field, message });
            Err(p)
        }
    }
}

/// Whether `T` reads `null` (an optional body, `Option<_>`).
fn accepts_null<T: DeserializeOwned>() -> bool {
    serde_json::from_value::<T>(serde_json::Value::Null).is_ok()
}

/// `value` with every number that has no fraction (`188.0`, `1e3`) as an
/// integer, where it fits one.
fn integral_numbers(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 => {
                Value::from(f as i64)
            }
            _ => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(integral_numbers).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k, integral_numbers(v)))
                .collect(),
        ),
        other => other,
    }
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

fn unknown_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next()
}

/// A query string; a malformed one is a 400 naming the parameter.
///
/// A list's handler takes its paging (`QueryParams<PageQuery>`) and its
/// filters (`QueryParams<SomeQuery>`, which refuses unknown parameters)
/// from the same query string: the paging parameters are left out of
/// every other shape, so that a filter struct does not refuse them.
pub struct QueryParams<T>(pub T);

/// The parameters [`PageQuery`] reads.
const PAGING: [&str; 2] = ["page_size", "page_token"];

impl<T: DeserializeOwned + 'static, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let filtered;
        let query = if TypeId::of::<T>() == TypeId::of::<PageQuery>() {
            query
        } else {
            filtered = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(
                    form_urlencoded::parse(query.as_bytes())
                        .filter(|(k, _)| !PAGING.contains(&k.as_ref())),
                )
                .finish();
            filtered.as_str()
        };
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize::<_, T>(de)
            .map(QueryParams)
            .map_err(|e| {
                let field = e.path().to_string();
                let field = if field == "." {
                    "query".to_owned()
                } else {
                    field
                };
                Problem::bad_request(&field, e.inner().to_string())
            })
    }
}

/// The `{id}` of a resource's path, checked to be a UUID and given in its
/// canonical form; otherwise a 400 naming `id`.
pub struct PathId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| Problem::bad_request("id", e.body_text()))?;
        Ok(PathId(path_id("id", &raw)?.to_string()))
    }
}

/// A UUID from the path.
pub fn path_id(name: &str, raw: &str) -> Result<Uuid, Problem> {
    Uuid::parse_str(raw).map_err(|_| {
        Problem::bad_request(
            name,
            format!(
                "must be a UUID (got {:?})",
                raw.chars().take(40).collect::<String>()
            ),
        )
    })
}

/// The optional `Idempotency-Key` header, validated.
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(v) = parts.headers.get("idempotency-key") else {
            return Ok(IdempotencyKey(None));
        };
        let key = v.to_str().unwrap_or_default();
        if key.is_empty()
            || key.len() > prm_runtime::auth::MAX_IDEMPOTENCY_KEY_LEN
            || !key.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(Problem::bad_request(
                "Idempotency-Key",
                "must be 1 to 255 printable ASCII characters",
            ));
        }
        Ok(IdempotencyKey(Some(key.to_owned())))
    }
}

impl IdempotencyKey {
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

/// The client's address: the TCP peer, or, behind `trusted_proxy_hops`
/// proxies that each append the address they received from to
/// `X-Forwarded-For`, the entry the outermost of them wrote (entries left
/// of it are the client's word and could be anything).
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(client_ip(
            state.settings().http.trusted_proxy_hops,
            &parts.headers,
            &parts.extensions,
        )))
    }
}

/// The client's address from a request's headers and extensions (see
/// [`ClientAddr`]), for handlers that read the request whole.
pub fn client_ip(
    trusted_proxy_hops: usize,
    headers: &axum::http::HeaderMap,
    extensions: &axum::http::Extensions,
) -> IpAddr {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    if trusted_proxy_hops == 0 {
        return peer;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let Some(i) = forwarded.len().checked_sub(trusted_proxy_hops) else {
        // Fewer entries than proxies: the request did not come through
        // all of them; the farthest address known is the best guess.
        return forwarded
            .first()
            .and_then(|v| v.parse().ok())
            .unwrap_or(peer);
    };
    forwarded[i].parse().unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Form {
        name: String,
        inner: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        count: i32,
    }

    #[test]
    fn json_errors_name_the_field() {
        let p = parse_json::<Form>(br#"{"name": 5}"#).expect_err("type");
        assert_eq!(p.errors[0].field, "name");
        let p = parse_json::<Form>(br#"{"name": "a", "status": "approved"}"#).expect_err("unknown");
        assert_eq!(p.errors[0].field, "status");
        let p =
            parse_json::<Form>(br#"{"name": "a", "inner": {"count": "x"}}"#).expect_err("nested");
        assert_eq!(p.errors[0].field, "inner.count");
        let p = parse_json::<Form>(br#"{"name": "a""#).expect_err("syntax");
        assert_eq!(p.code, "MALFORMED_JSON");
        let p = parse_json::<Form>(br#"{}"#).expect_err("missing");
        assert_eq!(p.status, 400);
        assert!(parse_json::<Form>(br#"{"name": "a"}"#).is_ok());
        let p = parse_json::<Form>(br#"[{"name": "a"}]"#).expect_err("array");
        assert_eq!(p.errors[0].field, "body");
    }

    #[test]
    fn integral_numbers_are_integers_as_json_schema_has_it() {
        let f: Form = parse_json(br#"{"name": "a", "inner": {"count": 188.0}}"#).expect("188.0");
        assert_eq!(f.inner.map(|i| i.count), Some(188));
        let f: Form = parse_json(br#"{"name": "a", "inner": {"count": 1e3}}"#).expect("1e3");
        assert_eq!(f.inner.map(|i| i.count), Some(1000));
        let p = parse_json::<Form>(br#"{"name": "a", "inner": {"count": 1.5}}"#).expect_err("1.5");
        assert_eq!(p.errors[0].field, "inner.count");
        let p = parse_json::<Form>(br#"{"name": "a", "inner": {"count": 1e12}}"#).expect_err("i32");
        assert_eq!(p.errors[0].field, "inner.count");
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Filter {
        program_id: Option<String>,
    }

    async fn query<T: DeserializeOwned + 'static>(q: &str) -> Result<T, Problem> {
        let request = axum::http::Request::builder()
            .uri(format!("/v1/plans?{q}"))
            .body(())
            .expect("request");
        let (mut parts, ()) = request.into_parts();
        QueryParams::<T>::from_request_parts(&mut parts, &())
            .await
            .map(|QueryParams(t)| t)
    }

    #[tokio::test]
    async fn filters_leave_the_paging_parameters_to_the_page() {
        let q = "program_id=p%201&page_size=2&page_token=abc";
        let f: Filter = query(q).await.expect("filter");
        assert_eq!(f.program_id.as_deref(), Some("p 1"));
        let page: PageQuery = query(q).await.expect("page");
        assert_eq!(page.page_size, Some(2));
        assert_eq!(page.page_token.as_deref(), Some("abc"));
        let p = query::<Filter>("program=x&page_size=2")
            .await
            .expect_err("typo");
        assert_eq!(p.errors[0].field, "program");
    }

    #[test]
    fn the_client_is_the_entry_the_outermost_trusted_proxy_wrote() {
        let mut ext = axum::http::Extensions::new();
        ext.insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 9], 4000))));
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "6.6.6.6, 198.51.100.7, 10.0.0.5".parse().expect("header"),
        );
        let ip = |hops| client_ip(hops, &headers, &ext).to_string();
        assert_eq!(ip(0), "10.0.0.9", "no proxy trusted: the peer");
        assert_eq!(ip(1), "10.0.0.5");
        assert_eq!(ip(2), "198.51.100.7", "the spoofed first entry is ignored");
        assert_eq!(ip(5), "6.6.6.6");
    }
}
