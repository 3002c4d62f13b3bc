use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use prm_proto::dealreg as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::dto::*;
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::forward::{Call, Reply, created, ok, one};
use crate::problem::Problem;

/// Add a customer the vendor sells to directly (partner managers): no
/// partner can register it.
#[utoipa::path(post, path = "/v1/direct-accounts", tag = "deal registration", security(("api_key" = ["direct_accounts.write"])),
    request_body = NewDirectAccount,
    responses((status = 201, description = "Created", body = DirectAccount)))]
pub async fn create_direct_account(
    call: Call,
    JsonBody(body): JsonBody<NewDirectAccount>,
) -> Reply<DirectAccount> {
    let req = pb::CreateDirectAccountRequest {
        company: body.company.into(),
        domain: body.domain.into(),
    };
    let r = call.send(req).await?;
    created(one(r.direct_account)?)
}

/// The vendor's direct accounts (staff).
#[utoipa::path(get, path = "/v1/direct-accounts", tag = "deal registration", security(("api_key" = ["direct_accounts.read"])),
    params(PageQuery),
    responses((status = 200, description = "OK", body = DirectAccountList)))]
pub async fn list_direct_accounts(
    call: Call,
    QueryParams(page): QueryParams<PageQuery>,
) -> Reply<DirectAccountList> {
    let req = pb::ListDirectAccountsRequest {
        page_size: page.page_size.unwrap_or_default(),
        page_token: page.page_token.unwrap_or_default(),
    };
    let r = call.send(req).await?;
    ok(List::of(&r.direct_accounts, r.next_page_token))
}

/// Remove a direct account (partner managers): partners may register the
/// customer again.
#[utoipa::path(delete, path = "/v1/direct-accounts/{id}", tag = "deal registration", security(("api_key" = ["direct_accounts.write"])),
    params(("id" = Uuid, Path, description = "Direct account id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete_direct_account(call: Call, PathId(id): PathId) -> Result<Response, Problem> {
    let req = pb::DeleteDirectAccountRequest {
        direct_account_id: id,
    };
    call.send(req).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ------------------------------------------------------------ JSON shapes

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDirectAccount {
    pub company: CompanyName,
    pub domain: DomainName,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DirectAccount {
    pub id: String,
    pub company: String,
    pub domain: String,
    /// The registrable domain it blocks.
    pub domain_key: String,
    pub created_at: Option<DateTime<Utc>>,
}

pub type DirectAccountList = List<DirectAccount>;

impl From<&pb::DirectAccount> for DirectAccount {
    fn from(d: &pb::DirectAccount) -> Self {
        Self {
            id: d.id.clone(),
            company: d.company.clone(),
            domain: d.domain.clone(),
            domain_key: d.domain_key.clone(),
            created_at: time(&d.created_at),
        }
    }
}
