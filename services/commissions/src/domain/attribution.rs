//! Attribution and fraud checks: which click a conversion is credited to,
//! and why a conversion is held instead of earning.
//!
//! The candidates are the postback's click and the other clicks of the same
//! source (hashed address plus user agent) in the program within the
//! attribution window before the conversion. Last-click credits the latest
//! of them, first-click the earliest. The credited click must then pass, in
//! order: it is not a bot's, it is inside the window, the conversion came
//! at least the program's minimum seconds after it, its source did not
//! flood the program in that hour, and the customer is not the partner
//! itself.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::postback::{ConversionStatus, HoldReason};
use super::settings::{AttributionModel, Thresholds};

/// A click, as attribution sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClickFacts {
    pub click_id: Uuid,
    pub link_id: Uuid,
    pub partner_id: Uuid,
    pub clicked_at: DateTime<Utc>,
    pub bot: bool,
    /// Clicks from the same source in the program in the click's hour.
    pub source_clicks_in_hour: i64,
}

/// The click the model credits among `candidates` (any order).
pub fn credited(model: AttributionModel, candidates: &[ClickFacts]) -> Option<&ClickFacts> {
    let key = |c: &&ClickFacts| (c.clicked_at, c.click_id);
    match model {
        AttributionModel::LastClick => candidates.iter().max_by_key(key),
        AttributionModel::FirstClick => candidates.iter().min_by_key(key),
    }
}

/// The earliest click time still inside the window of a conversion at `at`.
pub fn window_start(th: &Thresholds, at: DateTime<Utc>) -> DateTime<Utc> {
    at - Duration::days(i64::from(th.window_days))
}

/// Why the credited click does not earn, if it does not.
pub fn hold_reason(
    th: &Thresholds,
    click: &ClickFacts,
    converted_at: DateTime<Utc>,
    partner_domain: &str,
    customer_domain: Option<&str>,
) -> Option<HoldReason> {
    if click.bot {
        return Some(HoldReason::BotClick);
    }
    if click.clicked_at < window_start(th, converted_at) {
        return Some(HoldReason::ClickTooOld);
    }
    if converted_at - click.clicked_at < Duration::seconds(i64::from(th.min_seconds_to_convert)) {
        return Some(HoldReason::TooFast);
    }
    if click.source_clicks_in_hour > i64::from(th.max_clicks_per_source_hour) {
        return Some(HoldReason::FloodingSource);
    }
    if let Some(customer) = customer_domain
        && !partner_domain.is_empty()
        && (customer == partner_domain || customer.ends_with(&format!(".{partner_domain}")))
    {
        return Some(HoldReason::SelfReferral);
    }
    None
}

/// What a status postback does to a known conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusChange {
    /// Already so: nothing changes.
    Nothing,
    /// The new status; for a refund, the total refunded so far. The
    /// commission is reversed to match.
    To {
        status: ConversionStatus,
        refunded_total: i64,
    },
}

/// Why a status postback cannot apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefusedChange {
    /// The field and what is wrong.
    Field(&'static str, String),
    /// The conversion cannot make this change.
    Illegal(String),
}

/// The change `requested` (with `amount`, for refunds the total refunded
/// so far) makes to a conversion now `current`, of `sale_amount` (None for
/// a lead), of which `refunded` was refunded before.
pub fn status_change(
    current: ConversionStatus,
    sale_amount: Option<i64>,
    refunded: i64,
    requested: ConversionStatus,
    amount: Option<i64>,
) -> Result<StatusChange, RefusedChange> {
    use ConversionStatus::*;
    let illegal = || {
        Err(RefusedChange::Illegal(format!(
            "a {} conversion cannot become {}",
            current.as_str(),
            requested.as_str()
        )))
    };
    let to = |status| {
        Ok(StatusChange::To {
            status,
            refunded_total: refunded,
        })
    };
    match (current, requested) {
        (_, Pending) => Ok(StatusChange::Nothing),
        (s, r) if s == r && r != Refunded => Ok(StatusChange::Nothing),
        (Pending, Approved) => to(Approved),
        (Held, Approved) => Err(RefusedChange::Illegal(
            "a held conversion is released by staff, not by a postback".into(),
        )),
        (Pending | Approved | Held, Rejected) => to(Rejected),
        (Pending | Approved | Refunded | Held, Chargeback) => to(Chargeback),
        (Pending | Approved | Refunded | Held, Refunded) => {
            let total = match (sale_amount, amount) {
                (None, _) => 0,
                (Some(sale), None) => sale,
                (Some(sale), Some(a)) if a > sale => {
                    return Err(RefusedChange::Field(
                        "amount",
                        format!("the total refunded ({a}) exceeds the sale ({sale})"),
                    ));
                }
                (Some(_), Some(a)) => a,
            };
            if current == Refunded && total == refunded {
                Ok(StatusChange::Nothing)
            } else if total < refunded {
                Err(RefusedChange::Field(
                    "amount",
                    format!("is the total refunded so far, which was already {refunded}"),
                ))
            } else {
                Ok(StatusChange::To {
                    status: Refunded,
                    refunded_total: total,
                })
            }
        }
        _ => illegal(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0)
            .single()
            .expect("a valid time")
            + Duration::seconds(secs)
    }

    fn click(at: DateTime<Utc>) -> ClickFacts {
        ClickFacts {
            click_id: Uuid::now_v7(),
            link_id: Uuid::now_v7(),
            partner_id: Uuid::now_v7(),
            clicked_at: at,
            bot: false,
            source_clicks_in_hour: 1,
        }
    }

    #[test]
    fn last_and_first_click() {
        let clicks = [click(t(100)), click(t(50)), click(t(300))];
        assert_eq!(
            credited(AttributionModel::LastClick, &clicks)
                .expect("test value")
                .clicked_at,
            t(300)
        );
        assert_eq!(
            credited(AttributionModel::FirstClick, &clicks)
                .expect("test value")
                .clicked_at,
            t(50)
        );
        assert_eq!(credited(AttributionModel::LastClick, &[]), None);
    }

    #[test]
    fn the_window_and_the_thresholds() {
        let th = Thresholds::default(); // 90 days, 10 s, 20 per hour
        let c = click(t(0));
        assert_eq!(hold_reason(&th, &c, t(60), "", None), None);
        assert_eq!(
            hold_reason(&th, &c, t(9), "", None),
            Some(HoldReason::TooFast)
        );
        assert_eq!(hold_reason(&th, &c, t(10), "", None), None);
        let day = 86_400;
        assert_eq!(hold_reason(&th, &c, t(90 * day), "", None), None);
        assert_eq!(
            hold_reason(&th, &c, t(90 * day + 1), "", None),
            Some(HoldReason::ClickTooOld)
        );
        let short = Thresholds {
            window_days: 7,
            ..Thresholds::default()
        };
        assert_eq!(
            hold_reason(&short, &c, t(8 * day), "", None),
            Some(HoldReason::ClickTooOld)
        );
        let flood = ClickFacts {
            source_clicks_in_hour: 21,
            ..c.clone()
        };
        assert_eq!(
            hold_reason(&th, &flood, t(60), "", None),
            Some(HoldReason::FloodingSource)
        );
        let bot = ClickFacts {
            bot: true,
            ..c.clone()
        };
        assert_eq!(
            hold_reason(&th, &bot, t(60), "", None),
            Some(HoldReason::BotClick)
        );
        assert_eq!(
            hold_reason(
                &th,
                &c,
                t(60),
                "partner.example",
                Some("shop.partner.example")
            ),
            Some(HoldReason::SelfReferral)
        );
        assert_eq!(
            hold_reason(&th, &c, t(60), "partner.example", Some("customer.example")),
            None
        );
    }

    #[test]
    fn status_changes() {
        use ConversionStatus::*;
        let sale = Some(10_000);
        assert_eq!(
            status_change(Pending, sale, 0, Pending, None),
            Ok(StatusChange::Nothing)
        );
        assert_eq!(
            status_change(Pending, sale, 0, Approved, None),
            Ok(StatusChange::To {
                status: Approved,
                refunded_total: 0
            })
        );
        assert_eq!(
            status_change(Approved, sale, 0, Approved, None),
            Ok(StatusChange::Nothing)
        );
        assert_eq!(
            status_change(Approved, sale, 0, Refunded, Some(2_500)),
            Ok(StatusChange::To {
                status: Refunded,
                refunded_total: 2_500
            })
        );
        // The same refund again changes nothing; a larger total refunds more.
        assert_eq!(
            status_change(Refunded, sale, 2_500, Refunded, Some(2_500)),
            Ok(StatusChange::Nothing)
        );
        assert_eq!(
            status_change(Refunded, sale, 2_500, Refunded, Some(4_000)),
            Ok(StatusChange::To {
                status: Refunded,
                refunded_total: 4_000
            })
        );
        assert!(matches!(
            status_change(Refunded, sale, 2_500, Refunded, Some(1_000)),
            Err(RefusedChange::Field("amount", _))
        ));
        assert!(matches!(
            status_change(Approved, sale, 0, Refunded, Some(10_001)),
            Err(RefusedChange::Field("amount", _))
        ));
        // A refund without an amount refunds all of it.
        assert_eq!(
            status_change(Approved, sale, 0, Refunded, None),
            Ok(StatusChange::To {
                status: Refunded,
                refunded_total: 10_000
            })
        );
        assert!(matches!(
            status_change(Chargeback, sale, 0, Approved, None),
            Err(RefusedChange::Illegal(_))
        ));
        assert!(matches!(
            status_change(Rejected, sale, 0, Refunded, None),
            Err(RefusedChange::Illegal(_))
        ));
        assert!(matches!(
            status_change(Held, sale, 0, Approved, None),
            Err(RefusedChange::Illegal(_))
        ));
        assert_eq!(
            status_change(Held, sale, 0, Rejected, None),
            Ok(StatusChange::To {
                status: Rejected,
                refunded_total: 0
            })
        );
    }
}
