//! Users and who may see or manage them. A user belongs to a partner
//! (partner_admin, partner_user) or is vendor staff; API keys are one kind
//! of credential of a user (see `credentials`).

use prm_runtime::{Principal, Role};
use uuid::Uuid;

pub use prm_runtime::vocabulary::UserStatus;

/// The rules of a [`UserStatus`]: the word is the runtime's vocabulary,
/// the rules are this service's.
pub trait UserStatusRules: Copy {
    /// Only active users get keys, take courses or are deactivated.
    fn ensure_active(self, subject: impl Into<String>) -> Result<(), prm_runtime::ApiError>;
}

impl UserStatusRules for UserStatus {
    fn ensure_active(self, subject: impl Into<String>) -> Result<(), prm_runtime::ApiError> {
        match self {
            Self::Active => Ok(()),
            Self::Deactivated => Err(prm_runtime::ApiError::precondition(
                "USER_NOT_ACTIVE",
                subject,
                "the user is deactivated",
            )),
        }
    }
}

/// Whose a user is: what the access rules look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserRef {
    pub id: Uuid,
    /// `None` for vendor staff.
    pub partner_id: Option<Uuid>,
}

/// Whether `principal` may see `user` at all: themselves, the users of a
/// partner it reaches, and staff users if it is staff.
pub fn may_see_user(principal: &Principal, user: UserRef) -> bool {
    principal.user_id == user.id
        || match user.partner_id {
            Some(pid) => principal.can_access_partner(pid),
            None => principal.is_staff(),
        }
}

/// Whether `principal` may manage `user`: create keys for them, revoke
/// their keys, deactivate them, record their course attempts. Everyone
/// manages themselves; admins manage everyone; partner managers manage
/// partner users; a partner admin manages the users of its own partner.
pub fn may_manage_user(principal: &Principal, user: UserRef) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(partner_id: Option<Uuid>, roles: &[Role]) -> Principal {
        Principal {
            user_id: Uuid::now_v7(),
            partner_id,
            roles: roles.to_vec(),
            api_key_id: None,
            scopes: prm_runtime::Scopes::all(),
        }
    }

    #[test]
    fn who_manages_whom() {
        let acme = Uuid::now_v7();
        let other = Uuid::now_v7();
        let seller = UserRef {
            id: Uuid::now_v7(),
            partner_id: Some(acme),
        };
        let staff_user = UserRef {
            id: Uuid::now_v7(),
            partner_id: None,
        };
        let admin = principal(None, &[Role::Admin]);
        let manager = principal(None, &[Role::PartnerManager]);
        let analyst = principal(None, &[Role::Analyst]);
        let acme_admin = principal(Some(acme), &[Role::PartnerAdmin]);
        let acme_user = principal(Some(acme), &[Role::PartnerUser]);
        let other_admin = principal(Some(other), &[Role::PartnerAdmin]);

        assert!(may_manage_user(&admin, seller) && may_manage_user(&admin, staff_user));
        assert!(may_manage_user(&manager, seller) && !may_manage_user(&manager, staff_user));
        assert!(!may_manage_user(&analyst, seller));
        assert!(may_manage_user(&acme_admin, seller));
        assert!(!may_manage_user(&acme_user, seller));
        assert!(!may_manage_user(&other_admin, seller));
        let me = UserRef {
            id: acme_user.user_id,
            partner_id: Some(acme),
        };
        assert!(may_manage_user(&acme_user, me));
    }

    #[test]
    fn who_sees_whom() {
        let acme = Uuid::now_v7();
        let seller = UserRef {
            id: Uuid::now_v7(),
            partner_id: Some(acme),
        };
        let staff_user = UserRef {
            id: Uuid::now_v7(),
            partner_id: None,
        };
        assert!(may_see_user(&principal(None, &[Role::Analyst]), seller));
        assert!(may_see_user(&principal(None, &[Role::Analyst]), staff_user));
        assert!(may_see_user(
            &principal(Some(acme), &[Role::PartnerUser]),
            seller
        ));
        assert!(!may_see_user(
            &principal(Some(acme), &[Role::PartnerAdmin]),
            staff_user
        ));
        assert!(!may_see_user(
            &principal(Some(Uuid::now_v7()), &[Role::PartnerAdmin]),
            seller
        ));
    }
}
