use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use prm_proto::commissions as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::dto::*;
use crate::extract::{JsonBody, PathId, QueryParams, client_ip};
use crate::forward::{Call, Reply, created, ok, one};
use crate::problem::Problem;
use crate::state::AppState;
use prm_runtime::throttle::client_key;

/// The query parameter the redirect appends: the click id the advertiser
/// passes back in its postback.
pub const CLICK_ID_PARAM: &str = "prm_click_id";

/// Create a tracking link to a destination on one of the program's
/// allowed domains (a partner, for itself; staff name the partner). Share
/// `/t/{code}`.
#[utoipa::path(post, path = "/v1/links", tag = "tracking", security(("api_key" = ["links.write"])),
    request_body = NewLink,
    responses((status = 201, description = "Created", body = Link)))]
pub async fn create_link(call: Call, JsonBody(body): JsonBody<NewLink>) -> Reply<Link> {
    let req = pb::CreateLinkRequest {
        partner_id: body.partner_id.unwrap_or_default().into(),
        destination_url: body.destination_url.into(),
    };
    let r = call.send(req).await?;
    created(one(r.link)?)
}

/// Tracking links: a partner's own, or staff's choice.
#[utoipa::path(get, path = "/v1/links", tag = "tracking", security(("api_key" = ["links.read"])),
    params(PageQuery, PartnerQuery),
    responses((status = 200, description = "OK", body = LinkList)))]
pub async fn list_links(
    call: Call,
    QueryParams(page): QueryParams<PageQuery>,
    QueryParams(q): QueryParams<PartnerQuery>,
) -> Reply<LinkList> {
    let req = pb::ListLinksRequest {
        partner_id: q.partner_id.unwrap_or_default().into(),
        page_size: page.page_size.unwrap_or_default(),
        page_token: page.page_token.unwrap_or_default(),
    };
    let r = call.send(req).await?;
    ok(List::of(&r.links, r.next_page_token))
}

/// Disable a tracking link (its partner, or staff): it stops redirecting
/// at once, and the gateway forgets it.
#[utoipa::path(post, path = "/v1/links/{id}/disable", tag = "tracking", security(("api_key" = ["links.write"])),
    params(("id" = Uuid, Path, description = "Link id")),
    responses((status = 200, description = "Disabled", body = Link)))]
pub async fn disable_link(call: Call, PathId(id): PathId) -> Reply<Link> {
    let req = pb::DisableLinkRequest { link_id: id };
    let r = call.send(req).await?;
    ok(one(r.link)?)
}

/// Follow a tracking link (public): 302 to its destination with
/// `prm_click_id` appended, the click recorded without delaying the
/// redirect. `sub1`..`sub5` are kept with the click. An unknown code is
/// 404, never a redirect elsewhere.
#[utoipa::path(get, path = "/t/{code}", tag = "tracking",
    params(("code" = String, Path, description = "The link's code"), SubIds),
    responses(
        (status = 302, description = "To the destination",
            headers(("Location" = String, description = "The destination with prm_click_id"))),
        (status = 404, description = "UNKNOWN_LINK: no active link has this code", body = Problem,
            content_type = "application/problem+json"),
    ))]
pub async fn redirect(State(state): State<AppState>, req: Request) -> Result<Response, Problem> {
    // The request is read in place: no copies of its headers or query.
    let tracking = state.tracking();
    let unknown = || {
        Problem::new(
            StatusCode::NOT_FOUND,
            "UNKNOWN_LINK",
            "no active tracking link has this code",
        )
    };
    let ip = client_ip(
        state.settings().http.trusted_proxy_hops,
        req.headers(),
        req.extensions(),
    );
    state.public_limits().redirects_by_address.admit(
        &client_key(ip).to_string(),
        None,
        "too many redirects from this address; try again later",
    )?;
    let code = req.uri().path().strip_prefix("/t/").unwrap_or_default();
    if !(4..=32).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(unknown());
    }
    let link = tracking.resolve(code).await?.ok_or_else(unknown)?;
    let click_id = Uuid::now_v7().to_string();
    let location = with_param(&link.destination, CLICK_ID_PARAM, &click_id);
    let location = HeaderValue::from_str(&location).map_err(|_| Problem::internal())?;
    let headers = req.headers();
    let header_text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut sub_ids = vec![String::new(); 5];
    for (k, v) in form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes()) {
        if let Some(i) = k
            .strip_prefix("sub")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| (1..=5).contains(n))
        {
            sub_ids[i - 1] = v.chars().take(255).collect();
        }
    }
    let click = pb::Click {
        click_id,
        link_id: link.link_id.clone(),
        clicked_at: Some(prm_runtime::wire::timestamp(state.clock().now())),
        ip_hash: tracking.hash_ip(&ip),
        user_agent: header_text(header::USER_AGENT),
        referrer: header_text(header::REFERER),
        sub_ids,
    };
    tracking.record(click).await;
    let mut res = (
        StatusCode::FOUND,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer-when-downgrade"),
            ),
        ],
    )
        .into_response();
    // While the gateway drains, responses close their connections (as the
    // API's drain middleware does).
    if state.draining().is_cancelled() {
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    Ok(res)
}

/// `url` with `name=value` added to its query, before any fragment.
pub fn with_param(url: &str, name: &str, value: &str) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let sep = if !base.contains('?') {
        "?"
    } else if base.ends_with('?') || base.ends_with('&') {
        ""
    } else {
        "&"
    };
    let encoded: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let mut out = format!("{base}{sep}{name}={encoded}");
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

// ------------------------------------------------------------ JSON shapes

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLink {
    /// Required from staff: the partner the link is for. A partner
    /// leaves it out.
    pub partner_id: Option<Id>,
    /// On one of the program's allowed domains.
    pub destination_url: WebUrl,
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PartnerQuery {
    /// Staff only; a partner always sees its own.
    #[param(inline)]
    pub partner_id: Option<Id>,
}

/// Sub-ids a link's user may add, kept with the click.
#[derive(Clone, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SubIds {
    pub sub1: Option<String>,
    pub sub2: Option<String>,
    pub sub3: Option<String>,
    pub sub4: Option<String>,
    pub sub5: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Link {
    pub id: String,
    /// Share `/t/{code}`.
    pub code: String,
    pub partner_id: String,
    pub program_id: String,
    pub destination_url: String,
    pub status: Option<LinkStatus>,
    pub created_at: Option<DateTime<Utc>>,
}

pub type LinkList = List<Link>;

impl From<&pb::Link> for Link {
    fn from(l: &pb::Link) -> Self {
        Self {
            id: l.link_id.clone(),
            code: l.code.clone(),
            partner_id: l.partner_id.clone(),
            program_id: l.program_id.clone(),
            destination_url: l.destination_url.clone(),
            status: LinkStatus::from_proto(l.status).ok(),
            created_at: time(&l.created_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_click_id_joins_the_query_before_the_fragment() {
        assert_eq!(
            with_param("https://s.example/", "c", "1"),
            "https://s.example/?c=1"
        );
        assert_eq!(
            with_param("https://s.example/?a=b", "c", "1"),
            "https://s.example/?a=b&c=1"
        );
        assert_eq!(
            with_param("https://s.example/?", "c", "1"),
            "https://s.example/?c=1"
        );
        assert_eq!(
            with_param("https://s.example/p#top", "c", "1"),
            "https://s.example/p?c=1#top"
        );
    }
}
