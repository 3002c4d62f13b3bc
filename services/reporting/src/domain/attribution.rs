//! Attribution credit: how a won deal's amount is shared between the
//! partner that registered it (sourced), the partners that influenced the
//! customer (their attributed conversion for the customer's domain within
//! the model's window before the registration), and the direct team.
//!
//! Shares always sum to exactly the deal's amount in minor units: each is
//! the amount times its weight rounded down, and the units left over go
//! one each to the largest remainders (the Hamilton method), ties to the
//! earlier share.

use chrono::{DateTime, Duration, Utc};
use prm_runtime::FieldErrors;
use prm_runtime::fields::{AttributionModelName, BasisPoints, InfluenceWindowDays};
use uuid::Uuid;

/// The rounding rule, as the API states it.
pub const ROUNDING: &str = "largest remainder: each share is the deal amount times its weight, \
    rounded down to the minor unit; the units left over go one each to the shares with the \
    largest remainders, ties to the earlier share (sourced, then influencers by first \
    influence, then direct), so the shares sum to exactly the amount";

pub const FULL_BPS: i32 = 10_000;
pub const DEFAULT_WINDOW_DAYS: i32 = 90;
pub const MAX_WINDOW_DAYS: i32 = 365;

pub use prm_runtime::vocabulary::ShareRole;

/// The weights a model gives, and the influence window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Weights {
    pub sourced_bps: i32,
    pub influencer_bps: i32,
    pub direct_bps: i32,
    pub window_days: i32,
}

impl Weights {
    /// In force when staff have agreed no model: the registering partner
    /// gets the whole deal.
    pub const BUILT_IN: Weights = Weights {
        sourced_bps: FULL_BPS,
        influencer_bps: 0,
        direct_bps: 0,
        window_days: DEFAULT_WINDOW_DAYS,
    };

    pub fn window(&self) -> Duration {
        Duration::days(i64::from(self.window_days))
    }
}

/// A model as staff submit it, validated whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewModel {
    pub name: String,
    pub weights: Weights,
    pub effective_from: DateTime<Utc>,
}

impl NewModel {
    /// Every bad field is named. `effective_from` defaults to `now` and may
    /// not be in the past (a model never rewrites credit already given).
    pub fn validate(
        name: &str,
        sourced_bps: i32,
        influencer_bps: i32,
        direct_bps: i32,
        window_days: i32,
        effective_from: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<NewModel, prm_runtime::ApiError> {
        let mut errors = FieldErrors::new();
        let name = errors.check("name", AttributionModelName::check(name));
        let mut weights_ok = true;
        for (field, bps) in [
            ("sourced_bps", sourced_bps),
            ("influencer_bps", influencer_bps),
            ("direct_bps", direct_bps),
        ] {
            weights_ok &= errors.check(field, BasisPoints::check(bps)).is_some();
        }
        let sum = i64::from(sourced_bps) + i64::from(influencer_bps) + i64::from(direct_bps);
        if weights_ok && sum != i64::from(FULL_BPS) {
            errors.add(
                "sourced_bps",
                format!(
                    "sourced_bps + influencer_bps + direct_bps must be 10000 (100%), not {sum}"
                ),
            );
        }
        let window_days = match errors.check("window_days", InfluenceWindowDays::check(window_days))
        {
            Some(0) | None => DEFAULT_WINDOW_DAYS,
            Some(d) => d,
        };
        let effective_from = effective_from.unwrap_or(now);
        if effective_from < now - Duration::minutes(1) {
            errors.add(
                "effective_from",
                "may not be in the past: a model never changes credit already given",
            );
        }
        errors.finish_with(|| {
            Some(NewModel {
                name: name?,
                weights: Weights {
                    sourced_bps,
                    influencer_bps,
                    direct_bps,
                    window_days,
                },
                effective_from,
            })
        })
    }
}

/// A won deal, as credit needs it.
#[derive(Clone, Debug)]
pub struct WonDeal {
    pub partner_id: Uuid,
    pub customer_domain: String,
    pub amount_minor: i64,
    pub registered_at: DateTime<Utc>,
}

/// A partner's first attributed conversion for the deal's domain within
/// the window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Influence {
    pub partner_id: Uuid,
    pub first_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Share {
    pub role: ShareRole,
    pub partner_id: Option<Uuid>,
    pub weight_bps: i32,
    pub amount_minor: i64,
    pub reason: String,
}

/// The influencers that count for `deal` under `weights`: other partners
/// whose first conversion for the domain was within the window before the
/// registration, in order of first influence (then id).
pub fn influencers(deal: &WonDeal, weights: &Weights, candidates: &[Influence]) -> Vec<Influence> {
    let from = deal.registered_at - weights.window();
    let mut chosen: Vec<Influence> = candidates
        .iter()
        .filter(|i| i.partner_id != deal.partner_id)
        .filter(|i| i.first_at >= from && i.first_at <= deal.registered_at)
        .cloned()
        .collect();
    chosen.sort_by_key(|i| (i.first_at, i.partner_id));
    chosen.dedup_by(|a, b| a.partner_id == b.partner_id);
    chosen
}

/// The deal's shares under `weights`, given the influencers that count
/// (see [`influencers`]). Zero-weight shares are left out.
pub fn credit(deal: &WonDeal, weights: &Weights, influencers: &[Influence]) -> Vec<Share> {
    let n = influencers.len() as i64;
    let domain = &deal.customer_domain;
    // Weights in units of 1 / (10000 * max(n, 1)) of the deal.
    let per = n.max(1);
    let denominator = i128::from(FULL_BPS) * i128::from(per);
    let mut shares: Vec<(Share, i128)> = Vec::new();
    let sourced_units = if n == 0 {
        i64::from(weights.sourced_bps + weights.influencer_bps) * per
    } else {
        i64::from(weights.sourced_bps) * per
    };
    let sourced_reason = if n == 0 && weights.influencer_bps > 0 {
        format!(
            "registered the deal; no other partner converted {domain} within {} days before \
             the registration, so the influencer share ({} bps) is the sourced partner's too",
            weights.window_days, weights.influencer_bps
        )
    } else {
        "registered the deal".to_owned()
    };
    shares.push((
        Share {
            role: ShareRole::Sourced,
            partner_id: Some(deal.partner_id),
            weight_bps: (sourced_units / per) as i32,
            amount_minor: 0,
            reason: sourced_reason,
        },
        i128::from(sourced_units),
    ));
    for i in influencers {
        let days = (deal.registered_at - i.first_at).num_days();
        shares.push((
            Share {
                role: ShareRole::Influencer,
                partner_id: Some(i.partner_id),
                weight_bps: (i64::from(weights.influencer_bps) / n) as i32,
                amount_minor: 0,
                reason: format!(
                    "attributed conversion for {domain} on {}, {days} days before the \
                     registration; one of {n} influencers splitting {} bps",
                    i.first_at.format("%Y-%m-%d"),
                    weights.influencer_bps
                ),
            },
            i128::from(weights.influencer_bps),
        ));
    }
    shares.push((
        Share {
            role: ShareRole::Direct,
            partner_id: None,
            weight_bps: weights.direct_bps,
            amount_minor: 0,
            reason: "the model's share for the direct team".to_owned(),
        },
        i128::from(weights.direct_bps) * i128::from(per),
    ));
    shares.retain(|(_, units)| *units > 0);
    let amount = i128::from(deal.amount_minor);
    let mut remainders = Vec::with_capacity(shares.len());
    let mut given: i128 = 0;
    for (position, (share, units)) in shares.iter_mut().enumerate() {
        let exact = amount * *units;
        let floor = exact.div_euclid(denominator);
        share.amount_minor = floor as i64;
        given += floor;
        remainders.push((exact.rem_euclid(denominator), position));
    }
    // Largest remainder first; ties to the earlier share.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let left = (amount - given) as usize;
    for (_, position) in remainders.iter().take(left) {
        shares[*position].0.amount_minor += 1;
    }
    shares.into_iter().map(|(s, _)| s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 10, d, 12, 0, 0)
            .single()
            .expect("day")
    }

    fn pid(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn deal(amount: i64) -> WonDeal {
        WonDeal {
            partner_id: pid(1),
            customer_domain: "acme.com".into(),
            amount_minor: amount,
            registered_at: day(20),
        }
    }

    const SEVENTY_THIRTY: Weights = Weights {
        sourced_bps: 7_000,
        influencer_bps: 3_000,
        direct_bps: 0,
        window_days: 90,
    };

    #[test]
    fn seventy_thirty_with_two_influencers() {
        let infl = [
            Influence {
                partner_id: pid(3),
                first_at: day(5),
            },
            Influence {
                partner_id: pid(2),
                first_at: day(2),
            },
        ];
        let chosen = influencers(&deal(100_001), &SEVENTY_THIRTY, &infl);
        assert_eq!(chosen[0].partner_id, pid(2), "first influence first");
        let shares = credit(&deal(100_001), &SEVENTY_THIRTY, &chosen);
        let amounts: Vec<i64> = shares.iter().map(|s| s.amount_minor).collect();
        // 70,000.7 -> 70,000 (+1: remainder .7 is the largest), 15,000.15 twice.
        assert_eq!(amounts, vec![70_001, 15_000, 15_000]);
        assert_eq!(amounts.iter().sum::<i64>(), 100_001);
        assert_eq!(shares[1].weight_bps, 1_500);
        assert!(
            shares[1].reason.contains("acme.com"),
            "{}",
            shares[1].reason
        );
    }

    #[test]
    fn no_influencer_gives_the_sourced_partner_everything_but_direct() {
        let w = Weights {
            sourced_bps: 6_000,
            influencer_bps: 3_000,
            direct_bps: 1_000,
            window_days: 30,
        };
        let shares = credit(&deal(999), &w, &[]);
        assert_eq!(shares.len(), 2);
        assert_eq!(
            (shares[0].role, shares[0].amount_minor),
            (ShareRole::Sourced, 899)
        );
        assert_eq!(shares[0].weight_bps, 9_000);
        assert!(shares[0].reason.contains("no other partner"));
        assert_eq!(
            (shares[1].role, shares[1].amount_minor),
            (ShareRole::Direct, 100)
        );
    }

    #[test]
    fn influence_outside_the_window_or_by_the_sourcing_partner_does_not_count() {
        let w = Weights {
            window_days: 10,
            ..SEVENTY_THIRTY
        };
        let infl = [
            Influence {
                partner_id: pid(1),
                first_at: day(15),
            },
            Influence {
                partner_id: pid(2),
                first_at: day(9),
            },
            Influence {
                partner_id: pid(3),
                first_at: day(10),
            },
            Influence {
                partner_id: pid(4),
                first_at: day(21),
            },
        ];
        let chosen = influencers(&deal(10), &w, &infl);
        assert_eq!(
            chosen.iter().map(|i| i.partner_id).collect::<Vec<_>>(),
            vec![pid(3)],
            "only partner 3 converted within 10 days before the registration"
        );
    }

    #[test]
    fn ties_go_to_the_earlier_share() {
        // Three influencers splitting 100% of 2: each 0.666..; the two
        // earlier ones get a unit each.
        let w = Weights {
            sourced_bps: 0,
            influencer_bps: 10_000,
            direct_bps: 0,
            window_days: 90,
        };
        let infl: Vec<Influence> = (2..5)
            .map(|n| Influence {
                partner_id: pid(n),
                first_at: day(n as u32),
            })
            .collect();
        let shares = credit(&deal(2), &w, &infl);
        let amounts: Vec<i64> = shares.iter().map(|s| s.amount_minor).collect();
        assert_eq!(amounts, vec![1, 1, 0]);
    }

    fn fields_of(e: prm_runtime::ApiError) -> Vec<String> {
        match e {
            prm_runtime::ApiError::InvalidArgument(v) => v.into_iter().map(|f| f.field).collect(),
            other => panic!("not a field error: {other}"),
        }
    }

    #[test]
    fn models_name_every_bad_field() {
        let now = day(20);
        let e =
            NewModel::validate("", 7_000, 2_000, 0, 400, Some(day(1)), now).expect_err("bad model");
        let fields = fields_of(e);
        for f in ["name", "sourced_bps", "window_days", "effective_from"] {
            assert!(fields.contains(&f.to_owned()), "{f} in {fields:?}");
        }
        let e = NewModel::validate("m", -1, 10_001, 0, 90, None, now).expect_err("range");
        let fields = fields_of(e);
        assert_eq!(fields, vec!["sourced_bps", "influencer_bps"]);
        let ok = NewModel::validate("m", 7_000, 3_000, 0, 0, None, now).expect("valid");
        assert_eq!(ok.weights.window_days, DEFAULT_WINDOW_DAYS);
        assert_eq!(ok.effective_from, now);
    }

    proptest! {
        #[test]
        fn shares_always_sum_to_the_amount(
            amount in 0i64..10_000_000_000_000,
            sourced in 0i32..=10_000,
            split in 0i32..=10_000,
            n in 0usize..9,
        ) {
            let influencer = split.min(FULL_BPS - sourced);
            let w = Weights {
                sourced_bps: sourced,
                influencer_bps: influencer,
                direct_bps: FULL_BPS - sourced - influencer,
                window_days: 90,
            };
            let infl: Vec<Influence> = (0..n)
                .map(|k| Influence { partner_id: pid(10 + k as u128), first_at: day(1 + k as u32) })
                .collect();
            let d = deal(amount);
            let shares = credit(&d, &w, &influencers(&d, &w, &infl));
            prop_assert_eq!(shares.iter().map(|s| s.amount_minor).sum::<i64>(), amount);
            for s in &shares {
                // Within one unit of the exact share.
                let units = match s.role {
                    ShareRole::Sourced if n == 0 => f64::from(w.sourced_bps + w.influencer_bps),
                    ShareRole::Sourced => f64::from(w.sourced_bps),
                    ShareRole::Influencer => f64::from(w.influencer_bps) / n as f64,
                    ShareRole::Direct => f64::from(w.direct_bps),
                };
                let exact = amount as f64 * units / 10_000.0;
                prop_assert!((s.amount_minor as f64 - exact).abs() <= 1.0 + exact * 1e-12);
            }
        }
    }
}
