//! MDF requests: a partner asks for funds for an activity; staff approve
//! (reserving), partially approve or reject; the partner may cancel.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use prm_proto::mdf::SubmitMdfRequestRequest;
use prm_runtime::fields::{ActivityDescription, CampaignCode, LeadCount};
use prm_runtime::{ApiError, FieldErrors, IllegalTransition, Money, validate};
use uuid::Uuid;

use super::positive_money;

pub use prm_runtime::vocabulary::ActivityType;

pub use prm_runtime::vocabulary::MdfRequestStatus;

/// An activity lasts at most a year.
pub const MAX_ACTIVITY_DAYS: i64 = 366;
/// Claim window when a budget does not set one.
pub const DEFAULT_CLAIM_WINDOW_DAYS: i32 = 60;

/// The rules of a [`MdfRequestStatus`]: the word is the runtime's vocabulary,
/// the rules are this service's.
pub trait MdfRequestStatusRules: Copy {
    /// Staff decide submitted requests only.
    fn decide(self) -> Result<(), IllegalTransition>;

    /// Cancelling is possible until a claim is approved; an approved
    /// request's reservation is released.
    fn cancel(self) -> Result<MdfRequestStatus, IllegalTransition>;

    /// Only an approved request can be claimed.
    fn ensure_claimable(self) -> Result<(), IllegalTransition>;
}

impl MdfRequestStatusRules for MdfRequestStatus {
    fn decide(self) -> Result<(), IllegalTransition> {
        match self {
            MdfRequestStatus::Submitted => Ok(()),
            other => Err(refused(other, "decided")),
        }
    }

    fn cancel(self) -> Result<MdfRequestStatus, IllegalTransition> {
        match self {
            MdfRequestStatus::Submitted | MdfRequestStatus::Approved => {
                Ok(MdfRequestStatus::Cancelled)
            }
            other => Err(refused(other, "cancelled")),
        }
    }

    fn ensure_claimable(self) -> Result<(), IllegalTransition> {
        match self {
            MdfRequestStatus::Approved => Ok(()),
            other => Err(IllegalTransition::new(
                "REQUEST_NOT_APPROVED",
                format!(
                    "a {} request cannot be claimed; only an approved one",
                    other.as_str()
                ),
            )),
        }
    }
}

fn refused(status: MdfRequestStatus, action: &str) -> IllegalTransition {
    IllegalTransition::new(
        "REQUEST_STATE",
        format!("a {} request cannot be {action}", status.as_str()),
    )
}

/// The last day a claim on an activity ending `ends_on` is accepted.
pub fn claim_deadline(ends_on: NaiveDate, window_days: i32) -> NaiveDate {
    ends_on
        .checked_add_signed(Duration::days(i64::from(window_days)))
        .unwrap_or(NaiveDate::MAX)
}

/// The claim deadline has passed at `now` (the deadline day is included,
/// UTC).
pub fn deadline_passed(deadline: NaiveDate, now: DateTime<Utc>) -> bool {
    now.date_naive() > deadline
}

/// A date of an activity: YYYY-MM-DD, in the years 2000..2100.
fn date(field: &str, value: &str, errs: &mut FieldErrors) -> Option<NaiveDate> {
    let parsed = NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .filter(|_| value.len() == 10)
        .ok_or_else(|| format!("{value:?} is not a date (YYYY-MM-DD)"))
        .and_then(|d| {
            if (2000..=2100).contains(&d.year()) {
                Ok(d)
            } else {
                Err(format!("{d} is outside the years 2000..2100"))
            }
        });
    errs.check(field, parsed)
}

/// A validated request submission.
#[derive(Clone, Debug)]
pub struct NewRequest {
    pub fund_id: Uuid,
    pub activity_type: ActivityType,
    pub description: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub expected_leads: i32,
    pub campaign_code: String,
    pub amount: Money,
}

impl NewRequest {
    pub fn parse(req: &SubmitMdfRequestRequest) -> Result<NewRequest, ApiError> {
        let mut errs = FieldErrors::new();
        let fund_id = errs.check("fund_id", validate::uuid(&req.fund_id));
        let activity_type =
            errs.check("activity_type", ActivityType::from_proto(req.activity_type));
        let description = errs.check("description", ActivityDescription::check(&req.description));
        let starts_on = date("starts_on", &req.starts_on, &mut errs);
        let ends_on = date("ends_on", &req.ends_on, &mut errs);
        if let (Some(s), Some(e)) = (starts_on, ends_on) {
            if e < s {
                errs.add("ends_on", "must not be before starts_on");
            } else if (e - s).num_days() >= MAX_ACTIVITY_DAYS {
                errs.add(
                    "ends_on",
                    format!("an activity lasts at most {MAX_ACTIVITY_DAYS} days"),
                );
            }
        }
        errs.check("expected_leads", LeadCount::check(req.expected_leads));
        let campaign_code = errs.check("campaign_code", CampaignCode::check(&req.campaign_code));
        let amount = errs.check("amount", positive_money(req.amount.as_ref()));
        errs.finish_with(|| {
            Some(NewRequest {
                fund_id: fund_id?,
                activity_type: activity_type?,
                description: description?,
                starts_on: starts_on?,
                ends_on: ends_on?,
                expected_leads: req.expected_leads,
                campaign_code: campaign_code?,
                amount: amount?,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prm_proto::common::Money as MoneyProto;

    fn valid() -> SubmitMdfRequestRequest {
        SubmitMdfRequestRequest {
            fund_id: Uuid::now_v7().to_string(),
            activity_type: prm_proto::mdf::ActivityType::Webinar as i32,
            description: "Q4 launch webinar".into(),
            starts_on: "2026-12-01".into(),
            ends_on: "2026-12-02".into(),
            expected_leads: 40,
            campaign_code: "Q4-WEB".into(),
            amount: Some(MoneyProto {
                amount_minor: 500_000,
                currency: "EUR".into(),
            }),
        }
    }

    fn fields(r: Result<NewRequest, ApiError>) -> Vec<String> {
        match r {
            Err(ApiError::InvalidArgument(errs)) => errs.iter().map(|v| v.field.clone()).collect(),
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_request_parses() {
        let r = NewRequest::parse(&valid()).expect("valid");
        assert_eq!(r.campaign_code, "Q4-WEB");
        assert_eq!(r.amount.amount_minor, 500_000);
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut r = valid();
        r.fund_id = "x".into();
        r.activity_type = 0;
        r.description = " ".into();
        r.starts_on = "2026-12-05".into();
        r.expected_leads = -1;
        r.campaign_code = "no spaces".into();
        r.amount = Some(MoneyProto {
            amount_minor: 0,
            currency: "EUR".into(),
        });
        assert_eq!(
            fields(NewRequest::parse(&r)),
            [
                "fund_id",
                "activity_type",
                "description",
                "ends_on",
                "expected_leads",
                "campaign_code",
                "amount"
            ]
        );
    }

    #[test]
    fn far_and_signed_years_are_refused() {
        for bad in ["+262142-12-31", "1999-12-31", "2101-01-01", "2026-1-5"] {
            let mut r = valid();
            r.starts_on = bad.into();
            r.ends_on = bad.into();
            assert_eq!(
                fields(NewRequest::parse(&r)),
                ["starts_on", "ends_on"],
                "{bad}"
            );
        }
    }

    #[test]
    fn transitions() {
        use MdfRequestStatus::*;
        assert!(Submitted.decide().is_ok());
        for s in [Approved, Rejected, Cancelled, Completed, Lapsed] {
            assert_eq!(s.decide().map_err(|e| e.reason), Err("REQUEST_STATE"));
        }
        assert_eq!(Approved.cancel(), Ok(Cancelled));
        assert!(Completed.cancel().is_err());
        assert!(Approved.ensure_claimable().is_ok());
        assert_eq!(
            Submitted.ensure_claimable().map_err(|e| e.reason),
            Err("REQUEST_NOT_APPROVED")
        );
    }

    #[test]
    fn the_deadline_day_is_included() {
        let ends = NaiveDate::from_ymd_opt(2026, 12, 2).expect("date");
        let deadline = claim_deadline(ends, 60);
        assert_eq!(deadline.to_string(), "2027-01-31");
        let at = |s: &str| s.parse::<DateTime<Utc>>().expect("time");
        assert!(!deadline_passed(deadline, at("2027-01-31T23:59:59Z")));
        assert!(deadline_passed(deadline, at("2027-02-01T00:00:00Z")));
    }
}
