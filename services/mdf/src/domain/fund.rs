//! Funds: what kind, and the rules an allocation sets.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use prm_proto::mdf::AllocateFundsRequest;
use prm_runtime::fields::{AccrualGraceDays, AllocationNote, ReimbursementRateBps};
use prm_runtime::{ApiError, FieldErrors, Money, validate};
use uuid::Uuid;

use super::ledger::AccrualTiers;
use super::optional_positive_money;

pub use prm_runtime::vocabulary::FundKind;

/// Reimbursement rate when an allocation does not set one: all of it.
pub const DEFAULT_REIMBURSEMENT_RATE_BPS: i32 = 10_000;

/// The rules a fund is created with (its first allocation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FundRules {
    pub kind: FundKind,
    pub reimbursement_rate_bps: i32,
    pub accrual_tiers: AccrualTiers,
    pub accrual_grace_days: i32,
}

impl FundRules {
    /// Rules a new fund can be created with.
    pub fn ensure_complete(&self) -> Result<(), ApiError> {
        if self.kind == FundKind::Accrual && self.accrual_tiers.tiers().is_empty() {
            return Err(ApiError::invalid(
                "accrual_tiers",
                "a new accrual fund needs at least one tier",
            ));
        }
        Ok(())
    }
}

/// A validated allocation.
#[derive(Clone, Debug)]
pub struct Allocation {
    pub budget_id: Uuid,
    pub partner_id: Uuid,
    /// What is added; an accrual fund may start empty.
    pub amount: Option<Money>,
    /// The rules, with defaults for what the request left unset.
    pub rules: FundRules,
    /// The request set some rule itself (so adding to an existing fund
    /// with other rules is refused rather than silently ignored).
    pub rules_given: bool,
    pub note: String,
}

impl Allocation {
    pub fn parse(req: &AllocateFundsRequest) -> Result<Allocation, ApiError> {
        let mut errs = FieldErrors::new();
        let budget_id = errs.check("budget_id", validate::uuid(&req.budget_id));
        let partner_id = errs.check("partner_id", validate::uuid(&req.partner_id));
        let kind = errs.check("kind", FundKind::from_proto(req.kind));
        let amount = errs
            .check("amount", optional_positive_money(req.amount.as_ref()))
            .flatten();
        let note = errs.check("note", AllocationNote::check(&req.note));
        errs.check(
            "reimbursement_rate_bps",
            ReimbursementRateBps::check(req.reimbursement_rate_bps),
        );
        errs.check(
            "accrual_grace_days",
            AccrualGraceDays::check(req.accrual_grace_days),
        );
        let tiers = match kind {
            // Empty when adding to an existing accrual fund; a new one
            // needs tiers (`FundRules::ensure_complete`).
            Some(FundKind::Accrual) if req.accrual_tiers.is_empty() => {
                Some(AccrualTiers::default())
            }
            Some(FundKind::Accrual) => {
                errs.check("accrual_tiers", AccrualTiers::parse(&req.accrual_tiers))
            }
            Some(FundKind::Discretionary) => {
                if !req.accrual_tiers.is_empty() {
                    errs.add("accrual_tiers", "only an accrual fund has accrual tiers");
                }
                if req.accrual_grace_days != 0 {
                    errs.add(
                        "accrual_grace_days",
                        "only an accrual fund has a grace period",
                    );
                }
                // Absent, or all zero (what an unset proto message reads as).
                if matches!(optional_positive_money(req.amount.as_ref()), Ok(None)) {
                    errs.add(
                        "amount",
                        "a discretionary allocation needs a positive amount",
                    );
                }
                Some(AccrualTiers::default())
            }
            None => None,
        };
        let (budget_id, partner_id, kind, note, accrual_tiers) =
            errs.finish_with(|| Some((budget_id?, partner_id?, kind?, note?, tiers?)))?;
        Ok(Allocation {
            budget_id,
            partner_id,
            amount,
            rules: FundRules {
                kind,
                reimbursement_rate_bps: match req.reimbursement_rate_bps {
                    0 => DEFAULT_REIMBURSEMENT_RATE_BPS,
                    r => r,
                },
                accrual_tiers,
                accrual_grace_days: req.accrual_grace_days,
            },
            rules_given: req.reimbursement_rate_bps != 0
                || !req.accrual_tiers.is_empty()
                || req.accrual_grace_days != 0,
            note,
        })
    }
}

/// When an accrual fund's unspent balance expires: the end of the period's
/// last day plus the grace days.
pub fn accrual_expiry(ends_on: NaiveDate, grace_days: i32) -> DateTime<Utc> {
    (ends_on + Duration::days(1 + i64::from(grace_days)))
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}
