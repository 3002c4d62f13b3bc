//! Partner status: active, suspended or terminated.
//!
//! active ◀──reactivate── suspended
//!   │ └────suspend──────▶ │
//!   └──terminate──▶ terminated ◀──terminate──┘   (final)

use prm_proto::onboarding::PartnerStatus as PartnerStatusProto;

use super::IllegalTransition;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartnerStatus {
    Active,
    Suspended,
    Terminated,
}

impl PartnerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Terminated => "terminated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Active, Self::Suspended, Self::Terminated]
            .into_iter()
            .find(|v| v.as_str() == s)
    }

    pub fn to_proto(self) -> i32 {
        (match self {
            Self::Active => PartnerStatusProto::Active,
            Self::Suspended => PartnerStatusProto::Suspended,
            Self::Terminated => PartnerStatusProto::Terminated,
        }) as i32
    }

    pub fn filter_from_proto(value: i32) -> Result<Option<Self>, String> {
        match PartnerStatusProto::try_from(value) {
            Ok(PartnerStatusProto::Unspecified) => Ok(None),
            Ok(PartnerStatusProto::Active) => Ok(Some(Self::Active)),
            Ok(PartnerStatusProto::Suspended) => Ok(Some(Self::Suspended)),
            Ok(PartnerStatusProto::Terminated) => Ok(Some(Self::Terminated)),
            Err(_) => Err(format!("unknown partner status {value}")),
        }
    }

    pub fn suspend(self) -> Result<Self, IllegalTransition> {
        match self {
            Self::Active => Ok(Self::Suspended),
            Self::Suspended => Err(IllegalTransition::new(
                "PARTNER_ALREADY_SUSPENDED",
                "the partner is already suspended",
            )),
            Self::Terminated => Err(terminated()),
        }
    }

    pub fn reactivate(self) -> Result<Self, IllegalTransition> {
        match self {
            Self::Suspended => Ok(Self::Active),
            Self::Active => Err(IllegalTransition::new(
                "PARTNER_NOT_SUSPENDED",
                "only a suspended partner can be reactivated",
            )),
            Self::Terminated => Err(terminated()),
        }
    }

    pub fn terminate(self) -> Result<Self, IllegalTransition> {
        match self {
            Self::Active | Self::Suspended => Ok(Self::Terminated),
            Self::Terminated => Err(terminated()),
        }
    }

    /// Partners act (create users and keys, accept terms, take courses)
    /// only while active; suspended partners keep read access.
    pub fn ensure_can_act(self) -> Result<(), IllegalTransition> {
        match self {
            Self::Active => Ok(()),
            Self::Suspended => Err(IllegalTransition::new(
                "PARTNER_SUSPENDED",
                "the partner is suspended",
            )),
            Self::Terminated => Err(terminated()),
        }
    }
}

fn terminated() -> IllegalTransition {
    IllegalTransition::new("PARTNER_TERMINATED", "the partner is terminated")
}

#[cfg(test)]
mod tests {
    use super::PartnerStatus::*;

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
    }
}
