use prm_proto::common::PartnerType;
use prm_proto::onboarding::*;
use tonic::Code;

use crate::helpers::*;

async fn publish(app: &TestApp, kind: TermsKind, version: &str) -> Terms {
    app.client()
        .publish_terms(as_of(
            PublishTermsRequest {
                kind: kind as i32,
                version: version.into(),
                title: format!("{kind:?} {version}"),
                body: "You agree to...".into(),
            },
            &app.admin,
        ))
        .await
        .expect("publish")
        .into_inner()
        .terms
        .expect("terms")
}

async fn accept(
    app: &TestApp,
    p: &Onboarded,
    kind: TermsKind,
    version: &str,
) -> Result<AcceptTermsResponse, tonic::Status> {
    app.client()
        .accept_terms(as_of(
            AcceptTermsRequest {
                partner_id: p.id.clone(),
                kind: kind as i32,
                version: version.into(),
            },
            &p.admin,
        ))
        .await
        .map(|r| r.into_inner())
}

async fn terms_item_done(app: &TestApp, p: &Onboarded) -> bool {
    let c = app
        .client()
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
        .expect("checklist");
    c.items
        .iter()
        .any(|i| i.kind == ChecklistItemKind::TermsAccepted as i32 && i.done)
}

#[tokio::test]
async fn resellers_accept_the_agreement_and_affiliates_also_the_disclosure() {
    let app = spawn_app().await;
    let program = app.program("Channel").await;
    publish(&app, TermsKind::PartnerAgreement, "2026-01").await;
    publish(&app, TermsKind::PartnerAgreement, "2026-11").await;
    publish(&app, TermsKind::Disclosure, "ftc-1").await;
    let reseller = app
        .partner(&program, "reseller.example", PartnerType::Reseller)
        .await;
    let affiliate = app
        .partner(&program, "affiliate.example", PartnerType::Affiliate)
        .await;

    // An old version is superseded.
    let r = accept(&app, &reseller, TermsKind::PartnerAgreement, "2026-01").await;
    assert_eq!(
        reason(&assert_code(r, Code::FailedPrecondition)),
        "TERMS_VERSION_SUPERSEDED"
    );
    let r = accept(&app, &reseller, TermsKind::PartnerAgreement, "1999").await;
    assert_code(r, Code::NotFound);

    let a = accept(&app, &reseller, TermsKind::PartnerAgreement, "2026-11")
        .await
        .expect("accept")
        .acceptance
        .expect("a");
    assert_eq!(a.accepted_by_user_id, reseller.admin_user_id);
    assert!(terms_item_done(&app, &reseller).await);
    // Accepting again returns the same acceptance.
    let again = accept(&app, &reseller, TermsKind::PartnerAgreement, "2026-11")
        .await
        .expect("again")
        .acceptance
        .expect("a");
    assert_eq!(again.accepted_at, a.accepted_at);

    // The affiliate is not done with the agreement alone.
    accept(&app, &affiliate, TermsKind::PartnerAgreement, "2026-11")
        .await
        .expect("accept");
    assert!(!terms_item_done(&app, &affiliate).await);
    let status = app
        .client()
        .get_terms_status(as_of(
            GetTermsStatusRequest {
                partner_id: affiliate.id.clone(),
            },
            &affiliate.admin,
        ))
        .await
        .expect("status")
        .into_inner();
    assert_eq!(status.required.len(), 2);
    assert!(!status.all_accepted);
    accept(&app, &affiliate, TermsKind::Disclosure, "ftc-1")
        .await
        .expect("disclosure");
    assert!(terms_item_done(&app, &affiliate).await);
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE subject LIKE '%.terms.accepted'")
            .await,
        3
    );
}

#[tokio::test]
async fn only_the_partners_own_admin_accepts() {
    let app = spawn_app().await;
    let program = app.program("Channel").await;
    publish(&app, TermsKind::PartnerAgreement, "v1").await;
    let p = app
        .partner(&program, "acme.example", PartnerType::Reseller)
        .await;
    let r = app
        .client()
        .accept_terms(as_of(
            AcceptTermsRequest {
                partner_id: p.id.clone(),
                kind: TermsKind::PartnerAgreement as i32,
                version: "v1".into(),
            },
            &app.admin,
        ))
        .await;
    assert_code(r, Code::PermissionDenied);
    let r = app
        .client()
        .accept_terms(as_of(
            AcceptTermsRequest {
                partner_id: p.id.clone(),
                kind: 0,
                version: "v 1".into(),
            },
            &p.admin,
        ))
        .await;
    assert_eq!(
        bad_fields(&assert_code(r, Code::InvalidArgument)),
        ["kind", "version"]
    );
    let r = app
        .client()
        .publish_terms(as_of(
            PublishTermsRequest {
                kind: TermsKind::PartnerAgreement as i32,
                version: "v1".into(),
                title: "dup".into(),
                body: "b".into(),
            },
            &app.admin,
        ))
        .await;
    assert_eq!(
        reason(&assert_code(r, Code::AlreadyExists)),
        "TERMS_VERSION_EXISTS"
    );
    assert_eq!(app.count("SELECT count(*) FROM terms_acceptances").await, 0);
}
