//! Partner status: active, suspended or terminated.
//!
//! active ◀──reactivate── suspended
//!   │ └────suspend──────▶ │
//!   └──terminate──▶ terminated ◀──terminate──┘   (final)

use prm_runtime::Principal;

use super::IllegalTransition;

pub use prm_runtime::vocabulary::PartnerStatus;

/// The rules of a [`PartnerStatus`]: the word is the runtime's vocabulary,
/// the rules are this service's.
pub trait PartnerStatusRules: Copy {
    fn suspend(self) -> Result<Self, IllegalTransition>;

    fn reactivate(self) -> Result<Self, IllegalTransition>;

    fn terminate(self) -> Result<Self, IllegalTransition>;

    /// Partners act (create users and keys, accept terms, take courses)
    /// only while active; suspended partners keep read access.
    fn ensure_can_act(self) -> Result<(), IllegalTransition>;

    /// Nothing more happens to a terminated partner: no users, keys,
    /// courses or tier changes.
    fn ensure_not_terminated(self) -> Result<(), IllegalTransition>;

    /// A terminated partner's keys authenticate nothing; a suspended
    /// partner's users still sign in, to read.
    fn authenticates(self) -> bool;

    /// Tier rules apply to active partners only.
    fn is_reviewed(self) -> bool;
}

impl PartnerStatusRules for PartnerStatus {
    fn suspend(self) -> Result<Self, IllegalTransition> {
        match self {
            Self::Active => Ok(Self::Suspended),
            Self::Suspended => Err(IllegalTransition::new(
                "PARTNER_ALREADY_SUSPENDED",
                "the partner is already suspended",
            )),
            Self::Terminated => Err(terminated()),
        }
    }

    fn reactivate(self) -> Result<Self, IllegalTransition> {
        match self {
            Self::Suspended => Ok(Self::Active),
            Self::Active => Err(IllegalTransition::new(
                "PARTNER_NOT_SUSPENDED",
                "only a suspended partner can be reactivated",
            )),
            Self::Terminated => Err(terminated()),
        }
    }

    fn terminate(self) -> Result<Self, IllegalTransition> {
        match self {
            Self::Active | Self::Suspended => Ok(Self::Terminated),
            Self::Terminated => Err(terminated()),
        }
    }

    fn ensure_can_act(self) -> Result<(), IllegalTransition> {
        match self {
            Self::Active => Ok(()),
            Self::Suspended => Err(IllegalTransition::new(
                "PARTNER_SUSPENDED",
                "the partner is suspended",
            )),
            Self::Terminated => Err(terminated()),
        }
    }

    fn ensure_not_terminated(self) -> Result<(), IllegalTransition> {
        match self {
            Self::Terminated => Err(terminated()),
            Self::Active | Self::Suspended => Ok(()),
        }
    }

    fn authenticates(self) -> bool {
        self != Self::Terminated
    }

    fn is_reviewed(self) -> bool {
        self == Self::Active
    }
}

/// Whether `principal` may act on a partner in `status`: vendor staff act
/// within their roles whatever the status (and the call's own rules); a
/// partner's own users only while the partner is active.
pub fn ensure_may_act(
    principal: &Principal,
    status: PartnerStatus,
) -> Result<(), IllegalTransition> {
    match principal.partner_id {
        None => Ok(()),
        Some(_) => status.ensure_can_act(),
    }
}

fn terminated() -> IllegalTransition {
    IllegalTransition::new("PARTNER_TERMINATED", "the partner is terminated")
}

#[cfg(test)]
mod tests {
    use super::PartnerStatus::*;
    use super::PartnerStatusRules;

    #[test]
    fn status_machine() {
        assert_eq!(Active.suspend(), Ok(Suspended));
        assert_eq!(Suspended.reactivate(), Ok(Active));
        assert_eq!(Active.terminate(), Ok(Terminated));
        assert_eq!(Suspended.terminate(), Ok(Terminated));
        assert_eq!(
            Suspended.suspend().map_err(|e| e.reason),
            Err("PARTNER_ALREADY_SUSPENDED")
        );
        assert_eq!(
            Active.reactivate().map_err(|e| e.reason),
            Err("PARTNER_NOT_SUSPENDED")
        );
        for t in [
            Terminated.suspend(),
            Terminated.reactivate(),
            Terminated.terminate(),
        ] {
            assert_eq!(t.map_err(|e| e.reason), Err("PARTNER_TERMINATED"));
        }
    }

    #[test]
    fn only_active_partners_act() {
        assert!(Active.ensure_can_act().is_ok());
        assert!(Suspended.ensure_can_act().is_err());
        assert!(Terminated.ensure_can_act().is_err());
        assert!(Suspended.ensure_not_terminated().is_ok());
        assert_eq!(
            Terminated.ensure_not_terminated().map_err(|e| e.reason),
            Err("PARTNER_TERMINATED")
        );
        assert!(Suspended.authenticates());
        assert!(!Terminated.authenticates());
    }

    #[test]
    fn staff_act_on_suspended_partners_their_users_do_not() {
        use prm_runtime::{Principal, Role};
        use uuid::Uuid;
        let staff = Principal {
            user_id: Uuid::now_v7(),
            partner_id: None,
            roles: vec![Role::PartnerManager],
            api_key_id: None,
            scopes: prm_runtime::Scopes::all(),
        };
        let own = Principal {
            partner_id: Some(Uuid::now_v7()),
            roles: vec![Role::PartnerAdmin],
            ..staff.clone()
        };
        assert!(super::ensure_may_act(&staff, Suspended).is_ok());
        assert_eq!(
            super::ensure_may_act(&own, Suspended).map_err(|e| e.reason),
            Err("PARTNER_SUSPENDED")
        );
        assert!(super::ensure_may_act(&own, Active).is_ok());
    }
}
