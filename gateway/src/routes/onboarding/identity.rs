use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use prm_proto::onboarding as pb;

use super::client;
use super::partners::Partner;
use crate::auth::Caller;
use crate::dto::*;
use crate::extract::{IdempotencyKey, JsonBody, QueryParams, path_id};
use crate::problem::Problem;
use crate::routes::json;
use crate::state::AppState;
use crate::wire_enum;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The caller: user, roles and (for partner users) partner.
#[utoipa::path(get, path = "/v1/me", tag = "identity", security(("api_key" = [])),
    responses((status = 200, description = "OK", body = Me)))]
pub async fn me(State(state): State<AppState>, Caller(p): Caller) -> Result<Response, Problem> {
    let mut c = client(&state);
    let user = c
        .get_user(state.grpc(
            pb::GetUserRequest {
                user_id: p.user_id.to_string(),
            },
            Some(&p),
            None,
        ))
        .await?
        .into_inner();
    let partner = match p.partner_id {
        Some(pid) => c
            .get_partner(state.grpc(
                pb::GetPartnerRequest {
                    partner_id: pid.to_string(),
                },
                Some(&p),
                None,
            ))
            .await?
            .into_inner()
            .partner
            .map(|x| Partner::from(&x)),
        None => None,
    };
    let user = User::from(&user.user.ok_or_else(Problem::internal)?);
    Ok(json(
        StatusCode::OK,
        &Me {
            roles: user.roles.clone(),
            user,
            partner,
            api_key_id: p.api_key_id.map(|k| k.to_string()),
        },
    ))
}

/// Add a user to a partner (its partner admin, or staff).
#[utoipa::path(post, path = "/v1/partners/{id}/users", tag = "identity", security(("api_key" = [])),
    params(("id" = String, Path, description = "Partner id")),
    request_body = NewUser,
    responses((status = 201, description = "Created", body = User)))]
pub async fn create_partner_user(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    idem: IdempotencyKey,
    JsonBody(b): JsonBody<NewUser>,
) -> Result<Response, Problem> {
    let id = path_id("id", &id)?;
    let req = pb::CreateUserRequest {
        partner_id: id.to_string(),
        email: b.email,
        display_name: b.display_name,
        roles: b.roles.iter().map(|r| r.to_proto()).collect(),
    };
    let r = client(&state)
        .create_user(state.grpc(req, Some(&p), idem.as_deref()))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::CREATED,
        &User::from(&r.user.ok_or_else(Problem::internal)?),
    ))
}

/// The partner's users.
#[utoipa::path(get, path = "/v1/partners/{id}/users", tag = "identity", security(("api_key" = [])),
    params(("id" = String, Path, description = "Partner id"), PageQuery),
    responses((status = 200, description = "OK", body = UserList)))]
pub async fn list_partner_users(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<PageQuery>,
) -> Result<Response, Problem> {
    let id = path_id("id", &id)?;
    let req = pb::ListUsersRequest {
        partner_id: id.to_string(),
        page_size: q.page_size.unwrap_or_default(),
        page_token: q.page_token.unwrap_or_default(),
    };
    let r = client(&state)
        .list_users(state.grpc(req, Some(&p), None))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::OK,
        &UserList::page(r.users.iter().map(User::from).collect(), r.next_page_token),
    ))
}

/// Deactivate a user; every API key they hold is revoked.
#[utoipa::path(post, path = "/v1/users/{id}/deactivate", tag = "identity", security(("api_key" = [])),
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, description = "OK", body = User)))]
pub async fn deactivate_user(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    idem: IdempotencyKey,
) -> Result<Response, Problem> {
    let id = path_id("id", &id)?;
    let r = client(&state)
        .deactivate_user(state.grpc(
            pb::DeactivateUserRequest {
                user_id: id.to_string(),
            },
            Some(&p),
            idem.as_deref(),
        ))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::OK,
        &User::from(&r.user.ok_or_else(Problem::internal)?),
    ))
}

/// Create an API key for one of the partner's users (the caller by
/// default). The `secret` is in this response only.
#[utoipa::path(post, path = "/v1/partners/{id}/api-keys", tag = "identity", security(("api_key" = [])),
    params(("id" = String, Path, description = "Partner id"), ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key replay the first response (without the secret)")),
    request_body = NewApiKey,
    responses((status = 201, description = "Created", body = CreatedApiKey)))]
pub async fn create_api_key(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    idem: IdempotencyKey,
    JsonBody(b): JsonBody<NewApiKey>,
) -> Result<Response, Problem> {
    let partner_id = path_id("id", &id)?;
    let user_id = match b.user_id.as_deref() {
        Some(u) => path_id("user_id", u)?,
        None if p.partner_id == Some(partner_id) => p.user_id,
        None if p.partner_id.is_some() => return Err(Problem::not_found("partner")),
        None => {
            return Err(Problem::bad_request(
                "user_id",
                "is required when staff create a key for a partner user",
            ));
        }
    };
    // The key must belong to a user of this partner.
    let mut c = client(&state);
    let user = c
        .get_user(state.grpc(
            pb::GetUserRequest {
                user_id: user_id.to_string(),
            },
            Some(&p),
            None,
        ))
        .await?
        .into_inner()
        .user
        .ok_or_else(Problem::internal)?;
    if user.partner_id != partner_id.to_string() {
        return Err(Problem::not_found("user"));
    }
    let req = pb::CreateApiKeyRequest {
        user_id: user_id.to_string(),
        name: b.name,
    };
    let r = c
        .create_api_key(state.grpc(req, Some(&p), idem.as_deref()))
        .await?
        .into_inner();
    let key = r.api_key.as_ref().ok_or_else(Problem::internal)?;
    Ok(json(
        StatusCode::CREATED,
        &CreatedApiKey {
            key: ApiKey::from(key),
            secret: token(r.secret),
        },
    ))
}

/// The partner's API keys (its partner admin, or staff).
#[utoipa::path(get, path = "/v1/partners/{id}/api-keys", tag = "identity", security(("api_key" = [])),
    params(("id" = String, Path, description = "Partner id"), PageQuery),
    responses((status = 200, description = "OK", body = ApiKeyList)))]
pub async fn list_api_keys(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<PageQuery>,
) -> Result<Response, Problem> {
    let id = path_id("id", &id)?;
    let req = pb::ListApiKeysRequest {
        partner_id: id.to_string(),
        user_id: String::new(),
        page_size: q.page_size.unwrap_or_default(),
        page_token: q.page_token.unwrap_or_default(),
    };
    let r = client(&state)
        .list_api_keys(state.grpc(req, Some(&p), None))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::OK,
        &ApiKeyList::page(
            r.api_keys.iter().map(ApiKey::from).collect(),
            r.next_page_token,
        ),
    ))
}

/// Revoke an API key. It stops authenticating within the gateway's cache TTL.
#[utoipa::path(delete, path = "/v1/api-keys/{id}", tag = "identity", security(("api_key" = [])),
    params(("id" = String, Path, description = "API key id")),
    responses((status = 200, description = "OK", body = ApiKey)))]
pub async fn revoke_api_key(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = path_id("id", &id)?;
    let r = client(&state)
        .revoke_api_key(state.grpc(
            pb::RevokeApiKeyRequest {
                api_key_id: id.to_string(),
            },
            Some(&p),
            None,
        ))
        .await?
        .into_inner();
    Ok(json(
        StatusCode::OK,
        &ApiKey::from(&r.api_key.ok_or_else(Problem::internal)?),
    ))
}

// ------------------------------------------------------------ JSON shapes

wire_enum!(UserStatus: pb::UserStatus { Active = "active" => Active, Deactivated = "deactivated" => Deactivated });

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: String,
    /// Absent for vendor staff.
    pub partner_id: Option<String>,
    pub email: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub status: Option<UserStatus>,
    pub created_at: Option<DateTime<Utc>>,
}

impl From<&pb::User> for User {
    fn from(u: &pb::User) -> Self {
        Self {
            id: u.id.clone(),
            partner_id: id(&u.partner_id),
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            roles: u
                .roles
                .iter()
                .filter_map(|r| Role::from_proto(*r).ok())
                .collect(),
            status: UserStatus::from_proto(u.status),
            created_at: time(&u.created_at),
        }
    }
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub roles: Vec<Role>,
}

pub type UserList = List<User>;

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiKey {
    pub id: String,
    pub user_id: String,
    pub partner_id: Option<String>,
    pub name: String,
    /// The first characters of the secret, to recognise the key.
    pub display_prefix: String,
    pub created_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&pb::ApiKey> for ApiKey {
    fn from(k: &pb::ApiKey) -> Self {
        Self {
            id: k.id.clone(),
            user_id: k.user_id.clone(),
            partner_id: id(&k.partner_id),
            name: k.name.clone(),
            display_prefix: k.display_prefix.clone(),
            created_at: time(&k.created_at),
            last_used_at: time(&k.last_used_at),
            revoked_at: time(&k.revoked_at),
        }
    }
}

/// A new key and its secret, which is shown only once.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// Present only in the response that created the key (not on replays).
    pub secret: Option<String>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    #[schema(example = "CRM sync")]
    pub name: String,
    /// The partner user the key is for; defaults to the caller (partner users only).
    pub user_id: Option<String>,
}

pub type ApiKeyList = List<ApiKey>;

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub user: User,
    /// The caller's partner; absent for vendor staff.
    pub partner: Option<Partner>,
    pub roles: Vec<Role>,
    pub api_key_id: Option<String>,
}
