//! MDF end to end through the gateway: a partner's request, its claim and
//! reimbursement, and the deal registration it led to, won for real in
//! deal registration, accruing into the partner's fund through NATS once,
//! even when the won event is delivered again, and showing in the
//! request's ROI.

use std::sync::atomic::Ordering;
use std::time::Duration;

use prm_e2e::{ADMIN_KEY, Stack, spawn};
use prm_runtime::testing::{EventStream, eventually};
use serde_json::{Value, json};

fn day(offset: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(offset)).to_string()
}

fn this_quarter() -> String {
    use chrono::Datelike;
    let today = chrono::Utc::now().date_naive();
    format!("{}-Q{}", today.year(), (today.month() - 1) / 3 + 1)
}

async fn fund(stack: &Stack, id: &str, key: &str) -> Value {
    let f = stack.get(&format!("/v1/mdf/funds/{id}"), Some(key)).await;
    assert_eq!(f.status, 200, "{f:?}");
    f.body
}

#[tokio::test]
async fn a_won_deal_accrues_once_and_shows_in_the_requests_roi() {
    let stack = spawn().await;
    let program = stack.program("Co-op program").await;
    let partner = stack.partner(&program, "coop.example", "reseller").await;
    let budget = stack
        .post(
            "/v1/mdf/budgets",
            Some(ADMIN_KEY),
            json!({"program_id": program.id, "name": "Co-op", "period": this_quarter(),
                   "amount": {"amount_minor": 10000000, "currency": "EUR"}}),
        )
        .await;
    assert_eq!(budget.status, 201, "{budget:?}");
    // Co-op: 50,000.00 up front, 3% of won revenue on top, half of each
    // claim's proven cost reimbursed.
    let allocated = stack
        .post(
            "/v1/mdf/allocations",
            Some(ADMIN_KEY),
            json!({"budget_id": budget.str("/id"), "partner_id": partner.id, "kind": "accrual",
                   "amount": {"amount_minor": 5000000, "currency": "EUR"},
                   "reimbursement_rate_bps": 5000,
                   "accrual_tiers": [{"from_revenue_minor": 0, "rate_bps": 300}]}),
        )
        .await;
    assert_eq!(allocated.status, 201, "{allocated:?}");
    let fund_id = allocated.str("/id");

    let request = stack
        .post(
            "/v1/mdf/requests",
            Some(&partner.key),
            json!({"fund_id": fund_id, "activity_type": "event", "description": "Spring roadshow",
                   "starts_on": day(-10), "ends_on": day(-9), "expected_leads": 50,
                   "campaign_code": "SPRING-26", "amount": {"amount_minor": 2000000, "currency": "EUR"}}),
        )
        .await;
    assert_eq!(request.status, 201, "{request:?}");
    let request_id = request.str("/id");
    let approve = stack
        .post(
            &format!("/v1/mdf/requests/{request_id}/approve"),
            Some(ADMIN_KEY),
            json!({"amount": {"amount_minor": 1500000, "currency": "EUR"}}),
        )
        .await;
    assert_eq!(approve.status, 200, "{approve:?}");
    // A partner may not approve, even its own.
    let own = stack
        .post(
            &format!("/v1/mdf/requests/{request_id}/approve"),
            Some(&partner.key),
            json!({}),
        )
        .await;
    assert_eq!(own.status, 403, "{own:?}");
    let claim = stack
        .post(
            &format!("/v1/mdf/requests/{request_id}/claims"),
            Some(&partner.key),
            json!({"proven_cost": {"amount_minor": 2400000, "currency": "EUR"},
                   "invoice_number": "RS-2026-7", "leads_generated": 61, "attendees": 140,
                   "documents": [{"name": "invoice.pdf", "content_type": "application/pdf",
                                  "size_bytes": 52011, "checksum": format!("sha256:{}", "7".repeat(64)),
                                  "location": "s3://proofs/rs-2026-7.pdf"}]}),
        )
        .await;
    assert_eq!(claim.status, 201, "{claim:?}");
    assert_eq!(claim.body["reimbursable"]["amount_minor"], json!(1200000));
    let paid = stack
        .post(
            &format!("/v1/mdf/claims/{}/approve", claim.str("/id")),
            Some(ADMIN_KEY),
            json!({}),
        )
        .await;
    assert_eq!(paid.status, 200, "{paid:?}");
    let f = fund(&stack, &fund_id, &partner.key).await;
    // 50,000 - 15,000 reserved + 3,000 released; 12,000 reimbursed.
    assert_eq!(f["balance"]["available"]["amount_minor"], json!(3800000));
    assert_eq!(f["balance"]["reimbursed"]["amount_minor"], json!(1200000));

    // The deal the roadshow brought, registered with its campaign code,
    // approved and won in deal registration.
    let reg = stack
        .post(
            "/v1/deal-registrations",
            Some(&partner.key),
            json!({"customer_company": "Roadshow Buyer", "customer_domain": "roadshow-buyer.example",
                   "contact": {"name": "Ro", "email": "ro@roadshow-buyer.example"},
                   "estimated_value": {"amount_minor": 9000000, "currency": "EUR"},
                   "expected_close_date": day(30), "mdf_reference": "SPRING-26"}),
        )
        .await;
    assert_eq!(reg.status, 201, "{reg:?}");
    let reg_id = reg.str("/id");
    let ok = stack
        .post(
            &format!("/v1/deal-registrations/{reg_id}/approve"),
            Some(ADMIN_KEY),
            json!({}),
        )
        .await;
    assert_eq!(ok.status, 200, "{ok:?}");
    let won = stack
        .post(
            &format!("/v1/deal-registrations/{reg_id}/win"),
            Some(ADMIN_KEY),
            json!({"amount": {"amount_minor": 8000000, "currency": "EUR"}}),
        )
        .await;
    assert_eq!(won.status, 200, "{won:?}");

    // 3% of 80,000.00 accrues.
    let accrued = eventually(Duration::from_secs(20), || async {
        let f = fund(&stack, &fund_id, &partner.key).await;
        (f["balance"]["accrued"]["amount_minor"] == json!(240000)).then_some(f)
    })
    .await
    .expect("the won deal accrued");
    assert_eq!(accrued["won_revenue"]["amount_minor"], json!(8000000));

    // The won event delivered a second time changes nothing.
    let consumer = stack.mdf.consumer("dealreg");
    let before = consumer.redeliveries.load(Ordering::Relaxed);
    let stream = EventStream::open(&stack.mdf.nats_url, &stack.mdf.namespace, "dealreg").await;
    let event = stream.last("deal.won").await.expect("the won event");
    stream
        .publish("deal.won", &event, "republished-by-the-test")
        .await;
    let seen = eventually(Duration::from_secs(20), || async {
        (consumer.redeliveries.load(Ordering::Relaxed) > before).then_some(())
    })
    .await;
    assert!(seen.is_some(), "the duplicate never reached MDF");
    let f = fund(&stack, &fund_id, &partner.key).await;
    assert_eq!(f["balance"]["accrued"]["amount_minor"], json!(240000));
    let entries = stack
        .get(
            &format!("/v1/mdf/funds/{fund_id}/entries"),
            Some(&partner.key),
        )
        .await;
    let kinds: Vec<&str> = entries.body["items"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        ["allocated", "reserved", "reimbursed", "released", "accrued"]
    );

    let roi = stack
        .get(
            &format!("/v1/mdf/requests/{request_id}/roi"),
            Some(&partner.key),
        )
        .await;
    assert_eq!(roi.status, 200, "{roi:?}");
    assert_eq!(roi.body["won_deals"], json!(1));
    assert_eq!(roi.body["won_revenue"]["amount_minor"], json!(8000000));
    assert_eq!(roi.body["paid"]["amount_minor"], json!(1200000));
    // 80,000 won for 12,000 paid: 6.67 times.
    assert_eq!(roi.body["return_bps"], json!(66666));
}
