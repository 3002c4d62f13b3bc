//! The commissions service's words: conversions and why one is held,
//! commissions and the ledger, plans, program settings, links and
//! payouts. (Conversion kinds, which reporting reads too, are in the
//! parent module.)

use prm_proto::commissions as pb;

use super::vocabulary;

vocabulary! {
    pub enum ConversionStatus: pb::ConversionStatus as "conversion status" {
        Pending = "pending" => Pending,
        Approved = "approved" => Approved,
        Rejected = "rejected" => Rejected,
        Refunded = "refunded" => Refunded,
        Chargeback = "chargeback" => Chargeback,
        Held = "held" => Held,
    }
}

vocabulary! {
    pub enum HoldReason: pb::HoldReason as "hold reason" {
        NoClick = "no_click" => NoClick,
        UnknownClick = "unknown_click" => UnknownClick,
        ClickTooOld = "click_too_old" => ClickTooOld,
        TooFast = "too_fast" => TooFast,
        FloodingSource = "flooding_source" => FloodingSource,
        SelfReferral = "self_referral" => SelfReferral,
        BotClick = "bot_click" => BotClick,
        RecurrenceEnded = "recurrence_ended" => RecurrenceEnded,
        NoPlan = "no_plan" => NoPlan,
        PartnerSuspended = "partner_suspended" => PartnerSuspended,
        PartnerTerminated = "partner_terminated" => PartnerTerminated,
    }
}

vocabulary! {
    pub enum CommissionStatus: pb::CommissionStatus as "commission status" {
        /// In its hold period.
        Pending = "pending" => Pending,
        /// Payable.
        Approved = "approved" => Approved,
        /// Wholly reversed.
        Reversed = "reversed" => Reversed,
    }
}

// What a movement of a partner's commission money is.
vocabulary! {
    pub enum LedgerEntryKind: pb::LedgerEntryKind as "ledger entry kind" {
        Earned = "earned" => Earned,
        Approved = "approved" => Approved,
        Reversed = "reversed" => Reversed,
        PaidOut = "paid_out" => PaidOut,
        PayoutReturned = "payout_returned" => PayoutReturned,
    }
}

vocabulary! {
    pub enum Recurrence: pb::Recurrence as "recurrence" {
        OneTime = "one_time" => OneTime,
        Months = "months" => Months,
        Lifetime = "lifetime" => Lifetime,
    }
}

// Which click gets the credit when a source clicked several.
vocabulary! {
    pub enum AttributionModel: pb::AttributionModel as "attribution model" {
        LastClick = "last_click" => LastClick,
        FirstClick = "first_click" => FirstClick,
    }
}

vocabulary! {
    pub enum LinkStatus: pb::LinkStatus as "link status" {
        Active = "active" => Active,
        Disabled = "disabled" => Disabled,
    }
}

vocabulary! {
    pub enum PayoutMethod: pb::PayoutMethod as "payout method" {
        Paypal = "paypal" => Paypal,
        Bank = "bank" => Bank,
        StripeConnect = "stripe_connect" => StripeConnect,
    }
}

vocabulary! {
    pub enum TaxForm: pb::TaxForm as "tax form" {
        W9 = "w9" => W9,
        W8ben = "w8ben" => W8ben,
        W8benE = "w8ben_e" => W8benE,
    }
}

vocabulary! {
    pub enum PayoutBatchStatus: pb::PayoutBatchStatus as "payout batch status" {
        Pending = "pending" => Pending,
        Processing = "processing" => Processing,
        Paid = "paid" => Paid,
        Failed = "failed" => Failed,
        Cancelled = "cancelled" => Cancelled,
    }
}

// The provider file a payout batch is exported as.
vocabulary! {
    pub enum ExportFormat: pb::ExportFormat as "export format" {
        Paypal = "paypal" => Paypal,
        Wise = "wise" => Wise,
    }
}
