//! A deal registration and its life:
//!
//! ```text
//! submitted ──approve──▶ approved ──win──▶ won
//!   │  ▲                   │  └────lose──▶ lost
//!   │  └resubmit─ returned │ (extend: stays approved, limited times)
//!   ├──return────▶─┘       │
//!   └──reject──▶ rejected  └──(protection ends)──▶ expired
//! ```
//!
//! Submitted, returned and approved registrations hold their customer: no
//! other registration may hold it at the same time (the database enforces
//! this). A returned registration is with the partner: it may edit the
//! contact, value, close date, products and notes, and the approval SLA is
//! paused until it resubmits.

use chrono::{Duration, NaiveDate};
use prm_proto::dealreg::{
    Contact as ContactProto, ProductLine as ProductLineProto, SubmitRegistrationRequest,
    UpdateRegistrationRequest,
};
use prm_runtime::fields::{
    CompanyName, MdfReference, Notes, PersonName, PhoneNumber, ProductName, Quantity, RequiredNote,
};
use prm_runtime::{ApiError, FieldErrors, Money, validate};
use serde::{Deserialize, Serialize};

use super::IllegalTransition;
use super::customer;

pub const MAX_PRODUCT_LINES: usize = 100;
pub use prm_runtime::fields::MAX_AMOUNT_MINOR;
/// How far ahead an expected close date may be.
pub const MAX_CLOSE_YEARS: i64 = 5;

pub use prm_runtime::vocabulary::RegistrationStatus;

pub use prm_runtime::vocabulary::RejectionReason;

prm_runtime::domain_enum! {
    /// What an entry of a registration's history records.
    pub enum HistoryAction as "history action" {
        Submitted = "submitted",
        Approved = "approved",
        Rejected = "rejected",
        Returned = "returned",
        Updated = "updated",
        Resubmitted = "resubmitted",
        Extended = "extended",
        Won = "won",
        Lost = "lost",
        Expired = "expired",
        SlaBreached = "sla_breached",
    }
}

/// The rules of a [`RegistrationStatus`]: the word is the runtime's vocabulary,
/// the rules are this service's.
pub trait RegistrationStatusRules: Copy {
    /// The customer is held: no other registration may claim it.
    fn holds_customer(self) -> bool;

    /// Staff approve a submitted registration.
    fn approve(self) -> Result<Self, IllegalTransition>;

    /// Staff reject a submitted or returned registration.
    fn reject(self) -> Result<Self, IllegalTransition>;

    /// Staff send a submitted registration back for more information.
    fn send_back(self) -> Result<Self, IllegalTransition>;

    /// The partner may edit only a returned registration.
    fn ensure_editable(self) -> Result<(), IllegalTransition>;

    fn resubmit(self) -> Result<Self, IllegalTransition>;

    /// Protection can be extended while approved, `max` times in all.
    fn ensure_extendable(self, used: i32, max: i32) -> Result<(), IllegalTransition>;

    fn win(self) -> Result<Self, IllegalTransition>;

    fn lose(self) -> Result<Self, IllegalTransition>;
}

impl RegistrationStatusRules for RegistrationStatus {
    fn holds_customer(self) -> bool {
        matches!(self, Self::Submitted | Self::Returned | Self::Approved)
    }

    fn approve(self) -> Result<Self, IllegalTransition> {
        match self {
            Self::Submitted => Ok(Self::Approved),
            _ => Err(refuse(
                self,
                "REGISTRATION_NOT_SUBMITTED",
                "only a submitted registration can be approved",
            )),
        }
    }

    fn reject(self) -> Result<Self, IllegalTransition> {
        match self {
            Self::Submitted | Self::Returned => Ok(Self::Rejected),
            _ => Err(refuse(
                self,
                "REGISTRATION_NOT_SUBMITTED",
                "only a submitted or returned registration can be rejected",
            )),
        }
    }

    fn send_back(self) -> Result<Self, IllegalTransition> {
        match self {
            Self::Submitted => Ok(Self::Returned),
            _ => Err(refuse(
                self,
                "REGISTRATION_NOT_SUBMITTED",
                "only a submitted registration can be returned",
            )),
        }
    }

    fn ensure_editable(self) -> Result<(), IllegalTransition> {
        match self {
            Self::Returned => Ok(()),
            _ => Err(refuse(
                self,
                "REGISTRATION_NOT_RETURNED",
                "it can be edited only while returned for more information",
            )),
        }
    }

    fn resubmit(self) -> Result<Self, IllegalTransition> {
        match self {
            Self::Returned => Ok(Self::Submitted),
            _ => Err(refuse(
                self,
                "REGISTRATION_NOT_RETURNED",
                "only a returned registration can be resubmitted",
            )),
        }
    }

    fn ensure_extendable(self, used: i32, max: i32) -> Result<(), IllegalTransition> {
        if self != Self::Approved {
            return Err(refuse(
                self,
                "REGISTRATION_NOT_APPROVED",
                "only an approved registration's protection can be extended",
            ));
        }
        if used >= max {
            return Err(IllegalTransition::new(
                "EXTENSION_LIMIT_REACHED",
                format!("protection has been extended {used} times, the most allowed"),
            ));
        }
        Ok(())
    }

    fn win(self) -> Result<Self, IllegalTransition> {
        match self {
            Self::Approved => Ok(Self::Won),
            _ => Err(refuse(
                self,
                "REGISTRATION_NOT_APPROVED",
                "only an approved registration can be won",
            )),
        }
    }

    fn lose(self) -> Result<Self, IllegalTransition> {
        match self {
            Self::Approved => Ok(Self::Lost),
            _ => Err(refuse(
                self,
                "REGISTRATION_NOT_APPROVED",
                "only an approved registration can be lost",
            )),
        }
    }
}

fn refuse(status: RegistrationStatus, reason: &'static str, wanted: &str) -> IllegalTransition {
    IllegalTransition::new(
        reason,
        format!("the registration is {}; {wanted}", status.as_str()),
    )
}

/// The partner's contact at the customer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    pub email: String,
    pub phone: String,
}

/// One product line: what, how many, for how much (in total).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductLine {
    pub product: String,
    pub quantity: i32,
    pub amount_minor: i64,
    pub currency: String,
}

/// A validated submission.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRegistration {
    pub customer_company: String,
    pub company_key: String,
    pub customer_domain: String,
    pub domain_key: String,
    pub contact: Contact,
    pub value: Money,
    pub products: Vec<ProductLine>,
    pub expected_close_date: NaiveDate,
    pub notes: String,
    pub mdf_reference: String,
}

fn contact(errs: &mut FieldErrors, c: Option<&ContactProto>) -> Option<Contact> {
    let Some(c) = c else {
        errs.add("contact", "is required");
        return None;
    };
    let name = errs.check("contact.name", PersonName::check(&c.name));
    let email = errs.check("contact.email", validate::email(&c.email));
    let phone = errs.check("contact.phone", PhoneNumber::check(&c.phone));
    Some(Contact {
        name: name?,
        email: email?,
        phone: phone?,
    })
}

/// A non-negative amount in a known currency, and not absurdly large.
fn amount(m: Option<&prm_proto::common::Money>) -> Result<Money, String> {
    let money = Money::parse(m, false)?;
    if money.amount_minor > MAX_AMOUNT_MINOR {
        return Err(format!(
            "amount_minor must be at most {MAX_AMOUNT_MINOR}; {} looks like a typo",
            money.amount_minor
        ));
    }
    Ok(money)
}

/// An expected close date: from `today` to [`MAX_CLOSE_YEARS`] ahead.
fn close_date(value: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let date = NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map_err(|_| "must be a date as YYYY-MM-DD".to_owned())?;
    if date < today {
        return Err(format!("must not be in the past (today is {today})"));
    }
    if date > today + Duration::days(366 * MAX_CLOSE_YEARS) {
        return Err(format!("must be within {MAX_CLOSE_YEARS} years"));
    }
    Ok(date)
}

/// Product lines, all in one currency; with `value` their total.
fn product_lines(errs: &mut FieldErrors, lines: &[ProductLineProto]) -> Option<Vec<ProductLine>> {
    if lines.len() > MAX_PRODUCT_LINES {
        errs.add("products", format!("at most {MAX_PRODUCT_LINES} lines"));
        return None;
    }
    let mut out = Vec::with_capacity(lines.len());
    let mut currency: Option<String> = None;
    for (i, l) in lines.iter().enumerate() {
        let product = errs.check(
            &format!("products[{i}].product"),
            ProductName::check(&l.product),
        );
        let quantity = errs.check(
            &format!("products[{i}].quantity"),
            Quantity::check(l.quantity),
        );
        let money = errs.check(&format!("products[{i}].amount"), amount(l.amount.as_ref()));
        if let Some(m) = &money {
            match &currency {
                Some(c) if c != &m.currency => errs.add(
                    format!("products[{i}].amount.currency"),
                    format!("must be {c}, like the other lines"),
                ),
                _ => currency = Some(m.currency.clone()),
            }
        }
        if let (Some(product), Some(quantity), Some(m)) = (product, quantity, money) {
            out.push(ProductLine {
                product,
                quantity,
                amount_minor: m.amount_minor,
                currency: m.currency,
            });
        }
    }
    Some(out)
}

/// The value: the lines' total when there are lines (a given
/// `estimated_value` must then equal it), else `estimated_value`.
fn value(
    errs: &mut FieldErrors,
    estimated: Option<&prm_proto::common::Money>,
    lines: &[ProductLine],
) -> Option<Money> {
    if lines.is_empty() {
        return errs.check("estimated_value", amount(estimated));
    }
    let currency = lines[0].currency.clone();
    let total = lines
        .iter()
        .try_fold(0i64, |sum, l| sum.checked_add(l.amount_minor))
        .filter(|t| *t <= MAX_AMOUNT_MINOR);
    let Some(total) = total else {
        errs.add(
            "products",
            format!("the lines total more than {MAX_AMOUNT_MINOR}"),
        );
        return None;
    };
    let sum = Money::new(total, currency);
    if let Some(given) = estimated
        && (given.amount_minor != sum.amount_minor || given.currency != sum.currency)
    {
        errs.add(
            "estimated_value",
            format!("must equal the product lines' total, {sum}, or be left out"),
        );
        return None;
    }
    Some(sum)
}

impl NewRegistration {
    /// Checks every field and reports all problems at once.
    pub fn parse(req: &SubmitRegistrationRequest, today: NaiveDate) -> Result<Self, ApiError> {
        let mut errs = FieldErrors::new();
        let customer_company = errs.check(
            "customer_company",
            CompanyName::check(&req.customer_company),
        );
        let domain_key = errs.check(
            "customer_domain",
            customer::domain_key(&req.customer_domain),
        );
        let contact = contact(&mut errs, req.contact.as_ref());
        let products = product_lines(&mut errs, &req.products);
        let value = products
            .as_ref()
            .and_then(|lines| value(&mut errs, req.estimated_value.as_ref(), lines));
        let expected_close_date = errs.check(
            "expected_close_date",
            close_date(&req.expected_close_date, today),
        );
        let notes = errs.check("notes", Notes::check(&req.notes));
        let mdf_reference = errs.check("mdf_reference", MdfReference::check(&req.mdf_reference));
        errs.finish()?;
        match (
            customer_company,
            domain_key,
            contact,
            products,
            value,
            expected_close_date,
            notes,
            mdf_reference,
        ) {
            (
                Some(customer_company),
                Some(domain_key),
                Some(contact),
                Some(products),
                Some(value),
                Some(expected_close_date),
                Some(notes),
                Some(mdf_reference),
            ) => Ok(Self {
                company_key: customer::company_key(&customer_company),
                customer_company,
                customer_domain: req.customer_domain.trim().to_ascii_lowercase(),
                domain_key,
                contact,
                value,
                products,
                expected_close_date,
                notes,
                mdf_reference,
            }),
            _ => Err(ApiError::Internal(anyhow::anyhow!(
                "a field failed validation without an error"
            ))),
        }
    }
}

/// A validated edit of a returned registration: only what is set changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Edit {
    pub contact: Option<Contact>,
    pub value: Option<Money>,
    pub products: Option<Vec<ProductLine>>,
    pub expected_close_date: Option<NaiveDate>,
    pub notes: Option<String>,
}

impl Edit {
    pub fn parse(req: &UpdateRegistrationRequest, today: NaiveDate) -> Result<Self, ApiError> {
        let mut errs = FieldErrors::new();
        let contact = req
            .contact
            .as_ref()
            .and_then(|c| contact(&mut errs, Some(c)));
        let products = if req.replace_products || !req.products.is_empty() {
            product_lines(&mut errs, &req.products)
        } else {
            None
        };
        let value = match &products {
            Some(lines) if !lines.is_empty() => {
                value(&mut errs, req.estimated_value.as_ref(), lines)
            }
            _ => req
                .estimated_value
                .as_ref()
                .and_then(|v| errs.check("estimated_value", amount(Some(v)))),
        };
        let expected_close_date = if req.expected_close_date.is_empty() {
            None
        } else {
            errs.check(
                "expected_close_date",
                close_date(&req.expected_close_date, today),
            )
        };
        let notes = match &req.notes {
            Some(n) => errs.check("notes", Notes::check(n)),
            None => None,
        };
        errs.finish()?;
        Ok(Self {
            contact,
            value,
            products,
            expected_close_date,
            notes,
        })
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// The reason a lost deal was lost: free text, required.
pub fn loss_reason(value: &str) -> Result<String, String> {
    RequiredNote::check(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use RegistrationStatus::*;
    use chrono::Utc;

    fn today() -> NaiveDate {
        Utc::now().date_naive()
    }

    const ALL: [RegistrationStatus; 7] =
        [Submitted, Returned, Approved, Rejected, Won, Lost, Expired];

    #[test]
    fn the_state_machine() {
        for s in ALL {
            assert_eq!(s.approve().is_ok(), s == Submitted, "approve {s:?}");
            assert_eq!(
                s.reject().is_ok(),
                matches!(s, Submitted | Returned),
                "reject {s:?}"
            );
            assert_eq!(s.send_back().is_ok(), s == Submitted, "return {s:?}");
            assert_eq!(s.ensure_editable().is_ok(), s == Returned, "edit {s:?}");
            assert_eq!(s.resubmit().is_ok(), s == Returned, "resubmit {s:?}");
            assert_eq!(s.win().is_ok(), s == Approved, "win {s:?}");
            assert_eq!(s.lose().is_ok(), s == Approved, "lose {s:?}");
            assert_eq!(
                s.ensure_extendable(0, 2).is_ok(),
                s == Approved,
                "extend {s:?}"
            );
            assert_eq!(
                s.holds_customer(),
                matches!(s, Submitted | Returned | Approved)
            );
        }
        assert_eq!(Submitted.approve(), Ok(Approved));
        assert_eq!(Returned.resubmit(), Ok(Submitted));
        assert_eq!(
            Approved.ensure_extendable(2, 2).map_err(|e| e.reason),
            Err("EXTENSION_LIMIT_REACHED")
        );
        assert_eq!(
            Rejected.win().map_err(|e| e.reason),
            Err("REGISTRATION_NOT_APPROVED")
        );
    }

    fn money(amount_minor: i64, currency: &str) -> Option<prm_proto::common::Money> {
        Some(prm_proto::common::Money {
            amount_minor,
            currency: currency.into(),
        })
    }

    fn request() -> SubmitRegistrationRequest {
        SubmitRegistrationRequest {
            partner_id: String::new(),
            customer_company: "Acme, Inc.".into(),
            customer_domain: "www.acme.co.uk".into(),
            contact: Some(ContactProto {
                name: "Jo Buyer".into(),
                email: "jo@acme.co.uk".into(),
                phone: String::new(),
            }),
            estimated_value: money(5_000_000, "EUR"),
            products: vec![],
            expected_close_date: (today() + Duration::days(30)).to_string(),
            notes: String::new(),
            mdf_reference: String::new(),
        }
    }

    fn fields(r: Result<NewRegistration, ApiError>) -> Vec<String> {
        match r {
            Err(ApiError::InvalidArgument(v)) => v.into_iter().map(|f| f.field).collect(),
            other => panic!("expected invalid argument, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_submission_is_normalised() {
        let r = NewRegistration::parse(&request(), today()).expect("valid");
        assert_eq!(r.domain_key, "acme.co.uk");
        assert_eq!(r.company_key, "acme");
        assert_eq!(r.value, Money::new(5_000_000, "EUR"));
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut req = request();
        req.customer_company = " ".into();
        req.customer_domain = "co.uk".into();
        req.contact = Some(ContactProto {
            name: String::new(),
            email: "nope".into(),
            phone: String::new(),
        });
        req.estimated_value = money(-1, "EUR");
        req.expected_close_date = "2020-01-01".into();
        assert_eq!(
            fields(NewRegistration::parse(&req, today())),
            [
                "customer_company",
                "customer_domain",
                "contact.name",
                "contact.email",
                "estimated_value",
                "expected_close_date"
            ]
        );
        let mut req = request();
        req.estimated_value = money(MAX_AMOUNT_MINOR + 1, "EUR");
        assert_eq!(
            fields(NewRegistration::parse(&req, today())),
            ["estimated_value"]
        );
        req.estimated_value = money(100, "XXY");
        assert_eq!(
            fields(NewRegistration::parse(&req, today())),
            ["estimated_value"]
        );
        req.estimated_value = None;
        assert_eq!(
            fields(NewRegistration::parse(&req, today())),
            ["estimated_value"]
        );
        req.contact = None;
        req.expected_close_date = "31/12/2030".into();
        assert_eq!(
            fields(NewRegistration::parse(&req, today())),
            ["contact", "estimated_value", "expected_close_date"]
        );
    }

    #[test]
    fn the_value_is_the_product_lines_total() {
        let mut req = request();
        req.estimated_value = None;
        req.products = vec![
            ProductLineProto {
                product: "Seats".into(),
                quantity: 100,
                amount: money(3_000_000, "EUR"),
            },
            ProductLineProto {
                product: "Support".into(),
                quantity: 1,
                amount: money(500_000, "EUR"),
            },
        ];
        let r = NewRegistration::parse(&req, today()).expect("valid");
        assert_eq!(r.value, Money::new(3_500_000, "EUR"));
        assert_eq!(r.products.len(), 2);
        // A stated value must agree with the lines.
        req.estimated_value = money(1, "EUR");
        assert_eq!(
            fields(NewRegistration::parse(&req, today())),
            ["estimated_value"]
        );
        // Lines in two currencies, a zero quantity.
        req.estimated_value = None;
        req.products[1].amount = money(1, "USD");
        req.products[0].quantity = 0;
        assert_eq!(
            fields(NewRegistration::parse(&req, today())),
            ["products[0].quantity", "products[1].amount.currency"]
        );
    }
}
