//! Plans: how a conversion (or a won deal) becomes a commission. A plan
//! belongs to a program, or to one of its tiers; each change is a new
//! version effective from a date, and a commission records the version
//! that produced it and how.
//!
//! - **CPA**: a fixed amount per conversion event type, in the plan's
//!   currency.
//! - **RevShare**: basis points of a sale's amount, in the sale's currency.
//!   With volume tiers, the Nth sale of the partner in the calendar month
//!   (UTC) earns the rate of the highest tier N has reached.
//! - **Hybrid**: both, added (the CPA part only when the sale is in the
//!   plan's currency: there are no exchange rates).
//! - **Recurrence**: a customer's later sales earn without a new click for
//!   N months after the first sale, or for life, or not at all.
//! - **Won deals**: a reseller margin or a referral fee, in basis points of
//!   the deal's amount, by the partner's type.
//!
//! Rounding: every basis-point share is rounded half away from zero to the
//! minor unit ([`super::bps_of`]).

use chrono::{DateTime, Months, Utc};
use prm_proto::commissions::CreatePlanRequest;
use prm_runtime::fields::{BasisPoints, EventType, HoldDays, PlanName, PositiveAmountMinor};
use prm_runtime::wire::from_timestamp;
use prm_runtime::{ApiError, FieldErrors, validate};
use uuid::Uuid;

use super::bps_of;

pub use prm_runtime::vocabulary::Recurrence;

pub const DEFAULT_HOLD_DAYS: i32 = 30;
pub const MAX_RECURRING_MONTHS: i32 = 120;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpaRate {
    pub event_type: String,
    pub amount_minor: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VolumeTier {
    pub from_sale: i32,
    pub revshare_bps: i32,
}

/// What a plan pays, without its identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanRules {
    pub currency: String,
    pub cpa: Vec<CpaRate>,
    pub revshare_bps: i32,
    /// Ascending `from_sale`, each above 1.
    pub volume_tiers: Vec<VolumeTier>,
    pub recurrence: Recurrence,
    pub recurring_months: i32,
    pub reseller_margin_bps: i32,
    pub referral_fee_bps: i32,
    pub hold_days: i32,
}

/// A validated `CreatePlan`.
#[derive(Clone, Debug)]
pub struct NewPlan {
    pub program_id: Uuid,
    pub tier_id: Option<Uuid>,
    pub effective_from: Option<DateTime<Utc>>,
    pub name: String,
    pub rules: PlanRules,
}

impl NewPlan {
    pub fn parse(req: &CreatePlanRequest) -> Result<NewPlan, ApiError> {
        let mut errs = FieldErrors::new();
        let program = errs.check("program_id", validate::uuid(&req.program_id));
        let tier = errs.check("tier_id", validate::optional_uuid(&req.tier_id));
        let name = errs.check("name", PlanName::check(&req.name));
        let currency = errs.check("currency", validate::currency(&req.currency));
        let mut cpa: Vec<CpaRate> = Vec::new();
        for (i, rate) in req.cpa.iter().enumerate() {
            let et = errs.check(
                &format!("cpa[{i}].event_type"),
                EventType::check(&rate.event_type),
            );
            errs.check(
                &format!("cpa[{i}].amount_minor"),
                PositiveAmountMinor::check(rate.amount_minor),
            );
            if let Some(et) = et {
                if cpa.iter().any(|c| c.event_type == et) {
                    errs.add(
                        format!("cpa[{i}].event_type"),
                        format!("{et} is listed twice"),
                    );
                }
                cpa.push(CpaRate {
                    event_type: et,
                    amount_minor: rate.amount_minor,
                });
            }
        }
        let revshare = errs.check("revshare_bps", BasisPoints::check(req.revshare_bps));
        let mut tiers: Vec<VolumeTier> = Vec::new();
        for (i, t) in req.volume_tiers.iter().enumerate() {
            let field = format!("volume_tiers[{i}]");
            let rate = errs.check(
                &format!("{field}.revshare_bps"),
                BasisPoints::check(t.revshare_bps),
            );
            let after = tiers.last().map_or(1, |p| p.from_sale);
            if t.from_sale <= after {
                errs.add(
                    format!("{field}.from_sale"),
                    format!("must be above {after}: tiers start after the first sale, in ascending order"),
                );
            }
            if let Some(rate) = rate {
                tiers.push(VolumeTier {
                    from_sale: t.from_sale,
                    revshare_bps: rate,
                });
            }
        }
        let recurrence = match req.recurrence {
            0 => Some(Recurrence::OneTime),
            v => errs.check("recurrence", Recurrence::from_proto(v)),
        };
        match recurrence {
            Some(Recurrence::Months)
                if !(1..=MAX_RECURRING_MONTHS).contains(&req.recurring_months) =>
            {
                errs.add(
                    "recurring_months",
                    format!("must be 1 to {MAX_RECURRING_MONTHS} for a recurrence in months"),
                );
            }
            Some(Recurrence::OneTime | Recurrence::Lifetime) if req.recurring_months != 0 => {
                errs.add("recurring_months", "applies only to a recurrence in months");
            }
            _ => {}
        }
        let margin = errs.check(
            "reseller_margin_bps",
            BasisPoints::check(req.reseller_margin_bps),
        );
        let fee = errs.check("referral_fee_bps", BasisPoints::check(req.referral_fee_bps));
        let hold_days = req.hold_days.unwrap_or(DEFAULT_HOLD_DAYS);
        errs.check("hold_days", HoldDays::check(hold_days));
        let effective_from = from_timestamp(req.effective_from.as_ref());
        if req.effective_from.is_some() && effective_from.is_none() {
            errs.add("effective_from", "is not a valid time");
        }
        if cpa.is_empty()
            && req.revshare_bps == 0
            && req.volume_tiers.is_empty()
            && req.reseller_margin_bps == 0
            && req.referral_fee_bps == 0
        {
            errs.add(
                "cpa",
                "a plan pays something: give CPA rates, a revshare, or a deal margin or fee",
            );
        }
        errs.finish_with(|| {
            Some(NewPlan {
                program_id: program?,
                tier_id: tier?,
                effective_from,
                name: name?,
                rules: PlanRules {
                    currency: currency?,
                    cpa,
                    revshare_bps: revshare?,
                    volume_tiers: tiers,
                    recurrence: recurrence?,
                    recurring_months: req.recurring_months,
                    reseller_margin_bps: margin?,
                    referral_fee_bps: fee?,
                    hold_days,
                },
            })
        })
    }
}

/// What a conversion brings to the plan.
#[derive(Clone, Debug)]
pub struct ConversionFacts<'a> {
    pub event_type: &'a str,
    /// A sale's amount and currency; `None` for a lead.
    pub sale: Option<(i64, &'a str)>,
    /// Which sale of the partner this is in its calendar month (1-based);
    /// 0 for a lead.
    pub nth_sale_in_month: i64,
}

/// A commission's amount and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Earning {
    pub amount_minor: i64,
    pub currency: String,
    pub basis: String,
}

impl PlanRules {
    /// The revshare rate of the Nth sale in the month.
    pub fn revshare_bps_for(&self, nth_sale: i64) -> i32 {
        self.volume_tiers
            .iter()
            .rev()
            .find(|t| nth_sale >= i64::from(t.from_sale))
            .map_or(self.revshare_bps, |t| t.revshare_bps)
    }

    /// The commission a conversion earns, or `None` when the plan pays
    /// nothing for it.
    pub fn commission(&self, c: &ConversionFacts<'_>) -> Option<Earning> {
        let cpa = self.cpa.iter().find(|r| r.event_type == c.event_type);
        let mut parts = Vec::new();
        let mut total: i64 = 0;
        let currency = c.sale.map_or(self.currency.as_str(), |(_, cur)| cur);
        match cpa {
            Some(rate) if currency == self.currency => {
                total += rate.amount_minor;
                parts.push(format!(
                    "CPA {} {} for {}",
                    rate.amount_minor, self.currency, c.event_type
                ));
            }
            Some(_) => parts.push(format!(
                "no CPA: the sale is in {currency}, the plan's CPA in {}",
                self.currency
            )),
            None => {}
        }
        if let Some((amount, _)) = c.sale {
            let rate = self.revshare_bps_for(c.nth_sale_in_month);
            if rate > 0 {
                let share = bps_of(amount, rate);
                total += share;
                let tier = if rate != self.revshare_bps {
                    format!(" (volume tier: sale {} of the month)", c.nth_sale_in_month)
                } else {
                    String::new()
                };
                parts.push(format!(
                    "revshare {rate} bps of {amount} {currency} = {share}{tier}"
                ));
            }
        }
        (total > 0).then(|| Earning {
            amount_minor: total,
            currency: currency.to_owned(),
            basis: parts.join("; "),
        })
    }

    /// Whether a repeat sale of a customer first sold at `first_sale_at`
    /// earns at `at` without a new click.
    pub fn recurs_at(&self, first_sale_at: DateTime<Utc>, at: DateTime<Utc>) -> bool {
        match self.recurrence {
            Recurrence::OneTime => false,
            Recurrence::Lifetime => true,
            Recurrence::Months => first_sale_at
                .checked_add_months(Months::new(self.recurring_months.max(0) as u32))
                .is_some_and(|end| at < end),
        }
    }
}

/// How much of a commission a refund takes back: the commission's share of
/// the refunded part of the sale, so that partial refunds reverse in
/// proportion and a full refund reverses all of it. `refunded_total` is all
/// that has been refunded so far; the result is the total to have reversed.
pub fn reversal_due(commission: i64, sale_amount: i64, refunded_total: i64) -> i64 {
    if sale_amount <= 0 || refunded_total >= sale_amount {
        return commission;
    }
    super::share(commission, refunded_total.max(0), sale_amount).min(commission)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn plan() -> PlanRules {
        PlanRules {
            currency: "USD".into(),
            cpa: vec![
                CpaRate {
                    event_type: "signup".into(),
                    amount_minor: 500,
                },
                CpaRate {
                    event_type: "purchase".into(),
                    amount_minor: 1_000,
                },
            ],
            revshare_bps: 2_000,
            volume_tiers: vec![
                VolumeTier {
                    from_sale: 11,
                    revshare_bps: 2_500,
                },
                VolumeTier {
                    from_sale: 51,
                    revshare_bps: 3_000,
                },
            ],
            recurrence: Recurrence::Months,
            recurring_months: 12,
            reseller_margin_bps: 0,
            referral_fee_bps: 0,
            hold_days: 30,
        }
    }

    fn sale(amount: i64, cur: &str, nth: i64) -> ConversionFacts<'_> {
        ConversionFacts {
            event_type: "purchase",
            sale: Some((amount, cur)),
            nth_sale_in_month: nth,
        }
    }

    #[test]
    fn cpa_revshare_and_hybrid() {
        let p = plan();
        let lead = ConversionFacts {
            event_type: "signup",
            sale: None,
            nth_sale_in_month: 0,
        };
        assert_eq!(p.commission(&lead).expect("test value").amount_minor, 500);
        // Hybrid: CPA 1000 + 20% of 12,345 (2,469).
        let e = p.commission(&sale(12_345, "USD", 1)).expect("test value");
        assert_eq!(e.amount_minor, 1_000 + 2_469);
        assert!(
            e.basis.contains("CPA 1000 USD") && e.basis.contains("2000 bps"),
            "{}",
            e.basis
        );
        // Another currency: revshare only, in that currency.
        let e = p.commission(&sale(10_000, "EUR", 1)).expect("test value");
        assert_eq!((e.amount_minor, e.currency.as_str()), (2_000, "EUR"));
        // An event type the plan does not pay for, and no amount: nothing.
        let other = ConversionFacts {
            event_type: "trial",
            sale: None,
            nth_sale_in_month: 0,
        };
        assert_eq!(p.commission(&other), None);
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        let mut p = plan();
        p.cpa.clear();
        p.revshare_bps = 1_250; // 12.5%
        // 12.5% of 4 = 0.5 -> 1; of 3 = 0.375 -> 0.
        assert_eq!(
            p.commission(&sale(4, "USD", 1))
                .expect("test value")
                .amount_minor,
            1
        );
        assert_eq!(p.commission(&sale(3, "USD", 1)), None);
        assert_eq!(
            p.commission(&sale(999, "USD", 1))
                .expect("test value")
                .amount_minor,
            125
        ); // 124.875
    }

    #[test]
    fn volume_tiers_apply_from_the_nth_sale_of_the_month() {
        let p = plan();
        assert_eq!(p.revshare_bps_for(1), 2_000);
        assert_eq!(p.revshare_bps_for(10), 2_000);
        assert_eq!(p.revshare_bps_for(11), 2_500);
        assert_eq!(p.revshare_bps_for(50), 2_500);
        assert_eq!(p.revshare_bps_for(51), 3_000);
        let e = p.commission(&sale(10_000, "USD", 11)).expect("test value");
        assert_eq!(e.amount_minor, 1_000 + 2_500);
        assert!(e.basis.contains("volume tier: sale 11"), "{}", e.basis);
    }

    #[test]
    fn recurrence() {
        let first = Utc
            .with_ymd_and_hms(2026, 1, 31, 12, 0, 0)
            .single()
            .expect("a valid time");
        let mut p = plan();
        // 12 months from Jan 31 is Jan 31 next year.
        assert!(
            p.recurs_at(
                first,
                Utc.with_ymd_and_hms(2027, 1, 31, 11, 59, 59)
                    .single()
                    .expect("a valid time")
            )
        );
        assert!(
            !p.recurs_at(
                first,
                Utc.with_ymd_and_hms(2027, 1, 31, 12, 0, 0)
                    .single()
                    .expect("a valid time")
            )
        );
        p.recurrence = Recurrence::Lifetime;
        assert!(
            p.recurs_at(
                first,
                Utc.with_ymd_and_hms(2046, 1, 1, 0, 0, 0)
                    .single()
                    .expect("a valid time")
            )
        );
        p.recurrence = Recurrence::OneTime;
        assert!(!p.recurs_at(first, first));
    }

    #[test]
    fn partial_refunds_reverse_in_proportion() {
        // A 2,000 commission on a 10,000 sale.
        assert_eq!(reversal_due(2_000, 10_000, 2_500), 500);
        assert_eq!(reversal_due(2_000, 10_000, 10_000), 2_000);
        assert_eq!(reversal_due(2_000, 10_000, 12_000), 2_000);
        // Three refunds of a third: the total is exact at the end.
        assert_eq!(reversal_due(1_000, 9_999, 3_333), 333);
        assert_eq!(reversal_due(1_000, 9_999, 6_666), 667);
        assert_eq!(reversal_due(1_000, 9_999, 9_999), 1_000);
        // A lead (no sale amount) reverses whole.
        assert_eq!(reversal_due(500, 0, 0), 500);
    }

    fn req() -> CreatePlanRequest {
        CreatePlanRequest {
            program_id: Uuid::now_v7().to_string(),
            name: "Standard".into(),
            currency: "USD".into(),
            revshare_bps: 2_000,
            ..Default::default()
        }
    }

    #[test]
    fn plan_input_names_every_bad_field() {
        use prm_proto::commissions::{CpaRate as Cpa, VolumeTier as Tier};
        let mut r = req();
        r.program_id = "x".into();
        r.currency = "XXX".into();
        r.revshare_bps = 10_001;
        r.cpa = vec![Cpa {
            event_type: "Sign Up!".into(),
            amount_minor: -5,
        }];
        r.volume_tiers = vec![
            Tier {
                from_sale: 10,
                revshare_bps: 2_500,
            },
            Tier {
                from_sale: 5,
                revshare_bps: 3_000,
            },
        ];
        r.recurrence = prm_proto::commissions::Recurrence::Months as i32;
        r.hold_days = Some(-1);
        let err = NewPlan::parse(&r).expect_err("refused");
        let fields: Vec<String> = match &err {
            ApiError::InvalidArgument(v) => v.iter().map(|f| f.field.clone()).collect(),
            other => panic!("{other:?}"),
        };
        for f in [
            "program_id",
            "currency",
            "revshare_bps",
            "cpa[0].event_type",
            "cpa[0].amount_minor",
            "volume_tiers[1].from_sale",
            "recurring_months",
            "hold_days",
        ] {
            assert!(fields.iter().any(|x| x == f), "{f} in {fields:?}");
        }
        assert!(NewPlan::parse(&req()).is_ok());
        let mut nothing = req();
        nothing.revshare_bps = 0;
        assert!(NewPlan::parse(&nothing).is_err());
    }
}
