//! The OpenAPI document is valid 3.1, matches the routes, and says which
//! routes need a key; unauthenticated access is exactly the public set.

use std::collections::BTreeSet;

use prm_e2e::spawn;
use serde_json::Value;

fn resolve<'a>(spec: &'a Value, reference: &str) -> Option<&'a Value> {
    spec.pointer(reference.strip_prefix('#')?)
}

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if k == "$ref" {
                    if let Some(s) = v.as_str() {
                        out.push(s.to_owned());
                    }
                } else {
                    refs(v, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_is_valid_and_matches_the_routes() {
    let stack = spawn().await;
    let r = stack.get("/openapi.json", None).await;
    assert_eq!(r.status, 200);
    let spec = r.body;
    assert!(
        spec["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        spec["openapi"]
    );
    assert!(spec["info"]["title"].is_string() && spec["info"]["version"].is_string());
    // Every $ref resolves.
    let mut all = Vec::new();
    refs(&spec, &mut all);
    assert!(!all.is_empty());
    for reference in &all {
        assert!(resolve(&spec, reference).is_some(), "dangling {reference}");
    }
    // The committed copy is current (regenerate with `make openapi`).
    let committed: Value = serde_json::from_str(include_str!("../../../../gateway/openapi.json"))
        .expect("gateway/openapi.json");
    assert_eq!(
        committed, spec,
        "gateway/openapi.json is stale: run `make openapi`"
    );
    // Each approval documents its own body (one component name once
    // served both, and MDF approvals showed the application's program_id).
    for (path, body) in [
        ("/v1/applications/{id}/approve", "ApplicationApproval"),
        ("/v1/mdf/requests/{id}/approve", "MdfApproval"),
    ] {
        let schema =
            &spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"];
        let mut bodies = Vec::new();
        refs(schema, &mut bodies);
        assert_eq!(
            bodies,
            [format!("#/components/schemas/{body}")],
            "{path}: {schema}"
        );
    }

    let public: BTreeSet<(&str, &str)> = [
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("post", "/v1/applications"),
        ("get", "/t/{code}"),
        ("get", "/v1/postbacks"),
        ("post", "/v1/postbacks"),
    ]
    .into();
    let nil = "00000000-0000-0000-0000-000000000000";
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path} documents responses"
            );
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            let is_public = public.contains(&(method.as_str(), path.as_str()));
            assert_eq!(
                secured, !is_public,
                "{method} {path}: security matches whether it needs a key"
            );
            // Every documented route is routed, and refuses a missing key unless public.
            let url = stack.url(
                &path
                    .replace("{id}", nil)
                    .replace("{version}", "v1")
                    .replace("{code}", "NoSuchCode"),
            );
            let req = match method.as_str() {
                "get" => stack.http.get(url),
                "post" => stack.http.post(url).json(&serde_json::json!({})),
                "patch" => stack.http.patch(url).json(&serde_json::json!({})),
                "put" => stack.http.put(url).json(&serde_json::json!({})),
                "delete" => stack.http.delete(url),
                other => panic!("unexpected method {other}"),
            };
            let reply = stack.send(req).await;
            assert_ne!(reply.code(), "NOT_FOUND", "{method} {path} is not routed");
            assert_ne!(
                reply.status, 405,
                "{method} {path} is not routed for {method}"
            );
            if !is_public {
                assert_eq!(
                    reply.status, 401,
                    "{method} {path} must need a key: {reply:?}"
                );
            }
            assert!(reply.status < 500, "{method} {path}: {reply:?}");
        }
    }
    // The docs and the document itself are public too (not part of the API).
    assert_eq!(stack.get("/docs", None).await.status, 200);
}
