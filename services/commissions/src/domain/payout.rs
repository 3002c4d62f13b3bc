//! Payouts: how partners are paid, who may be, the batch's states, and
//! the files payment providers take.
//!
//! A batch is per program and currency. It pays each partner's approved
//! (available) balance when it is at least the program's minimum and the
//! partner has a payout profile with a tax form on record; everyone else
//! is listed with the reason. Creating the batch takes the money off the
//! balances (a `paid_out` entry each); a failed or cancelled batch gives
//! it back (`payout_returned`).

use chrono::NaiveDate;
use prm_proto::commissions::PutPayoutProfileRequest;
use prm_runtime::fields::{AccountReference, PayeeName, StripeAccountId};
use prm_runtime::{FieldErrors, IllegalTransition, validate};

pub use prm_runtime::vocabulary::PayoutMethod;

pub use prm_runtime::vocabulary::TaxForm;

pub use prm_runtime::vocabulary::PayoutBatchStatus;

/// The rules of a [`PayoutBatchStatus`]: the word is the runtime's vocabulary,
/// the rules are this service's.
pub trait PayoutBatchStatusRules: Copy {
    /// Handed to the provider.
    fn process(self) -> Result<PayoutBatchStatus, IllegalTransition>;

    /// The provider paid it.
    fn pay(self) -> Result<PayoutBatchStatus, IllegalTransition>;

    /// The provider refused it: the money goes back.
    fn fail(self) -> Result<PayoutBatchStatus, IllegalTransition>;

    /// Only before it reaches the provider.
    fn cancel(self) -> Result<PayoutBatchStatus, IllegalTransition>;
}

impl PayoutBatchStatusRules for PayoutBatchStatus {
    fn process(self) -> Result<PayoutBatchStatus, IllegalTransition> {
        match self {
            PayoutBatchStatus::Pending => Ok(PayoutBatchStatus::Processing),
            s => Err(refuse(s, PayoutBatchStatus::Processing)),
        }
    }

    fn pay(self) -> Result<PayoutBatchStatus, IllegalTransition> {
        match self {
            PayoutBatchStatus::Pending | PayoutBatchStatus::Processing => {
                Ok(PayoutBatchStatus::Paid)
            }
            s => Err(refuse(s, PayoutBatchStatus::Paid)),
        }
    }

    fn fail(self) -> Result<PayoutBatchStatus, IllegalTransition> {
        match self {
            PayoutBatchStatus::Pending | PayoutBatchStatus::Processing => {
                Ok(PayoutBatchStatus::Failed)
            }
            s => Err(refuse(s, PayoutBatchStatus::Failed)),
        }
    }

    fn cancel(self) -> Result<PayoutBatchStatus, IllegalTransition> {
        match self {
            PayoutBatchStatus::Pending => Ok(PayoutBatchStatus::Cancelled),
            s => Err(refuse(s, PayoutBatchStatus::Cancelled)),
        }
    }
}

fn refuse(status: PayoutBatchStatus, to: PayoutBatchStatus) -> IllegalTransition {
    IllegalTransition::new(
        "ILLEGAL_PAYOUT_TRANSITION",
        format!("a {} batch cannot become {}", status.as_str(), to.as_str()),
    )
}

/// Why a partner with money is not in a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exclusion {
    BelowMinimum,
    NoPayoutProfile,
    NoTaxForm,
}

impl Exclusion {
    pub fn as_str(self) -> &'static str {
        match self {
            Exclusion::BelowMinimum => "below_minimum",
            Exclusion::NoPayoutProfile => "no_payout_profile",
            Exclusion::NoTaxForm => "no_tax_form",
        }
    }

    pub fn code(self) -> String {
        self.as_str().to_ascii_uppercase()
    }
}

/// Whether a partner with `available` is paid, given the minimum and its
/// profile (`Some(has_tax_form)` when it has one).
pub fn eligibility(available: i64, minimum: i64, profile: Option<bool>) -> Result<(), Exclusion> {
    if available < minimum.max(1) {
        return Err(Exclusion::BelowMinimum);
    }
    match profile {
        None => Err(Exclusion::NoPayoutProfile),
        Some(false) => Err(Exclusion::NoTaxForm),
        Some(true) => Ok(()),
    }
}

/// A validated payout profile (its tax form only when given).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewProfile {
    pub method: PayoutMethod,
    pub paypal_email: String,
    pub bank_reference: String,
    pub stripe_account_id: String,
    pub payee_name: String,
    pub tax_form: Option<(TaxForm, NaiveDate)>,
}

impl NewProfile {
    pub fn parse(req: &PutPayoutProfileRequest, errs: &mut FieldErrors) -> Option<NewProfile> {
        let method = errs.check("method", PayoutMethod::from_proto(req.method));
        let payee = errs.check("payee_name", PayeeName::check(&req.payee_name));
        let (mut email, mut bank, mut stripe) = (String::new(), String::new(), String::new());
        match method {
            Some(PayoutMethod::Paypal) => {
                email = errs
                    .check("paypal_email", validate::email(&req.paypal_email))
                    .unwrap_or_default();
            }
            Some(PayoutMethod::Bank) => {
                bank = errs
                    .check(
                        "bank_reference",
                        AccountReference::check(&req.bank_reference),
                    )
                    .unwrap_or_default();
            }
            Some(PayoutMethod::StripeConnect) => {
                stripe = errs
                    .check(
                        "stripe_account_id",
                        StripeAccountId::check(&req.stripe_account_id),
                    )
                    .unwrap_or_default();
            }
            None => {}
        }
        let tax_form = match (req.tax_form, req.tax_form_received_on.trim()) {
            (0, "") => None,
            (form, day) => {
                let form = errs.check("tax_form", TaxForm::from_proto(form));
                let day = errs.check(
                    "tax_form_received_on",
                    NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| {
                        "must be the day the form was received, YYYY-MM-DD".to_owned()
                    }),
                );
                form.zip(day)
            }
        };
        Some(NewProfile {
            method: method?,
            paypal_email: email,
            bank_reference: bank,
            stripe_account_id: stripe,
            payee_name: payee?,
            tax_form,
        })
    }

    /// Where the money goes.
    pub fn destination(&self) -> &str {
        match self.method {
            PayoutMethod::Paypal => &self.paypal_email,
            PayoutMethod::Bank => &self.bank_reference,
            PayoutMethod::StripeConnect => &self.stripe_account_id,
        }
    }
}

/// Digits after the decimal point of a currency (ISO 4217 minor units).
pub fn minor_unit_digits(currency: &str) -> u32 {
    const ZERO: &[&str] = &[
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
        "VUV", "XAF", "XOF", "XPF",
    ];
    const THREE: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
    if ZERO.contains(&currency) {
        0
    } else if THREE.contains(&currency) {
        3
    } else {
        2
    }
}

/// An amount in minor units as a decimal in major units: 12345 USD is
/// "123.45", 500 JPY is "500".
pub fn decimal(amount_minor: i64, currency: &str) -> String {
    let digits = minor_unit_digits(currency);
    if digits == 0 {
        return amount_minor.to_string();
    }
    let scale = 10i64.pow(digits);
    let sign = if amount_minor < 0 { "-" } else { "" };
    let a = amount_minor.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        a / scale as u64,
        a % scale as u64,
        width = digits as usize
    )
}

/// One line of a payout file.
#[derive(Clone, Debug)]
pub struct ExportItem<'a> {
    pub destination: &'a str,
    pub payee_name: &'a str,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub reference: &'a str,
}

/// A CSV field, quoted when it must be (RFC 4180), and never read as a
/// formula by a spreadsheet.
fn field(value: &str) -> String {
    let v = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// PayPal Payouts Web: no header; per row the recipient's email, the
/// amount in major units, the currency, a customer id (at most 30
/// characters), a note to the recipient, and the wallet (PayPal).
pub fn paypal_csv(items: &[ExportItem<'_>], note: &str) -> String {
    let mut out = String::new();
    for i in items {
        let row = [
            field(i.destination),
            decimal(i.amount_minor, i.currency),
            i.currency.to_owned(),
            field(&i.reference.chars().take(30).collect::<String>()),
            field(note),
            "PayPal".to_owned(),
        ];
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A Wise batch for saved recipients: a header, then per row the Wise
/// recipient id, the name, a payment reference, the amount's currency
/// (fixed target amount), the amount in major units, and the source and
/// target currency (the batch's).
pub fn wise_csv(items: &[ExportItem<'_>]) -> String {
    let mut out = String::from(
        "recipientId,name,paymentReference,amountCurrency,amount,sourceCurrency,targetCurrency\r\n",
    );
    for i in items {
        let row = [
            field(i.destination),
            field(i.payee_name),
            field(i.reference),
            "target".to_owned(),
            decimal(i.amount_minor, i.currency),
            i.currency.to_owned(),
            i.currency.to_owned(),
        ];
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions() {
        use PayoutBatchStatus::*;
        assert_eq!(Pending.process(), Ok(Processing));
        assert_eq!(Processing.pay(), Ok(Paid));
        assert_eq!(Pending.pay(), Ok(Paid));
        assert_eq!(Processing.fail(), Ok(Failed));
        assert_eq!(Pending.cancel(), Ok(Cancelled));
        assert!(Processing.cancel().is_err());
        assert!(Paid.fail().is_err());
        assert!(Failed.pay().is_err());
        assert!(Cancelled.process().is_err());
    }

    #[test]
    fn who_is_paid() {
        assert_eq!(eligibility(5_000, 5_000, Some(true)), Ok(()));
        assert_eq!(
            eligibility(4_999, 5_000, Some(true)),
            Err(Exclusion::BelowMinimum)
        );
        assert_eq!(
            eligibility(-100, 0, Some(true)),
            Err(Exclusion::BelowMinimum)
        );
        assert_eq!(
            eligibility(9_000, 5_000, None),
            Err(Exclusion::NoPayoutProfile)
        );
        assert_eq!(
            eligibility(9_000, 5_000, Some(false)),
            Err(Exclusion::NoTaxForm)
        );
    }

    #[test]
    fn amounts_in_major_units() {
        assert_eq!(decimal(12_345, "USD"), "123.45");
        assert_eq!(decimal(5, "EUR"), "0.05");
        assert_eq!(decimal(500, "JPY"), "500");
        assert_eq!(decimal(1_234, "KWD"), "1.234");
        assert_eq!(decimal(-250, "USD"), "-2.50");
    }

    #[test]
    fn files() {
        let items = [ExportItem {
            destination: "pay@acme.example",
            payee_name: "Acme, Inc.",
            amount_minor: 12_345,
            currency: "USD",
            reference: "0a1b2c3d-0001",
        }];
        assert_eq!(
            paypal_csv(&items, "PRM commissions"),
            "pay@acme.example,123.45,USD,0a1b2c3d-0001,PRM commissions,PayPal\r\n"
        );
        let wise = wise_csv(&[ExportItem {
            destination: "48213377",
            ..items[0].clone()
        }]);
        assert_eq!(
            wise,
            "recipientId,name,paymentReference,amountCurrency,amount,sourceCurrency,targetCurrency\r\n\
             48213377,\"Acme, Inc.\",0a1b2c3d-0001,target,123.45,USD,USD\r\n"
        );
        assert_eq!(field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }
}
