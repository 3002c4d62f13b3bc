use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use prm_proto::commissions as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::dto::*;
use crate::extract::{JsonBody, OptionalJsonBody, PathId, QueryParams};
use crate::forward::{Call, Reply, created, ok, one};
use crate::problem::Problem;

/// Pay a program's approved balances in one currency (finance staff). Each
/// partner at or above the program's minimum with a payout profile and a
/// tax form on record is paid its whole balance; the others are listed in
/// `excluded` with the reason. 409 `NOTHING_TO_PAY` when no one can be paid.
#[utoipa::path(post, path = "/v1/payouts", tag = "payouts", security(("api_key" = ["payouts.write"])),
    request_body = NewPayout,
    responses((status = 201, description = "Created", body = PayoutBatch)))]
pub async fn create_payout(call: Call, JsonBody(body): JsonBody<NewPayout>) -> Reply<PayoutBatch> {
    let req = pb::CreatePayoutBatchRequest {
        program_id: body.program_id.into(),
        currency: body.currency.into(),
    };
    let r = call.send(req).await?;
    created(one(r.batch)?)
}

/// A payout batch, its items and who was left out (finance staff).
#[utoipa::path(get, path = "/v1/payouts/{id}", tag = "payouts", security(("api_key" = ["payouts.read"])),
    params(("id" = Uuid, Path, description = "Batch id")),
    responses((status = 200, description = "OK", body = PayoutBatch)))]
pub async fn get_payout(call: Call, PathId(id): PathId) -> Reply<PayoutBatch> {
    let req = pb::GetPayoutBatchRequest { batch_id: id };
    let r = call.send(req).await?;
    ok(one(r.batch)?)
}

/// The batch as a CSV file for the payment provider (finance staff):
/// `paypal` (PayPal Payouts Web, the PayPal items) or `wise` (a Wise batch
/// of saved recipients, the bank items). The README describes both.
#[utoipa::path(get, path = "/v1/payouts/{id}/export", tag = "payouts", security(("api_key" = ["payouts.read"])),
    params(("id" = Uuid, Path, description = "Batch id"), ExportQuery),
    responses((status = 200, description = "The file", content_type = "text/csv", body = String)))]
pub async fn export_payout(
    call: Call,
    PathId(id): PathId,
    QueryParams(q): QueryParams<ExportQuery>,
) -> Result<Response, Problem> {
    let req = pb::ExportPayoutBatchRequest {
        batch_id: id,
        format: q.format.to_proto(),
    };
    let r = call.send(req).await?;
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", r.filename))
        .map_err(|_| Problem::internal())?;
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        r.csv,
    )
        .into_response())
}

/// Cancel a batch before it reaches the provider: its money returns to
/// the balances.
#[utoipa::path(post, path = "/v1/payouts/{id}/cancel", tag = "payouts", security(("api_key" = ["payouts.write"])),
    params(("id" = Uuid, Path, description = "Batch id")),
    responses((status = 200, description = "Cancelled", body = PayoutBatch)))]
pub async fn cancel_payout(call: Call, PathId(id): PathId) -> Reply<PayoutBatch> {
    let req = pb::CancelPayoutBatchRequest { batch_id: id };
    let r = call.send(req).await?;
    ok(one(r.batch)?)
}

/// The batch was handed to the provider.
#[utoipa::path(post, path = "/v1/payouts/{id}/mark-processing", tag = "payouts", security(("api_key" = ["payouts.write"])),
    params(("id" = Uuid, Path, description = "Batch id")),
    responses((status = 200, description = "Processing", body = PayoutBatch)))]
pub async fn mark_processing(call: Call, PathId(id): PathId) -> Reply<PayoutBatch> {
    let req = pb::MarkPayoutBatchProcessingRequest { batch_id: id };
    let r = call.send(req).await?;
    ok(one(r.batch)?)
}

/// The provider paid the batch.
#[utoipa::path(post, path = "/v1/payouts/{id}/mark-paid", tag = "payouts", security(("api_key" = ["payouts.write"])),
    params(("id" = Uuid, Path, description = "Batch id")),
    request_body(content = Option<PaidBody>),
    responses((status = 200, description = "Paid", body = PayoutBatch)))]
pub async fn mark_paid(
    call: Call,
    PathId(id): PathId,
    OptionalJsonBody(body): OptionalJsonBody<PaidBody>,
) -> Reply<PayoutBatch> {
    let req = pb::MarkPayoutBatchPaidRequest {
        batch_id: id,
        provider_reference: body.provider_reference.unwrap_or_default().into(),
    };
    let r = call.send(req).await?;
    ok(one(r.batch)?)
}

/// The provider refused the batch: its money returns to the balances.
#[utoipa::path(post, path = "/v1/payouts/{id}/mark-failed", tag = "payouts", security(("api_key" = ["payouts.write"])),
    params(("id" = Uuid, Path, description = "Batch id")),
    request_body = FailedBody,
    responses((status = 200, description = "Failed", body = PayoutBatch)))]
pub async fn mark_failed(
    call: Call,
    PathId(id): PathId,
    JsonBody(body): JsonBody<FailedBody>,
) -> Reply<PayoutBatch> {
    let req = pb::MarkPayoutBatchFailedRequest {
        batch_id: id,
        reason: body.reason.into(),
    };
    let r = call.send(req).await?;
    ok(one(r.batch)?)
}

/// A partner's payout profile (the partner, or staff).
#[utoipa::path(get, path = "/v1/partners/{id}/payout-profile", tag = "payouts", security(("api_key" = ["payout_profiles.read"])),
    params(("id" = Uuid, Path, description = "Partner id")),
    responses((status = 200, description = "OK", body = PayoutProfile)))]
pub async fn get_profile(call: Call, PathId(id): PathId) -> Reply<PayoutProfile> {
    let req = pb::GetPayoutProfileRequest { partner_id: id };
    let r = call.send(req).await?;
    ok(one(r.profile)?)
}

/// Set how a partner is paid (the partner, or finance staff). The tax form
/// is recorded by finance staff once it is received.
#[utoipa::path(put, path = "/v1/partners/{id}/payout-profile", tag = "payouts", security(("api_key" = ["payout_profiles.write"])),
    params(("id" = Uuid, Path, description = "Partner id")),
    request_body = NewPayoutProfile,
    responses((status = 200, description = "Saved", body = PayoutProfile)))]
pub async fn put_profile(
    call: Call,
    PathId(id): PathId,
    JsonBody(body): JsonBody<NewPayoutProfile>,
) -> Reply<PayoutProfile> {
    let req = pb::PutPayoutProfileRequest {
        partner_id: id,
        method: body.method.to_proto(),
        paypal_email: body.paypal_email.unwrap_or_default().into(),
        bank_reference: body.bank_reference.unwrap_or_default().into(),
        stripe_account_id: body.stripe_account_id.unwrap_or_default().into(),
        payee_name: body.payee_name.into(),
        tax_form: body.tax_form.map_or(0, TaxForm::to_proto),
        tax_form_received_on: body.tax_form_received_on.unwrap_or_default().into(),
    };
    let r = call.send(req).await?;
    ok(one(r.profile)?)
}

// ------------------------------------------------------------ JSON shapes

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPayout {
    pub program_id: Id,
    pub currency: CurrencyCode,
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    #[param(inline)]
    pub format: ExportFormat,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaidBody {
    /// The provider's batch id, for reconciliation.
    pub provider_reference: Option<ProviderReference>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FailedBody {
    pub reason: FailureReason,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PayoutItem {
    pub partner_id: String,
    pub amount: Option<Money>,
    pub method: Option<PayoutMethod>,
    /// The email, bank reference or Stripe account at batch time.
    pub destination: String,
    pub payee_name: String,
    /// Unique in the batch (PayPal's Customer ID, Wise's reference).
    pub reference: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PayoutExclusion {
    pub partner_id: String,
    pub available: Option<Money>,
    /// BELOW_MINIMUM, NO_PAYOUT_PROFILE or NO_TAX_FORM.
    pub reason: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PayoutBatch {
    pub id: String,
    pub program_id: String,
    pub status: Option<PayoutBatchStatus>,
    pub total: Option<Money>,
    pub min_payout_minor: i64,
    pub items: Vec<PayoutItem>,
    pub excluded: Vec<PayoutExclusion>,
    pub provider_reference: String,
    pub failure_reason: String,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<&pb::PayoutBatch> for PayoutBatch {
    fn from(b: &pb::PayoutBatch) -> Self {
        Self {
            id: b.batch_id.clone(),
            program_id: b.program_id.clone(),
            status: PayoutBatchStatus::from_proto(b.status).ok(),
            total: Money::from_proto(&b.total),
            min_payout_minor: b.min_payout_minor,
            items: b
                .items
                .iter()
                .map(|i| PayoutItem {
                    partner_id: i.partner_id.clone(),
                    amount: Money::from_proto(&i.amount),
                    method: PayoutMethod::from_proto(i.method).ok(),
                    destination: i.destination.clone(),
                    payee_name: i.payee_name.clone(),
                    reference: i.reference.clone(),
                })
                .collect(),
            excluded: b
                .excluded
                .iter()
                .map(|e| PayoutExclusion {
                    partner_id: e.partner_id.clone(),
                    available: Money::from_proto(&e.available),
                    reason: e.reason.clone(),
                })
                .collect(),
            provider_reference: b.provider_reference.clone(),
            failure_reason: b.failure_reason.clone(),
            created_at: time(&b.created_at),
            updated_at: time(&b.updated_at),
        }
    }
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPayoutProfile {
    pub method: PayoutMethod,
    /// Required for paypal.
    pub paypal_email: Option<EmailAddress>,
    /// Required for bank: the account saved at the provider (e.g. a Wise recipient
    /// id).
    pub bank_reference: Option<AccountReference>,
    /// Required for stripe_connect.
    pub stripe_account_id: Option<StripeAccountId>,
    pub payee_name: PayeeName,
    /// Finance staff only; given with `tax_form_received_on`.
    pub tax_form: Option<TaxForm>,
    /// Finance staff only: the day the form was received, not in the
    /// future; given with `tax_form`.
    pub tax_form_received_on: Option<CalendarDate>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PayoutProfile {
    pub partner_id: String,
    pub method: Option<PayoutMethod>,
    pub paypal_email: String,
    pub bank_reference: String,
    pub stripe_account_id: String,
    pub payee_name: String,
    pub tax_form: Option<TaxForm>,
    #[schema(format = Date)]
    pub tax_form_received_on: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<&pb::PayoutProfile> for PayoutProfile {
    fn from(p: &pb::PayoutProfile) -> Self {
        Self {
            partner_id: p.partner_id.clone(),
            method: PayoutMethod::from_proto(p.method).ok(),
            paypal_email: p.paypal_email.clone(),
            bank_reference: p.bank_reference.clone(),
            stripe_account_id: p.stripe_account_id.clone(),
            payee_name: p.payee_name.clone(),
            tax_form: TaxForm::from_proto(p.tax_form).ok(),
            tax_form_received_on: id(&p.tax_form_received_on),
            updated_at: time(&p.updated_at),
        }
    }
}
