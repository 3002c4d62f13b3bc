//! Bad input gets a 4xx problem+json naming the problem; nothing is stored.

use prm_e2e::{ADMIN_KEY, spawn};
use serde_json::json;

fn form() -> serde_json::Value {
    json!({"company_name": "Acme", "domain": "acme.example", "country": "DE", "partner_type": "reseller",
           "contact_name": "Jane", "contact_email": "jane@acme.example"})
}

#[tokio::test]
async fn malformed_requests_are_named_4xx_problems_and_store_nothing() {
    let stack = spawn().await;
    let url = stack.url("/v1/applications");
    let cases: Vec<(reqwest::RequestBuilder, u16, &str, Option<&str>)> = vec![
        (
            stack
                .http
                .post(&url)
                .header("content-type", "application/json")
                .body("{\"company_name\": "),
            400,
            "MALFORMED_JSON",
            None,
        ),
        (
            stack
                .http
                .post(&url)
                .header("content-type", "application/json")
                .body("[1,2]"),
            400,
            "INVALID_ARGUMENT",
            Some("body"),
        ),
        (
            stack.http.post(&url).json(&json!({"company_name": 42})),
            400,
            "INVALID_ARGUMENT",
            Some("company_name"),
        ),
        (
            stack.http.post(&url).json(&{
                let mut f = form();
                f["status"] = json!("approved");
                f
            }),
            400,
            "INVALID_ARGUMENT",
            Some("status"),
        ),
        (
            stack.http.post(&url).json(&{
                let mut f = form();
                f["partner_type"] = json!("distributor");
                f
            }),
            400,
            "INVALID_ARGUMENT",
            Some("partner_type"),
        ),
        (
            stack.http.post(&url).body(form().to_string()),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            None,
        ),
        (
            stack
                .http
                .post(&url)
                .header("content-type", "application/json")
                .body(format!("{{\"company_name\": \"{}\"}}", "x".repeat(200_000))),
            413,
            "PAYLOAD_TOO_LARGE",
            None,
        ),
        (
            stack.http.post(&url).json(&{
                let mut f = form();
                f["domain"] = json!("not a domain");
                f["country"] = json!("XX");
                f
            }),
            400,
            "INVALID_ARGUMENT",
            Some("domain"),
        ),
        (
            stack
                .http
                .post(&url)
                .header("Idempotency-Key", "")
                .json(&form()),
            400,
            "INVALID_ARGUMENT",
            Some("Idempotency-Key"),
        ),
    ];
    for (req, status, code, field) in cases {
        let r = stack.send(req).await;
        assert_eq!(r.status, status, "{r:?}");
        assert!(r.is_problem(), "{r:?}");
        assert_eq!(r.code(), code, "{r:?}");
        assert_eq!(r.body["status"], json!(status));
        if let Some(f) = field {
            assert!(
                r.fields().iter().any(|x| x == f),
                "expected field {f} in {r:?}"
            );
        }
    }
    // The service names every bad field at once.
    let r = stack
        .post("/v1/applications", None, json!({"company_name": "", "domain": "x", "country": "Germany", "partner_type": "reseller", "contact_name": "J", "contact_email": "nope"}))
        .await;
    assert_eq!(
        r.fields(),
        ["company_name", "domain", "country", "contact_email"]
    );
    let stored = stack.get("/v1/applications", Some(ADMIN_KEY)).await;
    assert_eq!(stored.body["items"], json!([]), "nothing was stored");
}

#[tokio::test]
async fn auth_failures_and_missing_things() {
    let stack = spawn().await;
    let program = stack.program("Channel").await;
    let p = stack.partner(&program, "acme.example", "reseller").await;
    let nil = "00000000-0000-0000-0000-000000000000";
    let cases = [
        (stack.get("/v1/me", None).await, 401, "UNAUTHENTICATED"),
        (
            stack
                .get("/v1/me", Some("prm_not_a_real_key_at_all_000000000000000"))
                .await,
            401,
            "UNAUTHENTICATED",
        ),
        (
            stack
                .send(
                    stack
                        .http
                        .get(stack.url("/v1/me"))
                        .header("authorization", "Basic abc"),
                )
                .await,
            401,
            "UNAUTHENTICATED",
        ),
        (
            stack.get("/v1/partners/not-a-uuid", Some(&p.key)).await,
            400,
            "INVALID_ARGUMENT",
        ),
        (
            stack
                .get(&format!("/v1/partners/{nil}"), Some(ADMIN_KEY))
                .await,
            404,
            "NOT_FOUND",
        ),
        (
            stack.get("/v1/no-such-route", Some(ADMIN_KEY)).await,
            404,
            "NOT_FOUND",
        ),
        (
            stack.delete("/v1/partners", Some(ADMIN_KEY)).await,
            405,
            "METHOD_NOT_ALLOWED",
        ),
        (
            stack
                .post(
                    &format!("/v1/applications/{}/approve", p.application_id),
                    Some(ADMIN_KEY),
                    json!({"program_id": program.id}),
                )
                .await,
            409,
            "APPLICATION_ALREADY_APPROVED",
        ),
        (
            stack
                .post(
                    &format!("/v1/applications/{}/approve", p.application_id),
                    Some(&p.key),
                    json!({"program_id": program.id}),
                )
                .await,
            403,
            "ROLE_REQUIRED",
        ),
        (
            stack
                .post(
                    &format!("/v1/partners/{}/suspend", p.id),
                    Some(&p.key),
                    json!({"reason": "self"}),
                )
                .await,
            403,
            "ROLE_REQUIRED",
        ),
        (
            stack
                .post(
                    &format!("/v1/partners/{}/tier", p.id),
                    Some(&p.key),
                    json!({"tier_id": program.tiers[2], "reason": "gold please"}),
                )
                .await,
            403,
            "ROLE_REQUIRED",
        ),
        (
            stack
                .get("/v1/partners?page_token=garbage", Some(ADMIN_KEY))
                .await,
            400,
            "INVALID_ARGUMENT",
        ),
        (
            stack
                .get("/v1/partners?page_size=abc", Some(ADMIN_KEY))
                .await,
            400,
            "INVALID_ARGUMENT",
        ),
        (
            stack
                .post("/v1/terms/v1/accept", Some(ADMIN_KEY), json!({}))
                .await,
            403,
            "PARTNER_ADMIN_REQUIRED",
        ),
    ];
    for (r, status, code) in cases {
        assert_eq!((r.status, r.code()), (status, code), "{r:?}");
        assert!(r.is_problem(), "{r:?}");
    }
    // Unauthenticated replies say how to authenticate.
    assert_eq!(
        stack.get("/v1/me", None).await.header("www-authenticate"),
        Some("Bearer")
    );
    // The partner's forbidden attempts changed nothing.
    let partner = stack
        .get(&format!("/v1/partners/{}", p.id), Some(ADMIN_KEY))
        .await;
    assert_eq!(
        (partner.str("/status"), partner.str("/tier_name")),
        ("active".into(), "registered".into())
    );
}

#[tokio::test]
async fn fields_a_partner_may_not_set_are_refused() {
    let stack = spawn().await;
    let program = stack.program("Channel").await;
    let p = stack.partner(&program, "acme.example", "reseller").await;
    // A partner admin cannot mint staff users.
    let r = stack
        .post(
            &format!("/v1/partners/{}/users", p.id),
            Some(&p.key),
            json!({"email": "x@acme.example", "display_name": "X", "roles": ["admin"]}),
        )
        .await;
    assert_eq!(
        (r.status, r.fields()),
        (400, vec!["roles[0]".to_owned()]),
        "{r:?}"
    );
    // Unknown fields such as a self-assigned tier are refused, not ignored silently.
    let r = stack
        .post(
            &format!("/v1/partners/{}/api-keys", p.id),
            Some(&p.key),
            json!({"name": "k", "roles": ["admin"]}),
        )
        .await;
    assert_eq!(
        (r.status, r.fields()),
        (400, vec!["roles".to_owned()]),
        "{r:?}"
    );
    let users = stack
        .get(&format!("/v1/partners/{}/users", p.id), Some(&p.key))
        .await;
    assert_eq!(users.body["items"].as_array().map(Vec::len), Some(1));
}
