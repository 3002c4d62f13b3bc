//! MDF's fields: budgets, allocations, requests and claims.

use crate::{int_field, text_field};

text_field! {
    BudgetName: 1..=200 = "Resellers EMEA";
    /// What staff note on an allocation.
    AllocationNote: 0..=2000 = "Q4 launch";
    /// What the activity is.
    ActivityDescription: 1..=4000 = "Launch webinar for the new product line";
    /// Why a request or claim was decided as it was.
    MdfReason: 1..=2000 = "outside the program's focus";
    /// Why, if staff say (an approval, a cancellation).
    OptionalMdfReason: 0..=2000 = "agreed on the call";
    /// A proof document's file name.
    DocumentName: 1..=255 = "invoice-0042.pdf";
}

int_field! {
    /// Days after an activity ends that its claim is accepted; 0 for the
    /// default (60).
    ClaimWindowDays: i32 in 0..=365 = 60, "must be 1..365 (0 for 60)";
    /// The share of a claim reimbursed; 0 for all of it (10000).
    ReimbursementRateBps: i32 in 0..=10000 = 10000, "must be 1..10000 (0 for 10000)";
    /// Days accrued funds stay after their period ends.
    AccrualGraceDays: i32 in 0..=365 = 30, "must be 0..365";
    /// Leads or attendees: from 0 to ten million.
    LeadCount: i32 in 0..=10000000 = 40, "must be 0..10000000";
    /// A proof document's size, up to 1 GiB.
    DocumentBytes: i64 in 1..=1073741824 = 48213, "size_bytes must be 1..1073741824";
    /// Won revenue in a period from which an accrual tier applies, in
    /// minor units: the first tier from 0, each above the previous.
    FromRevenueMinor: i64 in 0..=10_000_000_000_000 = 0, "from_revenue_minor is absurdly large";
}

/// A string field of a fixed shape, checked by `check` and stated by the
/// pattern beside it.
macro_rules! shaped_field {
    ($(#[doc = $doc:literal])* $name:ident = $pattern:literal, example = $ex:literal, max = $max:literal) => {
        $(#[doc = $doc])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        crate::field_schema!(
            $name,
            super::string(&[$($doc),*])
                .max_length(Some($max))
                .pattern(Some($pattern))
                .examples([$ex])
                .build()
        );
    };
}

shaped_field!(
    /// A budget's period: a quarter (2026-Q4), a month (2026-11) or a
    /// year (2026), from 2000 to 2100.
    BudgetPeriod = "^(20[0-9]{2}|2100)(-(Q[1-4]|0[1-9]|1[0-2]))?$",
    example = "2026-Q4",
    max = 7
);

shaped_field!(
    /// A day of an activity, YYYY-MM-DD, from 2000 to 2100.
    ActivityDate = "^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
    example = "2026-12-01",
    max = 10
);

shaped_field!(
    /// A proof document's media type, such as application/pdf.
    MediaType = "^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+$",
    example = "application/pdf",
    max = 127
);

shaped_field!(
    /// A proof document's checksum: "sha256:" and 64 hex digits.
    Checksum = "^sha256:[0-9a-fA-F]{64}$",
    example = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    max = 71
);

shaped_field!(
    /// Where a proof document is stored: a URL such as s3://bucket/key.
    StorageLocation = "^[A-Za-z0-9+]+://[!-~]+$",
    example = "s3://prm-proofs/2026/invoice-0042.pdf",
    max = 2048
);

impl MediaType {
    /// The type in lower case, or what is wrong with it.
    pub fn check(value: &str) -> Result<String, String> {
        let v = value.trim();
        if v.is_empty() || v.len() > 127 || !v.contains('/') || v.contains(char::is_whitespace) {
            return Err("content_type must be a media type such as application/pdf".into());
        }
        Ok(v.to_ascii_lowercase())
    }
}

impl Checksum {
    /// The checksum in lower case, or what is wrong with it.
    pub fn check(value: &str) -> Result<String, String> {
        let checksum = value.trim().to_ascii_lowercase();
        let hex = checksum.strip_prefix("sha256:").unwrap_or("");
        if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err("checksum must be \"sha256:\" and 64 hex digits".into());
        }
        Ok(checksum)
    }
}

impl StorageLocation {
    /// The location trimmed, or what is wrong with it.
    pub fn check(value: &str) -> Result<String, String> {
        let location = value.trim();
        let scheme_ok = location.split_once("://").is_some_and(|(scheme, rest)| {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '+')
                && !rest.is_empty()
        });
        if !scheme_ok || location.len() > 2048 || location.contains(char::is_whitespace) {
            return Err("location must be a URL such as s3://bucket/key or https://...".into());
        }
        Ok(location.to_owned())
    }
}

/// A campaign code: letters, digits, '-', '_' and '.', at most 64. Deal
/// registrations carry it as their `mdf_reference`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct CampaignCode(pub String);

impl CampaignCode {
    pub const MAX: usize = 64;

    /// The code trimmed (empty when there is none), or what is wrong.
    pub fn check(value: &str) -> Result<String, String> {
        let v = value.trim();
        if v.len() > Self::MAX {
            return Err(format!("at most {} characters", Self::MAX));
        }
        if !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err("letters, digits, '-', '_' and '.' only".into());
        }
        Ok(v.to_owned())
    }
}

impl From<CampaignCode> for String {
    fn from(v: CampaignCode) -> String {
        v.0
    }
}

crate::field_schema!(
    CampaignCode,
    super::string(&[
        "A campaign code: letters, digits, '-', '_' and '.', at most 64. Deal",
        "registrations carry it as their `mdf_reference`.",
    ])
    .max_length(Some(64))
    .pattern(Some("^[A-Za-z0-9._-]*$"))
    .build()
);

/// An invoice number: 1 to 64 characters, no control characters (two
/// claims never share one, compared without case).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct InvoiceNumber(pub String);

impl InvoiceNumber {
    pub const MAX: usize = 64;

    pub fn check(value: &str) -> Result<String, String> {
        let v = value.trim();
        if v.is_empty() {
            return Err("is required".into());
        }
        if v.len() > Self::MAX || v.chars().any(|c| c.is_control()) {
            return Err(format!(
                "at most {} characters, no control characters",
                Self::MAX
            ));
        }
        Ok(v.to_owned())
    }
}

impl From<InvoiceNumber> for String {
    fn from(v: InvoiceNumber) -> String {
        v.0
    }
}

crate::field_schema!(
    InvoiceNumber,
    // Bytes, not characters, are counted: ASCII keeps the two equal.
    super::string(&[
        "An invoice number: 1 to 64 characters, no control characters (two",
        "claims never share one, compared without case).",
    ])
    .min_length(Some(1))
    .max_length(Some(64))
    .pattern(Some("^[!-~]+( [!-~]+)*$"))
    .build()
);
