//! Reporting's rules, with no I/O: periods, attribution credit, and the
//! arithmetic of the figures (ratios and their definitions).

pub mod access;
pub mod attribution;
pub mod period;

/// `numerator / denominator`, undefined (None) when the denominator is
/// zero.
pub fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    (denominator != 0.0).then(|| numerator / denominator)
}

/// The currency figures are in when a request names none.
pub const DEFAULT_CURRENCY: &str = "USD";

/// Checklist items onboarding defines; completion is done / this many.
pub const CHECKLIST_ITEMS: i64 = 4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_undefined_over_zero() {
        assert_eq!(ratio(1.0, 0.0), None);
        assert_eq!(ratio(1.0, 4.0), Some(0.25));
    }
}
