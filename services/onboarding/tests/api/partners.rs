use prm_proto::common::PartnerType;
use prm_proto::onboarding::*;
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn status_moves_through_its_state_machine() {
    let app = spawn_app().await;
    let program = app.program("Channel").await;
    let p = app
        .partner(&program, "acme.example", PartnerType::Reseller)
        .await;
    let mut c = app.client();
    let suspended = c
        .suspend_partner(as_of(
            SuspendPartnerRequest {
                partner_id: p.id.clone(),
                reason: "unpaid invoices".into(),
            },
            &app.admin,
        ))
        .await
        .expect("suspend")
        .into_inner()
        .partner
        .expect("partner");
    assert_eq!(suspended.status, PartnerStatus::Suspended as i32);
    assert_eq!(suspended.status_reason, "unpaid invoices");
    let again = c
        .suspend_partner(as_of(
            SuspendPartnerRequest {
                partner_id: p.id.clone(),
                reason: "again".into(),
            },
            &app.admin,
        ))
        .await;
    assert_eq!(
        reason(&assert_code(again, Code::FailedPrecondition)),
        "PARTNER_ALREADY_SUSPENDED"
    );
    let active = c
        .reactivate_partner(as_of(
            ReactivatePartnerRequest {
                partner_id: p.id.clone(),
            },
            &app.admin,
        ))
        .await
        .expect("reactivate")
        .into_inner()
        .partner
        .expect("partner");
    assert_eq!(active.status, PartnerStatus::Active as i32);
    assert!(active.version > suspended.version);
    c.terminate_partner(as_of(
        TerminatePartnerRequest {
            partner_id: p.id.clone(),
            reason: "contract ended".into(),
        },
        &app.admin,
    ))
    .await
    .expect("terminate");
    let r = c
        .reactivate_partner(as_of(
            ReactivatePartnerRequest {
                partner_id: p.id.clone(),
            },
            &app.admin,
        ))
        .await;
    assert_eq!(
        reason(&assert_code(r, Code::FailedPrecondition)),
        "PARTNER_TERMINATED"
    );
    // A terminated partner's keys authenticate nothing.
    assert_code(app.authenticate(&p.secret).await, Code::Unauthenticated);
    // Each change was announced, with increasing aggregate versions.
    for verb in ["suspended", "reactivated", "terminated"] {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM outbox WHERE subject LIKE '%.onboarding.partner.' || $1",
        )
        .bind(verb)
        .fetch_one(&app.pool)
        .await
        .expect("count");
        assert_eq!(n, 1, "{verb}");
    }
}

#[tokio::test]
async fn suspension_needs_a_reason_and_staff() {
    let app = spawn_app().await;
    let program = app.program("Channel").await;
    let p = app
        .partner(&program, "acme.example", PartnerType::Reseller)
        .await;
    let mut c = app.client();
    let r = c
        .suspend_partner(as_of(
            SuspendPartnerRequest {
                partner_id: p.id.clone(),
                reason: "".into(),
            },
            &app.admin,
        ))
        .await;
    assert_eq!(
        bad_fields(&assert_code(r, Code::InvalidArgument)),
        ["reason"]
    );
    let r = c
        .suspend_partner(as_of(
            SuspendPartnerRequest {
                partner_id: p.id.clone(),
                reason: "self".into(),
            },
            &p.admin,
        ))
        .await;
    assert_code(r, Code::PermissionDenied);
    let r = c
        .set_partner_tier(as_of(
            SetPartnerTierRequest {
                partner_id: p.id.clone(),
                tier_id: program.tiers[2].clone(),
                reason: "I deserve gold".into(),
            },
            &p.admin,
        ))
        .await;
    assert_code(r, Code::PermissionDenied);
    assert_eq!(
        app.count("SELECT count(*) FROM partners WHERE status = 'active'")
            .await,
        1
    );
}

#[tokio::test]
async fn partners_never_see_each_other() {
    let app = spawn_app().await;
    let program = app.program("Channel").await;
    let a = app
        .partner(&program, "alpha.example", PartnerType::Reseller)
        .await;
    let b = app
        .partner(&program, "beta.example", PartnerType::Affiliate)
        .await;
    let mut c = app.client();
    let r = c
        .get_partner(as_of(
            GetPartnerRequest {
                partner_id: b.id.clone(),
            },
            &a.admin,
        ))
        .await;
    assert_code(r, Code::NotFound);
    let list = c
        .list_partners(as_of(ListPartnersRequest::default(), &a.admin))
        .await
        .expect("list")
        .into_inner()
        .partners;
    assert_eq!(
        list.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        [a.id.as_str()]
    );
    for r in [
        c.get_onboarding_checklist(as_of(
            GetOnboardingChecklistRequest {
                partner_id: b.id.clone(),
            },
            &a.admin,
        ))
        .await
        .map(|_| ()),
        c.evaluate_partner_tier(as_of(
            EvaluatePartnerTierRequest {
                partner_id: b.id.clone(),
                what_if: None,
            },
            &a.admin,
        ))
        .await
        .map(|_| ()),
        c.get_terms_status(as_of(
            GetTermsStatusRequest {
                partner_id: b.id.clone(),
            },
            &a.admin,
        ))
        .await
        .map(|_| ()),
        c.list_users(as_of(
            ListUsersRequest {
                partner_id: b.id.clone(),
                ..Default::default()
            },
            &a.admin,
        ))
        .await
        .map(|_| ()),
        c.list_api_keys(as_of(
            ListApiKeysRequest {
                partner_id: b.id.clone(),
                ..Default::default()
            },
            &a.admin,
        ))
        .await
        .map(|_| ()),
        c.get_user(as_of(
            GetUserRequest {
                user_id: b.admin_user_id.clone(),
            },
            &a.admin,
        ))
        .await
        .map(|_| ()),
        c.list_certifications(as_of(
            ListCertificationsRequest {
                partner_id: b.id.clone(),
                ..Default::default()
            },
            &a.admin,
        ))
        .await
        .map(|_| ()),
        c.list_content(as_of(
            ListContentRequest {
                partner_id: b.id.clone(),
                ..Default::default()
            },
            &a.admin,
        ))
        .await
        .map(|_| ()),
        c.create_user(as_of(
            CreateUserRequest {
                partner_id: b.id.clone(),
                email: "x@alpha.example".into(),
                display_name: "X".into(),
                roles: vec![Role::PartnerUser as i32],
            },
            &a.admin,
        ))
        .await
        .map(|_| ()),
        c.create_api_key(as_of(
            CreateApiKeyRequest {
                user_id: b.admin_user_id.clone(),
                name: "steal".into(),
                ..Default::default()
            },
            &a.admin,
        ))
        .await
        .map(|_| ()),
        c.revoke_api_key(as_of(
            RevokeApiKeyRequest {
                api_key_id: b.admin.api_key_id.expect("key").to_string(),
            },
            &a.admin,
        ))
        .await
        .map(|_| ()),
    ] {
        assert_code(r, Code::NotFound);
    }
    // B's key still works: A's attempts changed nothing.
    app.authenticate(&b.secret)
        .await
        .expect("b still authenticates");
    // Staff see both.
    let all = c
        .list_partners(as_of(ListPartnersRequest::default(), &app.admin))
        .await
        .expect("list")
        .into_inner()
        .partners;
    assert_eq!(all.len(), 2);
}

#[tokio::test]
async fn a_suspended_partner_reads_but_cannot_act() {
    let app = spawn_app().await;
    let program = app.program("Channel").await;
    let p = app
        .partner(&program, "acme.example", PartnerType::Reseller)
        .await;
    let mut c = app.client();
    c.suspend_partner(as_of(
        SuspendPartnerRequest {
            partner_id: p.id.clone(),
            reason: "audit".into(),
        },
        &app.admin,
    ))
    .await
    .expect("suspend");
    let me = app
        .authenticate(&p.secret)
        .await
        .expect("still authenticates");
    c.get_partner(as_of(
        GetPartnerRequest {
            partner_id: p.id.clone(),
        },
        &me,
    ))
    .await
    .expect("reads");
    let r = c
        .create_api_key(as_of(
            CreateApiKeyRequest {
                user_id: String::new(),
                name: "more".into(),
                ..Default::default()
            },
            &me,
        ))
        .await;
    assert_eq!(
        reason(&assert_code(r, Code::FailedPrecondition)),
        "PARTNER_SUSPENDED"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM api_keys WHERE partner_id IS NOT NULL")
            .await,
        1
    );
}

#[tokio::test]
async fn staff_set_tiers_by_hand_within_the_program() {
    let app = spawn_app().await;
    let program = app.program("Channel").await;
    let other = app.program("Other").await;
    let p = app
        .partner(&program, "acme.example", PartnerType::Reseller)
        .await;
    let mut c = app.client();
    let r = c
        .set_partner_tier(as_of(
            SetPartnerTierRequest {
                partner_id: p.id.clone(),
                tier_id: other.tiers[1].clone(),
                reason: "x".into(),
            },
            &app.admin,
        ))
        .await;
    assert_eq!(
        bad_fields(&assert_code(r, Code::InvalidArgument)),
        ["tier_id"]
    );
    let partner = c
        .set_partner_tier(as_of(
            SetPartnerTierRequest {
                partner_id: p.id.clone(),
                tier_id: program.tiers[2].clone(),
                reason: "strategic".into(),
            },
            &app.admin,
        ))
        .await
        .expect("set tier")
        .into_inner()
        .partner
        .expect("partner");
    assert_eq!(partner.tier_name, "gold");
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE subject LIKE '%.partner.tier_changed'")
            .await,
        1
    );
}
