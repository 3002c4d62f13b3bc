//! Users: vendor staff and partner users. Who may see and manage whom is
//! the domain's rule (`domain::identity`).

use prm_proto::events as ev;
use prm_proto::onboarding::*;
use prm_runtime::auth::PARTNER_MANAGEMENT;
use prm_runtime::fields::PersonName;
use prm_runtime::wire::opt_id;
use prm_runtime::{
    ApiError, CallContext, FieldErrors, Idempotency, OnConstraint, Page, Role, begin_or_replay,
    validate,
};

use super::{Onboarding, convert, ensure_may_act, ensure_not_terminated};
use crate::domain::identity::{UserStatus, may_manage_user, may_see_user};
use crate::store;

impl Onboarding {
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
        let display_name = errs.check("display_name", PersonName::check(&req.display_name));
        let mut roles = Vec::new();
        if req.roles.is_empty() {
            errs.add("roles", "needs at least one role");
        }
        for (i, r) in req.roles.iter().enumerate() {
            match Role::from_proto(*r) {
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
                Err(_) if *r == 0 => {
                    errs.add(format!("roles[{i}]"), "must not contain ROLE_UNSPECIFIED")
                }
                Err(e) => errs.add(format!("roles[{i}]"), e),
            }
        }
        let (email, display_name) = errs.finish_with(|| Some((email?, display_name?)))?;

        match partner_id {
            None => principal.require_any_role(&[Role::Admin])?,
            Some(pid) => {
                let partner = self.visible_partner(&principal, pid).await?;
                if principal.partner_id.is_some() {
                    principal.require_any_role(&[Role::PartnerAdmin])?;
                } else {
                    principal.require_any_role(PARTNER_MANAGEMENT)?;
                }
                ensure_may_act(&principal, &partner)?;
                ensure_not_terminated(&partner)?;
            }
        }

        let idem = Idempotency::new(&ctx, "CreateUser", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let user = store::insert_user(&mut tx, partner_id, &email, &display_name, &roles)
            .await
            .on_constraint("users_email_key", || {
                ApiError::already_exists(
                    "USER_EMAIL_TAKEN",
                    format!("{email} already belongs to a user"),
                )
            })?;
        self.outbox
            .stage_for(
                &mut tx,
                "user.created",
                &user,
                &ev::PartnerUserCreated {
                    user_id: user.id.to_string(),
                    partner_id: opt_id(user.partner_id),
                    roles: user.roles.iter().map(|r| r.as_str().to_owned()).collect(),
                },
            )
            .await?;
        let resp = CreateUserResponse {
            user: Some(convert::user(&user)),
        };
        idem.commit(tx, &resp).await?;
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
            .filter(|u| may_see_user(principal, u.as_ref()))
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
        // A partner lists its own users; staff one partner's, or staff users.
        let partner_id = principal.partner_scope(requested)?;
        let filter = opt_id(partner_id);
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
        let mut tx = begin_or_replay!(self.db, idem);
        let user = store::user(&mut tx, id)
            .await?
            .filter(|u| may_see_user(&principal, u.as_ref()))
            .ok_or(ApiError::not_found("user"))?;
        if !may_manage_user(&principal, user.as_ref()) {
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
        if user.status != UserStatus::Active {
            return Err(ApiError::precondition(
                "USER_NOT_ACTIVE",
                format!("user/{id}"),
                "the user is already deactivated",
            ));
        }
        let user = store::deactivate_user(&mut tx, id).await?;
        for key in store::revoke_user_keys(&mut tx, id).await? {
            self.announce_revocation(&mut tx, &key).await?;
        }
        self.outbox
            .stage_for(
                &mut tx,
                "user.deactivated",
                &user,
                &ev::PartnerUserDeactivated {
                    user_id: user.id.to_string(),
                    partner_id: opt_id(user.partner_id),
                },
            )
            .await?;
        let resp = DeactivateUserResponse {
            user: Some(convert::user(&user)),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }
}
