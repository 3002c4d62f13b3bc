//! Postbacks: authentication, answers, attribution (window, first and
//! last click), fraud holds, recurring sales, volume tiers, and concurrent
//! duplicates.

use chrono::{Duration, Utc};
use prm_commissions::domain::postback::hmac_sha256;
use prm_commissions::domain::settings::hex;
use prm_proto::commissions::*;
use prm_runtime::testing::grpc::as_of;
use uuid::Uuid;

use crate::helpers::*;

async fn count(t: &TestCommissions, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(&t.pool)
        .await
        .expect("count")
}

#[tokio::test]
async fn a_sale_earns_and_every_answer_is_logged() {
    let t = commissions().await;
    let (program, p, link) = t.affiliate().await;
    let click = t.click_at(&link, ago(600), "10.0.0.1").await;
    let r = t.postback(sale(program, &click, "T-1", 12_345)).await;
    assert_eq!(
        (r.answer.as_str(), r.http_status),
        ("ACCEPTED", 201),
        "{r:?}"
    );
    assert!(
        r.reason.contains("revshare 2000 bps of 12345 USD = 2469"),
        "{}",
        r.reason
    );
    let c = t.commissions_of(&p).await;
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].amount.as_ref().expect("test step").amount_minor, 2_469);
    assert_eq!(c[0].status, CommissionStatus::Pending as i32);
    assert_eq!(c[0].plan_version, 1);
    // The same postback again changes nothing.
    let again = t.postback(sale(program, &click, "T-1", 12_345)).await;
    assert_eq!(
        (again.answer.as_str(), again.http_status),
        ("DUPLICATE", 200)
    );
    assert_eq!(again.conversion_id, r.conversion_id);
    assert_eq!(t.commissions_of(&p).await.len(), 1);
    // A lead with a CPA rate.
    let lead_click = t.click_at(&link, ago(600), "10.0.0.2").await;
    let lead = t
        .postback(RecordPostbackRequest {
            kind: "lead".into(),
            event_type: "signup".into(),
            amount: String::new(),
            currency: String::new(),
            ..sale(program, &lead_click, "L-1", 0)
        })
        .await;
    assert_eq!(lead.answer, "ACCEPTED", "{lead:?}");
    assert_eq!(t.commissions_of(&p).await.len(), 2);
    // The partner sees its own log lines.
    let log = t
        .client()
        .list_postback_log(as_of(ListPostbackLogRequest::default(), &p))
        .await
        .expect("log")
        .into_inner()
        .entries;
    let answers: Vec<&str> = log.iter().map(|e| e.answer.as_str()).collect();
    assert_eq!(answers, ["ACCEPTED", "DUPLICATE", "ACCEPTED"]);
    assert!(
        !log[0].fields_json.contains(TOKEN),
        "no credentials in the log"
    );
}

#[tokio::test]
async fn bad_credentials_and_bad_fields_store_nothing_but_the_log() {
    let t = commissions().await;
    let (program, _, link) = t.affiliate().await;
    let click = t.click_at(&link, ago(600), "10.0.0.1").await;
    let wrong = RecordPostbackRequest {
        token: "not-the-program-token".into(),
        ..sale(program, &click, "T-1", 100)
    };
    let r = t.postback(wrong).await;
    assert_eq!((r.answer.as_str(), r.http_status), ("BAD_SIGNATURE", 401));
    let unknown_program = t.postback(sale(Uuid::now_v7(), &click, "T-1", 100)).await;
    assert_eq!(unknown_program.answer, "BAD_SIGNATURE");
    for (req, field) in [
        (
            RecordPostbackRequest {
                amount: "-100".into(),
                ..sale(program, &click, "T-2", 0)
            },
            "amount",
        ),
        (
            RecordPostbackRequest {
                currency: "XYZ".into(),
                ..sale(program, &click, "T-3", 100)
            },
            "currency",
        ),
        (
            sale(program, &click, &"T".repeat(65), 100),
            "transaction_id",
        ),
        (
            RecordPostbackRequest {
                program_id: "nope".into(),
                ..sale(program, &click, "T-4", 100)
            },
            "program_id",
        ),
    ] {
        let r = t.postback(req).await;
        assert_eq!(
            (r.answer.as_str(), r.http_status, r.field.as_str()),
            ("INVALID_FIELD", 400, field),
            "{r:?}"
        );
    }
    // What text cannot hold (NUL) is refused, or kept out of the log.
    for (req, field) in [
        (
            RecordPostbackRequest {
                customer_id: "cust\u{0}42".into(),
                ..sale(program, &click, "T-7", 100)
            },
            "customer_id",
        ),
        (sale(program, &click, "T\u{0}8", 100), "transaction_id"),
    ] {
        let r = t.postback(req).await;
        assert_eq!(
            (r.answer.as_str(), r.field.as_str()),
            ("INVALID_FIELD", field),
            "{r:?}"
        );
    }
    assert_eq!(count(&t, "conversions").await, 0);
    assert_eq!(count(&t, "commissions").await, 0);
    assert_eq!(count(&t, "ledger_entries").await, 0);
    assert_eq!(count(&t, "postback_log").await, 8);
    // An HMAC signature of the payload authenticates instead of the token.
    let payload = b"click_id=...&transaction_id=T-5&amount=100&currency=USD";
    let signed = RecordPostbackRequest {
        token: String::new(),
        signature: format!("sha256={}", hex(&hmac_sha256(SECRET.as_bytes(), payload))),
        signed_payload: payload.to_vec(),
        ..sale(program, &click, "T-5", 100)
    };
    let r = t.postback(signed.clone()).await;
    assert_eq!(r.answer, "ACCEPTED", "{r:?}");
    let tampered = RecordPostbackRequest {
        signed_payload: b"click_id=...&transaction_id=T-5&amount=999&currency=USD".to_vec(),
        transaction_id: "T-6".into(),
        ..signed
    };
    assert_eq!(t.postback(tampered).await.answer, "BAD_SIGNATURE");
}

#[tokio::test]
async fn fraud_checks_hold_with_a_reason() {
    let t = commissions().await;
    let (program, p, link) = t.affiliate().await;
    let held = |r: &RecordPostbackResponse| (r.answer.clone(), r.reason.clone());
    // No click at all; an unknown click.
    let r = t.postback(sale(program, "", "T-none", 100)).await;
    assert_eq!(held(&r), ("HELD".into(), "no_click".into()));
    let r = t
        .postback(sale(program, &Uuid::now_v7().to_string(), "T-unknown", 100))
        .await;
    assert_eq!(held(&r), ("UNKNOWN_CLICK".into(), "unknown_click".into()));
    // Too fast: 3 seconds after the click (the program's minimum is 10).
    let fast = t.click_at(&link, ago(3), "10.0.0.1").await;
    let r = t.postback(sale(program, &fast, "T-fast", 100)).await;
    assert_eq!(held(&r), ("HELD".into(), "too_fast".into()));
    // Outside the 30-day window.
    let old = t.click_at(&link, ago(31 * 86_400), "10.0.0.2").await;
    let r = t.postback(sale(program, &old, "T-old", 100)).await;
    assert_eq!(
        held(&r),
        ("OUTSIDE_ATTRIBUTION_WINDOW".into(), "click_too_old".into())
    );
    // A source that clicked 25 times in the hour (the limit is 20).
    let flood_at = ago(7_200);
    let sources: Vec<(&str, &str)> = (0..25).map(|_| ("10.0.0.3", BROWSER)).collect();
    let flood = t.clicks(&link, flood_at, &sources).await;
    let r = t.postback(sale(program, &flood[0], "T-flood", 100)).await;
    assert_eq!(held(&r), ("HELD".into(), "flooding_source".into()));
    // A bot's click.
    let bot = t
        .clicks(&link, ago(600), &[("10.0.0.4", "Twitterbot/1.0")])
        .await
        .remove(0);
    let r = t.postback(sale(program, &bot, "T-bot", 100)).await;
    assert_eq!(held(&r), ("HELD".into(), "bot_click".into()));
    // The customer is the partner itself.
    let own = t.click_at(&link, ago(600), "10.0.0.5").await;
    let r = t
        .postback(RecordPostbackRequest {
            customer_domain: "shop.acme-referrals.example".into(),
            ..sale(program, &own, "T-self", 100)
        })
        .await;
    assert_eq!(held(&r), ("HELD".into(), "self_referral".into()));
    // Held conversions earn nothing, and are listed with their reason.
    assert!(t.commissions_of(&p).await.is_empty());
    let held_rows = t
        .client()
        .list_conversions(as_of(
            ListConversionsRequest {
                status: ConversionStatus::Held as i32,
                ..Default::default()
            },
            &t.admin,
        ))
        .await
        .expect("list")
        .into_inner()
        .conversions;
    assert_eq!(held_rows.len(), 7);
}

#[tokio::test]
async fn last_click_by_default_first_click_when_configured() {
    let t = commissions().await;
    for (model, first_wins) in [
        (AttributionModel::LastClick, false),
        (AttributionModel::FirstClick, true),
    ] {
        let program = t.program().await;
        let mut s = program_settings(program);
        s.attribution_model = model as i32;
        t.client()
            .put_program_settings(as_of(s, &t.admin))
            .await
            .expect("settings");
        let (a, b) = (partner(), partner());
        t.join(&a, program, "a.example").await;
        t.join(&b, program, "b.example").await;
        let (la, lb) = (t.link(&a).await, t.link(&b).await);
        // The same visitor clicks A's link, then B's, then converts; the
        // advertiser reports B's click (the last it saw).
        t.click_at(&la, ago(5 * 86_400), "10.1.1.1").await;
        let last = t.click_at(&lb, ago(86_400), "10.1.1.1").await;
        let r = t.postback(sale(program, &last, "T-1", 10_000)).await;
        assert_eq!(r.answer, "ACCEPTED", "{r:?}");
        let (winner, loser) = if first_wins { (&a, &b) } else { (&b, &a) };
        assert_eq!(t.commissions_of(winner).await.len(), 1, "{model:?}");
        assert!(t.commissions_of(loser).await.is_empty(), "{model:?}");
    }
}

#[tokio::test]
async fn recurring_sales_earn_without_a_click_for_the_plans_months() {
    let t = commissions().await;
    for (months, expected) in [(1, "HELD"), (3, "ACCEPTED")] {
        let program = t
            .program_with(|program| CreatePlanRequest {
                recurrence: Recurrence::Months as i32,
                recurring_months: months,
                effective_from: None,
                ..revshare_plan(program)
            })
            .await;
        // The plan was created now; the first sale happened two months ago
        // under an earlier plan version, so make the plan effective then.
        sqlx::query(
            "UPDATE plans SET effective_from = now() - interval '90 days' WHERE program_id = $1",
        )
        .bind(program)
        .execute(&t.pool)
        .await
        .expect("test step");
        let p = partner();
        t.join(&p, program, "acme.example").await;
        let link = t.link(&p).await;
        let first_at = Utc::now() - Duration::days(61);
        let click = t
            .click_at(&link, first_at - Duration::hours(1), "10.2.2.2")
            .await;
        let first = t
            .postback(RecordPostbackRequest {
                customer_id: "cust-42".into(),
                occurred_at: first_at.to_rfc3339(),
                ..sale(program, &click, "S-1", 10_000)
            })
            .await;
        assert_eq!(first.answer, "ACCEPTED", "{first:?}");
        // Two months later the customer renews; no click.
        let renewal = t
            .postback(RecordPostbackRequest {
                customer_id: "cust-42".into(),
                ..sale(program, "", "S-2", 10_000)
            })
            .await;
        assert_eq!(renewal.answer, expected, "{months} months: {renewal:?}");
        if expected == "HELD" {
            assert_eq!(renewal.reason, "recurrence_ended");
        }
        // A customer nobody referred earns nothing.
        let stranger = t
            .postback(RecordPostbackRequest {
                customer_id: "cust-99".into(),
                ..sale(program, "", "S-3", 10_000)
            })
            .await;
        assert_eq!(
            (stranger.answer.as_str(), stranger.reason.as_str()),
            ("HELD", "no_click")
        );
    }
}

#[tokio::test]
async fn volume_tiers_raise_the_rate_from_the_nth_sale_of_the_month() {
    let t = commissions().await;
    let program = t
        .program_with(|program| CreatePlanRequest {
            cpa: vec![],
            revshare_bps: 1_000,
            volume_tiers: vec![VolumeTier {
                from_sale: 3,
                revshare_bps: 2_000,
            }],
            ..revshare_plan(program)
        })
        .await;
    let p = partner();
    t.join(&p, program, "acme.example").await;
    let link = t.link(&p).await;
    for i in 0..4 {
        let click = t.click_at(&link, ago(600), &format!("10.3.3.{i}")).await;
        let r = t
            .postback(sale(program, &click, &format!("V-{i}"), 10_000))
            .await;
        assert_eq!(r.answer, "ACCEPTED", "{r:?}");
    }
    let mut amounts: Vec<i64> = t
        .commissions_of(&p)
        .await
        .iter()
        .map(|c| c.amount.as_ref().expect("test step").amount_minor)
        .collect();
    amounts.sort_unstable();
    assert_eq!(amounts, [1_000, 1_000, 2_000, 2_000]);
}

#[tokio::test]
async fn concurrent_duplicate_postbacks_record_one_conversion() {
    let t = commissions().await;
    let (program, p, link) = t.affiliate().await;
    let click = t.click_at(&link, ago(600), "10.0.0.1").await;
    let answers = futures::future::join_all((0..24).map(|_| {
        let client = t.client();
        let req = sale(program, &click, "T-race", 50_000);
        async move {
            let mut client = client;
            client
                .record_postback(prm_runtime::testing::grpc::request(req, None, None))
                .await
                .expect("postback")
                .into_inner()
                .answer
        }
    }))
    .await;
    let accepted = answers.iter().filter(|a| *a == "ACCEPTED").count();
    let duplicates = answers.iter().filter(|a| *a == "DUPLICATE").count();
    assert_eq!((accepted, duplicates), (1, 23), "{answers:?}");
    assert_eq!(count(&t, "conversions").await, 1);
    assert_eq!(t.commissions_of(&p).await.len(), 1);
    assert_eq!(t.sums(pid(&p)).await, vec![("USD".to_owned(), 10_000, 0)]);
}

#[tokio::test]
async fn status_updates_apply_by_transaction_id() {
    let t = commissions().await;
    let (program, p, link) = t.affiliate().await;
    let r = t
        .postback(status(program, "never-seen", "refunded", Some(100)))
        .await;
    assert_eq!(
        (r.answer.as_str(), r.http_status),
        ("UNKNOWN_TRANSACTION", 404)
    );
    let click = t.click_at(&link, ago(600), "10.0.0.1").await;
    t.postback(sale(program, &click, "T-1", 10_000)).await;
    let r = t.postback(status(program, "T-1", "approved", None)).await;
    assert_eq!(r.answer, "STATUS_UPDATED");
    let r = t.postback(status(program, "T-1", "approved", None)).await;
    assert_eq!(r.answer, "DUPLICATE");
    let r = t.postback(status(program, "T-1", "chargeback", None)).await;
    assert_eq!(r.answer, "STATUS_UPDATED");
    let c = &t.commissions_of(&p).await[0];
    assert_eq!(
        (c.status, c.reversed_minor),
        (CommissionStatus::Reversed as i32, 2_000)
    );
    let r = t.postback(status(program, "T-1", "approved", None)).await;
    assert_eq!(
        (r.answer.as_str(), r.http_status),
        ("INVALID_STATUS_CHANGE", 409)
    );
}
