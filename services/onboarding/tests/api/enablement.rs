use prm_proto::common::PartnerType;
use prm_proto::onboarding::*;
use tonic::Code;

use crate::helpers::*;

async fn content(app: &TestApp, title: &str, min_tier_rank: i32, types: &[PartnerType]) {
    app.client()
        .create_content(as_of(
            CreateContentRequest {
                title: title.into(),
                kind: ContentKind::Battlecard as i32,
                url: format!("https://cdn.example.com/{title}.pdf"),
                visibility: Some(Visibility {
                    min_tier_rank,
                    partner_types: types.iter().map(|t| *t as i32).collect(),
                }),
            },
            &app.admin,
        ))
        .await
        .expect("content");
}

async fn titles(app: &TestApp, p: &Onboarded) -> Vec<String> {
    let mut t: Vec<String> = app
        .client()
        .list_content(as_of(ListContentRequest::default(), &p.admin))
        .await
        .expect("list")
        .into_inner()
        .content
        .into_iter()
        .map(|c| c.title)
        .collect();
    t.sort();
    t
}

#[tokio::test]
async fn the_library_is_visible_by_tier_and_partner_type() {
    let app = spawn_app().await;
    let program = app.program("Channel").await;
    content(&app, "everyone", 0, &[]).await;
    content(&app, "gold-only", 2, &[]).await;
    content(
        &app,
        "affiliates",
        0,
        &[PartnerType::Affiliate, PartnerType::Referral],
    )
    .await;
    let reseller = app
        .partner(&program, "reseller.example", PartnerType::Reseller)
        .await;
    let affiliate = app
        .partner(&program, "affiliate.example", PartnerType::Affiliate)
        .await;
    assert_eq!(titles(&app, &reseller).await, ["everyone"]);
    assert_eq!(titles(&app, &affiliate).await, ["affiliates", "everyone"]);
    app.client()
        .set_partner_tier(as_of(
            SetPartnerTierRequest {
                partner_id: reseller.id.clone(),
                tier_id: program.tiers[2].clone(),
                reason: "r".into(),
            },
            &app.admin,
        ))
        .await
        .expect("gold");
    assert_eq!(titles(&app, &reseller).await, ["everyone", "gold-only"]);
    // Staff see everything.
    let all = app
        .client()
        .list_content(as_of(ListContentRequest::default(), &app.admin))
        .await
        .expect("list")
        .into_inner()
        .content;
    assert_eq!(all.len(), 3);
    // Partners do not curate.
    let r = app
        .client()
        .create_content(as_of(
            CreateContentRequest {
                title: "x".into(),
                kind: 1,
                url: "https://x.example".into(),
                visibility: None,
            },
            &reseller.admin,
        ))
        .await;
    assert_code(r, Code::PermissionDenied);
    let r = app
        .client()
        .create_content(as_of(
            CreateContentRequest {
                title: "".into(),
                kind: 77,
                url: "ftp://x".into(),
                visibility: Some(Visibility {
                    min_tier_rank: -1,
                    partner_types: vec![],
                }),
            },
            &app.admin,
        ))
        .await;
    assert_eq!(
        bad_fields(&assert_code(r, Code::InvalidArgument)),
        ["title", "kind", "url", "visibility.min_tier_rank"]
    );
}

/// A partner who sees little of a large library pages through it: each
/// call reads a bounded number of rows, a short (even empty) page carries
/// the token that continues, and no visible item is skipped or repeated.
#[tokio::test]
async fn paging_through_a_library_the_partner_mostly_cannot_see() {
    let app = spawn_app().await;
    let program = app.program("Channel").await;
    let reseller = app
        .partner(&program, "reseller.example", PartnerType::Reseller)
        .await;
    // 5,000 gold-only items ordered before everything the API creates
    // (their ids sort first), then visible items after them.
    sqlx::query(
        "INSERT INTO content (id, title, kind, url, min_tier_rank)
         SELECT ('00000000-0000-7000-8000-' || lpad(n::text, 12, '0'))::uuid,
                'gold ' || n, 'deck', 'https://cdn.example.com/g.pdf', 2
         FROM generate_series(1, 5000) AS n",
    )
    .execute(&app.pool)
    .await
    .expect("hidden items");
    for title in ["visible-1", "visible-2", "visible-3"] {
        content(&app, title, 0, &[]).await;
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut calls = 0;
    loop {
        calls += 1;
        assert!(calls < 50, "paging did not end");
        let page = app
            .client()
            .list_content(as_of(
                ListContentRequest {
                    page_size: 2,
                    page_token: token.clone(),
                    ..Default::default()
                },
                &reseller.admin,
            ))
            .await
            .expect("list")
            .into_inner();
        assert!(page.content.len() <= 2);
        seen.extend(page.content.into_iter().map(|c| c.title));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, ["visible-1", "visible-2", "visible-3"]);
    // 5,000 hidden rows at 2,000 per call: the first calls come back short.
    assert!(
        calls >= 3,
        "each call reads a bounded number of rows ({calls} calls)"
    );
}

#[tokio::test]
async fn courses_certify_renew_and_expire() {
    let app = spawn_app().await;
    let program = app.program("Channel").await;
    let p = app
        .partner(&program, "acme.example", PartnerType::Reseller)
        .await;
    let mut c = app.client();
    let course = c
        .create_course(as_of(
            CreateCourseRequest {
                title: "Certified Seller".into(),
                pass_mark_percent: 80,
                certification_valid_days: 180,
                required_for_onboarding: true,
                ..Default::default()
            },
            &app.admin,
        ))
        .await
        .expect("course")
        .into_inner()
        .course
        .expect("course");
    let attempt = |score: i32| {
        let mut c = c.clone();
        let id = course.id.clone();
        let admin = p.admin.clone();
        async move {
            c.record_course_attempt(as_of(
                RecordCourseAttemptRequest {
                    course_id: id,
                    user_id: String::new(),
                    score_percent: score,
                },
                &admin,
            ))
            .await
        }
    };
    let failed = attempt(79).await.expect("attempt").into_inner();
    assert!(!failed.attempt.expect("a").passed);
    assert!(failed.certification.is_none());
    let passed = attempt(80).await.expect("attempt").into_inner();
    let cert = passed.certification.expect("certified");
    assert_eq!(cert.renewals, 0);
    assert_eq!(cert.status, CertificationStatus::Active as i32);
    let days =
        (cert.expires_at.expect("exp").seconds - cert.earned_at.expect("earned").seconds) / 86_400;
    assert_eq!(days, 180);
    let renewed = attempt(95)
        .await
        .expect("attempt")
        .into_inner()
        .certification
        .expect("renewed");
    assert_eq!(renewed.id, cert.id);
    assert_eq!(renewed.renewals, 1);
    let r = attempt(101).await;
    assert_eq!(
        bad_fields(&assert_code(r, Code::InvalidArgument)),
        ["score_percent"]
    );

    // The required course is passed: that checklist item is done.
    let checklist = c
        .get_onboarding_checklist(as_of(
            GetOnboardingChecklistRequest {
                partner_id: p.id.clone(),
            },
            &p.admin,
        ))
        .await
        .expect("checklist")
        .into_inner()
        .checklist
        .expect("c");
    assert!(
        checklist
            .items
            .iter()
            .any(|i| i.kind == ChecklistItemKind::RequiredCoursesPassed as i32 && i.done)
    );

    // Expiry: the sweep announces it once, and lists hide it by default.
    sqlx::query("UPDATE certifications SET expires_at = now() - interval '1 day'")
        .execute(&app.pool)
        .await
        .expect("age");
    let outbox = prm_runtime::Outbox::new(
        "onboarding",
        prm_runtime::nats::Subjects::new(app.namespace.clone()),
        prm_runtime::Clock::system(),
    );
    for _ in 0..2 {
        let mut tx = app.pool.begin().await.expect("tx");
        prm_onboarding::operations::expire_certifications(&mut tx, &outbox, chrono::Utc::now())
            .await
            .expect("sweep");
        tx.commit().await.expect("commit");
    }
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE subject LIKE '%.certification.expired'")
            .await,
        1
    );
    let listed = c
        .list_certifications(as_of(ListCertificationsRequest::default(), &p.admin))
        .await
        .expect("list")
        .into_inner();
    assert!(listed.certifications.is_empty());
    let all = c
        .list_certifications(as_of(
            ListCertificationsRequest {
                include_expired: true,
                ..Default::default()
            },
            &p.admin,
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(
        all.certifications[0].status,
        CertificationStatus::Expired as i32
    );
}

#[tokio::test]
async fn courses_above_a_partners_tier_cannot_be_taken() {
    let app = spawn_app().await;
    let program = app.program("Channel").await;
    let p = app.partner(&program, "acme.example", PartnerType::Si).await;
    let mut c = app.client();
    let course = c
        .create_course(as_of(
            CreateCourseRequest {
                title: "Gold Architect".into(),
                pass_mark_percent: 70,
                certification_valid_days: 365,
                visibility: Some(Visibility {
                    min_tier_rank: 2,
                    partner_types: vec![],
                }),
                ..Default::default()
            },
            &app.admin,
        ))
        .await
        .expect("course")
        .into_inner()
        .course
        .expect("course");
    let listed = c
        .list_courses(as_of(ListCoursesRequest::default(), &p.admin))
        .await
        .expect("list")
        .into_inner()
        .courses;
    assert!(listed.is_empty());
    let r = c
        .record_course_attempt(as_of(
            RecordCourseAttemptRequest {
                course_id: course.id.clone(),
                user_id: String::new(),
                score_percent: 100,
            },
            &p.admin,
        ))
        .await;
    assert_code(r, Code::NotFound);
    // A staff user's id is indistinguishable from an unknown one to a partner.
    let r = c
        .record_course_attempt(as_of(
            RecordCourseAttemptRequest {
                course_id: course.id.clone(),
                user_id: app.admin.user_id.to_string(),
                score_percent: 100,
            },
            &p.admin,
        ))
        .await;
    assert_code(r, Code::NotFound);
    assert_eq!(app.count("SELECT count(*) FROM course_attempts").await, 0);
    let r = c
        .create_course(as_of(
            CreateCourseRequest {
                title: "Bad".into(),
                pass_mark_percent: 0,
                certification_valid_days: 0,
                ..Default::default()
            },
            &app.admin,
        ))
        .await;
    assert_eq!(
        bad_fields(&assert_code(r, Code::InvalidArgument)),
        ["pass_mark_percent", "certification_valid_days"]
    );
}
