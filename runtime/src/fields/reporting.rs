//! Reporting's fields: attribution models and report periods.

use crate::{int_field, text_field};

text_field! {
    AttributionModelName: 1..=100 = "Sourced 70 / influencers 30";
}

int_field! {
    /// Days before a won deal's registration in which a partner's
    /// conversions on its customer count as influence; 0 for the default
    /// (90).
    InfluenceWindowDays: i32 in 0..=365 = 90, "must be from 1 to 365 days";
}

/// A reporting period: a month (2026-11), a quarter (2026-Q4) or an ISO
/// week (2026-W48), in the years 2000 to 2999.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ReportPeriod(pub String);

impl From<ReportPeriod> for String {
    fn from(v: ReportPeriod) -> String {
        v.0
    }
}

crate::field_schema!(
    ReportPeriod,
    super::string(&[
        "A reporting period: a month (2026-11), a quarter (2026-Q4) or an ISO",
        "week (2026-W48), in the years 2000 to 2999.",
    ])
    .pattern(Some(
        "^2[0-9]{3}-(0[1-9]|1[0-2]|Q[1-4]|W(0[1-9]|[1-4][0-9]|5[0-2]))$"
    ))
    .examples(["2026-Q4"])
    .build()
);
