//! What the service knows of a partner, kept from onboarding's events.
//! Onboarding owns the status and its transitions; this is its copy.

use prm_proto::onboarding::PartnerStatus as PartnerStatusProto;

prm_runtime::domain_enum! {
    pub enum PartnerStatus: PartnerStatusProto as "partner status" {
        Active = "active" => Active,
        Suspended = "suspended" => Suspended,
        Terminated = "terminated" => Terminated,
    }
}
