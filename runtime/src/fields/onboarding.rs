//! Onboarding's fields: applications, partners, programs and tiers, the
//! enablement library and courses, terms, users and keys.

use crate::{int_field, text_field};

text_field! {
    /// A company's name.
    CompanyName: 1..=200 = "Acme GmbH";
    /// A person's name: an applicant's contact, a user's display name.
    PersonName: 1..=200 = "Jane Doe";
    /// Why staff decided as they did (a rejection, a suspension, a tier
    /// set by hand).
    DecisionReason: 1..=2000 = "outside the program's territory";
    ProgramName: 1..=120 = "Channel";
    ProgramDescription: 0..=2000 = "Resellers and integrators in EMEA";
    TierName: 1..=60 = "gold";
    /// A title in the enablement library, of a course or of terms.
    Title: 1..=200 = "Selling PRM";
    CourseDescription: 0..=5000 = "The basics, in an hour";
    /// The text of the terms.
    TermsBody: 1..=200000 = "The partner agrees to the program terms.";
    /// What an API key is for, e.g. "CRM sync".
    ApiKeyName: 1..=100 = "CRM sync";
}

int_field! {
    /// A count that cannot be negative (certified people, deals won, a
    /// minimum tier rank).
    Count: i32 in 0..=2147483647 = 0, "must not be negative";
    /// A tier's place in its program: 0 is the entry tier.
    TierRank: i32 in 0..=100 = 1, "must be from 0 to 100";
    /// Days of the rolling window tier rules look at; 0 for the default
    /// (365).
    TierWindowDays: i32 in 0..=3650 = 365, "must be from 1 to 3650 days (0 for the default)";
    /// Days below its tier before a partner is demoted; 0 for none (left
    /// out, 90).
    DemotionGraceDays: i32 in 0..=3650 = 90, "must be from 0 to 3650 days";
    /// The score a course attempt must reach to pass.
    PassMarkPercent: i32 in 1..=100 = 70, "must be a percentage from 1 to 100";
    /// How long a certification is valid.
    CertificationValidDays: i32 in 1..=3650 = 365, "must be from 1 to 3650 days";
    /// An attempt's score.
    ScorePercent: i32 in 0..=100 = 90, "must be a percentage from 0 to 100";
}

/// A version of the terms: 1 to 32 letters, digits, '.', '-' or '_', like
/// 2026-11.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct TermsVersion(pub String);

impl TermsVersion {
    /// The version trimmed, or what is wrong with it.
    pub fn check(value: &str) -> Result<String, String> {
        let v = value.trim();
        if v.is_empty() {
            return Err("is required".into());
        }
        if v.len() > 32
            || !v
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            return Err("must be 1 to 32 letters, digits, '.', '-' or '_', like 2026-11".into());
        }
        Ok(v.to_owned())
    }
}

impl From<TermsVersion> for String {
    fn from(v: TermsVersion) -> String {
        v.0
    }
}

crate::field_schema!(
    TermsVersion,
    super::string(&[
        "A version of the terms: 1 to 32 letters, digits, '.', '-' or '_', like",
        "2026-11.",
    ])
    .pattern(Some("^[A-Za-z0-9._-]{1,32}$"))
    .build()
);
