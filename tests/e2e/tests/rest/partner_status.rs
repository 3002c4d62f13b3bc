//! A partner's status reaches every service through NATS: suspended, it
//! cannot request MDF or make links, and its conversions are held for
//! staff (`partner_suspended`), who release or reject them; terminated,
//! its conversions are recorded as rejected with a coded answer.

use std::time::Duration;

use prm_e2e::{ADMIN_KEY, Reply, Stack, spawn};
use prm_runtime::testing::eventually;
use serde_json::{Value, json};

use crate::commissions;

/// Waits until the commissions service refuses (or, `active`, accepts) a
/// link for the partner: it has heard of the partner's status.
async fn commissions_hears(stack: &Stack, partner: &str, active: bool) {
    let body = json!({"partner_id": partner, "destination_url": "https://shop.example/probe"});
    let heard = eventually(Duration::from_secs(15), || async {
        let r = stack.post("/v1/links", Some(ADMIN_KEY), body.clone()).await;
        let refused = r.status == 409 && r.code() == "PARTNER_NOT_ACTIVE";
        (if active { r.status == 201 } else { refused }).then_some(())
    })
    .await;
    assert!(
        heard.is_some(),
        "commissions heard the partner is active: {active}"
    );
}

async fn decide(stack: &Stack, conversion: &str, decision: &str) -> Reply {
    stack
        .post(
            &format!("/v1/conversions/{conversion}/{decision}"),
            Some(ADMIN_KEY),
            json!({"reason": "checked with the advertiser"}),
        )
        .await
}

#[tokio::test]
async fn a_suspended_partner_cannot_draw_mdf_and_its_conversions_wait_for_staff() {
    let stack = spawn().await;
    let program = stack.program("Affiliates").await;
    let b = stack.partner(&program, "beta.example", "affiliate").await;
    let setup = commissions::setup_program(&stack, &program.id, "EUR").await;
    let link = commissions::link_for(&stack, &b).await;
    let click = commissions::click(&stack, &link).await;
    let sale = |tx: &str| {
        let (program, token, click, tx) = (
            program.id.clone(),
            setup.token.clone(),
            click.clone(),
            tx.to_owned(),
        );
        let stack = &stack;
        async move {
            commissions::postback(
                stack,
                &[
                    ("program_id", program.as_str()),
                    ("token", token.as_str()),
                    ("click_id", click.as_str()),
                    ("transaction_id", tx.as_str()),
                    ("amount", "10000"),
                    ("currency", "EUR"),
                ],
            )
            .await
        }
    };
    let budget = stack
        .post(
            "/v1/mdf/budgets",
            Some(ADMIN_KEY),
            json!({"program_id": program.id, "name": "MDF", "period": "2030-Q1",
                   "amount": {"amount_minor": 1000000, "currency": "EUR"}}),
        )
        .await;
    let fund = stack
        .post(
            "/v1/mdf/allocations",
            Some(ADMIN_KEY),
            json!({"budget_id": budget.str("/id"), "partner_id": b.id, "kind": "discretionary",
                   "amount": {"amount_minor": 100000, "currency": "EUR"}}),
        )
        .await;
    assert_eq!(fund.status, 201, "{fund:?}");
    let day = |ago| (chrono::Utc::now().date_naive() - chrono::Duration::days(ago)).to_string();
    let mdf_request = json!({
        "fund_id": fund.str("/id"), "activity_type": "webinar", "description": "Partner webinar",
        "starts_on": day(8), "ends_on": day(7),
        "amount": {"amount_minor": 10000, "currency": "EUR"}
    });

    let r = stack
        .post(
            &format!("/v1/partners/{}/suspend", b.id),
            Some(ADMIN_KEY),
            json!({"reason": "unpaid invoices"}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    // MDF hears of it through NATS and refuses the partner's request.
    let refused = eventually(Duration::from_secs(15), || async {
        let r = stack
            .post("/v1/mdf/requests", Some(&b.key), mdf_request.clone())
            .await;
        (r.status == 409).then_some(r)
    })
    .await
    .expect("MDF refuses a suspended partner's request");
    assert_eq!(refused.code(), "PARTNER_NOT_ACTIVE");
    assert!(refused.is_problem());

    commissions_hears(&stack, &b.id, false).await;
    let held = sale("SUSPENDED-1").await;
    assert_eq!(held.status, 200, "{held:?}");
    assert_eq!(held.str("/answer"), "HELD");
    assert_eq!(held.str("/reason"), "partner_suspended");
    let to_reject = sale("SUSPENDED-2").await;
    assert_eq!(to_reject.str("/reason"), "partner_suspended");
    let (held, to_reject) = (held.str("/conversion_id"), to_reject.str("/conversion_id"));

    // Not released while the partner is suspended; rejected, once only.
    let r = decide(&stack, &held, "release").await;
    assert_eq!((r.status, r.code()), (409, "PARTNER_NOT_ACTIVE"), "{r:?}");
    let r = decide(&stack, &to_reject, "reject").await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.str("/status"), "rejected");
    assert_eq!(r.str("/decision_reason"), "checked with the advertiser");
    let r = decide(&stack, &to_reject, "release").await;
    assert_eq!((r.status, r.code()), (409, "CONVERSION_NOT_HELD"), "{r:?}");
    let r = stack
        .post(
            &format!("/v1/conversions/{held}/release"),
            Some(ADMIN_KEY),
            json!({"reason": ""}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.fields(), ["reason"]);
    // The partner cannot decide its own conversions.
    let r = stack
        .post(
            &format!("/v1/conversions/{held}/release"),
            Some(&b.key),
            json!({"reason": "mine"}),
        )
        .await;
    assert_eq!(r.status, 403, "{r:?}");

    // Reactivated, the held conversion is released and earns.
    let r = stack
        .post(
            &format!("/v1/partners/{}/reactivate", b.id),
            Some(ADMIN_KEY),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    commissions_hears(&stack, &b.id, true).await;
    let r = decide(&stack, &held, "release").await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.str("/conversion/status"), "pending");
    assert!(r.str("/outcome").contains("plan Affiliates"), "{r:?}");
    let earned = stack
        .get(
            &format!("/v1/commissions?partner_id={}", b.id),
            Some(ADMIN_KEY),
        )
        .await;
    let earned: Vec<&Value> = earned.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|c| c["conversion_id"].as_str() == Some(held.as_str()))
        .collect();
    assert_eq!(earned.len(), 1, "the released conversion earned once");
    assert_eq!(earned[0]["amount"]["amount_minor"], json!(2000));

    // Terminated: its conversions are rejected with a coded answer.
    let r = stack
        .post(
            &format!("/v1/partners/{}/terminate", b.id),
            Some(ADMIN_KEY),
            json!({"reason": "fraud"}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    commissions_hears(&stack, &b.id, false).await;
    let rejected = sale("TERMINATED-1").await;
    assert_eq!(rejected.status, 200, "{rejected:?}");
    assert_eq!(rejected.str("/answer"), "PARTNER_TERMINATED");
    let listed = stack
        .get(
            &format!("/v1/conversions?partner_id={}&status=rejected", b.id),
            Some(ADMIN_KEY),
        )
        .await;
    let row = listed.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|c| c["id"].as_str() == Some(rejected.str("/conversion_id").as_str()))
        .cloned()
        .expect("the rejected conversion is listed");
    assert_eq!(row["hold_reason"], json!("partner_terminated"));
    let r = decide(&stack, &rejected.str("/conversion_id"), "release").await;
    assert_eq!((r.status, r.code()), (409, "CONVERSION_NOT_HELD"), "{r:?}");
}
