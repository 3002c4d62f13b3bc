//! Reporting's words: why a share of a won deal's credit is given, and how
//! the program view groups partners.

use prm_proto::reporting as pb;

use super::vocabulary;

// Why a share is credited.
vocabulary! {
    pub enum ShareRole: pb::ShareRole as "share_role" {
        Sourced = "sourced" => Sourced,
        Influencer = "influencer" => Influencer,
        Direct = "direct" => Direct,
    }
}

vocabulary! {
    pub enum GroupBy: pb::GroupBy as "grouping" {
        Tier = "tier" => Tier,
        PartnerType = "partner_type" => PartnerType,
    }
}
