//! Who may read and change what in reporting. A partner reads its own
//! scorecard and its own credit shares; everything across partners is for
//! staff.

use prm_runtime::Role;

/// Staff who agree attribution models.
pub const MODEL_MANAGEMENT: &[Role] = &[Role::Admin, Role::PartnerManager];

/// Staff who may drop and rebuild the read models.
pub const REBUILD: &[Role] = &[Role::Admin];
