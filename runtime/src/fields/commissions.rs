//! The commissions service's fields: plans, program settings, links and
//! payouts.

use crate::{int_field, text_field};

text_field! {
    PlanName: 1..=120 = "Standard affiliate plan";
    /// What the payment provider calls the batch.
    ProviderReference: 0..=128 = "PAYOUT-2026-11-0042";
    /// Why the provider refused the batch.
    FailureReason: 1..=500 = "the provider refused the batch";
    /// Whom the provider pays, as the account is named.
    PayeeName: 1..=140 = "Acme GmbH";
}

int_field! {
    /// Days a commission is held before it is payable.
    HoldDays: i32 in 0..=365 = 30, "must be 0 to 365 days";
    /// Months a recurring plan pays for (with a recurrence in months; 0
    /// otherwise).
    RecurringMonths: i32 in 0..=120 = 12, "must be 1 to 120 for a recurrence in months";
    /// The nth sale of a partner in the calendar month from which a volume
    /// tier applies (above 1, ascending).
    FromSale: i32 in 2..=2147483647 = 11, "must be above the previous tier's, and above 1";
    /// Days a click can earn a conversion; 0 for the default (90).
    AttributionWindowDays: i32 in 0..=365 = 90, "must be 1 to 365 days (0 for the default 90)";
    /// Seconds a conversion must come after its click, or it is held.
    MinSecondsToConvert: i32 in 0..=86400 = 10, "must be 0 to 86400 seconds";
    /// Clicks from one source in an hour above which its conversions are
    /// held; 0 for the default.
    MaxClicksPerSourceHour: i32 in 0..=2147483647 = 20, "must be positive (0 for the default)";
}

/// A conversion event a plan pays for, e.g. `signup`: 1 to 64 letters,
/// digits, '_' and '-' (stored in lower case).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct EventType(pub String);

impl EventType {
    pub const MAX: usize = 64;

    pub fn check(value: &str) -> Result<String, String> {
        let v = value.trim().to_ascii_lowercase();
        if v.is_empty() || v.len() > Self::MAX {
            return Err(format!("must be 1 to {} characters", Self::MAX));
        }
        if !v
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        {
            return Err("may contain only letters, digits, '_' and '-'".into());
        }
        Ok(v)
    }
}

impl From<EventType> for String {
    fn from(v: EventType) -> String {
        v.0
    }
}

crate::field_schema!(
    EventType,
    super::string(&[
        "A conversion event a plan pays for, e.g. `signup`: 1 to 64 letters,",
        "digits, '_' and '-' (stored in lower case).",
    ])
    .pattern(Some("^[A-Za-z0-9_-]{1,64}$"))
    .examples(["signup"])
    .build()
);

/// A postback credential: 16 to 256 printable ASCII characters without
/// spaces; left out (or empty), the current one is kept.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct PostbackSecret(pub String);

impl PostbackSecret {
    pub const MIN: usize = 16;
    pub const MAX: usize = 256;

    /// `None` for empty (keep the current one), or the secret, or what is
    /// wrong with it.
    pub fn check(value: &str) -> Result<Option<String>, String> {
        if value.is_empty() {
            return Ok(None);
        }
        if value.len() < Self::MIN || value.len() > Self::MAX {
            return Err(format!("must be {} to {} characters", Self::MIN, Self::MAX));
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("may contain only printable ASCII without spaces".into());
        }
        Ok(Some(value.to_owned()))
    }
}

impl From<PostbackSecret> for String {
    fn from(v: PostbackSecret) -> String {
        v.0
    }
}

crate::field_schema!(
    PostbackSecret,
    super::string(&[
        "A postback credential: 16 to 256 printable ASCII characters without",
        "spaces; left out (or empty), the current one is kept.",
    ])
    .pattern(Some("^([!-~]{16,256})?$"))
    .build()
);

/// A reference the provider gave the partner's account: 1 to 64 letters,
/// digits, '-', '_' and '.'.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct AccountReference(pub String);

impl AccountReference {
    pub const MAX: usize = 64;

    pub fn check(value: &str) -> Result<String, String> {
        let v = value.trim();
        if v.is_empty() || v.len() > Self::MAX {
            return Err(format!("must be 1 to {} characters", Self::MAX));
        }
        if !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err("may contain only letters, digits, '-', '_' and '.'".into());
        }
        Ok(v.to_owned())
    }
}

impl From<AccountReference> for String {
    fn from(v: AccountReference) -> String {
        v.0
    }
}

crate::field_schema!(
    AccountReference,
    super::string(&[
        "A reference the provider gave the partner's account: 1 to 64 letters,",
        "digits, '-', '_' and '.'.",
    ])
    .pattern(Some("^[A-Za-z0-9._-]{1,64}$"))
    .examples(["NL91ABNA0417164300"])
    .build()
);

/// A Stripe Connect account id: acct_ and up to 59 letters, digits, '-',
/// '_' and '.'.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct StripeAccountId(pub String);

impl StripeAccountId {
    pub fn check(value: &str) -> Result<String, String> {
        let v = AccountReference::check(value)?;
        if v.starts_with("acct_") {
            Ok(v)
        } else {
            Err("must be a Stripe Connect account id, starting acct_".into())
        }
    }
}

impl From<StripeAccountId> for String {
    fn from(v: StripeAccountId) -> String {
        v.0
    }
}

crate::field_schema!(
    StripeAccountId,
    super::string(&[
        "A Stripe Connect account id: acct_ and up to 59 letters, digits, '-',",
        "'_' and '.'.",
    ])
    .pattern(Some("^acct_[A-Za-z0-9._-]{1,59}$"))
    .examples(["acct_1Nv0FGQ9RKHgCVdK"])
    .build()
);

text_field! {
    /// The advertiser's id of a customer: later sales recur under the plan
    /// without a new click.
    CustomerRef: 0..=128 = "cust-0042";
}

/// The advertiser's id of a transaction, the postback's idempotency key:
/// 1 to 64 printable ASCII characters without spaces.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct TransactionId(pub String);

impl TransactionId {
    pub const MAX: usize = 64;

    /// The id trimmed, or what is wrong with it.
    pub fn check(value: &str) -> Result<String, String> {
        let v = value.trim();
        if v.is_empty() {
            return Err("is required: it is the postback's idempotency key".into());
        }
        if v.len() > Self::MAX {
            return Err(format!("must be at most {} characters", Self::MAX));
        }
        if !v.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("may contain only printable ASCII without spaces".into());
        }
        Ok(v.to_owned())
    }
}

crate::field_schema!(
    TransactionId,
    super::string(&[
        "The advertiser's id of a transaction, the postback's idempotency key:",
        "1 to 64 printable ASCII characters without spaces.",
    ])
    .pattern(Some("^[!-~]{1,64}$"))
    .examples(["T-2026-0042"])
    .build()
);

/// A postback's amount: whole minor units, from 0 to 10^13, as digits.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct PostbackAmount(pub String);

crate::field_schema!(
    PostbackAmount,
    super::string(&["A postback's amount: whole minor units, from 0 to 10^13, as digits."])
        .pattern(Some("^(0|[1-9][0-9]{0,12}|10000000000000)$"))
        .examples(["12500"])
        .build()
);

/// What a postback says of its conversion.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct PostbackStatus(pub String);

crate::field_schema!(
    PostbackStatus,
    super::string(&["What a postback says of its conversion."])
        .enum_values(Some([
            "pending",
            "approved",
            "rejected",
            "refunded",
            "chargeback"
        ]))
        .build()
);
