//! The sweep on a moved clock: accrued funds expire after their period
//! (plus grace), approved requests lapse after their claim deadline, and
//! two sweeps at once act once.

use chrono::{Duration, Utc};
use prm_mdf::jobs::{self as sweep, Swept};
use prm_proto::mdf::*;
use prm_runtime::testing::grpc::as_of;

use crate::helpers::*;

impl TestMdf {
    async fn sweep_at(&self, now: chrono::DateTime<Utc>) -> Vec<Swept> {
        let outbox = prm_runtime::Outbox::new(
            "mdf",
            prm_runtime::nats::Subjects::new(self.svc.namespace.clone()),
            prm_runtime::Clock::system(),
        );
        let mut conn = self.pool.acquire().await.expect("conn");
        let mut ids = sweep::funds_to_expire(&mut conn, now).await.expect("funds");
        let requests = sweep::requests_to_lapse(&mut conn, now)
            .await
            .expect("requests");
        let mut done = Vec::new();
        for id in ids.drain(..) {
            let mut tx = self.pool.begin().await.expect("tx");
            done.push(
                sweep::expire_fund(&mut tx, &outbox, id, now)
                    .await
                    .expect("expire"),
            );
            tx.commit().await.expect("commit");
        }
        for id in requests {
            let mut tx = self.pool.begin().await.expect("tx");
            done.push(
                sweep::lapse_request(&mut tx, &outbox, id, now)
                    .await
                    .expect("lapse"),
            );
            tx.commit().await.expect("commit");
        }
        done
    }
}

#[tokio::test]
async fn accrued_funds_expire_after_the_grace_period_once() {
    let t = mdf().await;
    let p = partner();
    let budget = t.budget(1_000_000).await;
    let fund = t
        .client()
        .allocate_funds(as_of(
            AllocateFundsRequest {
                budget_id: budget.id.clone(),
                partner_id: partner_id(&p),
                kind: FundKind::Accrual as i32,
                amount: Some(eur(50_000)),
                accrual_tiers: vec![AccrualTier {
                    from_revenue_minor: 0,
                    rate_bps: 300,
                }],
                accrual_grace_days: 30,
                ..Default::default()
            },
            &t.marketing,
        ))
        .await
        .expect("allocate")
        .into_inner()
        .fund
        .expect("fund");
    // An activity on the period's last day: claimable for 60 days after,
    // beyond the fund's expiry.
    let mut last_day = activity(&fund.id, 20_000);
    last_day.starts_on = budget.ends_on.clone();
    last_day.ends_on = budget.ends_on.clone();
    let request = t.submit(&p, last_day).await.expect("submit");
    t.approve(&request.id, None).await.expect("approve");
    let ends_on: chrono::NaiveDate = budget.ends_on.parse().expect("date");
    let expires = (ends_on + Duration::days(31))
        .and_hms_opt(0, 0, 0)
        .expect("time")
        .and_utc();
    assert_eq!(
        fund.expires_at.as_ref().map(|t| t.seconds),
        Some(expires.timestamp())
    );
    assert!(
        t.sweep_at(expires - Duration::seconds(1))
            .await
            .iter()
            .all(|s| *s == Swept::Nothing)
    );
    // At expiry the unreserved 30,000 expires; the reservation stays
    // claimable until its own deadline.
    let swept = t.sweep_at(expires).await;
    let fund_id: uuid::Uuid = fund.id.parse().expect("id");
    assert!(
        swept.contains(&Swept::FundExpired {
            fund_id,
            expired_minor: 30_000
        }),
        "{swept:?}"
    );
    let balance = t.check_ledger(&fund.id).await;
    assert_eq!(
        (balance.available(), balance.reserved_outstanding()),
        (0, 20_000)
    );
    // An expired fund takes no more requests, by the service's clock.
    t.clock.advance(expires - Utc::now());
    let s = prm_runtime::testing::grpc::assert_code(
        t.submit(&p, activity(&fund.id, 100)).await,
        tonic::Code::FailedPrecondition,
    );
    assert_eq!(prm_runtime::testing::grpc::reason(&s), "FUND_EXPIRED");
    // Swept again, nothing more happens.
    assert!(
        t.sweep_at(expires + Duration::days(1))
            .await
            .iter()
            .all(|s| !matches!(s, Swept::FundExpired { .. }))
    );
    assert_eq!(
        t.count("SELECT count(*) FROM fund_entries WHERE kind = 'expired'")
            .await,
        1
    );
    assert_eq!(
        t.count("SELECT count(*) FROM outbox WHERE subject LIKE '%.mdf.funds.expired'")
            .await,
        1
    );
}

#[tokio::test]
async fn unclaimed_requests_lapse_at_their_deadline_and_release() {
    let t = mdf().await;
    let p = partner();
    let fund = t.fund(&p, 100_000).await;
    let idle = t.approved(&p, &fund, 10_000).await;
    let claimed = t.approved(&p, &fund, 5_000).await;
    t.claim(&p, claim_for(&claimed.id, 5_000, "INV-1"))
        .await
        .expect("claim");
    let deadline: chrono::NaiveDate = idle.claim_deadline.parse().expect("date");
    let on_deadline = deadline.and_hms_opt(23, 0, 0).expect("time").and_utc();
    assert!(t.sweep_at(on_deadline).await.is_empty());
    let after = on_deadline + Duration::hours(2);
    // Two sweeps at once: the row lock lets one act.
    let (a, b) = tokio::join!(t.sweep_at(after), t.sweep_at(after));
    let lapsed: Vec<_> = a
        .iter()
        .chain(b.iter())
        .filter(|s| matches!(s, Swept::RequestLapsed { .. }))
        .collect();
    assert_eq!(
        lapsed,
        [&Swept::RequestLapsed {
            request_id: idle.id.parse().expect("id"),
            released_minor: 10_000
        }]
    );
    let got = t
        .client()
        .get_mdf_request(as_of(
            GetMdfRequestRequest {
                request_id: idle.id.clone(),
            },
            &p,
        ))
        .await
        .expect("request")
        .into_inner()
        .request
        .expect("request");
    assert_eq!(got.status, MdfRequestStatus::Lapsed as i32);
    // The claimed one waits for its decision.
    let balance = t.check_ledger(&fund.id).await;
    assert_eq!(balance.reserved_outstanding(), 5_000);
    assert_eq!(balance.available(), 95_000);
}
