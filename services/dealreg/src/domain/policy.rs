//! Program policy for deal registration: how long staff have to decide
//! (the approval SLA, in business hours), how long an approved registration
//! protects the partner, how often it can be extended, and when partners
//! are warned that protection ends. The defaults are the platform's;
//! `Policy` is the one place that knows them.

use chrono::{DateTime, Datelike, Duration, Utc, Weekday};
use prm_proto::dealreg::Policy as PolicyProto;
use prm_runtime::fields::{
    ExtensionDays, MaxExtensions, NoticeDays, ProtectionDays, SlaBusinessHours,
};
use prm_runtime::{ApiError, FieldErrors};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Business hours staff have to decide on a submission.
    pub approval_sla_business_hours: i64,
    /// What happens when the SLA passes without a decision.
    pub on_sla_breach: SlaBreachPolicy,
    /// Days an approval protects the registration.
    pub protection_days: i64,
    /// Days each extension adds.
    pub extension_days: i64,
    /// How many times protection can be extended.
    pub max_extensions: i32,
    /// Days before protection ends that `deal.expiring` goes out.
    pub expiring_notice_days: i64,
}

pub use prm_runtime::vocabulary::SlaBreachAction as SlaBreachPolicy;

impl Default for Policy {
    fn default() -> Self {
        Self {
            approval_sla_business_hours: 48,
            on_sla_breach: SlaBreachPolicy::Escalate,
            protection_days: 90,
            extension_days: 30,
            max_extensions: 2,
            expiring_notice_days: 14,
        }
    }
}

impl Policy {
    /// A policy from the API, every field checked.
    pub fn parse(p: Option<&PolicyProto>) -> Result<Self, ApiError> {
        let p = p.ok_or_else(|| ApiError::invalid("policy", "is required"))?;
        let mut errs = FieldErrors::new();
        let sla = errs.check(
            "policy.approval_sla_business_hours",
            SlaBusinessHours::check(p.approval_sla_business_hours),
        );
        let on_breach = errs.check(
            "policy.on_sla_breach",
            SlaBreachPolicy::from_proto(p.on_sla_breach),
        );
        let protection = errs.check(
            "policy.protection_days",
            ProtectionDays::check(p.protection_days),
        );
        let extension = errs.check(
            "policy.extension_days",
            ExtensionDays::check(p.extension_days),
        );
        let max_ext = errs.check(
            "policy.max_extensions",
            MaxExtensions::check(p.max_extensions),
        );
        let notice = errs.check(
            "policy.expiring_notice_days",
            NoticeDays::check(p.expiring_notice_days),
        );
        errs.finish_with(|| {
            Some(Self {
                approval_sla_business_hours: i64::from(sla?),
                on_sla_breach: on_breach?,
                protection_days: i64::from(protection?),
                extension_days: i64::from(extension?),
                max_extensions: max_ext?,
                expiring_notice_days: i64::from(notice?),
            })
        })
    }

    pub fn to_proto(&self) -> PolicyProto {
        PolicyProto {
            approval_sla_business_hours: self.approval_sla_business_hours as i32,
            on_sla_breach: self.on_sla_breach.to_proto(),
            protection_days: self.protection_days as i32,
            extension_days: self.extension_days as i32,
            max_extensions: self.max_extensions,
            expiring_notice_days: self.expiring_notice_days as i32,
        }
    }

    /// When a decision on a registration submitted at `at` is due.
    pub fn decision_due(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        add_business_time(at, Duration::hours(self.approval_sla_business_hours))
    }

    /// How far protection runs from an approval at `at`.
    pub fn protected_until(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        at + Duration::days(self.protection_days)
    }
}

fn is_business_day(t: DateTime<Utc>) -> bool {
    !matches!(t.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Midnight (UTC) after `t`.
fn next_midnight(t: DateTime<Utc>) -> DateTime<Utc> {
    let day = t.date_naive() + Duration::days(1);
    day.and_hms_opt(0, 0, 0)
        .map(|n| n.and_utc())
        .unwrap_or(t + Duration::days(1))
}

/// `t` plus `business` of business time. Business time is every hour of
/// Monday to Friday, UTC: the SLA clock stops over the weekend. (A program
/// in one time zone with office hours is a refinement this leaves open.)
pub fn add_business_time(mut t: DateTime<Utc>, business: Duration) -> DateTime<Utc> {
    let mut left = business;
    while left > Duration::zero() {
        if !is_business_day(t) {
            t = next_midnight(t);
            continue;
        }
        let rest_of_day = next_midnight(t) - t;
        if left <= rest_of_day {
            return t + left;
        }
        left -= rest_of_day;
        t = next_midnight(t);
    }
    t
}

/// Business time between `from` and `to` (zero if `to` is earlier): how
/// much of the SLA a period used, e.g. while a registration was returned.
pub fn business_time_between(from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
    let mut total = Duration::zero();
    let mut t = from;
    while t < to {
        let end = next_midnight(t).min(to);
        if is_business_day(t) {
            total += end - t;
        }
        t = end;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .expect("time")
    }

    #[test]
    fn the_sla_counts_weekdays_only() {
        let p = Policy::default();
        // Monday 10:00 + 48 business hours = Wednesday 10:00.
        assert_eq!(p.decision_due(at(2026, 11, 23, 10)), at(2026, 11, 25, 10));
        // Thursday 10:00 + 48 business hours = Monday 10:00.
        assert_eq!(p.decision_due(at(2026, 11, 26, 10)), at(2026, 11, 30, 10));
        // Saturday 15:00: the clock starts Monday 00:00 and ends Wednesday 00:00.
        assert_eq!(p.decision_due(at(2026, 11, 28, 15)), at(2026, 12, 2, 0));
    }

    #[test]
    fn business_time_between_skips_the_weekend() {
        // Friday 12:00 to Monday 12:00: 12 h on Friday, 12 h on Monday.
        assert_eq!(
            business_time_between(at(2026, 11, 27, 12), at(2026, 11, 30, 12)),
            Duration::hours(24)
        );
        assert_eq!(
            business_time_between(at(2026, 11, 30, 12), at(2026, 11, 27, 12)),
            Duration::zero()
        );
        // Adding back what was used lands on the same business instant.
        let start = at(2026, 11, 27, 12);
        let used = business_time_between(start, at(2026, 12, 1, 9));
        assert_eq!(add_business_time(start, used), at(2026, 12, 1, 9));
    }

    #[test]
    fn protection_runs_ninety_days() {
        let p = Policy::default();
        assert_eq!(p.protected_until(at(2026, 1, 1, 0)), at(2026, 4, 1, 0));
    }
}
