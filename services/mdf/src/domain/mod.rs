//! MDF's rules, without I/O: periods, the ledger's arithmetic and accrual
//! tiers, the request and claim workflows, and who may do what.

pub mod access;
pub mod claim;
pub mod fund;
pub mod ledger;
pub mod period;
pub mod request;

use prm_proto::common::Money as MoneyProto;
use prm_runtime::{Money, validate};

pub use prm_runtime::fields::MAX_AMOUNT_MINOR;

/// A positive amount in a known currency, not absurdly large.
pub fn positive_money(value: Option<&MoneyProto>) -> Result<Money, String> {
    let money = Money::parse(value, false)?;
    validate::currency(&money.currency)?;
    if money.amount_minor == 0 {
        return Err("amount_minor must be positive".into());
    }
    if money.amount_minor > MAX_AMOUNT_MINOR {
        return Err(format!(
            "amount_minor must be at most {MAX_AMOUNT_MINOR}; {} looks like a typo",
            money.amount_minor
        ));
    }
    Ok(money)
}

/// An optional positive amount: unset (or all zero) is `None`.
pub fn optional_positive_money(value: Option<&MoneyProto>) -> Result<Option<Money>, String> {
    match value {
        None => Ok(None),
        Some(m) if m.amount_minor == 0 && m.currency.is_empty() => Ok(None),
        Some(m) => positive_money(Some(m)).map(Some),
    }
}

/// The currency of `money` must be `expected`.
pub fn same_currency(money: &Money, expected: &str) -> Result<(), String> {
    if money.currency == expected {
        Ok(())
    } else {
        Err(format!(
            "currency {} differs from the fund's currency {expected}",
            money.currency
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(amount_minor: i64, currency: &str) -> MoneyProto {
        MoneyProto {
            amount_minor,
            currency: currency.into(),
        }
    }

    #[test]
    fn amounts_must_be_positive_known_and_sane() {
        assert!(positive_money(Some(&m(1, "EUR"))).is_ok());
        assert!(positive_money(Some(&m(0, "EUR"))).is_err());
        assert!(positive_money(Some(&m(-5, "EUR"))).is_err());
        assert!(positive_money(Some(&m(5, "XXQ"))).is_err());
        assert!(positive_money(Some(&m(MAX_AMOUNT_MINOR + 1, "EUR"))).is_err());
        assert!(positive_money(None).is_err());
        assert_eq!(optional_positive_money(None), Ok(None));
        assert!(optional_positive_money(Some(&m(0, "EUR"))).is_err());
    }
}
