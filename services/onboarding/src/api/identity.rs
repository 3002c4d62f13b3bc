//! Users, API keys and authentication. Onboarding is the identity owner:
//! the gateway resolves every API key here through `Authenticate`.

use chrono::Utc;
use prm_proto::events as ev;
use prm_proto::onboarding::*;
use prm_runtime::auth::{PARTNER_MANAGEMENT, STAFF};
use prm_runtime::{
    ApiError, CallContext, EventMeta, FieldErrors, Idempotency, Page, Principal, Role, validate,
};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;

use super::{Begun, Onboarding, convert, ensure_partner_can_act};
use crate::domain::checklist::ChecklistItem;
use crate::domain::credentials;
use crate::operations;
use crate::store::{self, ApiKeyRow, UserRow};

const BOOTSTRAP_ADMIN_EMAIL: &str = "bootstrap-admin@prm.invalid";

/// Whether `principal` may manage (create keys for, deactivate) `user`.
fn may_manage_user(principal: &Principal, user: &UserRow) -> bool {
    if principal.user_id == user.id || principal.has_role(Role::Admin) {
        return true;
    }
    match user.partner_id {
        Some(pid) => {
            (principal.is_staff() && principal.has_role(Role::PartnerManager))
                || (principal.partner_id == Some(pid) && principal.has_role(Role::PartnerAdmin))
        }
        None => false,
    }
}

/// Whether `principal` may see `user` at all.
fn may_see_user(principal: &Principal, user: &UserRow) -> bool {
    principal.user_id == user.id
        || match user.partner_id {
            Some(pid) => principal.can_access_partner(pid),
            None => principal.is_staff(),
        }
}

fn user_meta(entity_verb: &'static str, user: &UserRow, version: i64) -> EventMeta {
    EventMeta {
        entity_verb,
        partner_id: user.partner_id,
        aggregate_type: "user",
        aggregate_id: user.id,
        aggregate_version: version,
    }
}

impl Onboarding {
    async fn revoked_event(
        &self,
        tx: &mut sqlx::PgConnection,
        key: &ApiKeyRow,
    ) -> Result<(), ApiError> {
        self.outbox
            .stage(
                tx,
                EventMeta {
                    entity_verb: "api_key.revoked",
                    partner_id: key.partner_id,
                    aggregate_type: "api_key",
                    aggregate_id: key.id,
                    aggregate_version: 2,
                },
                &ev::ApiKeyRevoked {
                    api_key_id: key.id.to_string(),
                    user_id: key.user_id.to_string(),
                    partner_id: convert::opt_id(key.partner_id),
                },
            )
            .await?;
        Ok(())
    }

    pub(super) async fn create_user(
        &self,
        ctx: CallContext,
        req: CreateUserRequest,
    ) -> Result<CreateUserResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let mut errs = FieldErrors::new();
        let partner_id = errs
            .check("partner_id", validate::optional_uuid(&req.partner_id))
            .flatten();
        let email = errs.check("email", validate::email(&req.email));
        let display_name = errs.check(
            "display_name",
            validate::required_text(&req.display_name, 200),
        );
        let mut roles = Vec::new();
        if req.roles.is_empty() {
            errs.add("roles", "needs at least one role");
        }
        for (i, r) in req.roles.iter().enumerate() {
            match convert::role_from_proto(*r) {
                Ok(role) if partner_id.is_some() && role.is_staff() => errs.add(
                    format!("roles[{i}]"),
                    format!(
                        "{role} is a staff role; partner users take partner_admin or partner_user"
                    ),
                ),
                Ok(role) if partner_id.is_none() && !role.is_staff() => errs.add(
                    format!("roles[{i}]"),
                    format!("{role} is a partner role; give a partner_id to create a partner user"),
                ),
                Ok(role) if !roles.contains(&role) => roles.push(role),
                Ok(_) => {}
                Err(e) => errs.add(format!("roles[{i}]"), e),
            }
        }
        errs.finish()?;
        let (Some(email), Some(display_name)) = (email, display_name) else {
            unreachable!("checked above")
        };

        match partner_id {
            None => principal.require_any_role(&[Role::Admin])?,
            Some(pid) => {
                let partner = self.visible_partner(&principal, pid).await?;
                if principal.partner_id.is_some() {
                    principal.require_any_role(&[Role::PartnerAdmin])?;
                } else {
                    principal.require_any_role(PARTNER_MANAGEMENT)?;
                }
                ensure_partner_can_act(&principal, &partner)?;
                if partner.status == "terminated" {
                    return Err(ApiError::precondition(
                        "PARTNER_TERMINATED",
                        format!("partner/{pid}"),
                        "the partner is terminated",
                    ));
                }
            }
        }

        let idem = Idempotency::new(&ctx, "CreateUser", &req);
        let mut tx = begin_or_replay!(self, idem);
        let role_names: Vec<String> = roles.iter().map(|r| r.as_str().to_owned()).collect();
        let user = store::insert_user(&mut tx, partner_id, &email, &display_name, &role_names)
            .await
            .map_err(|e| {
                if prm_runtime::db::violates(&e, "users_email_key") {
                    ApiError::already_exists(
                        "USER_EMAIL_TAKEN",
                        format!("{email} already belongs to a user"),
                    )
                } else {
                    e.into()
                }
            })?;
        self.outbox
            .stage(
                &mut tx,
                user_meta("user.created", &user, 1),
                &ev::PartnerUserCreated {
                    user_id: user.id.to_string(),
                    partner_id: convert::opt_id(user.partner_id),
                    roles: user.roles.clone(),
                },
            )
            .await?;
        let resp = CreateUserResponse {
            user: Some(convert::user(&user)),
        };
        self.commit(tx, &idem, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn get_user(
        &self,
        ctx: CallContext,
        req: GetUserRequest,
    ) -> Result<GetUserResponse, ApiError> {
        let principal = ctx.principal()?;
        let id = validate::uuid(&req.user_id).map_err(|e| ApiError::invalid("user_id", e))?;
        let mut conn = self.db.acquire().await?;
        let user = store::user(&mut conn, id)
            .await?
            .filter(|u| may_see_user(principal, u))
            .ok_or(ApiError::not_found("user"))?;
        Ok(GetUserResponse {
            user: Some(convert::user(&user)),
        })
    }

    pub(super) async fn list_users(
        &self,
        ctx: CallContext,
        req: ListUsersRequest,
    ) -> Result<ListUsersResponse, ApiError> {
        let principal = ctx.principal()?;
        let requested = validate::optional_uuid(&req.partner_id)
            .map_err(|e| ApiError::invalid("partner_id", e))?;
        let partner_id = match (principal.partner_id, requested) {
            // A partner lists its own users.
            (Some(own), None) => Some(own),
            (_, Some(pid)) => {
                principal.ensure_partner_access(pid, "partner")?;
                Some(pid)
            }
            (None, None) => {
                principal.require_any_role(STAFF)?;
                None
            }
        };
        let filter = convert::opt_id(partner_id);
        let page = Page::parse(req.page_size, &req.page_token, &[&filter])?;
        let mut conn = self.db.acquire().await?;
        let mut rows = store::list_users(
            &mut conn,
            partner_id,
            page.after_or_nil(),
            page.fetch_limit(),
        )
        .await?;
        let next_page_token = page.finish(&mut rows, |r| r.id);
        Ok(ListUsersResponse {
            users: rows.iter().map(convert::user).collect(),
            next_page_token,
        })
    }

    /// Deactivates a user and revokes every API key they hold.
    pub(super) async fn deactivate_user(
        &self,
        ctx: CallContext,
        req: DeactivateUserRequest,
    ) -> Result<DeactivateUserResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let id = validate::uuid(&req.user_id).map_err(|e| ApiError::invalid("user_id", e))?;
        let idem = Idempotency::new(&ctx, "DeactivateUser", &req);
        let mut tx = begin_or_replay!(self, idem);
        let user = store::user(&mut tx, id)
            .await?
            .filter(|u| may_see_user(&principal, u))
            .ok_or(ApiError::not_found("user"))?;
        if !may_manage_user(&principal, &user) {
            return Err(ApiError::permission_denied(
                "ROLE_REQUIRED",
                "you cannot manage this user",
            ));
        }
        if user.id == principal.user_id {
            return Err(ApiError::precondition(
                "CANNOT_DEACTIVATE_SELF",
                format!("user/{id}"),
                "you cannot deactivate yourself",
            ));
        }
        if user.status != "active" {
            return Err(ApiError::precondition(
                "USER_NOT_ACTIVE",
                format!("user/{id}"),
                "the user is already deactivated",
            ));
        }
        let user = store::deactivate_user(&mut tx, id).await?;
        for key in store::revoke_user_keys(&mut tx, id).await? {
            self.revoked_event(&mut tx, &key).await?;
        }
        self.outbox
            .stage(
                &mut tx,
                user_meta("user.deactivated", &user, 2),
                &ev::PartnerUserDeactivated {
                    user_id: user.id.to_string(),
                    partner_id: convert::opt_id(user.partner_id),
                },
            )
            .await?;
        let resp = DeactivateUserResponse {
            user: Some(convert::user(&user)),
        };
        self.commit(tx, &idem, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn create_api_key(
        &self,
        ctx: CallContext,
        req: CreateApiKeyRequest,
    ) -> Result<CreateApiKeyResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let mut errs = FieldErrors::new();
        let user_id = errs
            .check("user_id", validate::optional_uuid(&req.user_id))
            .flatten();
        let name = errs.check("name", validate::required_text(&req.name, 100));
        errs.finish()?;
        let Some(name) = name else {
            unreachable!("checked above")
        };
        let user_id = user_id.unwrap_or(principal.user_id);

        let idem = Idempotency::new(&ctx, "CreateApiKey", &req);
        let mut tx = begin_or_replay!(self, idem);
        let user = store::user(&mut tx, user_id)
            .await?
            .filter(|u| may_see_user(&principal, u))
            .ok_or(ApiError::not_found("user"))?;
        if !may_manage_user(&principal, &user) {
            return Err(ApiError::permission_denied(
                "ROLE_REQUIRED",
                "you cannot create keys for this user",
            ));
        }
        if user.status != "active" {
            return Err(ApiError::precondition(
                "USER_NOT_ACTIVE",
                format!("user/{user_id}"),
                "the user is deactivated",
            ));
        }
        if let Some(pid) = user.partner_id {
            let partner = store::partner(&mut tx, pid)
                .await?
                .ok_or(ApiError::not_found("partner"))?;
            ensure_partner_can_act(&principal, &partner)?;
            if partner.status == "terminated" {
                return Err(ApiError::precondition(
                    "PARTNER_TERMINATED",
                    format!("partner/{pid}"),
                    "the partner is terminated",
                ));
            }
        }
        let key = credentials::generate();
        let row =
            store::insert_api_key(&mut tx, &user, &name, &key.display_prefix, &key.hash, false)
                .await?;
        let resp = CreateApiKeyResponse {
            api_key: Some(convert::api_key(&row)),
            secret: key.secret,
        };
        // The secret is never stored, not even for idempotent replays.
        let stored = CreateApiKeyResponse {
            secret: String::new(),
            ..resp.clone()
        };
        self.commit(tx, &idem, &stored).await?;
        Ok(resp)
    }

    pub(super) async fn list_api_keys(
        &self,
        ctx: CallContext,
        req: ListApiKeysRequest,
    ) -> Result<ListApiKeysResponse, ApiError> {
        let principal = ctx.principal()?;
        let mut errs = FieldErrors::new();
        let user_id = errs
            .check("user_id", validate::optional_uuid(&req.user_id))
            .flatten();
        let partner_id = errs
            .check("partner_id", validate::optional_uuid(&req.partner_id))
            .flatten();
        if user_id.is_some() && partner_id.is_some() {
            errs.add("partner_id", "give user_id or partner_id, not both");
        }
        errs.finish()?;
        let mut conn = self.db.acquire().await?;
        let (user_filter, partner_filter) = match (user_id, partner_id) {
            (None, None) => (Some(principal.user_id), None),
            (Some(uid), None) => {
                let user = store::user(&mut conn, uid)
                    .await?
                    .filter(|u| may_see_user(principal, u))
                    .ok_or(ApiError::not_found("user"))?;
                if !may_manage_user(principal, &user) && !principal.is_staff() {
                    return Err(ApiError::permission_denied(
                        "ROLE_REQUIRED",
                        "you cannot list this user's keys",
                    ));
                }
                (Some(uid), None)
            }
            (None, Some(pid)) => {
                principal.ensure_partner_access(pid, "partner")?;
                if principal.partner_id.is_some() {
                    principal.require_any_role(&[Role::PartnerAdmin])?;
                }
                (None, Some(pid))
            }
            (Some(_), Some(_)) => unreachable!("refused above"),
        };
        let filter = format!(
            "{}|{}",
            convert::opt_id(user_filter),
            convert::opt_id(partner_filter)
        );
        let page = Page::parse(req.page_size, &req.page_token, &[&filter])?;
        let mut rows = store::list_api_keys(
            &mut conn,
            user_filter,
            partner_filter,
            page.after_or_nil(),
            page.fetch_limit(),
        )
        .await?;
        let next_page_token = page.finish(&mut rows, |r| r.id);
        Ok(ListApiKeysResponse {
            api_keys: rows.iter().map(convert::api_key).collect(),
            next_page_token,
        })
    }

    pub(super) async fn revoke_api_key(
        &self,
        ctx: CallContext,
        req: RevokeApiKeyRequest,
    ) -> Result<RevokeApiKeyResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let id = validate::uuid(&req.api_key_id).map_err(|e| ApiError::invalid("api_key_id", e))?;
        let idem = Idempotency::new(&ctx, "RevokeApiKey", &req);
        let mut tx = begin_or_replay!(self, idem);
        let key = store::api_key(&mut tx, id)
            .await?
            .ok_or(ApiError::not_found("api key"))?;
        let owner = store::user(&mut tx, key.user_id)
            .await?
            .ok_or(ApiError::not_found("api key"))?;
        if !may_see_user(&principal, &owner) {
            return Err(ApiError::not_found("api key"));
        }
        if !may_manage_user(&principal, &owner) {
            return Err(ApiError::permission_denied(
                "ROLE_REQUIRED",
                "you cannot revoke this key",
            ));
        }
        let was_live = key.revoked_at.is_none();
        let key = store::revoke_api_key(&mut tx, id).await?;
        if was_live {
            self.revoked_event(&mut tx, &key).await?;
        }
        let resp = RevokeApiKeyResponse {
            api_key: Some(convert::api_key(&key)),
        };
        self.commit(tx, &idem, &resp).await?;
        Ok(resp)
    }

    /// Resolves a secret to its principal. Unknown, revoked and malformed
    /// keys, deactivated users and terminated partners authenticate nothing.
    /// Users of a suspended partner still authenticate (to read), but their
    /// partner cannot act.
    pub(super) async fn authenticate(
        &self,
        _ctx: CallContext,
        req: AuthenticateRequest,
    ) -> Result<AuthenticateResponse, ApiError> {
        let refuse = || ApiError::Unauthenticated("invalid or revoked API key".into());
        if !credentials::looks_like_key(&req.secret) {
            return Err(refuse());
        }
        let hash = credentials::hash(&req.secret);
        let mut conn = self.db.acquire().await?;
        let cred = store::credential_by_hash(&mut conn, &hash)
            .await?
            .ok_or_else(refuse)?;
        if cred.partner_status.as_deref() == Some("terminated") {
            return Err(refuse());
        }
        let user = store::user(&mut conn, cred.user_id)
            .await?
            .ok_or_else(refuse)?;
        drop(conn);
        if cred.last_used_at.is_none() {
            // First use of this key: for a partner, its first user is active.
            let mut tx = self.db.begin().await?;
            store::touch_api_key(&mut tx, cred.api_key_id).await?;
            if let Some(pid) = cred.partner_id {
                operations::complete_checklist_item(
                    &mut tx,
                    &self.outbox,
                    pid,
                    ChecklistItem::FirstUserActive,
                    Utc::now(),
                )
                .await?;
            }
            tx.commit().await?;
        } else {
            let mut conn = self.db.acquire().await?;
            store::touch_api_key(&mut conn, cred.api_key_id).await?;
        }
        let roles = convert::roles(&user.roles);
        Ok(AuthenticateResponse {
            principal: Some(prm_proto::onboarding::Principal {
                user_id: user.id.to_string(),
                partner_id: convert::opt_id(user.partner_id),
                roles: roles.into_iter().map(convert::role_to_proto).collect(),
                api_key_id: cred.api_key_id.to_string(),
            }),
            user: Some(convert::user(&user)),
        })
    }
}

/// Makes `key` (from `PRM_BOOTSTRAP_ADMIN_KEY`) the API key of a local
/// vendor admin, replacing any earlier bootstrap key. Safe to run on every
/// start and on several replicas at once.
pub async fn ensure_bootstrap_admin(pool: &PgPool, key: &SecretString) -> anyhow::Result<()> {
    let secret = key.expose_secret();
    if secret.len() < credentials::MIN_BOOTSTRAP_KEY_LEN || !credentials::looks_like_key(secret) {
        anyhow::bail!(
            "PRM_BOOTSTRAP_ADMIN_KEY must be at least {} printable characters without spaces",
            credentials::MIN_BOOTSTRAP_KEY_LEN
        );
    }
    let hash = credentials::hash(secret);
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(prm_runtime::db::advisory_key(
            "prm.onboarding.bootstrap_admin",
        ))
        .execute(&mut *tx)
        .await?;
    if let Some((_, existing)) = store::bootstrap_key_hash(&mut tx).await?
        && existing == hash
    {
        return Ok(());
    }
    let user = match store::user_by_email(&mut tx, BOOTSTRAP_ADMIN_EMAIL).await? {
        Some(u) => u,
        None => {
            store::insert_user(
                &mut tx,
                None,
                BOOTSTRAP_ADMIN_EMAIL,
                "Bootstrap admin",
                &[Role::Admin.as_str().to_owned()],
            )
            .await?
        }
    };
    sqlx::query("UPDATE api_keys SET revoked_at = now() WHERE is_bootstrap AND revoked_at IS NULL")
        .execute(&mut *tx)
        .await?;
    // The same secret may exist as a revoked bootstrap key from an earlier run.
    sqlx::query("DELETE FROM api_keys WHERE secret_hash = $1 AND is_bootstrap")
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
    store::insert_api_key(
        &mut tx,
        &user,
        "bootstrap admin key",
        &credentials::display_prefix(secret),
        &hash,
        true,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user_id = %user.id, "bootstrap admin key installed from PRM_BOOTSTRAP_ADMIN_KEY");
    Ok(())
}
