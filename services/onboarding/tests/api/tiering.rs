//! Tier rules and the checklist, driven by deal registration events
//! published on real JetStream in the test's namespace.

use std::time::Duration;

use prm_proto::common::{Money, PartnerType};
use prm_proto::events::{DealRegistrationApproved, DealWon, EventEnvelope};
use prm_proto::onboarding::*;
use prm_runtime::testing;
use prost::{Message, Name};
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

/// What deal registration would publish, on the subjects it will use.
pub struct DealregStream(testing::EventStream);

impl DealregStream {
    /// Creates the dealreg stream in `namespace` (deal registration's own
    /// service will own it in production).
    pub async fn create(nats_url: &str, namespace: &str) -> Self {
        Self(testing::EventStream::open(nats_url, namespace, "dealreg").await)
    }

    pub async fn publish<M: Message + Name>(
        &self,
        verb: &str,
        partner_id: &str,
        event_id: Uuid,
        msg_id: &str,
        payload: &M,
    ) {
        let envelope = EventEnvelope {
            event_id: event_id.to_string(),
            r#type: M::full_name(),
            occurred_at: None,
            producer: "dealreg".into(),
            partner_id: partner_id.into(),
            aggregate_type: "deal_registration".into(),
            aggregate_id: Uuid::now_v7().to_string(),
            aggregate_version: 1,
            payload: payload.encode_to_vec(),
        };
        self.0.publish(verb, &envelope, msg_id).await;
    }

    pub async fn won(
        &self,
        partner_id: &str,
        deal: Uuid,
        amount_minor: i64,
        currency: &str,
    ) -> Uuid {
        let id = Uuid::now_v7();
        let e = DealWon {
            deal_registration_id: deal.to_string(),
            partner_id: partner_id.into(),
            amount: Some(Money {
                amount_minor,
                currency: currency.into(),
            }),
            won_at: None,
            ..Default::default()
        };
        self.publish("deal.won", partner_id, id, &id.to_string(), &e)
            .await;
        id
    }
}

pub async fn spawn_with_dealreg() -> (TestApp, DealregStream) {
    let namespace = testing::unique_namespace();
    let stream = DealregStream::create(&testing::nats_url(), &namespace).await;
    let app = spawn(Spawn {
        namespace: Some(namespace),
        ..Default::default()
    })
    .await;
    (app, stream)
}

async fn partner_row(app: &TestApp, p: &Onboarded) -> prm_proto::onboarding::Partner {
    app.client()
        .get_partner(as_of(
            GetPartnerRequest {
                partner_id: p.id.clone(),
            },
            &app.admin,
        ))
        .await
        .expect("partner")
        .into_inner()
        .partner
        .expect("partner")
}

async fn evaluate(app: &TestApp, p: &Onboarded, what_if: Option<TierMetrics>) -> TierEvaluation {
    app.client()
        .evaluate_partner_tier(as_of(
            EvaluatePartnerTierRequest {
                partner_id: p.id.clone(),
                what_if,
            },
            &p.admin,
        ))
        .await
        .expect("evaluate")
        .into_inner()
        .evaluation
        .expect("evaluation")
}

fn eur(amount_minor: i64) -> Option<Money> {
    Some(Money {
        amount_minor,
        currency: "EUR".into(),
    })
}

#[tokio::test]
async fn deal_outcomes_drive_the_checklist_and_the_tier() {
    let (app, dealreg) = spawn_with_dealreg().await;
    let program = app.program("Channel").await;
    let p = app
        .partner(&program, "acme.example", PartnerType::Reseller)
        .await;

    // The first approved deal closes the checklist item and times it.
    let deal1 = Uuid::now_v7();
    let approved = Uuid::now_v7();
    dealreg
        .publish(
            "deal.approved",
            &p.id,
            approved,
            &approved.to_string(),
            &DealRegistrationApproved {
                deal_registration_id: deal1.to_string(),
                partner_id: p.id.clone(),
                approved_at: None,
                ..Default::default()
            },
        )
        .await;
    let checklist = testing::eventually(Duration::from_secs(20), || async {
        let c = app
            .client()
            .get_onboarding_checklist(as_of(
                GetOnboardingChecklistRequest {
                    partner_id: p.id.clone(),
                },
                &p.admin,
            ))
            .await
            .ok()?
            .into_inner()
            .checklist?;
        c.first_deal_at.is_some().then_some(c)
    })
    .await
    .expect("first deal recorded");
    assert!(checklist.time_to_first_deal.is_some());
    assert!(
        checklist
            .items
            .iter()
            .any(|i| i.kind == ChecklistItemKind::FirstDealRegistered as i32 && i.done)
    );

    // Two won deals: silver revenue and deals, but nobody certified yet.
    dealreg.won(&p.id, deal1, 3_000_000, "EUR").await;
    dealreg.won(&p.id, Uuid::now_v7(), 3_000_000, "EUR").await;
    // A deal in another currency counts as a deal, never as converted revenue.
    dealreg.won(&p.id, Uuid::now_v7(), 99_000_000, "USD").await;
    let eval = testing::eventually(Duration::from_secs(20), || async {
        let e = evaluate(&app, &p, None).await;
        (e.metrics.as_ref()?.deals_won == 3).then_some(e)
    })
    .await
    .expect("deals counted");
    let metrics = eval.metrics.expect("metrics");
    assert_eq!(metrics.revenue_won, eur(6_000_000));
    assert_eq!(eval.qualified_tier.expect("q").name, "registered");
    let gap = eval.next_tier.expect("next");
    assert_eq!(gap.tier.expect("tier").name, "silver");
    let missing = gap.missing.expect("missing");
    assert_eq!((missing.certified_people, missing.deals_won), (1, 0));
    assert_eq!(missing.revenue_won, eur(0));

    // What if they certified someone and closed EUR 200,000 more?
    let what_if = evaluate(
        &app,
        &p,
        Some(TierMetrics {
            revenue_won: eur(20_000_000),
            certified_people: 2,
            deals_won: 0,
        }),
    )
    .await;
    assert_eq!(what_if.qualified_tier.expect("q").name, "gold");
    assert_eq!(
        partner_row(&app, &p).await.tier_name,
        "registered",
        "what-if changes nothing"
    );

    // Certifying one person promotes to silver at once.
    let course = app
        .client()
        .create_course(as_of(
            CreateCourseRequest {
                title: "Sales 101".into(),
                pass_mark_percent: 70,
                certification_valid_days: 365,
                ..Default::default()
            },
            &app.admin,
        ))
        .await
        .expect("course")
        .into_inner()
        .course
        .expect("course");
    app.client()
        .record_course_attempt(as_of(
            RecordCourseAttemptRequest {
                course_id: course.id,
                user_id: String::new(),
                score_percent: 90,
            },
            &p.admin,
        ))
        .await
        .expect("pass");
    assert_eq!(partner_row(&app, &p).await.tier_name, "silver");
    let kind: i32 = {
        let env: Vec<u8> = sqlx::query_scalar("SELECT envelope FROM outbox WHERE subject LIKE '%.partner.tier_changed' ORDER BY id DESC LIMIT 1")
            .fetch_one(&app.pool)
            .await
            .expect("event");
        let env = EventEnvelope::decode(env.as_slice()).expect("envelope");
        prm_proto::events::PartnerTierChanged::decode(env.payload.as_slice())
            .expect("payload")
            .kind
    };
    assert_eq!(kind, prm_proto::events::TierChangeKind::Promotion as i32);
}

#[tokio::test]
async fn a_redelivered_event_changes_nothing() {
    let (app, dealreg) = spawn_with_dealreg().await;
    let program = app.program("Channel").await;
    let p = app
        .partner(&program, "acme.example", PartnerType::Reseller)
        .await;
    let event_id = Uuid::now_v7();
    let won = DealWon {
        deal_registration_id: Uuid::now_v7().to_string(),
        partner_id: p.id.clone(),
        amount: eur(1_000_000),
        won_at: None,
        ..Default::default()
    };
    // The same event three times, as a redelivery after the stream's
    // duplicate window would arrive (distinct message ids, same event id).
    for n in 0..3 {
        dealreg
            .publish(
                "deal.won",
                &p.id,
                event_id,
                &format!("{event_id}-{n}"),
                &won,
            )
            .await;
    }
    let stats = app.deal_consumer.clone();
    let seen = testing::eventually(Duration::from_secs(20), || {
        let stats = stats.clone();
        async move {
            let applied = stats.applied.load(std::sync::atomic::Ordering::Relaxed);
            let again = stats
                .redeliveries
                .load(std::sync::atomic::Ordering::Relaxed);
            (applied + again == 3).then_some((applied, again))
        }
    })
    .await
    .expect("all three deliveries processed");
    assert_eq!(seen, (1, 2));
    assert_eq!(app.count("SELECT count(*) FROM partner_deals").await, 1);
    assert_eq!(app.count("SELECT count(*) FROM inbox").await, 1);
    let eval = evaluate(&app, &p, None).await;
    assert_eq!(eval.metrics.expect("m").revenue_won, eur(1_000_000));
}

#[tokio::test]
async fn demotion_waits_for_the_grace_period() {
    let app = spawn_app().await;
    let program = app.program("Channel").await;
    let p = app
        .partner(&program, "acme.example", PartnerType::Reseller)
        .await;
    let mut c = app.client();
    c.set_partner_tier(as_of(
        SetPartnerTierRequest {
            partner_id: p.id.clone(),
            tier_id: program.tiers[2].clone(),
            reason: "launch partner".into(),
        },
        &app.admin,
    ))
    .await
    .expect("gold");
    let review = |c: &mut Client| {
        let mut c = c.clone();
        let id = p.id.clone();
        let admin = app.admin.clone();
        async move {
            c.run_tier_review(as_of(RunTierReviewRequest { partner_id: id }, &admin))
                .await
                .expect("review")
                .into_inner()
                .outcomes
                .remove(0)
        }
    };
    // No revenue in the window: demotion is scheduled, not applied.
    let first = review(&mut c).await;
    assert_eq!(first.action, "demotion_scheduled");
    let row = partner_row(&app, &p).await;
    assert_eq!(row.tier_name, "gold");
    let due = row.demotion_due_at.expect("due");
    let days = (due.seconds - chrono::Utc::now().timestamp()) / 86_400;
    assert!((29..=30).contains(&days), "30-day grace, got {days}");
    assert_eq!(review(&mut c).await.action, "unchanged");
    // The grace period passes.
    sqlx::query(
        "UPDATE partners SET demotion_due_at = now() - interval '1 second' WHERE id = $1::uuid",
    )
    .bind(&p.id)
    .execute(&app.pool)
    .await
    .expect("age");
    let last = review(&mut c).await;
    assert_eq!(last.action, "demoted");
    assert_eq!(last.to_tier_id, program.tiers[0]);
    let row = partner_row(&app, &p).await;
    assert_eq!(row.tier_name, "registered");
    assert!(row.demotion_due_at.is_none());
    // Partners cannot run reviews.
    let r = c
        .run_tier_review(as_of(
            RunTierReviewRequest {
                partner_id: p.id.clone(),
            },
            &p.admin,
        ))
        .await;
    assert_code(r, Code::PermissionDenied);
}

#[tokio::test]
async fn tier_requirements_are_validated() {
    let app = spawn_app().await;
    let program = app.program("Channel").await;
    let mut c = app.client();
    let r = c
        .create_tier(as_of(
            CreateTierRequest {
                program_id: program.id.clone(),
                name: "".into(),
                rank: -1,
                requirements: Some(TierRequirements {
                    min_revenue_won: Some(Money {
                        amount_minor: -5,
                        currency: "USD".into(),
                    }),
                    min_certified_people: -1,
                    min_deals_won: 0,
                }),
            },
            &app.admin,
        ))
        .await;
    assert_eq!(
        bad_fields(&assert_code(r, Code::InvalidArgument)),
        [
            "name",
            "rank",
            "requirements.min_revenue_won",
            "requirements.min_certified_people"
        ]
    );
    let r = c
        .create_tier(as_of(
            CreateTierRequest {
                program_id: program.id.clone(),
                name: "platinum".into(),
                rank: 3,
                requirements: Some(TierRequirements {
                    min_revenue_won: Some(Money {
                        amount_minor: 5,
                        currency: "USD".into(),
                    }),
                    ..Default::default()
                }),
            },
            &app.admin,
        ))
        .await;
    assert_eq!(
        bad_fields(&assert_code(r, Code::InvalidArgument)),
        ["requirements.min_revenue_won.currency"]
    );
    let r = c
        .create_tier(as_of(
            CreateTierRequest {
                program_id: program.id.clone(),
                name: "Silver".into(),
                rank: 7,
                requirements: None,
            },
            &app.admin,
        ))
        .await;
    assert_eq!(
        reason(&assert_code(r, Code::AlreadyExists)),
        "TIER_NAME_TAKEN"
    );
    assert_eq!(app.count("SELECT count(*) FROM tiers").await, 3);
}
