//! Who may do what with commissions. Partners create their own links and
//! read their own conversions, commissions, ledger and postback log; they
//! never set plans or program settings.

use prm_runtime::Role;

/// Staff who set a program's commission settings and plans.
pub const PROGRAM_MANAGEMENT: &[Role] = &[Role::Admin, Role::PartnerManager, Role::Marketing];

/// Staff who may create links for a partner.
pub const ACT_FOR_PARTNER: &[Role] = &[Role::Admin, Role::PartnerManager, Role::Marketing];

/// Staff who pay partners: create, export and settle payout batches, and
/// record partners' tax forms.
pub const PAYOUTS: &[Role] = &[Role::Admin, Role::Finance];

/// Staff who decide held conversions (release or reject them).
pub const CONVERSION_REVIEW: &[Role] = &[Role::Admin, Role::PartnerManager, Role::Finance];
