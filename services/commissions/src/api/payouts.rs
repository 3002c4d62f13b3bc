//! Payout profiles (a partner's own, or finance staff's) and payout
//! batches (finance staff).

use prm_proto::commissions::*;
use prm_proto::events as ev;
use prm_runtime::fields::{FailureReason, ProviderReference};
use prm_runtime::wire::timestamp;
use prm_runtime::{
    ApiError, CallContext, FieldErrors, Idempotency, Money, Principal, begin_or_replay, validate,
};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Commissions, convert};
use crate::domain::access::PAYOUTS;
use crate::domain::ledger::EntryKind;
use crate::domain::payout::PayoutBatchStatusRules;
use crate::domain::payout::{
    ExportItem, NewProfile, PayoutBatchStatus, PayoutMethod, eligibility, paypal_csv, wise_csv,
};
use crate::store::{self, BatchRow, ExclusionRow, ItemRow, NewEntry};

/// The partner a profile call is about: a partner's own, or the one staff
/// name.
fn profile_partner(principal: &Principal, requested: &str) -> Result<Uuid, ApiError> {
    let requested =
        validate::optional_uuid(requested).map_err(|e| ApiError::invalid("partner_id", e))?;
    match (principal.partner_id, requested) {
        (Some(own), None) => Ok(own),
        (_, Some(p)) => {
            principal.ensure_partner_access(p, "partner")?;
            Ok(p)
        }
        (None, None) => Err(ApiError::invalid("partner_id", "is required for staff")),
    }
}

fn batch_id(value: &str) -> Result<Uuid, ApiError> {
    validate::uuid(value).map_err(|e| ApiError::invalid("batch_id", e))
}

impl Commissions {
    pub(super) async fn put_payout_profile(
        &self,
        ctx: CallContext,
        req: PutPayoutProfileRequest,
    ) -> Result<PutPayoutProfileResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let partner = profile_partner(&principal, &req.partner_id)?;
        let mut errs = FieldErrors::new();
        let profile = NewProfile::parse(&req, &mut errs);
        let profile = errs.finish_with(|| profile)?;
        if principal.partner_id.is_none() {
            principal.require_any_role(PAYOUTS)?;
        } else if profile.tax_form.is_some() {
            return Err(ApiError::permission_denied(
                "TAX_FORM_RECORDED_BY_FINANCE",
                "tax_form is recorded by finance staff once the form is received",
            ));
        }
        let idem = Idempotency::new(&ctx, "PutPayoutProfile", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        store::partner(&mut tx, partner)
            .await?
            .ok_or(ApiError::not_found("partner"))?;
        let row = store::put_profile(&mut tx, partner, &profile, self.clock.now()).await?;
        let resp = PutPayoutProfileResponse {
            profile: Some(convert::profile(&row)),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn get_payout_profile(
        &self,
        ctx: CallContext,
        req: GetPayoutProfileRequest,
    ) -> Result<GetPayoutProfileResponse, ApiError> {
        let principal = ctx.principal()?;
        let partner = profile_partner(principal, &req.partner_id)?;
        let mut conn = self.db.acquire().await?;
        let row = store::profile(&mut conn, partner)
            .await?
            .ok_or(ApiError::not_found("payout profile"))?;
        Ok(GetPayoutProfileResponse {
            profile: Some(convert::profile(&row)),
        })
    }

    async fn batch_message(
        &self,
        conn: &mut PgConnection,
        row: &BatchRow,
    ) -> Result<PayoutBatch, ApiError> {
        let items = store::batch_items(conn, row.id).await?;
        let excluded = store::batch_exclusions(conn, row.id).await?;
        Ok(convert::batch(row, &items, &excluded))
    }

    pub(super) async fn create_payout_batch(
        &self,
        ctx: CallContext,
        req: CreatePayoutBatchRequest,
    ) -> Result<CreatePayoutBatchResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let mut errs = FieldErrors::new();
        let program = errs.check("program_id", validate::uuid(&req.program_id));
        let currency = errs.check("currency", validate::currency(&req.currency));
        let (program, currency) = errs.finish_with(|| Some((program?, currency?)))?;
        principal.require_any_role(PAYOUTS)?;
        let idem = Idempotency::new(&ctx, "CreatePayoutBatch", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let settings = store::settings(&mut tx, program)
            .await?
            .ok_or(ApiError::not_found("program"))?;
        let minimum = settings.min_payout_minor;
        let payable = store::payable_partners_locked(&mut tx, program, &currency).await?;
        let id = Uuid::now_v7();
        let mut items = Vec::new();
        let mut excluded = Vec::new();
        for p in payable {
            let profile = p.has_profile.then_some(p.has_tax_form);
            match eligibility(p.available_minor, minimum, profile) {
                Ok(()) => items.push(ItemRow {
                    batch_id: id,
                    partner_id: p.partner_id,
                    position: items.len() as i32 + 1,
                    amount_minor: p.available_minor,
                    method: p.method.unwrap_or(PayoutMethod::Paypal),
                    destination: p.destination.unwrap_or_default(),
                    payee_name: p.payee_name.unwrap_or_default(),
                }),
                Err(why) => excluded.push(ExclusionRow {
                    batch_id: id,
                    partner_id: p.partner_id,
                    available_minor: p.available_minor,
                    reason: why.as_str().to_owned(),
                }),
            }
        }
        if items.is_empty() {
            let why = if excluded.is_empty() {
                format!("no partner of the program has an approved balance in {currency}")
            } else {
                format!(
                    "none of the {} partners with an approved balance in {currency} has the minimum ({minimum}), a payout profile and a tax form",
                    excluded.len()
                )
            };
            return Err(ApiError::precondition(
                "NOTHING_TO_PAY",
                format!("program/{program}"),
                why,
            ));
        }
        let total: i64 = items.iter().map(|i| i.amount_minor).sum();
        let now = self.clock.now();
        let row = store::insert_batch(
            &mut tx,
            id,
            program,
            &currency,
            total,
            minimum,
            principal.user_id,
            now,
        )
        .await?;
        store::insert_items(&mut tx, &items).await?;
        store::insert_exclusions(&mut tx, &excluded).await?;
        for item in &items {
            store::append_entry(
                &mut tx,
                &NewEntry {
                    partner_id: item.partner_id,
                    currency: &currency,
                    kind: EntryKind::PaidOut,
                    amount_minor: item.amount_minor,
                    after_approval: true,
                    commission_id: None,
                    payout_id: Some(id),
                    note: "payout batch",
                },
                now,
            )
            .await?;
        }
        self.outbox
            .stage_for(
                &mut tx,
                "payout.created",
                &row,
                &ev::PayoutBatchCreated {
                    batch_id: id.to_string(),
                    program_id: program.to_string(),
                    total: Some(Money::new(total, currency.clone()).to_proto()),
                    items: items.len() as i32,
                    excluded: excluded.len() as i32,
                    created_at: Some(timestamp(now)),
                },
            )
            .await?;
        let resp = CreatePayoutBatchResponse {
            batch: Some(convert::batch(&row, &items, &excluded)),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn get_payout_batch(
        &self,
        ctx: CallContext,
        req: GetPayoutBatchRequest,
    ) -> Result<GetPayoutBatchResponse, ApiError> {
        let principal = ctx.principal()?;
        let id = batch_id(&req.batch_id)?;
        principal.require_any_role(PAYOUTS)?;
        let mut conn = self.db.acquire().await?;
        let row = store::batch(&mut conn, id, false)
            .await?
            .ok_or(ApiError::not_found("payout batch"))?;
        Ok(GetPayoutBatchResponse {
            batch: Some(self.batch_message(&mut conn, &row).await?),
        })
    }

    /// One batch transition (one place for all four): checks, locks, moves,
    /// returns the money of a failed or cancelled batch, announces it.
    async fn settle(
        &self,
        ctx: &CallContext,
        operation: &'static str,
        req: &impl prost::Message,
        id: &str,
        to: fn(PayoutBatchStatus) -> Result<PayoutBatchStatus, prm_runtime::IllegalTransition>,
        note: (String, String),
    ) -> Result<PayoutBatch, ApiError> {
        let principal = ctx.principal()?.clone();
        let id = batch_id(id)?;
        principal.require_any_role(PAYOUTS)?;
        let idem = Idempotency::new(ctx, operation, req);
        let mut tx = begin_or_replay!(self.db, idem);
        let mut row = store::batch(&mut tx, id, true)
            .await?
            .ok_or(ApiError::not_found("payout batch"))?;
        row.status = to(row.status).map_err(|e| e.about(format!("payout/{id}")))?;
        let (provider_reference, failure_reason) = note;
        if !provider_reference.is_empty() {
            row.provider_reference = provider_reference;
        }
        if !failure_reason.is_empty() {
            row.failure_reason = failure_reason;
        }
        let now = self.clock.now();
        let row = store::save_batch(&mut tx, &row, now).await?;
        let items = store::batch_items(&mut tx, id).await?;
        let total = Money::new(row.total_minor, row.currency.clone());
        match row.status {
            PayoutBatchStatus::Failed | PayoutBatchStatus::Cancelled => {
                for item in &items {
                    store::append_entry(
                        &mut tx,
                        &NewEntry {
                            partner_id: item.partner_id,
                            currency: &row.currency,
                            kind: EntryKind::PayoutReturned,
                            amount_minor: item.amount_minor,
                            after_approval: true,
                            commission_id: None,
                            payout_id: Some(id),
                            note: row.status.as_str(),
                        },
                        now,
                    )
                    .await?;
                }
            }
            PayoutBatchStatus::Paid => {
                for item in &items {
                    self.outbox
                        .stage(
                            &mut tx,
                            prm_runtime::EventMeta {
                                entity_verb: "payout.partner_paid",
                                partner_id: Some(item.partner_id),
                                aggregate_type: "payout_batch",
                                aggregate_id: id,
                                aggregate_version: row.version,
                            },
                            &ev::PartnerPaidOut {
                                batch_id: id.to_string(),
                                partner_id: item.partner_id.to_string(),
                                amount: Some(
                                    Money::new(item.amount_minor, row.currency.clone()).to_proto(),
                                ),
                                paid_at: Some(timestamp(now)),
                            },
                        )
                        .await?;
                }
            }
            _ => {}
        }
        let verb = match row.status {
            PayoutBatchStatus::Paid => Some("payout.paid"),
            PayoutBatchStatus::Failed => Some("payout.failed"),
            PayoutBatchStatus::Cancelled => Some("payout.cancelled"),
            _ => None,
        };
        if let Some(verb) = verb {
            self.outbox
                .stage_for(
                    &mut tx,
                    verb,
                    &row,
                    &ev::PayoutBatchClosed {
                        batch_id: id.to_string(),
                        status: row.status.as_str().to_owned(),
                        total: Some(total.to_proto()),
                        reason: row.failure_reason.clone(),
                        closed_at: Some(timestamp(now)),
                    },
                )
                .await?;
        }
        let excluded = store::batch_exclusions(&mut tx, id).await?;
        let batch = convert::batch(&row, &items, &excluded);
        idem.commit(tx, &batch).await?;
        Ok(batch)
    }

    pub(super) async fn mark_payout_batch_processing(
        &self,
        ctx: CallContext,
        req: MarkPayoutBatchProcessingRequest,
    ) -> Result<MarkPayoutBatchProcessingResponse, ApiError> {
        let batch = self
            .settle(
                &ctx,
                "MarkPayoutBatchProcessing",
                &req,
                &req.batch_id,
                PayoutBatchStatus::process,
                Default::default(),
            )
            .await?;
        Ok(MarkPayoutBatchProcessingResponse { batch: Some(batch) })
    }

    pub(super) async fn mark_payout_batch_paid(
        &self,
        ctx: CallContext,
        req: MarkPayoutBatchPaidRequest,
    ) -> Result<MarkPayoutBatchPaidResponse, ApiError> {
        let reference = ProviderReference::check(&req.provider_reference)
            .map_err(|e| ApiError::invalid("provider_reference", e))?;
        let batch = self
            .settle(
                &ctx,
                "MarkPayoutBatchPaid",
                &req,
                &req.batch_id,
                PayoutBatchStatus::pay,
                (reference, String::new()),
            )
            .await?;
        Ok(MarkPayoutBatchPaidResponse { batch: Some(batch) })
    }

    pub(super) async fn mark_payout_batch_failed(
        &self,
        ctx: CallContext,
        req: MarkPayoutBatchFailedRequest,
    ) -> Result<MarkPayoutBatchFailedResponse, ApiError> {
        let reason =
            FailureReason::check(&req.reason).map_err(|e| ApiError::invalid("reason", e))?;
        let batch = self
            .settle(
                &ctx,
                "MarkPayoutBatchFailed",
                &req,
                &req.batch_id,
                PayoutBatchStatus::fail,
                (String::new(), reason),
            )
            .await?;
        Ok(MarkPayoutBatchFailedResponse { batch: Some(batch) })
    }

    pub(super) async fn cancel_payout_batch(
        &self,
        ctx: CallContext,
        req: CancelPayoutBatchRequest,
    ) -> Result<CancelPayoutBatchResponse, ApiError> {
        let batch = self
            .settle(
                &ctx,
                "CancelPayoutBatch",
                &req,
                &req.batch_id,
                PayoutBatchStatus::cancel,
                Default::default(),
            )
            .await?;
        Ok(CancelPayoutBatchResponse { batch: Some(batch) })
    }

    pub(super) async fn export_payout_batch(
        &self,
        ctx: CallContext,
        req: ExportPayoutBatchRequest,
    ) -> Result<ExportPayoutBatchResponse, ApiError> {
        let principal = ctx.principal()?;
        let mut errs = FieldErrors::new();
        let id = errs.check("batch_id", validate::uuid(&req.batch_id));
        let format = errs.check(
            "format",
            ExportFormat::try_from(req.format)
                .ok()
                .filter(|f| *f != ExportFormat::Unspecified)
                .ok_or_else(|| "must be paypal or wise".to_owned()),
        );
        let (id, format) = errs.finish_with(|| Some((id?, format?)))?;
        principal.require_any_role(PAYOUTS)?;
        let mut conn = self.db.acquire().await?;
        let row = store::batch(&mut conn, id, false)
            .await?
            .ok_or(ApiError::not_found("payout batch"))?;
        let items = store::batch_items(&mut conn, id).await?;
        let method = match format {
            ExportFormat::Wise => PayoutMethod::Bank,
            _ => PayoutMethod::Paypal,
        };
        let references: Vec<String> = items.iter().map(ItemRow::reference).collect();
        let lines: Vec<ExportItem<'_>> = items
            .iter()
            .zip(&references)
            .filter(|(i, _)| i.method == method)
            .map(|(i, r)| ExportItem {
                destination: &i.destination,
                payee_name: &i.payee_name,
                amount_minor: i.amount_minor,
                currency: &row.currency,
                reference: r,
            })
            .collect();
        let (csv, name) = match format {
            ExportFormat::Wise => (wise_csv(&lines), "wise"),
            _ => (paypal_csv(&lines, "Partner commissions"), "paypal"),
        };
        Ok(ExportPayoutBatchResponse {
            filename: format!("payout-{id}-{name}.csv"),
            items_not_exported: (items.len() - lines.len()) as i32,
            csv,
        })
    }
}
