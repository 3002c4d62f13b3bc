//! Payout profiles and batches: who is paid and who is left out with why,
//! the provider files, the batch's states, money returned by a failed or
//! cancelled batch, and a refund after payout carried into the next one.

use prm_proto::commissions::*;
use prm_runtime::Role;
use prm_runtime::testing::grpc::{as_of, assert_code, reason};
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

/// A program whose commissions are payable at once (no hold), minimum
/// payout 5,000.
fn no_hold(program: Uuid) -> CreatePlanRequest {
    CreatePlanRequest {
        hold_days: Some(0),
        ..revshare_plan(program)
    }
}

fn paypal(email: &str) -> PutPayoutProfileRequest {
    PutPayoutProfileRequest {
        method: PayoutMethod::Paypal as i32,
        paypal_email: email.into(),
        payee_name: "Acme Referrals GmbH".into(),
        ..Default::default()
    }
}

impl TestCommissions {
    async fn earn(&self, program: Uuid, link: &Link, txn: &str, sale_minor: i64) {
        let click = self
            .click_at(link, ago(600), &format!("10.7.{}", txn.len()))
            .await;
        let r = self.postback(sale(program, &click, txn, sale_minor)).await;
        assert_eq!(r.answer, "ACCEPTED", "{r:?}");
    }

    async fn batch(&self, program: Uuid) -> Result<PayoutBatch, tonic::Status> {
        self.client()
            .create_payout_batch(as_of(
                CreatePayoutBatchRequest {
                    program_id: program.to_string(),
                    currency: "USD".into(),
                },
                &staff(Role::Finance),
            ))
            .await
            .map(|r| r.into_inner().batch.expect("batch"))
    }

    async fn available(&self, p: &prm_runtime::Principal) -> i64 {
        self.ledger(p)
            .await
            .balances
            .first()
            .map_or(0, |b| b.available_minor)
    }

    async fn record_tax_form(&self, p: &prm_runtime::Principal, email: &str) {
        self.client()
            .put_payout_profile(as_of(
                PutPayoutProfileRequest {
                    partner_id: pid(p).to_string(),
                    tax_form: TaxForm::W9 as i32,
                    tax_form_received_on: "2026-11-02".into(),
                    ..paypal(email)
                },
                &staff(Role::Finance),
            ))
            .await
            .expect("tax form");
    }
}

#[tokio::test]
async fn a_batch_pays_who_it_may_and_says_why_not_the_others() {
    let t = commissions().await;
    let program = t.program_with(no_hold).await;
    let [paid, no_profile, no_tax, small] = [partner(), partner(), partner(), partner()];
    for p in [&paid, &no_profile, &no_tax, &small] {
        t.join(p, program, "partner.example").await;
    }
    for (p, amount) in [
        (&paid, 100_000),
        (&no_profile, 100_000),
        (&no_tax, 100_000),
        (&small, 10_000),
    ] {
        let link = t.link(p).await;
        t.earn(program, &link, &format!("T-{}", pid(p)), amount)
            .await;
    }
    // A partner sets how it is paid; it may not record its own tax form.
    let s = assert_code(
        t.client()
            .put_payout_profile(as_of(
                PutPayoutProfileRequest {
                    tax_form: TaxForm::W9 as i32,
                    tax_form_received_on: "2026-11-02".into(),
                    ..paypal("pay@paid.example")
                },
                &paid,
            ))
            .await,
        Code::PermissionDenied,
    );
    assert_eq!(reason(&s), "TAX_FORM_RECORDED_BY_FINANCE");
    t.client()
        .put_payout_profile(as_of(paypal("pay@notax.example"), &no_tax))
        .await
        .expect("profile");
    t.record_tax_form(&paid, "pay@paid.example").await;
    t.record_tax_form(&small, "pay@small.example").await;
    // A partner cannot make a batch.
    assert_code(
        t.client()
            .create_payout_batch(as_of(
                CreatePayoutBatchRequest {
                    program_id: program.to_string(),
                    currency: "USD".into(),
                },
                &paid,
            ))
            .await,
        Code::PermissionDenied,
    );
    let batch = t.batch(program).await.expect("batch");
    assert_eq!(batch.status, PayoutBatchStatus::Pending as i32);
    assert_eq!(batch.items.len(), 1);
    assert_eq!(batch.items[0].partner_id, pid(&paid).to_string());
    assert_eq!(
        batch.items[0].amount.as_ref().expect("amount").amount_minor,
        20_000
    );
    let mut why: Vec<(String, String)> = batch
        .excluded
        .iter()
        .map(|e| (e.partner_id.clone(), e.reason.clone()))
        .collect();
    why.sort();
    let mut expected = vec![
        (pid(&no_profile).to_string(), "NO_PAYOUT_PROFILE".to_owned()),
        (pid(&no_tax).to_string(), "NO_TAX_FORM".to_owned()),
        (pid(&small).to_string(), "BELOW_MINIMUM".to_owned()),
    ];
    expected.sort();
    assert_eq!(why, expected);
    // The money left the balance for the batch.
    assert_eq!(t.available(&paid).await, 0);
    assert_eq!(t.available(&no_profile).await, 20_000);
    // Nothing left to pay: a second batch is refused.
    let s = assert_code(t.batch(program).await, Code::FailedPrecondition);
    assert_eq!(reason(&s), "NOTHING_TO_PAY");

    // The provider files.
    let export = |format: ExportFormat| {
        let mut client = t.client();
        let batch_id = batch.batch_id.clone();
        async move {
            client
                .export_payout_batch(as_of(
                    ExportPayoutBatchRequest {
                        batch_id,
                        format: format as i32,
                    },
                    &staff(Role::Finance),
                ))
                .await
                .expect("export")
                .into_inner()
        }
    };
    let csv = export(ExportFormat::Paypal).await;
    assert_eq!(
        csv.csv,
        format!(
            "pay@paid.example,200.00,USD,{},Partner commissions,PayPal\r\n",
            batch.items[0].reference
        )
    );
    let wise = export(ExportFormat::Wise).await;
    assert_eq!(
        wise.items_not_exported, 1,
        "the PayPal item is not a Wise bank payment"
    );

    // pending -> processing -> paid; a processing batch cannot be cancelled.
    let finance = staff(Role::Finance);
    t.client()
        .mark_payout_batch_processing(as_of(
            MarkPayoutBatchProcessingRequest {
                batch_id: batch.batch_id.clone(),
            },
            &finance,
        ))
        .await
        .expect("processing");
    let s = assert_code(
        t.client()
            .cancel_payout_batch(as_of(
                CancelPayoutBatchRequest {
                    batch_id: batch.batch_id.clone(),
                },
                &finance,
            ))
            .await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&s), "ILLEGAL_PAYOUT_TRANSITION");
    let done = t
        .client()
        .mark_payout_batch_paid(as_of(
            MarkPayoutBatchPaidRequest {
                batch_id: batch.batch_id.clone(),
                provider_reference: "PAYPAL-BATCH-77".into(),
            },
            &finance,
        ))
        .await
        .expect("paid")
        .into_inner()
        .batch
        .expect("batch");
    assert_eq!(done.status, PayoutBatchStatus::Paid as i32);
    let l = t.ledger(&paid).await;
    assert_eq!(
        (l.balances[0].available_minor, l.balances[0].paid_minor),
        (0, 20_000)
    );
}

#[tokio::test]
async fn a_refund_after_payout_is_carried_into_the_next_batch() {
    let t = commissions().await;
    let program = t.program_with(no_hold).await;
    let p = partner();
    t.join(&p, program, "acme.example").await;
    t.record_tax_form(&p, "pay@acme.example").await;
    let link = t.link(&p).await;
    t.earn(program, &link, "T-1", 100_000).await; // 20,000
    let first = t.batch(program).await.expect("batch");
    let finance = staff(Role::Finance);
    t.client()
        .mark_payout_batch_paid(as_of(
            MarkPayoutBatchPaidRequest {
                batch_id: first.batch_id.clone(),
                provider_reference: String::new(),
            },
            &finance,
        ))
        .await
        .expect("paid");
    // Half the sale is refunded after the payout: 10,000 comes back off
    // the payable balance, which goes below zero.
    let r = t
        .postback(status(program, "T-1", "refunded", Some(50_000)))
        .await;
    assert_eq!(r.answer, "STATUS_UPDATED");
    assert_eq!(t.available(&p).await, -10_000);
    // The next batch nets it: 30,000 earned, 20,000 paid.
    t.earn(program, &link, "T-22", 150_000).await;
    assert_eq!(t.available(&p).await, 20_000);
    let second = t.batch(program).await.expect("batch");
    assert_eq!(
        second.items[0]
            .amount
            .as_ref()
            .expect("amount")
            .amount_minor,
        20_000
    );
    // It fails at the provider: the money comes back.
    t.client()
        .mark_payout_batch_failed(as_of(
            MarkPayoutBatchFailedRequest {
                batch_id: second.batch_id.clone(),
                reason: "PayPal account closed".into(),
            },
            &finance,
        ))
        .await
        .expect("failed");
    assert_eq!(t.available(&p).await, 20_000);
    // A third batch, cancelled while pending: back again.
    let third = t.batch(program).await.expect("batch");
    assert_eq!(t.available(&p).await, 0);
    t.client()
        .cancel_payout_batch(as_of(
            CancelPayoutBatchRequest {
                batch_id: third.batch_id.clone(),
            },
            &finance,
        ))
        .await
        .expect("cancel");
    assert_eq!(t.available(&p).await, 20_000);
    let l = t.ledger(&p).await;
    assert_eq!(
        l.balances[0].paid_minor, 20_000,
        "only the first batch paid"
    );
    // The sums of the entries say the same.
    assert_eq!(t.sums(pid(&p)).await, vec![("USD".to_owned(), 0, 20_000)]);
}
