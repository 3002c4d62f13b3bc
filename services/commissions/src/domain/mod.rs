//! The commissions rules, without I/O: plan arithmetic, tracking links,
//! postback parsing and answers, attribution and fraud checks, bots, the
//! ledger, and who may do what.

pub mod access;
pub mod attribution;
pub mod bots;
pub mod ledger;
pub mod link;
pub mod partner;
pub mod payout;
pub mod plan;
pub mod postback;
pub mod settings;

pub use prm_runtime::fields::MAX_AMOUNT_MINOR;

/// `bps` basis points of `amount_minor`, rounded half away from zero to
/// the minor unit (the rounding rule of every commission and reversal).
pub fn bps_of(amount_minor: i64, bps: i32) -> i64 {
    share(amount_minor, i64::from(bps), 10_000)
}

/// `amount × numerator / denominator`, rounded half away from zero, in
/// 128-bit arithmetic (no overflow for amounts up to `MAX_AMOUNT_MINOR`).
pub fn share(amount_minor: i64, numerator: i64, denominator: i64) -> i64 {
    assert!(denominator > 0, "share of a non-positive denominator");
    let product = i128::from(amount_minor) * i128::from(numerator);
    let d = i128::from(denominator);
    let half = d / 2;
    let rounded = if product >= 0 {
        (product + half) / d
    } else {
        (product - half) / d
    };
    i64::try_from(rounded).unwrap_or(if rounded > 0 { i64::MAX } else { i64::MIN })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basis_points_round_half_away_from_zero() {
        assert_eq!(bps_of(10_000, 2_000), 2_000);
        // 0.5 minor units rounds up; 0.4999 down.
        assert_eq!(bps_of(5, 1_000), 1); // 0.5
        assert_eq!(bps_of(4, 1_000), 0); // 0.4
        assert_eq!(bps_of(15, 1_000), 2); // 1.5
        assert_eq!(bps_of(-15, 1_000), -2);
        assert_eq!(bps_of(MAX_AMOUNT_MINOR, 10_000), MAX_AMOUNT_MINOR);
        assert_eq!(share(1_001, 1, 3), 334); // 333.67
        assert_eq!(share(1_000, 1, 3), 333); // 333.33
    }
}
