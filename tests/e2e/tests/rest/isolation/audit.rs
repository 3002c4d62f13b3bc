//! The audit log over the whole platform: a partner admin reads only its
//! own organisation's events; every staff write operation of the OpenAPI
//! document that succeeds writes exactly one event (and one that fails
//! writes none); every service's chain verifies; and a row edited behind
//! the append-only trigger's back is found.

use prm_e2e::{ADMIN_KEY, Stack};
use serde_json::Value;

use super::checks::call;
use super::routes::ROUTES;
use super::world::World;

/// Every service's audit events, counted in its own database.
async fn counts(stack: &Stack) -> Vec<(&'static str, i64)> {
    let mut out = Vec::new();
    for (name, svc) in [
        ("onboarding", &stack.onboarding),
        ("dealreg", &stack.dealreg),
        ("mdf", &stack.mdf),
        ("commissions", &stack.commissions),
        ("reporting", &stack.reporting),
    ] {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&svc.db.url)
            .await
            .expect("service db");
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events")
            .fetch_one(&pool)
            .await
            .expect("count");
        pool.close().await;
        out.push((name, n));
    }
    out
}

fn total(c: &[(&'static str, i64)]) -> i64 {
    c.iter().map(|(_, n)| n).sum()
}

/// A partner admin sees its own organisation's events and never B's.
pub(super) async fn a_reads_only_its_own_audit_events(world: &World) {
    let stack = &world.stack;
    let staff_view = stack
        .get(
            &format!("/v1/audit-events?partner_id={}&page_size=500", world.b.id),
            Some(ADMIN_KEY),
        )
        .await;
    assert_eq!(staff_view.status, 200, "{staff_view:?}");
    let b_events = staff_view.body["items"].as_array().expect("items").len();
    assert!(b_events > 0, "B's organisation has audit events");
    for url in [
        "/v1/audit-events?page_size=500".to_owned(),
        format!("/v1/audit-events?partner_id={}", world.b.id),
    ] {
        let r = stack.get(&url, Some(&world.a.key)).await;
        if r.status == 404 {
            continue; // naming B's organisation: not found, as for any of B's
        }
        assert_eq!(r.status, 200, "{url}: {r:?}");
        for e in r.body["items"].as_array().expect("items") {
            assert_eq!(e["partner_id"], Value::String(world.a.id.clone()), "{e}");
        }
    }
}

/// Every staff write of the document, as an admin, at B's resources: each
/// success adds exactly one event, each refusal none. Then the chains.
pub(super) async fn every_staff_write_is_audited_once_and_the_chains_hold(world: &World) {
    let stack = &world.stack;
    let spec = stack.get("/openapi.json", None).await.body;
    let mut succeeded = Vec::new();
    // What would stop B from being acted on goes last.
    let ends_b = |path: &str| {
        ["/suspend", "/terminate", "/deactivate", "/v1/api-keys/{id}"]
            .iter()
            .any(|p| path.contains(p))
    };
    let probes = ROUTES
        .iter()
        .filter(|p| !ends_b(p.path))
        .chain(ROUTES.iter().filter(|p| ends_b(p.path)));
    for probe in probes {
        let scope = spec["paths"][probe.path][probe.method]["security"][0]["api_key"][0]
            .as_str()
            .unwrap_or_default();
        if !scope.ends_with(".write") {
            continue;
        }
        let (path, body) = world.target(probe.path);
        let before = counts(stack).await;
        let r = call(stack, probe.method, &path, ADMIN_KEY, body).await;
        let after = counts(stack).await;
        let added = total(&after) - total(&before);
        if (200..300).contains(&r.status) {
            assert_eq!(
                added, 1,
                "{} {} succeeded and wrote {added} audit events: {after:?}",
                probe.method, probe.path
            );
            succeeded.push(format!("{} {}", probe.method, probe.path));
        } else {
            assert_eq!(
                added, 0,
                "{} {} was refused ({}) and wrote {added} audit events",
                probe.method, probe.path, r.status
            );
        }
    }
    assert!(
        succeeded.len() >= 30,
        "{} staff writes succeeded: {succeeded:?}",
        succeeded.len()
    );
    let events = stack
        .get("/v1/audit-events?page_size=5", Some(ADMIN_KEY))
        .await;
    assert_eq!(events.status, 200);
    let first = &events.body["items"][0];
    assert!(
        first["action"].as_str().is_some_and(|a| a.contains('.')),
        "{first}"
    );
    assert!(
        !first["actor"]["user_id"]
            .as_str()
            .unwrap_or_default()
            .is_empty()
    );
    assert_eq!(first["client_ip"], Value::String("127.0.0.1".into()));
    // Pages follow each other without repeating an event.
    let mut seen = std::collections::BTreeSet::new();
    let mut token: Option<String> = None;
    loop {
        let url = match &token {
            Some(t) => format!("/v1/audit-events?page_size=7&page_token={t}"),
            None => "/v1/audit-events?page_size=7".to_owned(),
        };
        let page = stack.get(&url, Some(ADMIN_KEY)).await;
        assert_eq!(page.status, 200, "{page:?}");
        for e in page.body["items"].as_array().expect("items") {
            assert!(
                seen.insert(e["id"].as_str().unwrap_or_default().to_owned()),
                "{e}"
            );
        }
        match page.body["next_page_token"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len() as i64, total(&counts(stack).await));
    let csv = stack
        .send(
            stack
                .http
                .get(stack.url("/v1/audit-events/export"))
                .bearer_auth(ADMIN_KEY),
        )
        .await;
    assert_eq!(csv.status, 200);
    let text = csv.body.as_str().unwrap_or_default();
    assert!(
        text.starts_with("occurred_at,service,seq,action"),
        "{text:.200}"
    );
    assert_eq!(
        text.lines().count(),
        seen.len() + 1,
        "a header and every event"
    );

    let v = stack
        .get("/v1/audit-events/verification", Some(ADMIN_KEY))
        .await;
    assert_eq!(v.status, 200, "{v:?}");
    assert_eq!(v.body["intact"], Value::Bool(true), "{v:?}");

    // Behind the trigger's back (a superuser in a test database), one
    // event is edited: the chain check finds that very event.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&stack.onboarding.db.url)
        .await
        .expect("onboarding db");
    let refused = sqlx::query("UPDATE audit_events SET changes = '{}' WHERE seq = 2")
        .execute(&pool)
        .await;
    assert!(refused.is_err(), "the table refuses an update");
    for sql in [
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only",
        "UPDATE audit_events SET changes = '{}' WHERE seq = 2",
        "ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only",
    ] {
        sqlx::query(sql).execute(&pool).await.expect(sql);
    }
    let v = stack
        .get("/v1/audit-events/verification", Some(ADMIN_KEY))
        .await;
    assert_eq!(v.body["intact"], Value::Bool(false), "{v:?}");
    let onboarding = v.body["services"]
        .as_array()
        .expect("services")
        .iter()
        .find(|s| s["service"] == "onboarding")
        .cloned()
        .expect("onboarding");
    assert_eq!(
        onboarding["first_broken_seq"],
        Value::from(2),
        "{onboarding}"
    );
    assert_eq!(onboarding["intact"], Value::Bool(false));
}
