//! Reporting through the gateway, on events the real services publish:
//! a won deal reaches the partner's scorecard, the program view and the
//! export; bad input names its field.

use std::time::Duration;

use prm_e2e::{ADMIN_KEY, PartnerAccount, Stack, spawn};
use prm_runtime::testing::eventually;
use serde_json::json;

/// This month, as a reporting period.
pub fn this_month() -> String {
    chrono::Utc::now().format("%Y-%m").to_string()
}

/// Registers a deal for `partner`, has staff approve and win it (EUR
/// 1,000.00), and waits until reporting has credited it. Returns its id.
pub async fn won_deal(stack: &Stack, partner: &PartnerAccount, domain: &str) -> String {
    let close = (chrono::Utc::now().date_naive() + chrono::Duration::days(30)).to_string();
    let reg = stack
        .post(
            "/v1/deal-registrations",
            Some(&partner.key),
            json!({"customer_company": format!("{domain} Inc"), "customer_domain": domain,
                   "contact": {"name": "Jo", "email": format!("jo@{domain}")},
                   "estimated_value": {"amount_minor": 150000, "currency": "EUR"},
                   "expected_close_date": close}),
        )
        .await;
    assert_eq!(reg.status, 201, "{reg:?}");
    let id = reg.str("/id");
    let ok = stack
        .post(
            &format!("/v1/deal-registrations/{id}/approve"),
            Some(ADMIN_KEY),
            json!({}),
        )
        .await;
    assert_eq!(ok.status, 200, "{ok:?}");
    let won = stack
        .post(
            &format!("/v1/deal-registrations/{id}/win"),
            Some(ADMIN_KEY),
            json!({"amount": {"amount_minor": 100000, "currency": "EUR"}}),
        )
        .await;
    assert_eq!(won.status, 200, "{won:?}");
    let path = format!("/v1/reports/attribution/deals/{id}");
    let credited = eventually(Duration::from_secs(30), || async {
        let r = stack.get(&path, Some(ADMIN_KEY)).await;
        (r.status == 200).then_some(r)
    })
    .await
    .expect("reporting credited the won deal");
    assert_eq!(credited.body["shares"][0]["partner_id"], json!(partner.id));
    id
}

#[tokio::test]
async fn a_won_deal_reaches_the_scorecard_the_program_view_and_the_export() {
    let stack = spawn().await;
    let program = stack.program("Reporting").await;
    let a = stack
        .partner(&program, "alpha-rep.example", "reseller")
        .await;
    let b = stack
        .partner(&program, "beta-rep.example", "referral")
        .await;
    let deal = won_deal(&stack, &a, "buyer.example").await;
    let month = this_month();

    let card = stack
        .get(
            &format!(
                "/v1/reports/partners/{}/scorecard?period={month}&currency=EUR",
                a.id
            ),
            Some(&a.key),
        )
        .await;
    assert_eq!(card.status, 200, "{card:?}");
    let f = &card.body["figures"];
    assert_eq!(f["deals_registered"], json!(1));
    assert_eq!(f["deals_approved"], json!(1));
    assert_eq!(f["deals_won"], json!(1));
    assert_eq!(f["sourced_pipeline_minor"], json!(150000));
    assert_eq!(f["won_revenue_minor"], json!(100000));
    assert_eq!(f["credited_revenue_minor"], json!(100000));
    assert_eq!(f["win_rate"], json!(1.0));
    assert_eq!(f["mdf_roi"], json!(null), "no MDF paid: undefined");
    assert_eq!(card.body["partner"]["partner_type"], json!("reseller"));
    // The partner's own onboarding checklist: terms are not accepted, but
    // the first user is active and the first deal registered.
    assert!(f["checklist_completion"].as_f64().is_some(), "{f}");

    // B sees neither A's scorecard nor A's deal.
    let theirs = stack
        .get(
            &format!("/v1/reports/partners/{}/scorecard?period={month}", a.id),
            Some(&b.key),
        )
        .await;
    assert_eq!(theirs.status, 404, "{theirs:?}");
    let deal_path = format!("/v1/reports/attribution/deals/{deal}");
    assert_eq!(stack.get(&deal_path, Some(&b.key)).await.status, 404);
    let own = stack.get(&deal_path, Some(&a.key)).await;
    assert_eq!(own.status, 200, "{own:?}");
    assert_eq!(own.body["shares"][0]["role"], json!("sourced"));
    assert_eq!(
        own.body["shares"][0]["amount"]["amount_minor"],
        json!(100000)
    );

    // The program view by partner type.
    let view = stack
        .get(
            &format!(
                "/v1/reports/program?group_by=partner_type&period={month}&currency=EUR&program_id={}",
                program.id
            ),
            Some(ADMIN_KEY),
        )
        .await;
    assert_eq!(view.status, 200, "{view:?}");
    let groups = view.body["groups"].as_array().expect("groups");
    let keys: Vec<&str> = groups.iter().filter_map(|g| g["key"].as_str()).collect();
    assert_eq!(keys, vec!["referral", "reseller"]);
    assert_eq!(groups[1]["figures"]["won_revenue_minor"], json!(100000));
    assert_eq!(view.body["total"]["partners"], json!(2));

    // The export, a partner a page.
    let page = stack
        .get(
            &format!("/v1/reports/export?period={month}&currency=EUR&page_size=1"),
            Some(ADMIN_KEY),
        )
        .await;
    assert_eq!(page.status, 200, "{page:?}");
    assert!(
        page.header("content-type")
            .is_some_and(|c| c.starts_with("text/csv")),
        "{page:?}"
    );
    let token = page
        .header("x-next-page-token")
        .expect("a next page")
        .to_owned();
    let next = stack
        .get(
            &format!(
                "/v1/reports/export?period={month}&currency=EUR&page_size=1&page_token={token}"
            ),
            Some(ADMIN_KEY),
        )
        .await;
    assert_eq!(next.status, 200, "{next:?}");
    assert!(next.header("x-next-page-token").is_none(), "two partners");

    // Bad input names the field.
    for (query, field) in [
        ("period=2026-13", "period"),
        ("period=2026-Q4&currency=euro", "currency"),
    ] {
        let r = stack
            .get(
                &format!("/v1/reports/partners/{}/scorecard?{query}", a.id),
                Some(ADMIN_KEY),
            )
            .await;
        assert_eq!(r.status, 400, "{r:?}");
        assert_eq!(r.fields(), vec![field.to_owned()], "{query}");
    }
    let r = stack
        .get(
            "/v1/reports/program?group_by=region&period=2026-10",
            Some(ADMIN_KEY),
        )
        .await;
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.body.to_string().contains("group_by"), "{r:?}");
    let r = stack
        .post(
            "/v1/attribution-models",
            Some(ADMIN_KEY),
            json!({"name": "Too much", "sourced_bps": 8000, "influencer_bps": 3000}),
        )
        .await;
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(r.fields(), vec!["sourced_bps".to_owned()]);
    let r = stack
        .post(
            "/v1/attribution-models",
            Some(ADMIN_KEY),
            json!({"name": "70/30", "sourced_bps": 7000, "influencer_bps": 3000}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.body["version"], json!(1));

    let lag = stack.get("/v1/reports/lag", Some(ADMIN_KEY)).await;
    assert_eq!(lag.status, 200, "{lag:?}");
    assert_eq!(lag.body["streams"].as_array().map(Vec::len), Some(4));
}
