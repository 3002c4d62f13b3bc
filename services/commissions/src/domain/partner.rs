//! What the service knows of a partner, kept from onboarding's events.
//! Onboarding owns the status and its transitions; this is its copy.

pub use prm_runtime::PartnerStatus;

use super::postback::HoldReason;

/// Why a new conversion of a partner with `status` is not credited, if it
/// is not: a suspended partner's wait for staff; a terminated partner's
/// are rejected.
pub fn status_hold(status: PartnerStatus) -> Option<HoldReason> {
    match status {
        PartnerStatus::Active => None,
        PartnerStatus::Suspended => Some(HoldReason::PartnerSuspended),
        PartnerStatus::Terminated => Some(HoldReason::PartnerTerminated),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::postback::{ConversionStatus, new_conversion_status};

    #[test]
    fn only_an_active_partner_s_conversions_keep_their_reported_status() {
        let pending = ConversionStatus::Pending;
        let of = |s| new_conversion_status(status_hold(s), pending);
        assert_eq!(of(PartnerStatus::Active), pending);
        assert_eq!(of(PartnerStatus::Suspended), ConversionStatus::Held);
        assert_eq!(of(PartnerStatus::Terminated), ConversionStatus::Rejected);
    }
}
