//! The README's curl walk-through, as a test.

use prm_e2e::{ADMIN_KEY, spawn};
use serde_json::json;

#[tokio::test]
async fn apply_be_approved_and_read_your_own_partner() {
    let stack = spawn().await;
    // 1. Anyone applies.
    let app = stack
        .post(
            "/v1/applications",
            None,
            json!({
                "company_name": "Acme GmbH", "domain": "acme.example", "country": "DE",
                "partner_type": "reseller", "contact_name": "Jane Doe", "contact_email": "jane@acme.example"
            }),
        )
        .await;
    assert_eq!(app.status, 201, "{app:?}");
    assert_eq!(app.str("/status"), "submitted");
    let application_id = app.str("/id");

    // 2. The admin sees it, sets up a program, and approves.
    let pending = stack
        .get("/v1/applications?status=submitted", Some(ADMIN_KEY))
        .await;
    assert_eq!(pending.status, 200);
    assert_eq!(pending.body["items"].as_array().map(Vec::len), Some(1));
    let program = stack
        .post(
            "/v1/programs",
            Some(ADMIN_KEY),
            json!({"name": "Channel", "currency": "EUR"}),
        )
        .await;
    assert_eq!(program.status, 201, "{program:?}");
    let program_id = program.str("/id");
    let tier = stack
        .post(
            &format!("/v1/programs/{program_id}/tiers"),
            Some(ADMIN_KEY),
            json!({"name": "registered", "rank": 0}),
        )
        .await;
    assert_eq!(tier.status, 201, "{tier:?}");
    let approved = stack
        .post(
            &format!("/v1/applications/{application_id}/approve"),
            Some(ADMIN_KEY),
            json!({"program_id": program_id}),
        )
        .await;
    assert_eq!(approved.status, 200, "{approved:?}");
    let partner_id = approved.str("/partner/id");
    let key = approved.str("/admin_api_key/secret");
    assert!(key.starts_with("prm_"));

    // 3. The partner uses its own key.
    let me = stack.get("/v1/me", Some(&key)).await;
    assert_eq!(me.status, 200, "{me:?}");
    assert_eq!(me.str("/partner/id"), partner_id);
    assert_eq!(me.body["roles"], json!(["partner_admin"]));
    let partner = stack
        .get(&format!("/v1/partners/{partner_id}"), Some(&key))
        .await;
    assert_eq!(partner.status, 200);
    assert_eq!(partner.str("/company_name"), "Acme GmbH");
    assert_eq!(partner.str("/status"), "active");
    assert_eq!(partner.str("/tier_name"), "registered");

    // 4. Terms, a colleague, a key for them, the checklist.
    let terms = stack
        .post("/v1/terms", Some(ADMIN_KEY), json!({"kind": "partner_agreement", "version": "2026-11", "title": "Partner Agreement", "body": "..."}))
        .await;
    assert_eq!(terms.status, 201, "{terms:?}");
    let accepted = stack
        .post("/v1/terms/2026-11/accept", Some(&key), json!({}))
        .await;
    assert_eq!(accepted.status, 200, "{accepted:?}");
    let colleague = stack
        .post(
            &format!("/v1/partners/{partner_id}/users"),
            Some(&key),
            json!({"email": "sam@acme.example", "display_name": "Sam Seller", "roles": ["partner_user"]}),
        )
        .await;
    assert_eq!(colleague.status, 201, "{colleague:?}");
    let their_key = stack
        .post(
            &format!("/v1/partners/{partner_id}/api-keys"),
            Some(&key),
            json!({"name": "sam", "user_id": colleague.str("/id")}),
        )
        .await;
    assert_eq!(their_key.status, 201, "{their_key:?}");
    let sam = their_key.str("/secret");
    assert_eq!(
        stack.get("/v1/me", Some(&sam)).await.str("/user/email"),
        "sam@acme.example"
    );
    let checklist = stack
        .get(&format!("/v1/partners/{partner_id}/checklist"), Some(&key))
        .await;
    assert_eq!(checklist.status, 200);
    let done: Vec<&str> = checklist.body["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|i| i["done"] == json!(true))
                .filter_map(|i| i["kind"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        done.contains(&"terms_accepted") && done.contains(&"first_user_active"),
        "{done:?}"
    );

    // 5. Revoking a key: it stops working (the test gateway caches for 5 s at most).
    let revoked = stack
        .delete(
            &format!("/v1/api-keys/{}", their_key.str("/id")),
            Some(&key),
        )
        .await;
    assert_eq!(revoked.status, 200, "{revoked:?}");
    assert!(revoked.body["revoked_at"].is_string());
}

#[tokio::test]
async fn revocation_takes_effect_within_the_cache_ttl() {
    let stack = prm_e2e::spawn_with(|s| s.auth.cache_ttl_ms = 300).await;
    let program = stack.program("Channel").await;
    let p = stack.partner(&program, "acme.example", "si").await;
    assert_eq!(stack.get("/v1/me", Some(&p.key)).await.status, 200);
    let other = stack
        .post(
            &format!("/v1/partners/{}/api-keys", p.id),
            Some(&p.key),
            json!({"name": "temp"}),
        )
        .await;
    assert_eq!(other.status, 201, "{other:?}");
    let temp = other.str("/secret");
    assert_eq!(
        stack.get("/v1/me", Some(&temp)).await.status,
        200,
        "cached now"
    );
    assert_eq!(
        stack
            .delete(&format!("/v1/api-keys/{}", other.str("/id")), Some(&p.key))
            .await
            .status,
        200
    );
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let after = stack.get("/v1/me", Some(&temp)).await;
    assert_eq!(after.status, 401);
    assert_eq!(after.code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn health_and_docs_need_no_key() {
    let stack = spawn().await;
    assert_eq!(stack.get("/healthz", None).await.status, 200);
    let ready = stack.get("/readyz", None).await;
    assert_eq!(ready.status, 200, "{ready:?}");
    assert_eq!(ready.str("/status"), "ready");
    let docs = stack.send(stack.http.get(stack.url("/docs"))).await;
    assert_eq!(docs.status, 200);
    assert!(
        docs.body
            .as_str()
            .unwrap_or_default()
            .contains("/openapi.json")
    );
}

#[tokio::test]
async fn readiness_fails_when_the_upstream_is_down() {
    let mut stack = spawn().await;
    stack.onboarding.stop().await.expect("stop onboarding");
    let ready = stack.get("/readyz", None).await;
    assert_eq!(ready.status, 503, "{ready:?}");
    // Calls that need the upstream answer 503 problems, never hang or 500.
    let r = stack.get("/v1/me", Some(ADMIN_KEY)).await;
    assert_eq!(r.status, 503, "{r:?}");
    assert!(r.is_problem());
    assert!(r.header("retry-after").is_some());
}
