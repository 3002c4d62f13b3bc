//! Server-to-server postbacks. Every postback gets an answer with a stable
//! code, and is logged with it, refused ones included. The transaction id
//! is the idempotency key: a new conversion is inserted only if its
//! program has no conversion with that id (a unique constraint, so
//! concurrent retries cannot both insert); anything after is a status
//! change of that conversion, or a duplicate that changes nothing.

use chrono::{DateTime, Utc};
use prm_proto::commissions::*;
use prm_proto::events as ev;
use prm_runtime::wire::timestamp;
use prm_runtime::{ApiError, CallContext, validate};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Commissions, ensure_gateway_call};
use crate::domain::attribution::{
    ClickFacts, RefusedChange, StatusChange, credited, hold_reason, status_change, window_start,
};
use crate::domain::partner::status_hold;
use crate::domain::plan::reversal_due;
use crate::domain::postback::{
    Answer, ConversionKind, ConversionStatus, Credentials, HoldReason, Postback,
};
use crate::domain::settings::AttributionModel;
use crate::operations;
use crate::store::{self, Attributed, ConversionRow, PostbackLogRow, SettingsRow};

/// How far in the future a conversion's time may be (clock skew).
const MAX_FUTURE_SKEW_SECS: i64 = 300;

/// The outcome of a postback, before it is logged.
struct Outcome {
    answer: Answer,
    reason: String,
    field: String,
    conversion: Option<ConversionRow>,
}

impl Outcome {
    fn of(answer: Answer, reason: impl Into<String>) -> Self {
        Outcome {
            answer,
            reason: reason.into(),
            field: String::new(),
            conversion: None,
        }
    }

    fn invalid(field: &str, message: impl Into<String>) -> Self {
        Outcome {
            field: field.to_owned(),
            ..Outcome::of(Answer::InvalidField, message)
        }
    }

    fn with(mut self, conversion: ConversionRow) -> Self {
        self.conversion = Some(conversion);
        self
    }

    fn refused(&self) -> bool {
        self.answer.http_status() >= 400
    }
}

/// The fields of a postback as received, without its credentials, for the
/// log.
fn fields_json(req: &RecordPostbackRequest) -> String {
    serde_json::json!({
        "click_id": req.click_id,
        "transaction_id": req.transaction_id,
        "kind": req.kind,
        "event_type": req.event_type,
        "amount": req.amount,
        "currency": req.currency,
        "status": req.status,
        "customer_id": req.customer_id,
        "customer_domain": req.customer_domain,
        "occurred_at": req.occurred_at,
        "authenticated_by": if !req.token.is_empty() { "token" } else if !req.signature.is_empty() { "signature" } else { "nothing" },
    })
    .to_string()
}

impl Commissions {
    pub(super) async fn record_postback(
        &self,
        ctx: CallContext,
        req: RecordPostbackRequest,
    ) -> Result<RecordPostbackResponse, ApiError> {
        ensure_gateway_call(&ctx)?;
        let now = self.clock.now();
        let program = validate::uuid(&req.program_id).ok();
        let mut tx = self.db.begin().await?;
        let outcome = match program {
            None => Outcome::invalid("program_id", "must be the program's id (a UUID)"),
            Some(program) => self.apply_postback(&mut tx, program, &req, now).await?,
        };
        if outcome.refused() {
            // Nothing of a refused postback is kept but its log line.
            tx.rollback().await?;
            tx = self.db.begin().await?;
        }
        let log = PostbackLogRow {
            id: Uuid::now_v7(),
            program_id: program,
            partner_id: outcome.conversion.as_ref().and_then(|c| c.partner_id),
            // As received (it may be what was wrong), less what text cannot hold.
            transaction_id: req
                .transaction_id
                .chars()
                .filter(|c| !c.is_control())
                .take(128)
                .collect(),
            answer: outcome.answer.code().to_owned(),
            http_status: i32::from(outcome.answer.http_status()),
            reason: outcome.reason.clone(),
            conversion_id: outcome.conversion.as_ref().map(|c| c.id),
            fields_json: fields_json(&req),
            received_at: now,
        };
        store::log_postback(&mut tx, &log).await?;
        tx.commit().await?;
        Ok(RecordPostbackResponse {
            answer: log.answer,
            http_status: log.http_status,
            reason: outcome.reason,
            message: String::new(),
            conversion_id: log.conversion_id.map(|c| c.to_string()).unwrap_or_default(),
            field: outcome.field,
            postback_id: log.id.to_string(),
        })
    }

    async fn apply_postback(
        &self,
        tx: &mut PgConnection,
        program: Uuid,
        req: &RecordPostbackRequest,
        now: DateTime<Utc>,
    ) -> Result<Outcome, ApiError> {
        let Some(settings) = store::settings(tx, program).await? else {
            return Ok(Outcome::of(
                Answer::BadSignature,
                "unknown program or no postback credentials",
            ));
        };
        let creds = Credentials {
            token_sha256: settings.postback_token_sha256.as_deref(),
            secret: settings.postback_secret.as_deref(),
        };
        if !creds.verify(&req.token, &req.signature, &req.signed_payload) {
            return Ok(Outcome::of(
                Answer::BadSignature,
                "the token or signature does not match the program's",
            ));
        }
        let pb = match Postback::parse(req) {
            Ok(pb) => pb,
            Err(bad) => {
                let message = bad
                    .iter()
                    .map(|b| format!("{}: {}", b.field, b.message))
                    .collect::<Vec<_>>()
                    .join("; ");
                return Ok(Outcome::invalid(bad[0].field, message));
            }
        };
        let occurred_at = pb.occurred_at.unwrap_or(now);
        if occurred_at > now + chrono::Duration::seconds(MAX_FUTURE_SKEW_SECS) {
            return Ok(Outcome::invalid("occurred_at", "must not be in the future"));
        }
        // A new conversion goes straight to its insert, which a known
        // transaction id turns into a status change (or a duplicate).
        if !pb.reports_new() {
            let Some(existing) =
                store::conversion_by_transaction_for_update(tx, program, &pb.transaction_id)
                    .await?
            else {
                return Ok(Outcome::of(
                    Answer::UnknownTransaction,
                    format!(
                        "no conversion has transaction id {}: report it before changing its status",
                        pb.transaction_id
                    ),
                ));
            };
            return self.change_status(tx, existing, &pb, now).await;
        }
        self.new_conversion(tx, program, &settings, &pb, occurred_at, now)
            .await
    }

    /// Attributes a new conversion, holds it or earns its commission.
    async fn new_conversion(
        &self,
        tx: &mut PgConnection,
        program: Uuid,
        settings: &SettingsRow,
        pb: &Postback,
        occurred_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Outcome, ApiError> {
        let th = settings.thresholds();
        let mut hold = None;
        let mut click: Option<ClickFacts> = None;
        let mut recurring_from = None;
        let mut partner_id = None;
        match pb.click_id {
            Some(id) => {
                let latest = th.attribution_model == AttributionModel::LastClick;
                let candidates = store::click_and_rival(
                    tx,
                    id,
                    window_start(&th, occurred_at),
                    occurred_at,
                    latest,
                )
                .await?;
                match candidates.first() {
                    Some(c) if c.program_id == program => {
                        let facts: Vec<ClickFacts> =
                            candidates.iter().map(|c| c.facts(0)).collect();
                        let chosen = credited(th.attribution_model, &facts)
                            .and_then(|f| candidates.iter().find(|c| c.click_id == f.click_id))
                            .unwrap_or(c);
                        let flood = store::source_clicks_in_hour(
                            tx,
                            chosen,
                            i64::from(th.max_clicks_per_source_hour) + 1,
                        )
                        .await?;
                        partner_id = Some(chosen.partner_id);
                        click = Some(chosen.facts(flood));
                    }
                    _ => hold = Some(HoldReason::UnknownClick),
                }
            }
            None => match &pb.customer_id {
                Some(customer) => match store::customer(tx, program, customer).await? {
                    Some(known) => {
                        partner_id = Some(known.partner_id);
                        recurring_from = Some(known.first_sale_at);
                    }
                    None => hold = Some(HoldReason::NoClick),
                },
                None => hold = Some(HoldReason::NoClick),
            },
        }
        let partner = match partner_id {
            Some(p) => store::partner(tx, p).await?,
            None => None,
        };
        // The partner's status comes first: a suspended partner's
        // conversion waits for staff, a terminated partner's is rejected,
        // whatever else could be said of it.
        if let Some(p) = &partner
            && let Some(status_hold) = status_hold(p.status)
        {
            hold = Some(status_hold);
        }
        if hold.is_none()
            && let (Some(c), Some(p)) = (&click, &partner)
        {
            hold = hold_reason(
                &th,
                c,
                occurred_at,
                &p.domain,
                pb.customer_domain.as_deref(),
            );
        }
        let plan = match (&partner, hold) {
            (Some(p), None) => store::plan_in_force(tx, program, p.tier_id, occurred_at).await?,
            _ => None,
        };
        if hold.is_none() {
            match &plan {
                None => hold = Some(HoldReason::NoPlan),
                Some(plan) => {
                    if let Some(first) = recurring_from
                        && !plan.rules().recurs_at(first, occurred_at)
                    {
                        hold = Some(HoldReason::RecurrenceEnded);
                    }
                }
            }
        }
        let attributed = Attributed {
            partner_id,
            link_id: click.as_ref().map(|c| c.link_id),
            click_id: click.as_ref().map(|c| c.click_id).or(pb
                .click_id
                .filter(|_| hold != Some(HoldReason::UnknownClick))),
            hold,
        };
        let Some(row) =
            store::insert_conversion(tx, program, pb, &attributed, occurred_at, now).await?
        else {
            // The transaction is known (reported earlier, or by a concurrent
            // postback that won the insert).
            let existing =
                store::conversion_by_transaction_for_update(tx, program, &pb.transaction_id)
                    .await?
                    .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("conversion vanished")))?;
            return self.change_status(tx, existing, pb, now).await;
        };
        let event = ev::ConversionRecorded {
            conversion_id: row.id.to_string(),
            program_id: program.to_string(),
            partner_id: prm_runtime::wire::opt_id(row.partner_id),
            link_id: prm_runtime::wire::opt_id(row.link_id),
            click_id: prm_runtime::wire::opt_id(row.click_id),
            transaction_id: row.transaction_id.clone(),
            kind: row.kind.as_str().to_owned(),
            event_type: row.event_type.clone(),
            amount: row.amount().map(|m| m.to_proto()),
            customer_id: row.customer_id.clone().unwrap_or_default(),
            customer_domain: row.customer_domain.clone().unwrap_or_default(),
            hold_reason: hold.map(|h| h.as_str().to_owned()).unwrap_or_default(),
            occurred_at: Some(timestamp(occurred_at)),
        };
        if let Some(reason) = hold {
            let verb = match row.status {
                ConversionStatus::Rejected => "conversion.rejected",
                _ => "conversion.held",
            };
            self.outbox.stage_for(tx, verb, &row, &event).await?;
            return Ok(Outcome::of(Answer::held(reason), reason.as_str()).with(row));
        }
        self.outbox
            .stage_for(tx, "conversion.recorded", &row, &event)
            .await?;
        let (Some(partner), Some(plan)) = (partner, plan) else {
            return Err(ApiError::Internal(anyhow::anyhow!(
                "attributed without partner or plan"
            )));
        };
        let reason =
            operations::credit_conversion(tx, &self.outbox, &row, &partner, &plan, now).await?;
        Ok(Outcome::of(Answer::Accepted, reason).with(row))
    }

    /// A postback for a known transaction: a status change, or a duplicate.
    async fn change_status(
        &self,
        tx: &mut PgConnection,
        row: ConversionRow,
        pb: &Postback,
        now: DateTime<Utc>,
    ) -> Result<Outcome, ApiError> {
        if let (Some(cur), Some(given)) = (&row.currency, &pb.currency)
            && pb.status == ConversionStatus::Refunded
            && cur != given
        {
            return Ok(Outcome::invalid(
                "currency",
                format!("the sale was in {cur}, the refund says {given}"),
            ));
        }
        let sale_amount = match row.kind {
            ConversionKind::Sale => row.amount_minor,
            ConversionKind::Lead => None,
        };
        let change = match status_change(
            row.status,
            sale_amount,
            row.refunded_minor,
            pb.status,
            pb.amount_minor,
        ) {
            Ok(c) => c,
            Err(RefusedChange::Field(field, message)) => {
                return Ok(Outcome::invalid(field, message).with(row));
            }
            Err(RefusedChange::Illegal(message)) => {
                return Ok(Outcome::of(Answer::InvalidStatusChange, message).with(row));
            }
        };
        let StatusChange::To {
            status,
            refunded_total,
        } = change
        else {
            return Ok(Outcome::of(
                Answer::Duplicate,
                format!(
                    "transaction {} is already {}",
                    row.transaction_id, row.status
                ),
            )
            .with(row));
        };
        let row = store::save_conversion_status(tx, row.id, status, refunded_total, now).await?;
        if let Some(commission) = store::commission_of_conversion_for_update(tx, row.id).await? {
            let due = match status {
                ConversionStatus::Rejected | ConversionStatus::Chargeback => {
                    Some(commission.amount_minor)
                }
                ConversionStatus::Refunded => Some(reversal_due(
                    commission.amount_minor,
                    sale_amount.unwrap_or(0),
                    refunded_total,
                )),
                _ => None,
            };
            if let Some(due) = due {
                let reason = match status {
                    ConversionStatus::Refunded => format!(
                        "refund: {refunded_total} of {} refunded",
                        sale_amount.unwrap_or(0)
                    ),
                    s => s.as_str().to_owned(),
                };
                operations::reverse_to(tx, &self.outbox, commission, due, &reason, now).await?;
            }
        }
        self.outbox
            .stage_for(
                tx,
                "conversion.status_changed",
                &row,
                &ev::ConversionStatusChanged {
                    conversion_id: row.id.to_string(),
                    partner_id: prm_runtime::wire::opt_id(row.partner_id),
                    transaction_id: row.transaction_id.clone(),
                    status: row.status.as_str().to_owned(),
                    refunded_minor: row.refunded_minor,
                    changed_at: Some(timestamp(now)),
                },
            )
            .await?;
        let reason = format!("now {}", row.status);
        Ok(Outcome::of(Answer::StatusUpdated, reason).with(row))
    }
}
