//! Who may do what with funds. Partners request and claim for themselves;
//! they never allocate, approve or decide anything.

use prm_runtime::Role;

/// Staff who set budgets, allocate funds and decide requests.
pub const FUNDS_MANAGEMENT: &[Role] = &[Role::Admin, Role::Marketing];

/// Staff who decide claims (and so reimburse).
pub const CLAIM_DECISIONS: &[Role] = &[Role::Admin, Role::Marketing, Role::Finance];

/// Staff who may request or claim on a partner's behalf.
pub const ACT_FOR_PARTNER: &[Role] = &[Role::Admin, Role::Marketing, Role::PartnerManager];
