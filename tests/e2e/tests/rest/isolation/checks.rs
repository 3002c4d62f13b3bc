//! The checks: the route table equals the OpenAPI paths; every 404 and 403
//! route refuses A's call at B; the own-only routes show A its own data
//! and nothing of B's; and B is exactly as it was.

use std::collections::BTreeSet;

use prm_e2e::{ADMIN_KEY, Reply, Stack};
use serde_json::{Value, json};

use super::routes::{Expect, ROUTES};
use super::world::{World, close_date};

#[tokio::test]
async fn partners_never_reach_each_other_over_any_route() {
    let world = World::seed().await;
    every_documented_route_is_classified(&world).await;
    a_is_refused_on_every_route_at_b(&world).await;
    own_only_routes_show_a_its_own(&world).await;
    terms_are_accepted_for_the_callers_partner(&world).await;
    registrations_stay_apart(&world).await;
    mdf_stays_apart(&world).await;
    commissions_stay_apart(&world).await;
    refused_keys_reach_nothing(&world).await;
    super::audit::a_reads_only_its_own_audit_events(&world).await;
    b_is_as_it_was(&world).await;
    // Staff act on B's resources last: B is not as it was after this.
    super::audit::every_staff_write_is_audited_once_and_the_chains_hold(&world).await;
}

/// A's revoked and expired keys get 401 on every authenticated route, and
/// a key scoped to reading links gets 403 naming the scope on every route
/// that needs another (and B is unchanged, checked after).
async fn refused_keys_reach_nothing(world: &World) {
    let stack = &world.stack;
    let keys = format!("/v1/partners/{}/api-keys", world.a.id);
    let make = |body: Value| {
        let keys = keys.clone();
        async move {
            let r = stack.post(&keys, Some(&world.a.key), body).await;
            assert_eq!(r.status, 201, "{r:?}");
            (r.str("/id"), r.str("/secret"))
        }
    };
    let (revoked_id, revoked) = make(json!({"name": "revoked"})).await;
    let r = stack
        .delete(&format!("/v1/api-keys/{revoked_id}"), Some(&world.a.key))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc3339();
    let (_, expired) = make(json!({"name": "expired", "expires_at": soon})).await;
    let (_, links_only) = make(json!({"name": "links", "scopes": ["links.read"]})).await;
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    let spec = stack.get("/openapi.json", None).await.body;
    let mut checked = 0;
    for probe in ROUTES {
        let Some(requirement) = spec["paths"][probe.path][probe.method]["security"][0]
            .get("api_key")
            .and_then(Value::as_array)
        else {
            continue; // public
        };
        let scope = requirement.first().and_then(Value::as_str);
        let (path, body) = world.target(probe.path);
        for key in [&revoked, &expired] {
            let r = call(stack, probe.method, &path, key, body.clone()).await;
            assert_eq!(r.status, 401, "{} {}: {r:?}", probe.method, probe.path);
        }
        if let Some(scope) = scope.filter(|s| *s != "links.read") {
            let r = call(stack, probe.method, &path, &links_only, body.clone()).await;
            assert_eq!(r.status, 403, "{} {}: {r:?}", probe.method, probe.path);
            assert_eq!(r.code(), "MISSING_SCOPE");
            assert!(
                r.body["detail"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(scope)
            );
        }
        checked += 1;
    }
    assert!(checked > 90, "{checked} authenticated routes");
}

/// The route table equals the OpenAPI document's (method, path) pairs.
async fn every_documented_route_is_classified(world: &World) {
    let spec = world.stack.get("/openapi.json", None).await.body;
    let documented: BTreeSet<(String, String)> = spec["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("item")
                .keys()
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    let classified: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|p| (p.method.to_owned(), p.path.to_owned()))
        .collect();
    assert_eq!(
        documented, classified,
        "classify every route in isolation/routes.rs"
    );
}

/// A aims every NotFound and Forbidden route at B's resources and gets
/// that status, as a problem.
async fn a_is_refused_on_every_route_at_b(world: &World) {
    for probe in ROUTES {
        let (path, body) = world.target(probe.path);
        let want = match probe.expect {
            Expect::NotFound => 404,
            Expect::Forbidden => 403,
            Expect::OwnOnly | Expect::Shared => continue,
        };
        let r = call(&world.stack, probe.method, &path, &world.a.key, body).await;
        assert_eq!(r.status, want, "{} {} -> {r:?}", probe.method, probe.path);
        assert!(r.is_problem());
    }
}

/// Own-only routes show A's data and nothing of B's.
async fn own_only_routes_show_a_its_own(world: &World) {
    let World {
        stack,
        p1,
        p2,
        a,
        b,
        ..
    } = world;
    assert_eq!(
        ids(&stack.get("/v1/partners", Some(&a.key)).await),
        std::slice::from_ref(&a.id)
    );
    assert_eq!(
        ids(&stack.get("/v1/programs", Some(&a.key)).await),
        std::slice::from_ref(&p1.id)
    );
    let tiers = stack.get("/v1/tiers", Some(&a.key)).await;
    assert_eq!(ids(&tiers), p1.tiers);
    assert_eq!(
        stack
            .get(&format!("/v1/tiers?program_id={}", p2.id), Some(&a.key))
            .await
            .status,
        404
    );
    assert_eq!(
        stack.get("/v1/me", Some(&a.key)).await.str("/partner/id"),
        a.id
    );
    assert!(
        ids(&stack.get("/v1/certifications", Some(&a.key)).await).is_empty(),
        "B's certification is not listed for A"
    );
    assert_eq!(
        stack
            .get(
                &format!("/v1/certifications?partner_id={}", b.id),
                Some(&a.key)
            )
            .await
            .status,
        404
    );
    assert_eq!(
        stack
            .get(&format!("/v1/content?partner_id={}", b.id), Some(&a.key))
            .await
            .status,
        404
    );
}

/// Accepting terms acts for the caller's own partner only.
async fn terms_are_accepted_for_the_callers_partner(world: &World) {
    let World { stack, a, .. } = world;
    stack
        .post(
            "/v1/terms",
            Some(ADMIN_KEY),
            json!({"kind": "partner_agreement", "version": "v1", "title": "t", "body": "b"}),
        )
        .await;
    let acc = stack
        .post("/v1/terms/v1/accept", Some(&a.key), json!({}))
        .await;
    assert_eq!(acc.str("/partner_id"), a.id);
}

/// Registrations: A lists only its own, and cannot register for B; B's
/// registration is untouched.
async fn registrations_stay_apart(world: &World) {
    let World {
        stack,
        a,
        b,
        targets,
        ..
    } = world;
    let a_registration = stack
        .post(
            "/v1/deal-registrations",
            Some(&a.key),
            json!({
                "customer_company": "Alpha Customer", "customer_domain": "alpha-customer.example",
                "contact": {"name": "Al", "email": "al@alpha-customer.example"},
                "estimated_value": {"amount_minor": 100000, "currency": "EUR"},
                "expected_close_date": close_date()
            }),
        )
        .await;
    assert_eq!(a_registration.status, 201, "{a_registration:?}");
    assert_eq!(
        ids(&stack.get("/v1/deal-registrations", Some(&a.key)).await),
        [a_registration.str("/id")]
    );
    assert_eq!(
        stack
            .get(
                &format!("/v1/deal-registrations?partner_id={}", b.id),
                Some(&a.key)
            )
            .await
            .status,
        404
    );
    let for_b = stack
        .post(
            "/v1/deal-registrations",
            Some(&a.key),
            json!({
                "partner_id": b.id,
                "customer_company": "Gamma", "customer_domain": "gamma.example",
                "contact": {"name": "G", "email": "g@gamma.example"},
                "estimated_value": {"amount_minor": 1, "currency": "EUR"},
                "expected_close_date": close_date()
            }),
        )
        .await;
    assert_eq!(for_b.status, 404, "{for_b:?}");
    let b_reg = stack
        .get(
            &format!("/v1/deal-registrations/{}", targets.registration),
            Some(&b.key),
        )
        .await;
    assert_eq!(
        (b_reg.str("/status"), b_reg.str("/notes")),
        ("submitted".into(), String::new())
    );
}

/// MDF: A lists none of B's funds, requests or claims, and naming B is
/// NotFound; B's fund is untouched.
async fn mdf_stays_apart(world: &World) {
    let World {
        stack,
        a,
        b,
        targets,
        ..
    } = world;
    for list in ["/v1/mdf/funds", "/v1/mdf/requests", "/v1/mdf/claims"] {
        assert!(
            ids(&stack.get(list, Some(&a.key)).await).is_empty(),
            "{list}"
        );
        let named = stack
            .get(&format!("{list}?partner_id={}", b.id), Some(&a.key))
            .await;
        assert_eq!(named.status, 404, "{list}: {named:?}");
    }
    let b_fund = stack
        .get(&format!("/v1/mdf/funds/{}", targets.fund), Some(&b.key))
        .await;
    assert_eq!(
        b_fund.body["balance"]["available"]["amount_minor"],
        json!(90000)
    );
    assert_eq!(
        ids(&stack.get("/v1/mdf/claims", Some(&b.key)).await),
        std::slice::from_ref(&targets.claim)
    );
}

/// Commissions: A lists none of B's links, conversions, commissions,
/// ledger entries or postbacks, and naming B is NotFound; B's commission
/// and link are untouched.
async fn commissions_stay_apart(world: &World) {
    let World { stack, a, b, .. } = world;
    for list in [
        "/v1/links",
        "/v1/conversions",
        "/v1/commissions",
        "/v1/postback-log",
    ] {
        assert!(
            ids(&stack.get(list, Some(&a.key)).await).is_empty(),
            "{list}"
        );
        let named = stack
            .get(&format!("{list}?partner_id={}", b.id), Some(&a.key))
            .await;
        assert_eq!(named.status, 404, "{list}: {named:?}");
    }
    let a_ledger = stack.get("/v1/ledger", Some(&a.key)).await;
    assert_eq!(a_ledger.status, 200, "{a_ledger:?}");
    assert_eq!(a_ledger.body["items"], json!([]));
    assert_eq!(
        stack
            .get(&format!("/v1/ledger?partner_id={}", b.id), Some(&a.key))
            .await
            .status,
        404
    );
    assert!(
        ids(&stack.get("/v1/plans", Some(&a.key)).await).is_empty(),
        "B's program's plans are not A's"
    );
    let b_commissions = stack.get("/v1/commissions", Some(&b.key)).await;
    assert_eq!(ids(&b_commissions).len(), 1, "{b_commissions:?}");
    let b_link_now = stack.get("/v1/links", Some(&b.key)).await;
    assert_eq!(b_link_now.body["items"][0]["status"], json!("active"));
}

/// B is exactly as it was: active at its tier, one user, its own key, its
/// terms still to accept.
async fn b_is_as_it_was(world: &World) {
    let World { stack, b, .. } = world;
    let b_now = stack
        .get(&format!("/v1/partners/{}", b.id), Some(&b.key))
        .await;
    assert_eq!(
        (b_now.str("/status"), b_now.str("/tier_name")),
        ("active".into(), "registered".into())
    );
    assert_eq!(
        ids(&stack
            .get(&format!("/v1/partners/{}/users", b.id), Some(&b.key))
            .await)
        .len(),
        1
    );
    assert_eq!(
        ids(&stack
            .get(&format!("/v1/partners/{}/api-keys", b.id), Some(&b.key))
            .await),
        std::slice::from_ref(&b.key_id)
    );
    let b_terms = stack
        .get(&format!("/v1/partners/{}/terms-status", b.id), Some(&b.key))
        .await;
    assert_eq!(b_terms.body["all_accepted"], json!(false));
}

pub(super) async fn call(stack: &Stack, method: &str, path: &str, key: &str, body: Value) -> Reply {
    match method {
        "get" => stack.get(path, Some(key)).await,
        "delete" => stack.delete(path, Some(key)).await,
        "patch" => stack.patch(path, Some(key), body).await,
        "put" => stack.put(path, Some(key), body).await,
        _ => stack.post(path, Some(key), body).await,
    }
}

fn ids(r: &Reply) -> Vec<String> {
    r.body["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
