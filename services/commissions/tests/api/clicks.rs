//! Clicks handed over by the gateway: counted once per source per link per
//! hour, bots never, a retried batch once; and the hourly counts published
//! per link instead of one event per click.

use chrono::{Duration, DurationRound, Utc};
use prm_proto::commissions::*;
use prm_proto::events::TrackingLinkClicksCounted;
use prm_runtime::testing::grpc::request;
use prost::Message;
use uuid::Uuid;

use crate::helpers::*;

async fn counts(t: &TestCommissions, link: &Link) -> (i64, i64) {
    sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE counted) FROM clicks WHERE link_id = $1",
    )
    .bind(Uuid::parse_str(&link.link_id).expect("test step"))
    .fetch_one(&t.pool)
    .await
    .expect("counts")
}

#[tokio::test]
async fn clicks_count_once_per_source_per_hour_and_bots_never() {
    let t = commissions().await;
    let (_, _, link) = t.affiliate().await;
    let hour = Utc::now()
        .duration_trunc(Duration::hours(1))
        .expect("test step")
        - Duration::hours(3);
    // Three clicks from one source in an hour, one from another, two bots.
    t.clicks(
        &link,
        hour + Duration::minutes(1),
        &[
            ("10.0.0.1", BROWSER),
            ("10.0.0.1", BROWSER),
            ("10.0.0.2", BROWSER),
            (
                "10.0.0.3",
                "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            ),
            ("10.0.0.4", "facebookexternalhit/1.1"),
        ],
    )
    .await;
    t.click_at(&link, hour + Duration::minutes(50), "10.0.0.1")
        .await;
    assert_eq!(counts(&t, &link).await, (6, 2));
    // The next hour, the same source counts again.
    t.click_at(&link, hour + Duration::minutes(61), "10.0.0.1")
        .await;
    assert_eq!(counts(&t, &link).await, (7, 3));
    // A retried batch is stored once.
    let batch = vec![Click {
        click_id: Uuid::now_v7().to_string(),
        link_id: link.link_id.clone(),
        clicked_at: Some(prm_runtime::wire::timestamp(hour + Duration::minutes(2))),
        ip_hash: "hash-of-10.0.0.9".into(),
        user_agent: BROWSER.into(),
        ..Default::default()
    }];
    for expected in [1, 0] {
        let r = t
            .client()
            .record_clicks(request(
                RecordClicksRequest {
                    clicks: batch.clone(),
                },
                None,
                None,
            ))
            .await
            .expect("clicks")
            .into_inner();
        assert_eq!(r.recorded, expected);
    }
    assert_eq!(counts(&t, &link).await, (8, 4));

    // The finished hours are published once each, with their counts.
    let stream = prm_runtime::testing::EventStream::open(
        &prm_runtime::testing::nats_url(),
        &t.svc.namespace,
        "commissions",
    )
    .await;
    let mut tx = t.pool.begin().await.expect("test step");
    let n = prm_commissions::jobs::publish_click_hours(&mut tx, &t.outbox(), Utc::now())
        .await
        .expect("publish");
    tx.commit().await.expect("test step");
    assert_eq!(n, 2, "two hours with clicks");
    let mut tx = t.pool.begin().await.expect("test step");
    let again = prm_commissions::jobs::publish_click_hours(&mut tx, &t.outbox(), Utc::now())
        .await
        .expect("publish");
    tx.commit().await.expect("test step");
    assert_eq!(again, 0, "published once");
    let published: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT clicks, counted FROM click_hours WHERE link_id = $1 AND published ORDER BY hour",
    )
    .bind(Uuid::parse_str(&link.link_id).expect("test step"))
    .fetch_all(&t.pool)
    .await
    .expect("test step");
    assert_eq!(published, vec![(7, 3), (1, 1)]);
    // The relay delivers them: the last is the later hour's.
    let last = prm_runtime::testing::eventually(std::time::Duration::from_secs(10), || async {
        stream.last("link.clicks_counted").await
    })
    .await
    .expect("an hourly count event");
    let e = TrackingLinkClicksCounted::decode(last.payload.as_slice()).expect("test step");
    assert_eq!(e.link_id, link.link_id);
    assert_eq!((e.clicks, e.counted_clicks), (1, 1));
    // A click with characters text cannot hold is stored without them
    // (a batch refused for it would hold up every click behind it).
    let odd_id = Uuid::now_v7();
    let odd = Click {
        click_id: odd_id.to_string(),
        link_id: link.link_id.clone(),
        clicked_at: Some(prm_runtime::wire::timestamp(hour + Duration::minutes(3))),
        ip_hash: "hash\u{0}".into(),
        user_agent: format!("{BROWSER}\u{0}"),
        referrer: "\u{0}".into(),
        sub_ids: vec!["a\u{0}b".into()],
    };
    let r = t
        .client()
        .record_clicks(request(
            RecordClicksRequest { clicks: vec![odd] },
            None,
            None,
        ))
        .await
        .expect("clicks")
        .into_inner();
    assert_eq!(r.recorded, 1);
    let sub1: String = sqlx::query_scalar("SELECT sub1 FROM clicks WHERE id = $1")
        .bind(odd_id)
        .fetch_one(&t.pool)
        .await
        .expect("sub1");
    assert_eq!(sub1, "ab");
}
