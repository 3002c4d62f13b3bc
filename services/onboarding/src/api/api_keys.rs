//! API keys: one kind of credential of a user. The secret is shown once,
//! at creation, and stored only as a hash. A key carries scopes (never
//! broader than the key that made it), and may expire and be bound to
//! networks.

use prm_proto::events as ev;
use prm_proto::onboarding::*;
use prm_runtime::auth::STAFF;
use prm_runtime::fields::ApiKeyName;
use prm_runtime::wire::{from_timestamp, opt_id};
use prm_runtime::{
    ApiError, CallContext, FieldErrors, Idempotency, Page, Principal, Role, Scopes,
    begin_or_replay, validate,
};
use uuid::Uuid;

use super::{Onboarding, convert, ensure_may_act, ensure_not_terminated};
use crate::domain::credentials::{self, KeyLimits, KeyStatus};
use crate::domain::identity::UserStatusRules;
use crate::domain::identity::{may_manage_user, may_see_user};
use crate::store::{self, ApiKeyRow};

impl Onboarding {
    /// The program whose key policy applies to keys of a user of
    /// `partner` (`None` for staff), once the caller may act for it.
    async fn key_program(
        &self,
        tx: &mut sqlx::PgConnection,
        principal: &Principal,
        partner: Option<Uuid>,
    ) -> Result<Option<Uuid>, ApiError> {
        let Some(pid) = partner else {
            return Ok(None);
        };
        let partner = store::partner(tx, pid)
            .await?
            .ok_or(ApiError::not_found("partner"))?;
        ensure_may_act(principal, &partner)?;
        ensure_not_terminated(&partner)?;
        Ok(Some(partner.program_id))
    }

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
        let mut limits = KeyLimits::parse(
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
        let program = self
            .key_program(&mut tx, &principal, user.partner_id)
            .await?;
        let max_days = store::max_key_days(&mut tx, program).await?;
        let mut errs = FieldErrors::new();
        limits.within_lifetime(max_days, self.clock.now(), &mut errs);
        errs.finish()?;
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

    pub(super) async fn rotate_api_key(
        &self,
        ctx: CallContext,
        req: RotateApiKeyRequest,
    ) -> Result<RotateApiKeyResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let now = self.clock.now();
        let mut errs = FieldErrors::new();
        let id = errs.check("api_key_id", validate::uuid(&req.api_key_id));
        let until = from_timestamp(req.old_key_valid_until.as_ref()).unwrap_or(now);
        if until < now {
            errs.add("old_key_valid_until", "must not be in the past");
        }
        let id = errs.finish_with(|| id)?;
        let idem = Idempotency::new(&ctx, "RotateApiKey", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let old = store::api_key(&mut tx, id)
            .await?
            .ok_or(ApiError::not_found("api key"))?;
        let owner = store::user(&mut tx, old.user_id)
            .await?
            .filter(|u| may_see_user(&principal, u.as_ref()))
            .ok_or(ApiError::not_found("api key"))?;
        if !may_manage_user(&principal, owner.as_ref()) {
            return Err(ApiError::permission_denied(
                "ROLE_REQUIRED",
                "you cannot rotate this key",
            ));
        }
        if old.status() != KeyStatus::Live {
            return Err(ApiError::precondition(
                "API_KEY_REVOKED",
                format!("api_key/{id}"),
                "the key is revoked; make a new one",
            ));
        }
        if old.expires_at.is_some_and(|t| t <= now) {
            return Err(ApiError::precondition(
                "API_KEY_EXPIRED",
                format!("api_key/{id}"),
                "the key has expired; make a new one",
            ));
        }
        // Rotating hands out a new secret with the old key's scopes: only
        // a caller who could make such a key may.
        let scopes = Scopes::from_wire(&old.scopes);
        if !principal.scopes.covers(&scopes) {
            return Err(ApiError::permission_denied(
                "SCOPES_EXCEED_CALLER",
                format!(
                    "the key has {scopes}, broader than the caller's {}",
                    principal.scopes
                ),
            ));
        }
        owner.status.ensure_active(format!("user/{}", owner.id))?;
        let program = self
            .key_program(&mut tx, &principal, owner.partner_id)
            .await?;
        let max_days = store::max_key_days(&mut tx, program).await?;
        // The new key lives as long as the old one was meant to, within
        // the maximum.
        let mut limits = KeyLimits::stored(old.expires_at, &old.allowed_cidrs)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("api_key/{id}: {e}")))?;
        limits.expires_at = old.expires_at.map(|t| now + (t - old.created_at));
        if let (Some(days), Some(t)) = (max_days, limits.expires_at) {
            limits.expires_at = Some(t.min(now + chrono::Duration::days(i64::from(days))));
        }
        let mut errs = FieldErrors::new();
        limits.within_lifetime(max_days, now, &mut errs);
        errs.finish()?;
        let key = credentials::generate();
        let row = store::insert_api_key(
            &mut tx,
            &owner,
            &old.name,
            &key.display_prefix,
            &key.hash,
            false,
            &store::NewKeyLimits { scopes, limits },
        )
        .await?;
        let rotated = store::expire_api_key(&mut tx, id, until).await?;
        let resp = RotateApiKeyResponse {
            api_key: Some(convert::api_key(&row)),
            secret: key.secret,
            rotated: Some(convert::api_key(&rotated)),
        };
        let stored = RotateApiKeyResponse {
            secret: String::new(),
            ..resp.clone()
        };
        idem.commit(tx, &stored).await?;
        Ok(resp)
    }

    pub(super) async fn get_api_key_policy(
        &self,
        ctx: CallContext,
        req: GetApiKeyPolicyRequest,
    ) -> Result<GetApiKeyPolicyResponse, ApiError> {
        ctx.principal()?.require_any_role(STAFF)?;
        let program = validate::optional_uuid(&req.program_id)
            .map_err(|e| ApiError::invalid("program_id", e))?;
        let mut conn = self.db.acquire().await?;
        if let Some(p) = program {
            store::program(&mut conn, p)
                .await?
                .ok_or(ApiError::not_found("program"))?;
        }
        let days = store::max_key_days(&mut conn, program).await?;
        Ok(GetApiKeyPolicyResponse {
            policy: Some(ApiKeyPolicy {
                program_id: opt_id(program),
                max_key_days: days.unwrap_or(0),
            }),
        })
    }

    pub(super) async fn set_api_key_policy(
        &self,
        ctx: CallContext,
        req: SetApiKeyPolicyRequest,
    ) -> Result<SetApiKeyPolicyResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let mut errs = FieldErrors::new();
        let program = errs.check("program_id", validate::optional_uuid(&req.program_id));
        if !(0..=3650).contains(&req.max_key_days) {
            errs.add(
                "max_key_days",
                "must be 1 to 3650 days, or 0 for no maximum",
            );
        }
        let program = errs.finish_with(|| program)?;
        principal.require_any_role(&[Role::Admin])?;
        let idem = Idempotency::new(&ctx, "SetApiKeyPolicy", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        if let Some(p) = program {
            store::program(&mut tx, p)
                .await?
                .ok_or(ApiError::not_found("program"))?;
        }
        let days = (req.max_key_days > 0).then_some(req.max_key_days);
        store::set_max_key_days(&mut tx, program, days, self.clock.now()).await?;
        let resp = SetApiKeyPolicyResponse {
            policy: Some(ApiKeyPolicy {
                program_id: opt_id(program),
                max_key_days: req.max_key_days,
            }),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }
}
