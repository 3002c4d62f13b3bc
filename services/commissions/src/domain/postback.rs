//! Server-to-server postbacks: how they authenticate, what they carry, and
//! the stable answer every one of them gets (the README lists the codes).
//!
//! A postback either reports a new conversion (status `pending`, the
//! default, or `approved`) or changes one already reported, by its
//! transaction id: `approved`, `rejected`, `refunded` (with `amount` the
//! total refunded so far, so a partial refund reverses part of the
//! commission and a retried refund changes nothing) or `chargeback`.

use chrono::{DateTime, Utc};
use prm_proto::commissions::RecordPostbackRequest;
use prm_runtime::auth::constant_time_eq;
use prm_runtime::fields::{CustomerRef, EventType, TransactionId};
use prm_runtime::validate;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::MAX_AMOUNT_MINOR;
use super::settings::sha256_hex;

pub use prm_runtime::ConversionKind;

pub use prm_runtime::vocabulary::ConversionStatus;

pub use prm_runtime::vocabulary::HoldReason;

/// The answer to a postback: a stable code, the HTTP status the gateway
/// answers with, and a number for networks that want one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A new conversion, attributed; its commission (if the plan pays for
    /// it) is earned.
    Accepted,
    /// A known transaction's status changed.
    StatusUpdated,
    /// The transaction was already reported with this status: nothing
    /// changed.
    Duplicate,
    /// Recorded but held by a fraud or attribution check (see the reason).
    Held,
    /// Recorded and held: the click id matches no click.
    UnknownClick,
    /// Recorded and held: the click is older than the attribution window.
    OutsideWindow,
    /// A field is missing or malformed; nothing was recorded.
    InvalidField,
    /// The token or signature is wrong, or the program unknown.
    BadSignature,
    /// A status change for a transaction never reported.
    UnknownTransaction,
    /// A status change the conversion cannot make (e.g. approving a
    /// charged-back sale).
    InvalidStatusChange,
    /// Recorded as rejected: the partner is terminated and earns nothing
    /// more.
    PartnerTerminated,
}

impl Answer {
    pub const ALL: &'static [Answer] = &[
        Answer::Accepted,
        Answer::StatusUpdated,
        Answer::Duplicate,
        Answer::Held,
        Answer::UnknownClick,
        Answer::OutsideWindow,
        Answer::InvalidField,
        Answer::BadSignature,
        Answer::UnknownTransaction,
        Answer::InvalidStatusChange,
        Answer::PartnerTerminated,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Answer::Accepted => "ACCEPTED",
            Answer::StatusUpdated => "STATUS_UPDATED",
            Answer::Duplicate => "DUPLICATE",
            Answer::Held => "HELD",
            Answer::UnknownClick => "UNKNOWN_CLICK",
            Answer::OutsideWindow => "OUTSIDE_ATTRIBUTION_WINDOW",
            Answer::InvalidField => "INVALID_FIELD",
            Answer::BadSignature => "BAD_SIGNATURE",
            Answer::UnknownTransaction => "UNKNOWN_TRANSACTION",
            Answer::InvalidStatusChange => "INVALID_STATUS_CHANGE",
            Answer::PartnerTerminated => "PARTNER_TERMINATED",
        }
    }

    pub fn parse(code: &str) -> Option<Answer> {
        Answer::ALL.iter().copied().find(|a| a.code() == code)
    }

    pub fn http_status(self) -> u16 {
        match self {
            Answer::Accepted => 201,
            Answer::StatusUpdated
            | Answer::Duplicate
            | Answer::Held
            | Answer::UnknownClick
            | Answer::OutsideWindow
            | Answer::PartnerTerminated => 200,
            Answer::InvalidField => 400,
            Answer::BadSignature => 401,
            Answer::UnknownTransaction => 404,
            Answer::InvalidStatusChange => 409,
        }
    }

    /// The answer of a conversion held for `reason`.
    pub fn held(reason: HoldReason) -> Answer {
        match reason {
            HoldReason::UnknownClick => Answer::UnknownClick,
            HoldReason::ClickTooOld => Answer::OutsideWindow,
            HoldReason::PartnerTerminated => Answer::PartnerTerminated,
            _ => Answer::Held,
        }
    }
}

/// The status a new conversion is stored with: the reported one when it
/// passed every check; rejected for a terminated partner (it can never be
/// credited); held otherwise, until staff release or reject it.
pub fn new_conversion_status(
    hold: Option<HoldReason>,
    reported: ConversionStatus,
) -> ConversionStatus {
    match hold {
        None => reported,
        Some(HoldReason::PartnerTerminated) => ConversionStatus::Rejected,
        Some(_) => ConversionStatus::Held,
    }
}

/// What a postback says, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Postback {
    pub click_id: Option<Uuid>,
    pub transaction_id: String,
    pub kind: ConversionKind,
    pub event_type: String,
    /// Minor units: a sale's amount, or for a refund the total refunded.
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub status: ConversionStatus,
    pub customer_id: Option<String>,
    pub customer_domain: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
}

/// A bad field of a postback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadField {
    pub field: &'static str,
    pub message: String,
}

fn bad(field: &'static str, message: impl Into<String>) -> BadField {
    BadField {
        field,
        message: message.into(),
    }
}

fn opt(value: &str) -> Option<&str> {
    let v = value.trim();
    (!v.is_empty()).then_some(v)
}

impl Postback {
    /// Validates every field, and returns every bad one.
    pub fn parse(req: &RecordPostbackRequest) -> Result<Postback, Vec<BadField>> {
        let mut errs = Vec::new();
        let click_id = match opt(&req.click_id) {
            None => None,
            Some(c) => match Uuid::parse_str(c) {
                Ok(id) => Some(id),
                Err(_) => {
                    errs.push(bad(
                        "click_id",
                        "must be the click id the redirect appended (a UUID)",
                    ));
                    None
                }
            },
        };
        let transaction_id = TransactionId::check(&req.transaction_id)
            .map_err(|m| errs.push(bad("transaction_id", m)))
            .unwrap_or_default();
        let amount_minor = match opt(&req.amount) {
            None => None,
            Some(a) => match a.parse::<i64>() {
                Ok(n) if n < 0 => {
                    errs.push(bad(
                        "amount",
                        "must not be negative: report a refund with status=refunded and the amount refunded",
                    ));
                    None
                }
                Ok(n) if n > MAX_AMOUNT_MINOR => {
                    errs.push(bad(
                        "amount",
                        format!("must be at most {MAX_AMOUNT_MINOR} minor units"),
                    ));
                    None
                }
                Ok(n) => Some(n),
                Err(_) => {
                    errs.push(bad(
                        "amount",
                        "must be a whole number of minor units (cents), e.g. 12500 for 125.00",
                    ));
                    None
                }
            },
        };
        let currency = match opt(&req.currency) {
            None => None,
            Some(c) => match validate::currency(c) {
                Ok(c) => Some(c),
                Err(e) => {
                    errs.push(bad("currency", e));
                    None
                }
            },
        };
        let kind = match opt(&req.kind) {
            None if amount_minor.is_some() => Some(ConversionKind::Sale),
            None => Some(ConversionKind::Lead),
            Some(k) => ConversionKind::parse(&k.to_ascii_lowercase()).or_else(|| {
                errs.push(bad("kind", "must be lead or sale"));
                None
            }),
        };
        let status = match opt(&req.status) {
            None => Some(ConversionStatus::Pending),
            Some(s) => match ConversionStatus::parse(&s.to_ascii_lowercase()) {
                Some(ConversionStatus::Held) | None => {
                    errs.push(bad(
                        "status",
                        "must be pending, approved, rejected, refunded or chargeback",
                    ));
                    None
                }
                Some(s) => Some(s),
            },
        };
        let event = match (opt(&req.event_type), kind) {
            (Some(e), _) => EventType::check(e)
                .map_err(|m| errs.push(bad("event_type", m)))
                .ok(),
            (None, Some(k)) => Some(k.as_str().to_owned()),
            (None, None) => None,
        };
        if kind == Some(ConversionKind::Sale)
            && status == Some(ConversionStatus::Pending)
            && amount_minor.is_none()
        {
            errs.push(bad("amount", "is required for a sale (minor units)"));
        }
        if amount_minor.is_some() && opt(&req.currency).is_none() {
            errs.push(bad("currency", "is required with an amount"));
        }
        let customer_id = match opt(&req.customer_id) {
            None => None,
            Some(c) => CustomerRef::check(c)
                .map_err(|m| errs.push(bad("customer_id", m)))
                .ok(),
        };
        let customer_domain = match opt(&req.customer_domain) {
            None => None,
            Some(d) => validate::domain(d)
                .map_err(|m| errs.push(bad("customer_domain", m)))
                .ok(),
        };
        let occurred_at = match opt(&req.occurred_at) {
            None => None,
            Some(t) => DateTime::parse_from_rfc3339(t)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    errs.push(bad(
                        "occurred_at",
                        "must be an RFC 3339 time, e.g. 2026-11-25T10:00:00Z",
                    ))
                })
                .ok(),
        };
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(Postback {
            click_id,
            transaction_id,
            kind: kind.unwrap_or(ConversionKind::Lead),
            event_type: event.unwrap_or_default(),
            amount_minor,
            currency,
            status: status.unwrap_or(ConversionStatus::Pending),
            customer_id,
            customer_domain,
            occurred_at,
        })
    }

    /// Whether this postback reports a new conversion (rather than a change
    /// to a known one).
    pub fn reports_new(&self) -> bool {
        matches!(
            self.status,
            ConversionStatus::Pending | ConversionStatus::Approved
        )
    }
}

/// HMAC-SHA256 (RFC 2104) of `payload` under `key`.
pub fn hmac_sha256(key: &[u8], payload: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(payload);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// The credentials a program checks postbacks against.
pub struct Credentials<'a> {
    pub token_sha256: Option<&'a str>,
    pub secret: Option<&'a str>,
}

impl Credentials<'_> {
    /// Whether the postback carries the program's token, or a signature of
    /// its payload under the program's secret (hex, optionally prefixed
    /// `sha256=`).
    pub fn verify(&self, token: &str, signature: &str, payload: &[u8]) -> bool {
        if !token.is_empty() {
            return self.token_sha256.is_some_and(|expected| {
                constant_time_eq(sha256_hex(token.as_bytes()).as_bytes(), expected.as_bytes())
            });
        }
        if !signature.is_empty() {
            let sig = signature
                .trim()
                .trim_start_matches("sha256=")
                .to_ascii_lowercase();
            return self.secret.is_some_and(|key| {
                let expected = super::settings::hex(&hmac_sha256(key.as_bytes(), payload));
                constant_time_eq(sig.as_bytes(), expected.as_bytes())
            });
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> RecordPostbackRequest {
        RecordPostbackRequest {
            program_id: Uuid::now_v7().to_string(),
            click_id: Uuid::now_v7().to_string(),
            transaction_id: "T-1".into(),
            amount: "12500".into(),
            currency: "USD".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_sale_by_default_when_an_amount_is_given() {
        let p = Postback::parse(&req()).expect("test value");
        assert_eq!(p.kind, ConversionKind::Sale);
        assert_eq!(p.event_type, "sale");
        assert_eq!(p.status, ConversionStatus::Pending);
        assert_eq!(p.amount_minor, Some(12_500));
        let lead = Postback::parse(&RecordPostbackRequest {
            amount: String::new(),
            currency: String::new(),
            event_type: "signup".into(),
            ..req()
        })
        .expect("test value");
        assert_eq!(
            (lead.kind, lead.event_type.as_str()),
            (ConversionKind::Lead, "signup")
        );
    }

    #[test]
    fn bad_fields_are_named() {
        let fields = |r: RecordPostbackRequest| -> Vec<&'static str> {
            Postback::parse(&r)
                .expect_err("refused")
                .iter()
                .map(|b| b.field)
                .collect()
        };
        assert_eq!(
            fields(RecordPostbackRequest {
                amount: "-100".into(),
                ..req()
            }),
            ["amount"]
        );
        assert_eq!(
            fields(RecordPostbackRequest {
                amount: "12.50".into(),
                ..req()
            }),
            ["amount"]
        );
        assert_eq!(
            fields(RecordPostbackRequest {
                currency: "ZZZ".into(),
                ..req()
            }),
            ["currency"]
        );
        assert_eq!(
            fields(RecordPostbackRequest {
                transaction_id: "x".repeat(65),
                ..req()
            }),
            ["transaction_id"]
        );
        assert_eq!(
            fields(RecordPostbackRequest {
                transaction_id: String::new(),
                ..req()
            }),
            ["transaction_id"]
        );
        assert_eq!(
            fields(RecordPostbackRequest {
                click_id: "nope".into(),
                ..req()
            }),
            ["click_id"]
        );
        assert_eq!(
            fields(RecordPostbackRequest {
                status: "held".into(),
                ..req()
            }),
            ["status"]
        );
        assert_eq!(
            fields(RecordPostbackRequest {
                kind: "sale".into(),
                amount: String::new(),
                currency: String::new(),
                ..req()
            }),
            ["amount"]
        );
        assert_eq!(
            fields(RecordPostbackRequest {
                occurred_at: "yesterday".into(),
                ..req()
            }),
            ["occurred_at"]
        );
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            super::super::settings::hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn credentials() {
        let token = sha256_hex(b"a-long-program-token");
        let creds = Credentials {
            token_sha256: Some(&token),
            secret: Some("a-long-hmac-secret-key"),
        };
        assert!(creds.verify("a-long-program-token", "", b""));
        assert!(!creds.verify("a-long-program-tokeN", "", b""));
        let body = b"transaction_id=T-1&amount=100";
        let sig = super::super::settings::hex(&hmac_sha256(b"a-long-hmac-secret-key", body));
        assert!(creds.verify("", &sig, body));
        assert!(creds.verify("", &format!("sha256={sig}"), body));
        assert!(!creds.verify("", &sig, b"transaction_id=T-1&amount=101"));
        assert!(!creds.verify("", "", body));
        let none = Credentials {
            token_sha256: None,
            secret: None,
        };
        assert!(!none.verify("anything", "", b""));
    }

    #[test]
    fn answer_codes_are_unique_and_parse_back() {
        for a in Answer::ALL {
            assert_eq!(Answer::parse(a.code()), Some(*a));
        }
        let mut codes: Vec<_> = Answer::ALL.iter().map(|a| a.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Answer::ALL.len());
    }
}
