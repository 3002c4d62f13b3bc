//! Deal registration's words: a registration's status, why it was
//! rejected, and what the policy does on a breached approval SLA.

use prm_proto::dealreg as pb;

use super::vocabulary;

vocabulary! {
    pub enum RegistrationStatus: pb::RegistrationStatus as "registration status" {
        Submitted = "submitted" => Submitted,
        Returned = "returned" => Returned,
        Approved = "approved" => Approved,
        Rejected = "rejected" => Rejected,
        Won = "won" => Won,
        Lost = "lost" => Lost,
        Expired = "expired" => Expired,
    }
}

vocabulary! {
    pub enum RejectionReason: pb::RejectionReason as "rejection reason" {
        Duplicate = "duplicate" => Duplicate,
        NotQualified = "not_qualified" => NotQualified,
        DirectAccount = "direct_account" => DirectAccount,
        Incomplete = "incomplete" => Incomplete,
        Other = "other" => Other,
    }
}

vocabulary! {
    /// What happens when no decision is made within the SLA (the breach is
    /// recorded and announced either way).
    pub enum SlaBreachAction: pb::SlaBreachAction as "SLA breach action" {
        /// Staff are told; the registration waits.
        Escalate = "escalate" => Escalate,
        /// The registration is approved.
        AutoApprove = "auto_approve" => AutoApprove,
    }
}
