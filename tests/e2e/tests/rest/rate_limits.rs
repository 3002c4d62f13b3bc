use prm_e2e::spawn_with;
use serde_json::json;

#[tokio::test]
async fn each_key_has_its_own_limit_with_headers() {
    let stack = spawn_with(|s| {
        s.rate_limit.per_key_per_second = 1;
        // The admin's setup calls fit in the burst.
        s.rate_limit.per_key_burst = 10;
    })
    .await;
    let program = stack.program("Channel").await;
    let a = stack.partner(&program, "alpha.example", "reseller").await;
    let b = stack.partner(&program, "beta.example", "reseller").await;
    let mut statuses = Vec::new();
    let mut last = None;
    for _ in 0..13 {
        let r = stack.get("/v1/me", Some(&a.key)).await;
        statuses.push(r.status);
        last = Some(r);
    }
    assert!(statuses[..10].iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    let limited = last.expect("reply");
    assert_eq!(limited.code(), "RATE_LIMITED");
    assert!(limited.is_problem());
    assert_eq!(limited.header("retry-after"), Some("1"));
    assert_eq!(limited.header("ratelimit-limit"), Some("10"));
    assert_eq!(limited.header("ratelimit-remaining"), Some("0"));
    assert!(limited.header("ratelimit-reset").is_some());
    // Another key is unaffected, and successful replies carry the headers too.
    let ok = stack.get("/v1/me", Some(&b.key)).await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.header("ratelimit-limit"), Some("10"));
    assert_eq!(ok.header("ratelimit-remaining"), Some("9"));
    // After the refill window A is served again.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    assert_eq!(stack.get("/v1/me", Some(&a.key)).await.status, 200);
}

#[tokio::test]
async fn the_public_form_is_limited_per_client_address() {
    let stack = spawn_with(|s| s.rate_limit.public_per_minute = 2).await;
    let mut statuses = Vec::new();
    for i in 0..3 {
        let r = stack
            .post(
                "/v1/applications",
                None,
                json!({"company_name": format!("Co {i}"), "domain": format!("co{i}.example"), "country": "FR",
                       "partner_type": "referral", "contact_name": "C", "contact_email": format!("c@co{i}.example")}),
            )
            .await;
        statuses.push((r.status, r.header("retry-after").map(str::to_owned)));
    }
    assert_eq!(statuses[0].0, 201);
    assert_eq!(statuses[1].0, 201);
    assert_eq!(statuses[2].0, 429);
    assert!(
        statuses[2]
            .1
            .as_deref()
            .is_some_and(|s| s.parse::<u64>().is_ok_and(|n| n >= 1))
    );
}
