//! API keys: one kind of credential of a user. The secret is shown once,
//! at creation, and stored only as a hash. A key carries scopes (never
//! broader than the key that made it), and may expire and be bound to
//! networks.

use prm_proto::events as ev;
use prm_proto::onboarding::*;
use prm_runtime::fields::ApiKeyName;
use prm_runtime::wire::{from_timestamp, opt_id};
use prm_runtime::{
    ApiError, CallContext, FieldErrors, Idempotency, Page, Role, Scopes, begin_or_replay, validate,
};

use super::{Onboarding, convert, ensure_may_act, ensure_not_terminated};
use crate::domain::credentials::{self, KeyLimits, KeyStatus};
use crate::domain::identity::UserStatusRules;
use crate::domain::identity::{may_manage_user, may_see_user};
use crate::store::{self, ApiKeyRow};

impl Onboarding {
    /// Announces that `key` (as it is after the revocation) was revoked.
    pub(super) async fn announce_revocation(
        &self,
        tx: &mut sqlx::PgConnection,
        key: &ApiKeyRow,
    ) -> Result<(), ApiError> {
        self.outbox
            .stage_for(
                tx,
                "api_key.revoked",
                key,
                &ev::ApiKeyRevoked {
                    api_key_id: key.id.to_string(),
                    user_id: key.user_id.to_string(),
                    partner_id: opt_id(key.partner_id),
                },
            )
            .await?;
        Ok(())
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
        let name = errs.check("name", ApiKeyName::check(&req.name));
        let scopes = if req.scopes.is_empty() {
            // A key made without scopes gets its maker's: never more.
            Some(principal.scopes.clone())
        } else {
            errs.check("scopes", Scopes::parse(&req.scopes))
        };
        let limits = KeyLimits::parse(
            from_timestamp(req.expires_at.as_ref()),
            &req.allowed_cidrs,
            self.clock.now(),
            &mut errs,
        );
        let (name, scopes) = errs.finish_with(|| Some((name?, scopes?)))?;
        if !principal.scopes.covers(&scopes) {
            return Err(ApiError::permission_denied(
                "SCOPES_EXCEED_CALLER",
                format!(
                    "a key cannot make a key broader than itself: it has {}, and {} was asked",
                    principal.scopes, scopes
                ),
            ));
        }
        let user_id = user_id.unwrap_or(principal.user_id);

        let idem = Idempotency::new(&ctx, "CreateApiKey", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let user = store::user(&mut tx, user_id)
            .await?
            .filter(|u| may_see_user(&principal, u.as_ref()))
            .ok_or(ApiError::not_found("user"))?;
        if !may_manage_user(&principal, user.as_ref()) {
            return Err(ApiError::permission_denied(
                "ROLE_REQUIRED",
                "you cannot create keys for this user",
            ));
        }
        user.status.ensure_active(format!("user/{user_id}"))?;
        if let Some(pid) = user.partner_id {
            let partner = store::partner(&mut tx, pid)
                .await?
                .ok_or(ApiError::not_found("partner"))?;
            ensure_may_act(&principal, &partner)?;
            ensure_not_terminated(&partner)?;
        }
        let key = credentials::generate();
        let row = store::insert_api_key(
            &mut tx,
            &user,
            &name,
            &key.display_prefix,
            &key.hash,
            false,
            &store::NewKeyLimits { scopes, limits },
        )
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
        idem.commit(tx, &stored).await?;
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
            // Not both: refused above.
            (Some(uid), _) => {
                let user = store::user(&mut conn, uid)
                    .await?
                    .filter(|u| may_see_user(principal, u.as_ref()))
                    .ok_or(ApiError::not_found("user"))?;
                if !may_manage_user(principal, user.as_ref()) && !principal.is_staff() {
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
        };
        let filter = format!("{}|{}", opt_id(user_filter), opt_id(partner_filter));
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
        let mut tx = begin_or_replay!(self.db, idem);
        let key = store::api_key(&mut tx, id)
            .await?
            .ok_or(ApiError::not_found("api key"))?;
        let owner = store::user(&mut tx, key.user_id)
            .await?
            .ok_or(ApiError::not_found("api key"))?;
        if !may_see_user(&principal, owner.as_ref()) {
            return Err(ApiError::not_found("api key"));
        }
        if !may_manage_user(&principal, owner.as_ref()) {
            return Err(ApiError::permission_denied(
                "ROLE_REQUIRED",
                "you cannot revoke this key",
            ));
        }
        let was_live = key.status() == KeyStatus::Live;
        let key = store::revoke_api_key(&mut tx, id).await?;
        if was_live {
            self.announce_revocation(&mut tx, &key).await?;
        }
        let resp = RevokeApiKeyResponse {
            api_key: Some(convert::api_key(&key)),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }
}
