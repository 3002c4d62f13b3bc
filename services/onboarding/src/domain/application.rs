//! Partner applications: the public form and its decision.
//!
//! submitted ──approve──▶ approved (a partner now exists)
//!     └──────reject───▶ rejected (with a reason)
//! A decided application is final: approving twice never makes a second partner.

use prm_proto::onboarding::SubmitApplicationRequest;
use prm_runtime::fields::{CompanyName, PersonName};
use prm_runtime::{ApiError, FieldErrors, PartnerType, validate};

use super::IllegalTransition;

pub use prm_runtime::vocabulary::ApplicationStatus;

/// The rules of a [`ApplicationStatus`]: the word is the runtime's vocabulary,
/// the rules are this service's.
pub trait ApplicationStatusRules: Copy {
    /// Only a submitted application can be decided.
    fn decide(self, to: ApplicationStatus) -> Result<ApplicationStatus, IllegalTransition>;
}

impl ApplicationStatusRules for ApplicationStatus {
    fn decide(self, to: ApplicationStatus) -> Result<ApplicationStatus, IllegalTransition> {
        match (self, to) {
            (Self::Submitted, Self::Approved | Self::Rejected) => Ok(to),
            (Self::Approved, _) => Err(IllegalTransition::new(
                "APPLICATION_ALREADY_APPROVED",
                "the application is already approved",
            )),
            (Self::Rejected, _) => Err(IllegalTransition::new(
                "APPLICATION_ALREADY_REJECTED",
                "the application is already rejected",
            )),
            (Self::Submitted, Self::Submitted) => Err(IllegalTransition::new(
                "APPLICATION_NOT_DECIDED",
                "a decision must approve or reject",
            )),
        }
    }
}

/// A validated application form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewApplication {
    pub company_name: String,
    pub domain: String,
    pub country: String,
    pub partner_type: PartnerType,
    pub contact_name: String,
    pub contact_email: String,
}

impl NewApplication {
    /// Checks every field and reports all problems at once.
    pub fn parse(req: &SubmitApplicationRequest) -> Result<Self, ApiError> {
        let mut errs = FieldErrors::new();
        let company_name = errs.check("company_name", CompanyName::check(&req.company_name));
        let domain = errs.check("domain", validate::domain(&req.domain));
        let country = errs.check("country", validate::country(&req.country));
        let partner_type = errs.check("partner_type", PartnerType::from_proto(req.partner_type));
        let contact_name = errs.check("contact_name", PersonName::check(&req.contact_name));
        let contact_email = errs.check("contact_email", validate::email(&req.contact_email));
        match (
            company_name,
            domain,
            country,
            partner_type,
            contact_name,
            contact_email,
        ) {
            (
                Some(company_name),
                Some(domain),
                Some(country),
                Some(partner_type),
                Some(contact_name),
                Some(contact_email),
            ) if errs.is_empty() => Ok(Self {
                company_name,
                domain,
                country,
                partner_type,
                contact_name,
                contact_email,
            }),
            _ => Err(errs.finish().expect_err("a field failed")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prm_proto::common::PartnerType as Pt;

    fn form() -> SubmitApplicationRequest {
        SubmitApplicationRequest {
            company_name: "Acme GmbH".into(),
            domain: "Acme.example".into(),
            country: "de".into(),
            partner_type: Pt::Reseller as i32,
            contact_name: "Jane Doe".into(),
            contact_email: "jane@acme.example".into(),
        }
    }

    #[test]
    fn a_valid_form_is_normalised() {
        let app = NewApplication::parse(&form()).expect("valid");
        assert_eq!(app.domain, "acme.example");
        assert_eq!(app.country, "DE");
        assert_eq!(app.partner_type, PartnerType::Reseller);
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = SubmitApplicationRequest {
            company_name: " ".into(),
            domain: "not a domain".into(),
            country: "Germany".into(),
            partner_type: 42,
            contact_name: "x".repeat(201),
            contact_email: "jane".into(),
        };
        let ApiError::InvalidArgument(v) = NewApplication::parse(&bad).expect_err("invalid") else {
            panic!("expected InvalidArgument");
        };
        let fields: Vec<_> = v.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "company_name",
                "domain",
                "country",
                "partner_type",
                "contact_name",
                "contact_email"
            ]
        );
    }

    #[test]
    fn decisions_are_final() {
        use ApplicationStatus::*;
        assert_eq!(Submitted.decide(Approved), Ok(Approved));
        assert_eq!(Submitted.decide(Rejected), Ok(Rejected));
        assert_eq!(
            Approved.decide(Approved).map_err(|e| e.reason),
            Err("APPLICATION_ALREADY_APPROVED")
        );
        assert_eq!(
            Approved.decide(Rejected).map_err(|e| e.reason),
            Err("APPLICATION_ALREADY_APPROVED")
        );
        assert_eq!(
            Rejected.decide(Approved).map_err(|e| e.reason),
            Err("APPLICATION_ALREADY_REJECTED")
        );
        assert!(Submitted.decide(Submitted).is_err());
    }
}
