use prm_proto::onboarding as pb;

use super::partners::Partner;
use crate::dto::*;
use crate::extract::{JsonBody, OptionalJsonBody, PathId, QueryParams, path_id};
use crate::forward::{Call, Reply, created, ok, one};
use crate::problem::Problem;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The caller: user, roles and (for partner users) partner.
#[utoipa::path(get, path = "/v1/me", tag = "identity", security(("api_key" = [])),
    responses((status = 200, description = "OK", body = Me)))]
pub async fn me(call: Call) -> Reply<Me> {
    let p = call.principal();
    // Any key may read who it is.
    let user = call
        .send_implied(
            pb::GetUserRequest {
                user_id: p.user_id.to_string(),
            },
            "users.read",
        )
        .await?;
    let partner = match p.partner_id {
        Some(pid) => call
            .send_implied(
                pb::GetPartnerRequest {
                    partner_id: pid.to_string(),
                },
                "partners.read",
            )
            .await?
            .partner
            .map(|x| Partner::from(&x)),
        None => None,
    };
    let user = User::from(&user.user.ok_or_else(Problem::internal)?);
    ok(Me {
        roles: user.roles.clone(),
        user,
        partner,
        api_key_id: p.api_key_id.map(|k| k.to_string()),
    })
}

/// Add a user to a partner (its partner admin, or staff).
#[utoipa::path(post, path = "/v1/partners/{id}/users", tag = "identity", security(("api_key" = ["users.write"])),
    params(("id" = Uuid, Path, description = "Partner id")),
    request_body = NewUser,
    responses((status = 201, description = "Created", body = User)))]
pub async fn create_partner_user(
    call: Call,
    PathId(id): PathId,
    JsonBody(b): JsonBody<NewUser>,
) -> Reply<User> {
    let req = pb::CreateUserRequest {
        partner_id: id,
        email: b.email.into(),
        display_name: b.display_name.into(),
        roles: b.roles.iter().map(|r| r.to_proto()).collect(),
    };
    let r = call.send(req).await?;
    created(one(r.user)?)
}

/// The partner's users.
#[utoipa::path(get, path = "/v1/partners/{id}/users", tag = "identity", security(("api_key" = ["users.read"])),
    params(("id" = Uuid, Path, description = "Partner id"), PageQuery),
    responses((status = 200, description = "OK", body = UserList)))]
pub async fn list_partner_users(
    call: Call,
    PathId(id): PathId,
    QueryParams(q): QueryParams<PageQuery>,
) -> Reply<UserList> {
    let req = pb::ListUsersRequest {
        partner_id: id,
        page_size: q.page_size.unwrap_or_default(),
        page_token: q.page_token.unwrap_or_default(),
    };
    let r = call.send(req).await?;
    ok(List::of(&r.users, r.next_page_token))
}

/// Deactivate a user; every API key they hold is revoked.
#[utoipa::path(post, path = "/v1/users/{id}/deactivate", tag = "identity", security(("api_key" = ["users.write"])),
    params(("id" = Uuid, Path, description = "User id")),
    responses((status = 200, description = "OK", body = User)))]
pub async fn deactivate_user(call: Call, PathId(id): PathId) -> Reply<User> {
    let r = call.send(pb::DeactivateUserRequest { user_id: id }).await?;
    ok(one(r.user)?)
}

/// Create an API key for one of the partner's users (the caller by
/// default). The `secret` is in this response only.
#[utoipa::path(post, path = "/v1/partners/{id}/api-keys", tag = "identity", security(("api_key" = ["api_keys.write"])),
    params(("id" = Uuid, Path, description = "Partner id"), ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key replay the first response (without the secret)")),
    request_body = NewApiKey,
    responses((status = 201, description = "Created", body = CreatedApiKey)))]
pub async fn create_api_key(
    call: Call,
    PathId(id): PathId,
    JsonBody(b): JsonBody<NewApiKey>,
) -> Reply<CreatedApiKey> {
    let partner_id = path_id("id", &id)?;
    let p = call.principal();
    let user_id = match b.user_id.as_ref().map(|u| u.0.as_str()) {
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
    let user = call
        .send_implied(
            pb::GetUserRequest {
                user_id: user_id.to_string(),
            },
            "users.read",
        )
        .await?
        .user
        .ok_or_else(Problem::internal)?;
    if user.partner_id != partner_id.to_string() {
        return Err(Problem::not_found("user"));
    }
    let req = pb::CreateApiKeyRequest {
        user_id: user_id.to_string(),
        name: b.name.into(),
        scopes: b.scopes.unwrap_or_default(),
        expires_at: b.expires_at.map(prm_runtime::wire::timestamp),
        allowed_cidrs: b.allowed_cidrs.unwrap_or_default(),
    };
    let r = call.send(req).await?;
    let key = r.api_key.as_ref().ok_or_else(Problem::internal)?;
    created(CreatedApiKey {
        key: ApiKey::from(key),
        secret: token(r.secret),
    })
}

/// The partner's API keys (its partner admin, or staff).
#[utoipa::path(get, path = "/v1/partners/{id}/api-keys", tag = "identity", security(("api_key" = ["api_keys.read"])),
    params(("id" = Uuid, Path, description = "Partner id"), PageQuery),
    responses((status = 200, description = "OK", body = ApiKeyList)))]
pub async fn list_api_keys(
    call: Call,
    PathId(id): PathId,
    QueryParams(q): QueryParams<PageQuery>,
) -> Reply<ApiKeyList> {
    let req = pb::ListApiKeysRequest {
        partner_id: id,
        user_id: String::new(),
        page_size: q.page_size.unwrap_or_default(),
        page_token: q.page_token.unwrap_or_default(),
    };
    let r = call.send(req).await?;
    ok(List::of(&r.api_keys, r.next_page_token))
}

/// Revoke an API key. It stops authenticating within the gateway's cache TTL.
#[utoipa::path(delete, path = "/v1/api-keys/{id}", tag = "identity", security(("api_key" = ["api_keys.write"])),
    params(("id" = Uuid, Path, description = "API key id")),
    responses((status = 200, description = "OK", body = ApiKey)))]
pub async fn revoke_api_key(call: Call, PathId(id): PathId) -> Reply<ApiKey> {
    let r = call
        .send(pb::RevokeApiKeyRequest { api_key_id: id })
        .await?;
    ok(one(r.api_key)?)
}

/// Rotate an API key: a new key with the old one's name, scopes and
/// networks (its `secret` is in this response only); the old key keeps
/// working until `old_key_valid_until`, at once by default.
#[utoipa::path(post, path = "/v1/api-keys/{id}/rotate", tag = "identity", security(("api_key" = ["api_keys.write"])),
    params(("id" = Uuid, Path, description = "API key id")),
    request_body(content = Option<KeyRotation>),
    responses((status = 201, description = "The new key", body = RotatedApiKey)))]
pub async fn rotate_api_key(
    call: Call,
    PathId(id): PathId,
    OptionalJsonBody(b): OptionalJsonBody<KeyRotation>,
) -> Reply<RotatedApiKey> {
    let r = call
        .send(pb::RotateApiKeyRequest {
            api_key_id: id,
            old_key_valid_until: b.old_key_valid_until.map(prm_runtime::wire::timestamp),
        })
        .await?;
    created(RotatedApiKey {
        key: one(r.api_key)?,
        secret: token(r.secret),
        rotated: one(r.rotated)?,
    })
}

/// The longest a new staff key may live (staff).
#[utoipa::path(get, path = "/v1/api-key-policy", tag = "identity", security(("api_key" = ["api_key_policy.read"])),
    responses((status = 200, description = "OK", body = KeyPolicy)))]
pub async fn get_staff_key_policy(call: Call) -> Reply<KeyPolicy> {
    let r = call.send(pb::GetApiKeyPolicyRequest::default()).await?;
    ok(one(r.policy)?)
}

/// Set the longest a new staff key may live (admins): keys made after it
/// without an expiry get the longest, and longer ones are refused.
#[utoipa::path(put, path = "/v1/api-key-policy", tag = "identity", security(("api_key" = ["api_key_policy.write"])),
    request_body = KeyPolicyChange,
    responses((status = 200, description = "OK", body = KeyPolicy)))]
pub async fn put_staff_key_policy(
    call: Call,
    JsonBody(b): JsonBody<KeyPolicyChange>,
) -> Reply<KeyPolicy> {
    let r = call
        .send(pb::SetApiKeyPolicyRequest {
            program_id: String::new(),
            max_key_days: b.max_key_days.unwrap_or(0),
        })
        .await?;
    ok(one(r.policy)?)
}

/// The longest a new key of the program's partners may live (staff).
#[utoipa::path(get, path = "/v1/programs/{id}/api-key-policy", tag = "identity", security(("api_key" = ["api_key_policy.read"])),
    params(("id" = Uuid, Path, description = "Program id")),
    responses((status = 200, description = "OK", body = KeyPolicy)))]
pub async fn get_program_key_policy(call: Call, PathId(id): PathId) -> Reply<KeyPolicy> {
    let r = call
        .send(pb::GetApiKeyPolicyRequest { program_id: id })
        .await?;
    ok(one(r.policy)?)
}

/// Set the longest a new key of the program's partners may live (admins).
#[utoipa::path(put, path = "/v1/programs/{id}/api-key-policy", tag = "identity", security(("api_key" = ["api_key_policy.write"])),
    params(("id" = Uuid, Path, description = "Program id")),
    request_body = KeyPolicyChange,
    responses((status = 200, description = "OK", body = KeyPolicy)))]
pub async fn put_program_key_policy(
    call: Call,
    PathId(id): PathId,
    JsonBody(b): JsonBody<KeyPolicyChange>,
) -> Reply<KeyPolicy> {
    let r = call
        .send(pb::SetApiKeyPolicyRequest {
            program_id: id,
            max_key_days: b.max_key_days.unwrap_or(0),
        })
        .await?;
    ok(one(r.policy)?)
}

// ------------------------------------------------------------ JSON shapes

/// How a rotation treats the old key.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyRotation {
    /// Until when the old key keeps working (not in the past); by default
    /// it stops at once.
    pub old_key_valid_until: Option<DateTime<Utc>>,
}

/// A rotated key: the new one with its secret, and the old one with the
/// expiry the rotation gave it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RotatedApiKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// Present only in the response that rotated the key (not on replays).
    pub secret: Option<String>,
    pub rotated: ApiKey,
}

/// The longest a new key may live.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct KeyPolicy {
    /// The program whose partners' keys this is for; absent for staff keys.
    pub program_id: Option<String>,
    /// Days; absent when keys may live forever.
    pub max_key_days: Option<i32>,
}

impl From<&pb::ApiKeyPolicy> for KeyPolicy {
    fn from(p: &pb::ApiKeyPolicy) -> Self {
        Self {
            program_id: id(&p.program_id),
            max_key_days: (p.max_key_days > 0).then_some(p.max_key_days),
        }
    }
}

/// A new maximum key lifetime.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyPolicyChange {
    /// 1 to 3650 days; null lifts the maximum.
    #[schema(minimum = 1, maximum = 3650)]
    pub max_key_days: Option<i32>,
}

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
            status: UserStatus::from_proto(u.status).ok(),
            created_at: time(&u.created_at),
        }
    }
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: EmailAddress,
    pub display_name: PersonName,
    /// A partner's users take partner roles.
    #[schema(min_items = 1, schema_with = partner_roles)]
    pub roles: Vec<Role>,
}

pub type UserList = List<User>;

/// The roles a partner's user may hold, at least one.
fn partner_roles() -> utoipa::openapi::Array {
    utoipa::openapi::ArrayBuilder::new()
        .items(prm_runtime::wire::enum_schema(
            &[],
            [Role::PartnerAdmin, Role::PartnerUser].map(Role::as_str),
        ))
        .min_items(Some(1))
        .build()
}

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
    /// The address the key was last used from.
    pub last_used_ip: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// What the key may do.
    #[schema(schema_with = scope_list)]
    pub scopes: Vec<String>,
    /// When the key stops working; absent if it does not expire.
    pub expires_at: Option<DateTime<Utc>>,
    /// The networks the key may be used from; empty for any.
    pub allowed_cidrs: Vec<String>,
}

/// Scope names: `all`, `read_only`, or `<resource>.read|write` (write
/// implies read). Each operation's security requirement names the scope
/// it needs.
fn scope_list() -> utoipa::openapi::Array {
    utoipa::openapi::ArrayBuilder::new()
        .items(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .enum_values(Some(prm_runtime::scopes::every_scope())),
        )
        .build()
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
            last_used_ip: (!k.last_used_ip.is_empty()).then(|| k.last_used_ip.clone()),
            revoked_at: time(&k.revoked_at),
            scopes: k.scopes.clone(),
            expires_at: time(&k.expires_at),
            allowed_cidrs: k.allowed_cidrs.clone(),
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
    pub name: ApiKeyName,
    /// The partner user the key is for; defaults to the calling partner
    /// user, and staff name one.
    pub user_id: Option<Id>,
    /// What the key may do; by default the calling key's own scopes. A key
    /// can never make a key broader than itself.
    #[schema(schema_with = scope_list)]
    pub scopes: Option<Vec<String>>,
    /// When the key stops working (in the future); by default never.
    pub expires_at: Option<DateTime<Utc>>,
    /// Networks (CIDR, or single addresses) the key may be used from; by
    /// default any.
    #[schema(example = json!(["203.0.113.0/24"]))]
    pub allowed_cidrs: Option<Vec<String>>,
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
