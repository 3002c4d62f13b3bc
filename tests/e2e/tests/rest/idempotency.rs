//! `Idempotency-Key` on POSTs: the first response replays; the same key
//! with a different body is a 422.

use prm_e2e::{ADMIN_KEY, spawn};
use serde_json::json;

#[tokio::test]
async fn a_retried_post_replays_and_a_changed_body_is_refused() {
    let stack = spawn().await;
    let form = json!({"company_name": "Acme", "domain": "acme.example", "country": "DE", "partner_type": "affiliate",
                      "contact_name": "Jane", "contact_email": "jane@acme.example"});
    let first = stack
        .post_idem("/v1/applications", None, "app-1", form.clone())
        .await;
    let again = stack
        .post_idem("/v1/applications", None, "app-1", form.clone())
        .await;
    assert_eq!(first.status, 201, "{first:?}");
    assert_eq!(again.status, 201, "{again:?}");
    assert_eq!(first.body, again.body, "the same response, byte for byte");
    let mut changed = form.clone();
    changed["company_name"] = json!("Acme Two");
    let reused = stack
        .post_idem("/v1/applications", None, "app-1", changed)
        .await;
    assert_eq!(
        (reused.status, reused.code()),
        (422, "IDEMPOTENCY_KEY_REUSED"),
        "{reused:?}"
    );
    let list = stack.get("/v1/applications", Some(ADMIN_KEY)).await;
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(1));

    // Keys scope to the caller: an authenticated retry of a state change.
    let program = stack.program("Channel").await;
    let approve = format!("/v1/applications/{}/approve", first.str("/id"));
    let a = stack
        .post_idem(
            &approve,
            Some(ADMIN_KEY),
            "approve-1",
            json!({"program_id": program.id}),
        )
        .await;
    let b = stack
        .post_idem(
            &approve,
            Some(ADMIN_KEY),
            "approve-1",
            json!({"program_id": program.id}),
        )
        .await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(
        b.status, 200,
        "a replay, not APPLICATION_ALREADY_APPROVED: {b:?}"
    );
    assert_eq!(a.str("/partner/id"), b.str("/partner/id"));
    assert!(a.body["admin_api_key"]["secret"].is_string());
    assert!(
        b.body["admin_api_key"]["secret"].is_null(),
        "secrets are never replayed"
    );
    // Without the key the second approval is a conflict, as it should be.
    let c = stack
        .post(&approve, Some(ADMIN_KEY), json!({"program_id": program.id}))
        .await;
    assert_eq!((c.status, c.code()), (409, "APPLICATION_ALREADY_APPROVED"));
    let partners = stack.get("/v1/partners", Some(ADMIN_KEY)).await;
    assert_eq!(partners.body["items"].as_array().map(Vec::len), Some(1));
}
