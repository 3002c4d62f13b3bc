//! MDF's words: funds and their ledger entries, requests and their
//! activities, claims.

use prm_proto::mdf as pb;

use super::vocabulary;

vocabulary! {
    pub enum FundKind: pb::FundKind as "fund kind" {
        /// Staff assign the amount.
        Discretionary = "discretionary" => Discretionary,
        /// A share of the partner's won revenue in the period flows in.
        Accrual = "accrual" => Accrual,
    }
}

// What a movement of a fund's money is.
vocabulary! {
    pub enum EntryKind: pb::EntryKind as "entry kind" {
        /// Staff put money in.
        Allocated = "allocated" => Allocated,
        /// A won deal's share flowed in.
        Accrued = "accrued" => Accrued,
        /// An approved request set money aside.
        Reserved = "reserved" => Reserved,
        /// A reservation (or its unclaimed rest) came back.
        Released = "released" => Released,
        /// A claim was paid out of a reservation.
        Reimbursed = "reimbursed" => Reimbursed,
        /// Unspent accrued money expired.
        Expired = "expired" => Expired,
    }
}

vocabulary! {
    pub enum ActivityType: pb::ActivityType as "activity type" {
        Event = "event" => Event,
        Webinar = "webinar" => Webinar,
        DigitalCampaign = "digital_campaign" => DigitalCampaign,
        ContentSyndication = "content_syndication" => ContentSyndication,
        Other = "other" => Other,
    }
}

vocabulary! {
    pub enum MdfRequestStatus: pb::MdfRequestStatus as "request status" {
        Submitted = "submitted" => Submitted,
        Approved = "approved" => Approved,
        Rejected = "rejected" => Rejected,
        Cancelled = "cancelled" => Cancelled,
        Completed = "completed" => Completed,
        Lapsed = "lapsed" => Lapsed,
    }
}

vocabulary! {
    pub enum ClaimStatus: pb::ClaimStatus as "claim status" {
        Submitted = "submitted" => Submitted,
        /// Approved and reimbursed.
        Approved = "approved" => Approved,
        Rejected = "rejected" => Rejected,
    }
}
