//! Scoped and expiring keys: a read-only key reads and is refused, naming
//! the scope, on every write route of the OpenAPI document; a key never
//! makes a broader key; a key stops at its expiry and outside its
//! networks (and each refusal counts towards the failure throttle); bad
//! limits are refused by field.

use std::time::Duration;

use prm_e2e::{PartnerAccount, Stack, spawn, spawn_with};
use serde_json::{Value, json};

/// A key for the partner's admin with `body`'s scopes and limits, made
/// with `maker`.
async fn key(stack: &Stack, p: &PartnerAccount, maker: &str, body: Value) -> Value {
    let r = stack
        .post(
            &format!("/v1/partners/{}/api-keys", p.id),
            Some(maker),
            body,
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    r.body
}

#[tokio::test]
async fn a_read_only_key_reads_and_every_write_route_refuses_it_by_scope() {
    let stack = spawn().await;
    let program = stack.program("Channel").await;
    let p = stack.partner(&program, "alpha.example", "reseller").await;
    let ro = key(
        &stack,
        &p,
        &p.key,
        json!({"name": "dashboard", "scopes": ["read_only"]}),
    )
    .await;
    assert_eq!(ro["scopes"], json!(["read_only"]));
    let ro = ro["secret"].as_str().expect("secret").to_owned();
    assert_eq!(
        stack
            .get(&format!("/v1/partners/{}", p.id), Some(&ro))
            .await
            .status,
        200
    );
    assert_eq!(
        stack.get("/v1/deal-registrations", Some(&ro)).await.status,
        200
    );
    assert_eq!(stack.get("/v1/me", Some(&ro)).await.status, 200);

    let spec = stack.get("/openapi.json", None).await.body;
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let Some(scope) = op["security"][0]["api_key"][0].as_str() else {
                continue;
            };
            if method == "get" {
                continue;
            }
            assert!(scope.ends_with(".write"), "{method} {path}: {scope}");
            let url = stack.url(
                &path
                    .replace("{id}", &uuid::Uuid::now_v7().to_string())
                    .replace("{version}", "v1"),
            );
            let req = match method.as_str() {
                "post" => stack.http.post(url),
                "put" => stack.http.put(url),
                "patch" => stack.http.patch(url),
                "delete" => stack.http.delete(url),
                other => panic!("method {other}"),
            };
            let r = stack.send(req.bearer_auth(&ro).json(&json!({}))).await;
            assert_eq!(r.status, 403, "{method} {path}: {r:?}");
            assert_eq!(r.code(), "MISSING_SCOPE", "{method} {path}");
            assert!(
                r.body["detail"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(scope),
                "{method} {path} names {scope}: {r:?}"
            );
            checked += 1;
        }
    }
    assert!(checked > 50, "{checked} write routes");
}

#[tokio::test]
async fn a_key_never_makes_a_broader_key_and_bad_limits_name_their_field() {
    let stack = spawn().await;
    let program = stack.program("Channel").await;
    let p = stack.partner(&program, "alpha.example", "reseller").await;
    let narrow = key(
        &stack,
        &p,
        &p.key,
        json!({"name": "links", "scopes": ["api_keys.write", "links.read"]}),
    )
    .await;
    let narrow = narrow["secret"].as_str().expect("secret").to_owned();
    let path = format!("/v1/partners/{}/api-keys", p.id);
    for broader in [json!(["links.write"]), json!(["all"]), json!(["read_only"])] {
        let r = stack
            .post(
                &path,
                Some(&narrow),
                json!({"name": "wider", "scopes": broader}),
            )
            .await;
        assert_eq!(r.status, 403, "{broader}: {r:?}");
        assert_eq!(r.code(), "SCOPES_EXCEED_CALLER");
    }
    let same = key(&stack, &p, &narrow, json!({"name": "inherits"})).await;
    assert_eq!(same["scopes"], json!(["api_keys.write", "links.read"]));
    let narrower = key(
        &stack,
        &p,
        &narrow,
        json!({"name": "reader", "scopes": ["links.read"]}),
    )
    .await;
    assert_eq!(narrower["scopes"], json!(["links.read"]));

    let past = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    for (body, field) in [
        (json!({"name": "x", "scopes": ["deals.write"]}), "scopes"),
        (json!({"name": "x", "expires_at": past}), "expires_at"),
        (
            json!({"name": "x", "allowed_cidrs": ["10.0.0.0/8", "10.0.0.0/33"]}),
            "allowed_cidrs[1]",
        ),
    ] {
        let r = stack.post(&path, Some(&p.key), body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {r:?}");
        assert_eq!(r.fields(), [field], "{body}");
    }
}

#[tokio::test]
async fn a_key_stops_at_its_expiry_and_outside_its_networks() {
    let stack = spawn_with(|s| {
        s.auth.cache_ttl_ms = 50;
        s.http.trusted_proxy_hops = 1;
    })
    .await;
    let program = stack.program("Channel").await;
    let p = stack.partner(&program, "alpha.example", "reseller").await;
    let expires = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let brief = key(
        &stack,
        &p,
        &p.key,
        json!({"name": "brief", "expires_at": expires}),
    )
    .await;
    let brief = brief["secret"].as_str().expect("secret").to_owned();
    assert_eq!(stack.get("/v1/me", Some(&brief)).await.status, 200);
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let r = stack.get("/v1/me", Some(&brief)).await;
    assert_eq!(r.status, 401, "{r:?}");

    let office = key(
        &stack,
        &p,
        &p.key,
        json!({"name": "office", "allowed_cidrs": ["203.0.113.0/24"]}),
    )
    .await;
    assert_eq!(office["allowed_cidrs"], json!(["203.0.113.0/24"]));
    let office = office["secret"].as_str().expect("secret").to_owned();
    let from = |ip: &'static str| {
        let (stack, office) = (&stack, office.clone());
        async move {
            stack
                .send(
                    stack
                        .http
                        .get(stack.url("/v1/me"))
                        .bearer_auth(office)
                        .header("x-forwarded-for", ip),
                )
                .await
        }
    };
    assert_eq!(from("203.0.113.9").await.status, 200);
    let outside = from("198.51.100.4").await;
    assert_eq!(outside.status, 401, "{outside:?}");
    let before = stack
        .auth
        .stats()
        .failures
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(from("198.51.100.5").await.status, 401);
    assert_eq!(
        stack
            .auth
            .stats()
            .failures
            .load(std::sync::atomic::Ordering::Relaxed),
        before + 1,
        "a key used outside its networks counts as a failure"
    );
    // The key remembers where it was last used.
    let keys = stack
        .get(&format!("/v1/partners/{}/api-keys", p.id), Some(&p.key))
        .await;
    let row = keys.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|k| k["name"] == json!("office"))
        .cloned()
        .expect("the office key");
    assert_eq!(row["last_used_ip"], json!("203.0.113.9"));
}

/// Every RPC of every service declares a scope the platform knows: the
/// services check it again for calls that do not come through the
/// gateway's routes.
#[test]
fn every_rpc_of_every_service_declares_a_known_scope() {
    use prm_runtime::scopes::{ANY, GATEWAY, parse};
    let services = [
        ("onboarding", prm_onboarding::Onboarding::SCOPES),
        ("dealreg", prm_dealreg::Dealreg::SCOPES),
        ("mdf", prm_mdf::Mdf::SCOPES),
        ("commissions", prm_commissions::Commissions::SCOPES),
        ("reporting", prm_reporting::Reporting::SCOPES),
    ];
    for (service, rpcs) in services {
        assert!(!rpcs.is_empty(), "{service}");
        for (rpc, scope) in rpcs {
            assert!(
                *scope == ANY || *scope == GATEWAY || parse(scope).is_ok(),
                "{service}.{rpc} declares {scope:?}"
            );
            let reads = ["get_", "list_", "export_", "evaluate_"]
                .iter()
                .any(|p| rpc.starts_with(p));
            if reads && *scope != GATEWAY {
                assert!(scope.ends_with(".read"), "{service}.{rpc} reads: {scope}");
            }
        }
    }
}

#[tokio::test]
async fn a_rotated_key_overlaps_its_successor_and_keys_live_no_longer_than_the_maximum() {
    let stack = spawn_with(|s| s.auth.cache_ttl_ms = 50).await;
    let program = stack.program("Channel").await;
    let p = stack.partner(&program, "alpha.example", "reseller").await;
    let old = key(
        &stack,
        &p,
        &p.key,
        json!({"name": "ci", "scopes": ["links.read", "api_keys.write"]}),
    )
    .await;
    let (old_id, old_secret) = (
        old["id"].as_str().expect("id").to_owned(),
        old["secret"].as_str().expect("secret").to_owned(),
    );
    let until = chrono::Utc::now() + chrono::Duration::seconds(2);
    let r = stack
        .post(
            &format!("/v1/api-keys/{old_id}/rotate"),
            Some(&p.key),
            json!({"old_key_valid_until": until.to_rfc3339()}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.body["scopes"], json!(["links.read", "api_keys.write"]));
    assert_eq!(r.body["name"], json!("ci"));
    assert_ne!(r.str("/id"), old_id);
    assert!(r.body["rotated"]["expires_at"].is_string(), "{r:?}");
    let new_secret = r.str("/secret");
    // Both work until the overlap ends; then only the new one.
    assert_eq!(stack.get("/v1/links", Some(&old_secret)).await.status, 200);
    assert_eq!(stack.get("/v1/links", Some(&new_secret)).await.status, 200);
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    assert_eq!(stack.get("/v1/links", Some(&old_secret)).await.status, 401);
    assert_eq!(stack.get("/v1/links", Some(&new_secret)).await.status, 200);
    // A narrower key cannot rotate (and so copy) a broader one.
    let narrow = key(
        &stack,
        &p,
        &p.key,
        json!({"name": "narrow", "scopes": ["api_keys.write"]}),
    )
    .await;
    let narrow = narrow["secret"].as_str().expect("secret").to_owned();
    let r = stack
        .post(
            &format!("/v1/api-keys/{}/rotate", p.key_id),
            Some(&narrow),
            json!({}),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "SCOPES_EXCEED_CALLER"), "{r:?}");

    // The program's maximum: a key without an expiry gets the longest, a
    // longer one is refused naming the field; partners cannot set it.
    let policy = format!("/v1/programs/{}/api-key-policy", program.id);
    let r = stack
        .put(&policy, Some(&p.key), json!({"max_key_days": 30}))
        .await;
    assert_eq!(r.status, 403, "{r:?}");
    let r = stack
        .put(
            &policy,
            Some(prm_e2e::ADMIN_KEY),
            json!({"max_key_days": 30}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["max_key_days"], json!(30));
    let capped = key(&stack, &p, &p.key, json!({"name": "capped"})).await;
    let expires: chrono::DateTime<chrono::Utc> = capped["expires_at"]
        .as_str()
        .expect("an expiry")
        .parse()
        .expect("a time");
    let days = (expires - chrono::Utc::now()).num_hours();
    assert!((29 * 24..=30 * 24).contains(&days), "{days} hours");
    let too_long = (chrono::Utc::now() + chrono::Duration::days(31)).to_rfc3339();
    let r = stack
        .post(
            &format!("/v1/partners/{}/api-keys", p.id),
            Some(&p.key),
            json!({"name": "long", "expires_at": too_long}),
        )
        .await;
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(r.fields(), ["expires_at"]);
}
