use std::sync::atomic::Ordering;

use futures::StreamExt;
use prm_e2e::{ADMIN_KEY, spawn_with};
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

fn random_key() -> String {
    format!("prm_{:032x}", rand::random::<u128>())
}

#[tokio::test]
async fn random_keys_from_one_address_are_throttled_before_onboarding_and_a_valid_key_is_not() {
    let stack = spawn_with(|s| {
        s.auth.failure_burst = 20;
        s.auth.failure_window_secs = 300;
    })
    .await;
    let program = stack.program("Channel").await;
    let partner = stack.partner(&program, "alpha.example", "reseller").await;
    assert_eq!(stack.get("/v1/me", Some(&partner.key)).await.status, 200);
    let lookups_before = stack.auth.stats().lookups.load(Ordering::Relaxed);
    let mut first_429 = None;
    let mut last = None;
    for i in 0..300 {
        let r = stack.get("/v1/me", Some(&random_key())).await;
        if r.status == 429 && first_429.is_none() {
            first_429 = Some(i);
        }
        assert!(
            [401, 429].contains(&r.status),
            "random key {i}: {}",
            r.status
        );
        last = Some(r);
    }
    let first_429 = first_429.expect("the address is throttled");
    assert_eq!(first_429, 20, "the 21st failure is refused");
    let last = last.expect("a reply");
    assert_eq!(last.status, 429);
    assert!(last.is_problem());
    assert_eq!(last.code(), "TOO_MANY_FAILED_ATTEMPTS");
    let retry: u64 = last
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=15).contains(&retry), "{retry}");
    let lookups = stack.auth.stats().lookups.load(Ordering::Relaxed) - lookups_before;
    assert!(
        lookups <= 20,
        "onboarding was asked {lookups} times for 300 random keys"
    );
    assert_eq!(stack.auth.stats().throttled.load(Ordering::Relaxed), 280);
    // The partner's key, from the same address, is still served, even once
    // its cache entry is stale (it is known, so it is looked up).
    assert_eq!(stack.get("/v1/me", Some(&partner.key)).await.status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(5_100)).await;
    assert_eq!(stack.get("/v1/me", Some(&partner.key)).await.status, 200);
    // The admin's key was used before the flood too.
    assert_eq!(stack.get("/v1/programs", Some(ADMIN_KEY)).await.status, 200);
}

#[tokio::test]
async fn ten_thousand_random_keys_do_not_evict_a_valid_key() {
    let stack = spawn_with(|s| {
        s.auth.cache_ttl_ms = 600_000;
        // Each key comes from its own address, so none is throttled and
        // every one reaches onboarding and the cache of invalid keys.
        s.http.trusted_proxy_hops = 1;
        s.auth.negative_cache_capacity = 1_000;
        s.auth.cache_capacity = 1_000;
    })
    .await;
    let program = stack.program("Channel").await;
    let partner = stack.partner(&program, "alpha.example", "reseller").await;
    assert_eq!(stack.get("/v1/me", Some(&partner.key)).await.status, 200);
    let stats = stack.auth.stats();
    let failures_before = stats.failures.load(Ordering::Relaxed);
    let statuses: Vec<u16> = futures::stream::iter(0..10_000u32)
        .map(|i| {
            let stack = &stack;
            async move {
                let from = std::net::Ipv4Addr::from(0x0a00_0000 + i).to_string();
                stack
                    .send(
                        stack
                            .http
                            .get(stack.url("/v1/me"))
                            .bearer_auth(random_key())
                            .header("x-forwarded-for", from),
                    )
                    .await
                    .status
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    assert!(
        statuses.iter().all(|s| *s == 401),
        "every random key is refused"
    );
    assert_eq!(
        stats.failures.load(Ordering::Relaxed) - failures_before,
        10_000
    );
    let lookups = stats.lookups.load(Ordering::Relaxed);
    let hits = stats.cache_hits.load(Ordering::Relaxed);
    assert_eq!(stack.get("/v1/me", Some(&partner.key)).await.status, 200);
    assert_eq!(
        stats.lookups.load(Ordering::Relaxed),
        lookups,
        "the valid key was served from the cache"
    );
    assert_eq!(stats.cache_hits.load(Ordering::Relaxed), hits + 1);
}

#[tokio::test]
async fn postbacks_and_redirects_are_limited_per_address() {
    let stack = spawn_with(|s| {
        s.rate_limit.postbacks_per_address_per_second = 1;
        s.rate_limit.redirects_per_address_per_minute = 3;
    })
    .await;
    // Unknown programs and links: the limit is checked before either is
    // looked at, so a flood costs the services nothing.
    let mut postbacks = Vec::new();
    for i in 0..3 {
        let path = format!(
            "/v1/postbacks?program_id={}&token=t&transaction_id=tx-{i}&kind=sale&amount=100&currency=USD",
            uuid::Uuid::now_v7()
        );
        postbacks.push(stack.get(&path, None).await);
    }
    assert!(
        postbacks[..2].iter().all(|r| r.status != 429),
        "burst of two"
    );
    assert_eq!(postbacks[2].status, 429);
    assert_eq!(postbacks[2].code(), "RATE_LIMITED");
    assert!(postbacks[2].header("retry-after").is_some());

    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut redirects = Vec::new();
    for _ in 0..4 {
        redirects.push(
            no_redirects
                .get(stack.url("/t/nosuchlink"))
                .send()
                .await
                .expect("redirect")
                .status()
                .as_u16(),
        );
    }
    assert_eq!(redirects, [404, 404, 404, 429]);
}
