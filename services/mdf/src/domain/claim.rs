//! Claims: after the activity, the partner claims with proof of
//! performance; staff approve (reimburse), partially approve or reject.

use prm_proto::mdf::{ProofDocument as ProofDocumentProto, SubmitClaimRequest};
use prm_runtime::fields::{
    Checksum, DocumentBytes, DocumentName, InvoiceNumber, LeadCount, MediaType, StorageLocation,
};
use prm_runtime::{ApiError, FieldErrors, IllegalTransition, Money, validate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::positive_money;

pub use prm_runtime::vocabulary::ClaimStatus;

pub const MAX_DOCUMENTS: usize = 20;

/// The rules of a [`ClaimStatus`]: the word is the runtime's vocabulary,
/// the rules are this service's.
pub trait ClaimStatusRules: Copy {
    /// Staff decide submitted claims only.
    fn decide(self) -> Result<(), IllegalTransition>;
}

impl ClaimStatusRules for ClaimStatus {
    fn decide(self) -> Result<(), IllegalTransition> {
        match self {
            ClaimStatus::Submitted => Ok(()),
            other => Err(IllegalTransition::new(
                "CLAIM_STATE",
                format!("a {} claim cannot be decided", other.as_str()),
            )),
        }
    }
}

/// A document proving the activity, stored elsewhere; the claim keeps its
/// reference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofDocument {
    pub name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub checksum: String,
    pub location: String,
}

impl ProofDocument {
    fn parse(d: &ProofDocumentProto) -> Result<ProofDocument, String> {
        let name = DocumentName::check(&d.name).map_err(|e| format!("name {e}"))?;
        let content_type = MediaType::check(&d.content_type)?;
        let size_bytes = DocumentBytes::check(d.size_bytes)?;
        let checksum = Checksum::check(&d.checksum)?;
        let location = StorageLocation::check(&d.location)?;
        Ok(ProofDocument {
            name,
            content_type,
            size_bytes,
            checksum,
            location: location.to_owned(),
        })
    }

    pub fn to_proto(&self) -> ProofDocumentProto {
        ProofDocumentProto {
            name: self.name.clone(),
            content_type: self.content_type.clone(),
            size_bytes: self.size_bytes,
            checksum: self.checksum.clone(),
            location: self.location.clone(),
        }
    }
}

/// A validated claim submission.
#[derive(Clone, Debug)]
pub struct NewClaim {
    pub request_id: Uuid,
    pub proven_cost: Money,
    pub invoice_number: String,
    pub leads_generated: i32,
    pub attendees: i32,
    pub documents: Vec<ProofDocument>,
}

impl NewClaim {
    pub fn parse(req: &SubmitClaimRequest) -> Result<NewClaim, ApiError> {
        let mut errs = FieldErrors::new();
        let request_id = errs.check("request_id", validate::uuid(&req.request_id));
        let proven_cost = errs.check("proven_cost", positive_money(req.proven_cost.as_ref()));
        let invoice_number =
            errs.check("invoice_number", InvoiceNumber::check(&req.invoice_number));
        errs.check("leads_generated", LeadCount::check(req.leads_generated));
        errs.check("attendees", LeadCount::check(req.attendees));
        let mut documents = Vec::new();
        if req.documents.is_empty() {
            errs.add(
                "documents",
                "proof of performance is required: at least one document",
            );
        } else if req.documents.len() > MAX_DOCUMENTS {
            errs.add("documents", format!("at most {MAX_DOCUMENTS} documents"));
        }
        for (i, d) in req.documents.iter().take(MAX_DOCUMENTS).enumerate() {
            if let Some(doc) = errs.check(&format!("documents[{i}]"), ProofDocument::parse(d)) {
                documents.push(doc);
            }
        }
        errs.finish_with(|| {
            Some(NewClaim {
                request_id: request_id?,
                proven_cost: proven_cost?,
                invoice_number: invoice_number?,
                leads_generated: req.leads_generated,
                attendees: req.attendees,
                documents,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prm_proto::common::Money as MoneyProto;

    fn doc() -> ProofDocumentProto {
        ProofDocumentProto {
            name: "invoice.pdf".into(),
            content_type: "application/pdf".into(),
            size_bytes: 48_213,
            checksum: format!("sha256:{}", "ab".repeat(32)),
            location: "s3://prm-proofs/2026/invoice.pdf".into(),
        }
    }

    fn valid() -> SubmitClaimRequest {
        SubmitClaimRequest {
            request_id: Uuid::now_v7().to_string(),
            proven_cost: Some(MoneyProto {
                amount_minor: 420_000,
                currency: "EUR".into(),
            }),
            invoice_number: "INV-2026-0042".into(),
            leads_generated: 31,
            attendees: 120,
            documents: vec![doc()],
        }
    }

    fn fields(r: Result<NewClaim, ApiError>) -> Vec<String> {
        match r {
            Err(ApiError::InvalidArgument(errs)) => errs.iter().map(|v| v.field.clone()).collect(),
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_claim_parses() {
        let c = NewClaim::parse(&valid()).expect("valid");
        assert_eq!(c.documents.len(), 1);
        assert_eq!(c.invoice_number, "INV-2026-0042");
    }

    #[test]
    fn proof_is_required() {
        let mut c = valid();
        c.documents.clear();
        assert_eq!(fields(NewClaim::parse(&c)), ["documents"]);
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut c = valid();
        c.request_id = String::new();
        c.proven_cost = None;
        c.invoice_number = "  ".into();
        c.attendees = -3;
        let mut bad = doc();
        bad.checksum = "md5:abc".into();
        c.documents.push(bad);
        let mut bad = doc();
        bad.location = "not a url".into();
        c.documents.push(bad);
        assert_eq!(
            fields(NewClaim::parse(&c)),
            [
                "request_id",
                "proven_cost",
                "invoice_number",
                "attendees",
                "documents[1]",
                "documents[2]"
            ]
        );
    }

    #[test]
    fn only_submitted_claims_are_decided() {
        assert!(ClaimStatus::Submitted.decide().is_ok());
        assert!(ClaimStatus::Approved.decide().is_err());
        assert!(ClaimStatus::Rejected.decide().is_err());
    }
}
