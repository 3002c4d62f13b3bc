//! Commissions through the gateway, on real PostgreSQL and NATS: a
//! partner's tracking link redirects and its click is recorded, a
//! postback converts, the commission is paid out in a batch, a refund
//! after the payout leaves a negative balance, a disabled link stops
//! redirecting at once (its event empties the gateway's cache), and the
//! clicks a stopping gateway still holds are written before it exits.

use std::time::Duration;

use prm_e2e::{ADMIN_KEY, PartnerAccount, Reply, RunningGateway, Stack, gateway_settings, spawn};
use prm_runtime::testing::eventually;
use serde_json::json;
use uuid::Uuid;

/// A program's postback credentials.
pub struct ProgramSetup {
    pub token: String,
}

/// Commission settings (links to shop.example, no minimum time to
/// convert, minimum payout 10.00) and a plan paying 20%, payable at once.
pub async fn setup_program(stack: &Stack, program_id: &str, currency: &str) -> ProgramSetup {
    let token = format!("token-{}", Uuid::now_v7().simple());
    let s = stack
        .put(
            &format!("/v1/programs/{program_id}/commission-settings"),
            Some(ADMIN_KEY),
            json!({
                "allowed_domains": ["shop.example"], "min_seconds_to_convert": 0,
                "min_payout_minor": 1000, "postback_token": token
            }),
        )
        .await;
    assert_eq!(s.status, 200, "{s:?}");
    assert_eq!(s.body["has_postback_token"], json!(true));
    let plan = stack
        .post(
            "/v1/plans",
            Some(ADMIN_KEY),
            json!({"program_id": program_id, "name": "Affiliates", "currency": currency,
                   "revshare_bps": 2000, "hold_days": 0}),
        )
        .await;
    assert_eq!(plan.status, 201, "{plan:?}");
    ProgramSetup { token }
}

/// A link for the partner, once the commissions service has heard of it
/// from onboarding (through NATS).
pub async fn link_for(stack: &Stack, partner: &PartnerAccount) -> Reply {
    let body = json!({"destination_url": "https://shop.example/landing?utm_source=prm"});
    eventually(Duration::from_secs(15), || async {
        let r = stack
            .post("/v1/links", Some(&partner.key), body.clone())
            .await;
        (r.status == 201).then_some(r)
    })
    .await
    .expect("the partner can create a link")
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Follows the link once, as a browser, and returns the click id the
/// destination got, once the click is stored.
pub async fn click(stack: &Stack, link: &Reply) -> String {
    let code = link.str("/code");
    let r = stack
        .send(
            no_redirects()
                .get(stack.url(&format!("/t/{code}?sub1=newsletter")))
                .header(
                    "user-agent",
                    "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
                )
                .header("referer", "https://blog.example/review"),
        )
        .await;
    assert_eq!(r.status, 302, "{r:?}");
    let location = r.header("location").expect("location").to_owned();
    assert!(
        location.starts_with("https://shop.example/landing?utm_source=prm&prm_click_id="),
        "{location}"
    );
    let click_id = location.rsplit('=').next().expect("click id").to_owned();
    let pool = commissions_db(stack).await;
    let id = Uuid::parse_str(&click_id).expect("a uuid");
    eventually(Duration::from_secs(10), || async {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM clicks WHERE id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .ok()?;
        (n == 1).then_some(())
    })
    .await
    .expect("the click was written within the flush interval");
    click_id
}

async fn commissions_db(stack: &Stack) -> sqlx::PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(&stack.commissions.db.url)
        .await
        .expect("commissions db")
}

/// A server-to-server postback (GET with query parameters).
pub async fn postback(stack: &Stack, fields: &[(&str, &str)]) -> Reply {
    let query: String = form_query(fields);
    stack.get(&format!("/v1/postbacks?{query}"), None).await
}

fn form_query(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace('&', "%26").replace('=', "%3D")))
        .collect::<Vec<_>>()
        .join("&")
}

/// The partner's PayPal profile, its tax form recorded by staff, and a
/// batch paying it, marked paid. Returns the batch id.
pub async fn paid_batch(
    stack: &Stack,
    p: &PartnerAccount,
    program_id: &str,
    currency: &str,
) -> String {
    let profile = stack
        .put(
            &format!("/v1/partners/{}/payout-profile", p.id),
            Some(&p.key),
            json!({"method": "paypal", "paypal_email": format!("pay@{}.example", &p.id[..8]),
                   "payee_name": "Partner Ltd"}),
        )
        .await;
    assert_eq!(profile.status, 200, "{profile:?}");
    let tax = stack
        .put(
            &format!("/v1/partners/{}/payout-profile", p.id),
            Some(ADMIN_KEY),
            json!({"method": "paypal", "paypal_email": format!("pay@{}.example", &p.id[..8]),
                   "payee_name": "Partner Ltd", "tax_form": "w8ben_e", "tax_form_received_on": "2026-11-01"}),
        )
        .await;
    assert_eq!(tax.status, 200, "{tax:?}");
    let batch = stack
        .post(
            "/v1/payouts",
            Some(ADMIN_KEY),
            json!({"program_id": program_id, "currency": currency}),
        )
        .await;
    assert_eq!(batch.status, 201, "{batch:?}");
    let id = batch.str("/id");
    let paid = stack
        .post(
            &format!("/v1/payouts/{id}/mark-paid"),
            Some(ADMIN_KEY),
            json!({"provider_reference": "PP-1"}),
        )
        .await;
    assert_eq!(
        (paid.status, paid.str("/status")),
        (200, "paid".into()),
        "{paid:?}"
    );
    id
}

#[tokio::test]
async fn a_tracked_click_converts_is_paid_out_and_a_later_refund_is_carried() {
    let stack = spawn().await;
    let program = stack.program("Affiliates").await;
    let setup = setup_program(&stack, &program.id, "EUR").await;
    let p = stack.partner(&program, "clicky.example", "affiliate").await;
    let link = link_for(&stack, &p).await;
    // Outside the allowed domains: refused, naming the field.
    let evil = stack
        .post(
            "/v1/links",
            Some(&p.key),
            json!({"destination_url": "https://evil.example/"}),
        )
        .await;
    assert_eq!(
        (evil.status, evil.fields()),
        (400, vec!["destination_url".to_owned()])
    );
    // An unknown code is 404, never a redirect.
    let unknown = stack.get("/t/NoSuchCode", None).await;
    assert_eq!(unknown.status, 404, "{unknown:?}");
    assert!(unknown.header("location").is_none());

    let click_id = click(&stack, &link).await;
    let sale = [
        ("program_id", program.id.as_str()),
        ("token", setup.token.as_str()),
        ("click_id", click_id.as_str()),
        ("transaction_id", "ORDER-1001"),
        ("amount", "250000"),
        ("currency", "EUR"),
        ("customer_domain", "buyer.example"),
    ];
    let accepted = postback(&stack, &sale).await;
    assert_eq!(
        (accepted.status, accepted.str("/answer")),
        (201, "ACCEPTED".into()),
        "{accepted:?}"
    );
    let again = postback(&stack, &sale).await;
    assert_eq!(
        (again.status, again.str("/answer")),
        (200, "DUPLICATE".into())
    );
    let mut wrong = sale;
    wrong[1] = ("token", "not-the-token-at-all");
    let bad = postback(&stack, &wrong).await;
    assert_eq!((bad.status, bad.code()), (401, "BAD_SIGNATURE"), "{bad:?}");
    assert!(bad.is_problem());
    let mut negative = sale;
    negative[3] = ("transaction_id", "ORDER-1002");
    negative[4] = ("amount", "-100");
    let invalid = postback(&stack, &negative).await;
    assert_eq!(
        (invalid.status, invalid.code(), invalid.fields()),
        (400, "INVALID_FIELD", vec!["amount".to_owned()])
    );
    // The same conversion as a JSON POST is a duplicate too.
    let posted = stack
        .post(
            "/v1/postbacks",
            None,
            json!({"program_id": program.id, "token": setup.token, "click_id": click_id,
                   "transaction_id": "ORDER-1001", "amount": 250000, "currency": "EUR"}),
        )
        .await;
    assert_eq!(posted.str("/answer"), "DUPLICATE", "{posted:?}");

    // 20% of 2,500.00, payable at once.
    let commissions = stack.get("/v1/commissions", Some(&p.key)).await;
    assert_eq!(
        commissions.body["items"][0]["amount"],
        json!({"amount_minor": 50000, "currency": "EUR"})
    );
    assert_eq!(commissions.body["items"][0]["status"], json!("approved"));
    let log = stack.get("/v1/postback-log", Some(&p.key)).await;
    let answers: Vec<&str> = log.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["answer"].as_str())
        .collect();
    assert_eq!(
        answers,
        ["ACCEPTED", "DUPLICATE", "DUPLICATE"],
        "the partner's own traffic"
    );
    let staff_log = stack
        .get("/v1/postback-log?answer=BAD_SIGNATURE", Some(ADMIN_KEY))
        .await;
    assert!(
        !staff_log.body["items"]
            .as_array()
            .expect("items")
            .is_empty()
    );

    // Paid out; the PayPal file lists it.
    let batch = paid_batch(&stack, &p, &program.id, "EUR").await;
    let file = stack
        .send(
            stack
                .http
                .get(stack.url(&format!("/v1/payouts/{batch}/export?format=paypal")))
                .bearer_auth(ADMIN_KEY),
        )
        .await;
    assert_eq!(file.status, 200);
    assert_eq!(file.header("content-type"), Some("text/csv; charset=utf-8"));
    let csv = file.body.as_str().expect("text");
    assert!(csv.contains(",500.00,EUR,"), "{csv}");

    // A partial refund after the payout: 40% refunded, 200.00 taken back
    // off a balance that was paid: -200.00, carried.
    let refund = postback(
        &stack,
        &[
            ("program_id", program.id.as_str()),
            ("token", setup.token.as_str()),
            ("transaction_id", "ORDER-1001"),
            ("status", "refunded"),
            ("amount", "100000"),
            ("currency", "EUR"),
        ],
    )
    .await;
    assert_eq!(refund.str("/answer"), "STATUS_UPDATED", "{refund:?}");
    let ledger = stack.get("/v1/ledger", Some(&p.key)).await;
    assert_eq!(
        ledger.body["balances"][0],
        json!({"currency": "EUR", "pending_minor": 0, "available_minor": -20000, "paid_minor": 50000})
    );

    // Disabled, the link stops redirecting: its event empties the cache.
    let code = link.str("/code");
    let disabled = stack
        .post(
            &format!("/v1/links/{}/disable", link.str("/id")),
            Some(&p.key),
            json!({}),
        )
        .await;
    assert_eq!(disabled.str("/status"), "disabled", "{disabled:?}");
    let gone = eventually(Duration::from_secs(10), || async {
        let r = stack
            .send(no_redirects().get(stack.url(&format!("/t/{code}"))))
            .await;
        (r.status == 404).then_some(())
    })
    .await;
    assert!(gone.is_some(), "a disabled link stopped redirecting");
}

#[tokio::test]
async fn a_stopping_gateway_writes_the_clicks_it_holds() {
    let stack = spawn().await;
    let program = stack.program("Flush").await;
    setup_program(&stack, &program.id, "EUR").await;
    let p = stack.partner(&program, "flush.example", "affiliate").await;
    let link = link_for(&stack, &p).await;
    let code = link.str("/code");
    // A gateway that would flush only hourly: the clicks stay buffered.
    let mut settings = gateway_settings(
        &stack.onboarding,
        &[
            ("dealreg", &stack.dealreg),
            ("mdf", &stack.mdf),
            ("commissions", &stack.commissions),
        ],
    );
    settings.tracking.flush_interval_ms = 3_600_000;
    settings.http.drain_delay_ms = 0;
    let mut gateway = RunningGateway::start(settings).await;
    let client = no_redirects();
    const CLICKS: usize = 40;
    for i in 0..CLICKS {
        let r = client
            .get(gateway.url(&format!("/t/{code}?sub2={i}")))
            .header(
                "user-agent",
                "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
            )
            .send()
            .await
            .expect("redirect");
        assert_eq!(r.status().as_u16(), 302);
    }
    let pool = commissions_db(&stack).await;
    let link_id = Uuid::parse_str(&link.str("/id")).expect("id");
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM clicks WHERE link_id = $1")
            .bind(link_id)
            .fetch_one(&pool)
            .await
            .expect("count")
    };
    assert_eq!(count().await, 0, "still buffered");
    gateway.shutdown.cancel();
    gateway.stopped().await.expect("stopped cleanly");
    assert_eq!(
        count().await,
        CLICKS as i64,
        "every click served was written"
    );
}
