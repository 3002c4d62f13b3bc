use prm_proto::common::PartnerType;
use prm_proto::onboarding::*;
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn a_submitted_application_is_stored_and_announced() {
    let app = spawn_app().await;
    let a = app
        .submit("Acme GmbH", "Acme.Example", PartnerType::Reseller)
        .await;
    assert_eq!(a.status, ApplicationStatus::Submitted as i32);
    assert_eq!(a.domain, "acme.example");
    assert_eq!(a.country, "DE");
    assert_eq!(
        app.count(
            "SELECT count(*) FROM outbox WHERE subject LIKE '%.onboarding.application.submitted'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn bad_applications_name_every_field_and_store_nothing() {
    let app = spawn_app().await;
    let r = app
        .client()
        .submit_application(req(
            SubmitApplicationRequest {
                company_name: "".into(),
                domain: "https://acme.example/".into(),
                country: "Germany".into(),
                partner_type: 99,
                contact_name: "x".repeat(500),
                contact_email: "not-an-email".into(),
            },
            None,
            None,
        ))
        .await;
    let s = assert_code(r, Code::InvalidArgument);
    assert_eq!(
        bad_fields(&s),
        [
            "company_name",
            "domain",
            "country",
            "partner_type",
            "contact_name",
            "contact_email"
        ]
    );
    assert_eq!(app.count("SELECT count(*) FROM applications").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM outbox").await, 0);
}

#[tokio::test]
async fn one_open_application_per_domain() {
    let app = spawn_app().await;
    app.submit("Acme", "acme.example", PartnerType::Reseller)
        .await;
    let r = app
        .client()
        .submit_application(req(
            SubmitApplicationRequest {
                company_name: "Acme again".into(),
                domain: "ACME.example".into(),
                country: "FR".into(),
                partner_type: PartnerType::Si as i32,
                contact_name: "Jo".into(),
                contact_email: "jo@acme.example".into(),
            },
            None,
            None,
        ))
        .await;
    let s = assert_code(r, Code::AlreadyExists);
    assert_eq!(reason(&s), "APPLICATION_ALREADY_OPEN");
}

#[tokio::test]
async fn approval_creates_one_partner_with_an_admin_and_a_key() {
    let app = spawn_app().await;
    let program = app.program("Channel").await;
    let p = app
        .partner(&program, "acme.example", PartnerType::Reseller)
        .await;
    assert!(p.secret.starts_with("prm_"));
    assert_eq!(
        p.admin.partner_id.map(|u| u.to_string()),
        Some(p.id.clone())
    );
    let partner = app
        .client()
        .get_partner(as_of(
            GetPartnerRequest {
                partner_id: p.id.clone(),
            },
            &p.admin,
        ))
        .await
        .expect("own partner")
        .into_inner()
        .partner
        .expect("partner");
    assert_eq!(partner.status, PartnerStatus::Active as i32);
    assert_eq!(partner.tier_id, program.tiers[0], "entry tier by default");
    assert_eq!(partner.tier_name, "registered");

    // Approving again is a clear error, not a second partner.
    let again = app
        .client()
        .approve_application(as_of(
            ApproveApplicationRequest {
                application_id: p.application_id.clone(),
                program_id: program.id.clone(),
                tier_id: String::new(),
            },
            &app.admin,
        ))
        .await;
    let s = assert_code(again, Code::FailedPrecondition);
    assert_eq!(reason(&s), "APPLICATION_ALREADY_APPROVED");
    assert_eq!(app.count("SELECT count(*) FROM partners").await, 1);
    // And rejecting it now is refused as well.
    let reject = app
        .client()
        .reject_application(as_of(
            RejectApplicationRequest {
                application_id: p.application_id.clone(),
                reason: "changed mind".into(),
            },
            &app.admin,
        ))
        .await;
    assert_eq!(
        reason(&assert_code(reject, Code::FailedPrecondition)),
        "APPLICATION_ALREADY_APPROVED"
    );
}

#[tokio::test]
async fn concurrent_approvals_make_exactly_one_partner() {
    let app = spawn_app().await;
    let program = app.program("Channel").await;
    let a = app
        .submit("Race Inc", "race.example", PartnerType::Si)
        .await;
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let mut c = app.client();
        let r = ApproveApplicationRequest {
            application_id: a.id.clone(),
            program_id: program.id.clone(),
            tier_id: String::new(),
        };
        let admin = app.admin.clone();
        tasks.push(tokio::spawn(async move {
            c.approve_application(as_of(r, &admin)).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.expect("join") {
            Ok(_) => ok += 1,
            Err(s) => assert_eq!(s.code(), Code::FailedPrecondition, "{s:?}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(app.count("SELECT count(*) FROM partners").await, 1);
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE partner_id IS NOT NULL")
            .await,
        1
    );
}

#[tokio::test]
async fn approval_validates_program_and_tier() {
    let app = spawn_app().await;
    let program = app.program("Channel").await;
    let other = app.program("Other").await;
    let a = app
        .submit("Acme", "acme.example", PartnerType::Reseller)
        .await;
    let mut c = app.client();
    let r = c
        .approve_application(as_of(
            ApproveApplicationRequest {
                application_id: a.id.clone(),
                program_id: program.id.clone(),
                tier_id: other.tiers[1].clone(),
            },
            &app.admin,
        ))
        .await;
    assert_eq!(
        bad_fields(&assert_code(r, Code::InvalidArgument)),
        ["tier_id"]
    );
    let r = c
        .approve_application(as_of(
            ApproveApplicationRequest {
                application_id: "nope".into(),
                program_id: "".into(),
                tier_id: "x".into(),
            },
            &app.admin,
        ))
        .await;
    assert_eq!(
        bad_fields(&assert_code(r, Code::InvalidArgument)),
        ["application_id", "program_id", "tier_id"]
    );
    let r = c
        .approve_application(as_of(
            ApproveApplicationRequest {
                application_id: uuid::Uuid::now_v7().to_string(),
                program_id: program.id.clone(),
                tier_id: String::new(),
            },
            &app.admin,
        ))
        .await;
    assert_code(r, Code::NotFound);
    // A chosen tier is honoured.
    let ok = c
        .approve_application(as_of(
            ApproveApplicationRequest {
                application_id: a.id.clone(),
                program_id: program.id.clone(),
                tier_id: program.tiers[2].clone(),
            },
            &app.admin,
        ))
        .await
        .expect("approve")
        .into_inner();
    assert_eq!(ok.partner.expect("partner").tier_name, "gold");
    assert_eq!(app.count("SELECT count(*) FROM partners").await, 1);
}

#[tokio::test]
async fn rejection_needs_a_reason_and_is_final() {
    let app = spawn_app().await;
    let program = app.program("Channel").await;
    let a = app
        .submit("Acme", "acme.example", PartnerType::Affiliate)
        .await;
    let mut c = app.client();
    let r = c
        .reject_application(as_of(
            RejectApplicationRequest {
                application_id: a.id.clone(),
                reason: "  ".into(),
            },
            &app.admin,
        ))
        .await;
    assert_eq!(
        bad_fields(&assert_code(r, Code::InvalidArgument)),
        ["reason"]
    );
    let rejected = c
        .reject_application(as_of(
            RejectApplicationRequest {
                application_id: a.id.clone(),
                reason: "not a fit".into(),
            },
            &app.admin,
        ))
        .await
        .expect("reject")
        .into_inner()
        .application
        .expect("application");
    assert_eq!(rejected.status, ApplicationStatus::Rejected as i32);
    assert_eq!(rejected.rejection_reason, "not a fit");
    let r = c
        .approve_application(as_of(
            ApproveApplicationRequest {
                application_id: a.id.clone(),
                program_id: program.id.clone(),
                tier_id: String::new(),
            },
            &app.admin,
        ))
        .await;
    assert_eq!(
        reason(&assert_code(r, Code::FailedPrecondition)),
        "APPLICATION_ALREADY_REJECTED"
    );
    // The domain may apply again once the earlier application is decided.
    app.submit("Acme", "acme.example", PartnerType::Affiliate)
        .await;
}

#[tokio::test]
async fn partners_cannot_review_applications() {
    let app = spawn_app().await;
    let program = app.program("Channel").await;
    let p = app
        .partner(&program, "acme.example", PartnerType::Reseller)
        .await;
    let other = app
        .submit("Beta", "beta.example", PartnerType::Reseller)
        .await;
    let mut c = app.client();
    let r = c
        .approve_application(as_of(
            ApproveApplicationRequest {
                application_id: other.id.clone(),
                program_id: program.id.clone(),
                tier_id: String::new(),
            },
            &p.admin,
        ))
        .await;
    assert_code(r, Code::PermissionDenied);
    let r = c
        .list_applications(as_of(ListApplicationsRequest::default(), &p.admin))
        .await;
    assert_code(r, Code::PermissionDenied);
    // Another partner's application is not even visible.
    let r = c
        .get_application(as_of(
            GetApplicationRequest {
                application_id: other.id.clone(),
            },
            &p.admin,
        ))
        .await;
    assert_code(r, Code::NotFound);
    // Its own application is.
    c.get_application(as_of(
        GetApplicationRequest {
            application_id: p.application_id.clone(),
        },
        &p.admin,
    ))
    .await
    .expect("own application");
}

#[tokio::test]
async fn lists_page_through_with_filters() {
    let app = spawn_app().await;
    for i in 0..5 {
        app.submit(
            &format!("Co {i}"),
            &format!("co{i}.example"),
            PartnerType::Referral,
        )
        .await;
    }
    let mut c = app.client();
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .list_applications(as_of(
                ListApplicationsRequest {
                    page_size: 2,
                    page_token: token.clone(),
                    status: ApplicationStatus::Submitted as i32,
                },
                &app.admin,
            ))
            .await
            .expect("page")
            .into_inner();
        assert!(page.applications.len() <= 2);
        seen.extend(page.applications.into_iter().map(|a| a.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen.len(), 5);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 5, "no duplicates across pages");
    let bad = c
        .list_applications(as_of(
            ListApplicationsRequest {
                page_size: -1,
                page_token: "x".into(),
                status: 9,
            },
            &app.admin,
        ))
        .await;
    assert_code(bad, Code::InvalidArgument);
}
