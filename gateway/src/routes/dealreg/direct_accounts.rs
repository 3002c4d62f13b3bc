use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use prm_proto::dealreg as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::client;
use crate::auth::Caller;
use crate::dto::*;
use crate::extract::{IdempotencyKey, JsonBody, QueryParams, path_id};
use crate::problem::Problem;
use crate::routes::json;
use crate::state::AppState;

/// Add a customer the vendor sells to directly (partner managers): no
/// partner can register it.
#[utoipa::path(post, path = "/v1/direct-accounts", tag = "deal registration", security(("api_key" = [])),
    request_body = NewDirectAccount,
    responses((status = 201, description = "Created", body = DirectAccount)))]
pub async fn create_direct_account(
    State(state): State<AppState>,
    Caller(p): Caller,
    idem: IdempotencyKey,
    JsonBody(body): JsonBody<NewDirectAccount>,
) -> Result<Response, Problem> {
    let req = pb::CreateDirectAccountRequest {
        company: body.company,
        domain: body.domain,
    };
    let r = client(&state)
        .create_direct_account(state.grpc(req, Some(&p), idem.as_deref()))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::CREATED,
        &DirectAccount::from(&r.direct_account.ok_or_else(Problem::internal)?),
    ))
}

/// The vendor's direct accounts (staff).
#[utoipa::path(get, path = "/v1/direct-accounts", tag = "deal registration", security(("api_key" = [])),
    params(PageQuery),
    responses((status = 200, description = "OK", body = DirectAccountList)))]
pub async fn list_direct_accounts(
    State(state): State<AppState>,
    Caller(p): Caller,
    QueryParams(page): QueryParams<PageQuery>,
) -> Result<Response, Problem> {
    let req = pb::ListDirectAccountsRequest {
        page_size: page.page_size.unwrap_or_default(),
        page_token: page.page_token.unwrap_or_default(),
    };
    let r = client(&state)
        .list_direct_accounts(state.grpc(req, Some(&p), None))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::OK,
        &DirectAccountList::page(
            r.direct_accounts.iter().map(DirectAccount::from).collect(),
            r.next_page_token,
        ),
    ))
}

/// Remove a direct account (partner managers): partners may register the
/// customer again.
#[utoipa::path(delete, path = "/v1/direct-accounts/{id}", tag = "deal registration", security(("api_key" = [])),
    params(("id" = String, Path, description = "Direct account id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete_direct_account(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = path_id("id", &id)?;
    let req = pb::DeleteDirectAccountRequest {
        direct_account_id: id.to_string(),
    };
    client(&state)
        .delete_direct_account(state.grpc(req, Some(&p), None))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ------------------------------------------------------------ JSON shapes

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDirectAccount {
    #[schema(example = "Globex Corporation")]
    pub company: String,
    #[schema(example = "globex.example")]
    pub domain: String,
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
