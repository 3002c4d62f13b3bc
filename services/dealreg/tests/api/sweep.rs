//! The sweep, with the clock moved by the test: the expiry notice once per
//! window, expiry freeing the customer, the approval SLA escalated or
//! auto-approved, and two sweeps at once acting once.

use chrono::{DateTime, Duration, Utc};
use prm_dealreg::jobs::{self as sweep, Swept};
use prm_proto::dealreg::*;
use prm_runtime::Outbox;
use prm_runtime::nats::Subjects;
use prm_runtime::testing::grpc::{as_of, assert_code, bad_fields};
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

impl Platform {
    fn outbox(&self) -> Outbox {
        Outbox::new(
            "dealreg",
            Subjects::new(self.dealreg.namespace.clone()),
            prm_runtime::Clock::system(),
        )
    }

    /// One sweep at `now`, as the scheduled job runs it.
    async fn sweep_at(&self, now: DateTime<Utc>) -> Vec<Swept> {
        let mut conn = self.pool.acquire().await.expect("conn");
        let policy = prm_dealreg::store::policy(&mut conn).await.expect("policy");
        let ids = sweep::due(&mut conn, &policy, now).await.expect("due");
        let mut out = Vec::new();
        for id in ids {
            let mut tx = self.pool.begin().await.expect("tx");
            out.push(
                sweep::sweep_one(&mut tx, &self.outbox(), &policy, id, now)
                    .await
                    .expect("swept"),
            );
            tx.commit().await.expect("commit");
        }
        out
    }

    async fn events(&self, verb: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE subject LIKE '%' || $1")
            .bind(verb)
            .fetch_one(&self.pool)
            .await
            .expect("count")
    }

    async fn registration(&self, id: &str) -> Registration {
        self.client()
            .get_registration(as_of(
                GetRegistrationRequest {
                    registration_id: id.into(),
                },
                &self.admin,
            ))
            .await
            .expect("get")
            .into_inner()
            .registration
            .expect("registration")
    }
}

fn time(t: &prost_types::Timestamp) -> DateTime<Utc> {
    prm_runtime::wire::from_timestamp(Some(t)).expect("time")
}

#[tokio::test]
async fn protection_warns_once_then_expires_and_frees_the_customer() {
    let p = platform().await;
    let a = p.partner("mu-reseller.example").await;
    let r = p
        .submit(&a, "Tyrell", "tyrell.com")
        .await
        .expect("submitted");
    let approved = p.approve(&r.id).await.expect("approved");
    let until = time(approved.protected_until.as_ref().expect("window"));

    // Nothing to do yet.
    assert!(p.sweep_at(Utc::now()).await.is_empty());
    // 14 days before the end: one notice, and only one.
    let notice = until - Duration::days(14) + Duration::minutes(1);
    let swept = p.sweep_at(notice).await;
    assert_eq!(
        swept,
        [Swept {
            warned: true,
            ..Swept::default()
        }]
    );
    assert!(p.sweep_at(notice + Duration::days(1)).await.is_empty());
    assert_eq!(p.events("deal.expiring").await, 1);

    // The window ends: expired, announced, and the customer is free.
    let swept = p.sweep_at(until + Duration::minutes(1)).await;
    assert_eq!(
        swept,
        [Swept {
            expired: true,
            ..Swept::default()
        }]
    );
    assert_eq!(
        p.registration(&r.id).await.status,
        RegistrationStatus::Expired as i32
    );
    assert_eq!(p.events("deal.expired").await, 1);
    let b = p.partner("nu-reseller.example").await;
    p.submit(&b, "Tyrell", "tyrell.com")
        .await
        .expect("free after expiry");
    let history: Vec<(String, String)> = p
        .client()
        .get_registration_history(as_of(
            GetRegistrationHistoryRequest {
                registration_id: r.id.clone(),
            },
            &p.admin,
        ))
        .await
        .expect("history")
        .into_inner()
        .transitions
        .into_iter()
        .map(|t| (t.action, t.actor_user_id))
        .collect();
    assert_eq!(history.last(), Some(&("expired".to_owned(), String::new())));
}

#[tokio::test]
async fn an_extension_gets_its_own_notice() {
    let p = platform().await;
    let a = p.partner("xi-reseller.example").await;
    let r = p
        .submit(&a, "Massive Dynamic", "massive.com")
        .await
        .expect("submitted");
    let approved = p.approve(&r.id).await.expect("approved");
    let until = time(approved.protected_until.as_ref().expect("window"));
    p.sweep_at(until - Duration::days(1)).await;
    assert_eq!(p.events("deal.expiring").await, 1);
    let extended = p
        .client()
        .extend_protection(as_of(
            ExtendProtectionRequest {
                registration_id: r.id.clone(),
                note: "customer asked for time".into(),
            },
            &p.admin,
        ))
        .await
        .expect("extended")
        .into_inner()
        .registration
        .expect("r");
    let new_until = time(extended.protected_until.as_ref().expect("window"));
    assert!(new_until > until);
    // Not expired at the old end; warned again before the new one.
    assert!(p.sweep_at(until + Duration::hours(1)).await.is_empty());
    p.sweep_at(new_until - Duration::days(1)).await;
    assert_eq!(p.events("deal.expiring").await, 2);
    assert_eq!(p.events("deal.expired").await, 0);
}

#[tokio::test]
async fn a_breached_sla_is_escalated_or_approved_as_the_policy_says() {
    let p = platform().await;
    let a = p.partner("pi-reseller.example").await;
    let waiting = p
        .submit(&a, "Aperture", "aperture.com")
        .await
        .expect("submitted");
    let due = time(waiting.decision_due_at.as_ref().expect("due"));
    assert!(p.sweep_at(due - Duration::minutes(1)).await.is_empty());
    let swept = p.sweep_at(due + Duration::minutes(1)).await;
    assert_eq!(
        swept,
        [Swept {
            sla_breached: true,
            ..Swept::default()
        }]
    );
    assert_eq!(
        p.registration(&waiting.id).await.status,
        RegistrationStatus::Submitted as i32
    );
    assert!(
        p.sweep_at(due + Duration::days(2)).await.is_empty(),
        "recorded once"
    );
    assert_eq!(p.events("deal.sla_breached").await, 1);

    // Staff switch the policy to approve on breach.
    let mut c = p.client();
    let mut policy = c
        .get_policy(as_of(GetPolicyRequest {}, &a))
        .await
        .expect("anyone reads it")
        .into_inner()
        .policy
        .expect("policy");
    assert_eq!(policy.approval_sla_business_hours, 48);
    policy.on_sla_breach = SlaBreachAction::AutoApprove as i32;
    assert_code(
        c.update_policy(as_of(
            UpdatePolicyRequest {
                policy: Some(policy),
            },
            &a,
        ))
        .await,
        Code::PermissionDenied,
    );
    let bad = Policy {
        approval_sla_business_hours: 0,
        protection_days: 1000,
        ..policy
    };
    let s = assert_code(
        c.update_policy(as_of(UpdatePolicyRequest { policy: Some(bad) }, &p.admin))
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(
        bad_fields(&s),
        [
            "policy.approval_sla_business_hours",
            "policy.protection_days"
        ]
    );
    c.update_policy(as_of(
        UpdatePolicyRequest {
            policy: Some(policy),
        },
        &p.admin,
    ))
    .await
    .expect("updated");
    let auto = p
        .submit(&a, "Black Mesa", "blackmesa.com")
        .await
        .expect("submitted");
    let due = time(auto.decision_due_at.as_ref().expect("due"));
    let swept = p.sweep_at(due + Duration::minutes(1)).await;
    assert_eq!(
        swept,
        [Swept {
            sla_breached: true,
            auto_approved: true,
            ..Swept::default()
        }]
    );
    let approved = p.registration(&auto.id).await;
    assert_eq!(approved.status, RegistrationStatus::Approved as i32);
    assert!(approved.protected_until.is_some());
    assert_eq!(p.events("deal.approved").await, 1);
}

/// Two replicas sweeping at the same moment act once: the row lock makes
/// the second see the work done.
#[tokio::test]
async fn two_sweeps_at_once_act_once() {
    let p = platform().await;
    let a = p.partner("rho-reseller.example").await;
    let r = p
        .submit(&a, "Hooli XYZ", "hooli.xyz")
        .await
        .expect("submitted");
    let approved = p.approve(&r.id).await.expect("approved");
    let after = time(approved.protected_until.as_ref().expect("window")) + Duration::hours(1);
    let id: Uuid = r.id.parse().expect("uuid");
    let one = |_| {
        let (pool, outbox) = (p.pool.clone(), p.outbox());
        async move {
            let mut tx = pool.begin().await.expect("tx");
            let policy = prm_dealreg::store::policy(&mut tx).await.expect("policy");
            let done = sweep::sweep_one(&mut tx, &outbox, &policy, id, after)
                .await
                .expect("swept");
            tx.commit().await.expect("commit");
            done
        }
    };
    let results = futures::future::join_all((0..4).map(one)).await;
    assert_eq!(
        results.iter().filter(|s| s.expired).count(),
        1,
        "{results:?}"
    );
    assert_eq!(p.events("deal.expired").await, 1);
}
