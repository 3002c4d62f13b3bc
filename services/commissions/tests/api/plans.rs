//! Program settings, plan versions and tracking links.

use chrono::Utc;
use prm_proto::commissions::*;
use prm_runtime::Role;
use prm_runtime::testing::grpc::{as_of, assert_code, bad_fields, reason, request};
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn settings_name_every_bad_field_and_hide_secrets() {
    let t = commissions().await;
    let program = Uuid::now_v7();
    let mut bad = program_settings(program);
    bad.allowed_domains = vec!["https://shop.example/".into()];
    bad.attribution_window_days = 400;
    bad.min_seconds_to_convert = -1;
    bad.postback_token = "short".into();
    bad.attribution_model = 9;
    let s = assert_code(
        t.client().put_program_settings(as_of(bad, &t.admin)).await,
        Code::InvalidArgument,
    );
    let fields = bad_fields(&s);
    for f in [
        "allowed_domains[0]",
        "attribution_window_days",
        "min_seconds_to_convert",
        "postback_token",
        "attribution_model",
    ] {
        assert!(fields.contains(&f.to_owned()), "{f} in {fields:?}");
    }
    let missing = assert_code(
        t.client()
            .get_program_settings(as_of(
                GetProgramSettingsRequest {
                    program_id: program.to_string(),
                },
                &t.admin,
            ))
            .await,
        Code::NotFound,
    );
    assert_eq!(reason(&missing), "NOT_FOUND");
    let saved = t
        .client()
        .put_program_settings(as_of(program_settings(program), &t.admin))
        .await
        .expect("settings")
        .into_inner()
        .settings
        .expect("settings");
    assert!(saved.has_postback_token && saved.has_postback_secret);
    assert_eq!(saved.attribution_window_days, 30);
    // Partners never set them.
    let p = partner();
    assert_code(
        t.client()
            .put_program_settings(as_of(program_settings(program), &p))
            .await,
        Code::PermissionDenied,
    );
}

#[tokio::test]
async fn plans_are_versioned_and_the_version_in_force_pays() {
    let t = commissions().await;
    let (program, p, link) = t.affiliate().await;
    // Version 1 has been in force since yesterday.
    sqlx::query("UPDATE plans SET effective_from = now() - interval '1 day' WHERE program_id = $1")
        .bind(program)
        .execute(&t.pool)
        .await
        .expect("test step");
    // Version 2 from now on: 30%.
    let v2 = t
        .client()
        .create_plan(as_of(
            CreatePlanRequest {
                revshare_bps: 3_000,
                ..revshare_plan(program)
            },
            &t.admin,
        ))
        .await
        .expect("v2")
        .into_inner()
        .plan
        .expect("plan");
    assert_eq!(v2.version, 2);
    let click = t.click_at(&link, ago(3_600), "10.0.0.1").await;
    // A sale that happened before version 2 earns under version 1 (20%).
    let mut before = sale(program, &click, "T-old", 10_000);
    before.occurred_at = ago(60).to_rfc3339();
    let r = t.postback(before).await;
    assert_eq!(r.answer, "ACCEPTED", "{r:?}");
    // ... and one now, under version 2 (30%).
    let r = t.postback(sale(program, &click, "T-new", 10_000)).await;
    assert_eq!(r.answer, "ACCEPTED", "{r:?}");
    let mut earned: Vec<(i32, i64)> = t
        .commissions_of(&p)
        .await
        .iter()
        .map(|c| {
            (
                c.plan_version,
                c.amount.as_ref().expect("test step").amount_minor,
            )
        })
        .collect();
    earned.sort_unstable();
    assert_eq!(earned, vec![(1, 2_000), (2, 3_000)]);
    // A plan may not start in the past.
    let mut past = revshare_plan(program);
    past.effective_from = Some(prm_runtime::wire::timestamp(
        Utc::now() - chrono::Duration::days(2),
    ));
    let s = assert_code(
        t.client().create_plan(as_of(past, &t.admin)).await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&s), ["effective_from"]);
    // A partner reads its own program's plans and no other.
    let own = t
        .client()
        .list_plans(as_of(ListPlansRequest::default(), &p))
        .await
        .expect("plans")
        .into_inner()
        .plans;
    assert_eq!(own.len(), 2);
    assert!(own.iter().all(|pl| pl.program_id == program.to_string()));
    assert_code(
        t.client()
            .list_plans(as_of(
                ListPlansRequest {
                    program_id: Uuid::now_v7().to_string(),
                    ..Default::default()
                },
                &p,
            ))
            .await,
        Code::NotFound,
    );
    assert_code(
        t.client()
            .create_plan(as_of(revshare_plan(program), &p))
            .await,
        Code::PermissionDenied,
    );
}

#[tokio::test]
async fn links_point_only_at_allowed_domains() {
    let t = commissions().await;
    let program = t.program().await;
    let p = partner();
    t.join(&p, program, "acme.example").await;
    for bad in [
        "https://evil.example/",
        "https://shop.example@evil.example/",
        "https://evil.example\\@shop.example/",
        "javascript:alert(1)",
    ] {
        let s = assert_code(
            t.client()
                .create_link(as_of(
                    CreateLinkRequest {
                        partner_id: String::new(),
                        destination_url: bad.into(),
                    },
                    &p,
                ))
                .await,
            Code::InvalidArgument,
        );
        assert_eq!(bad_fields(&s), ["destination_url"], "{bad}");
    }
    let link = t.link(&p).await;
    assert_eq!(link.code.len(), 8);
    // The gateway resolves it without a principal; a user may not.
    let resolved = t
        .client()
        .resolve_link(request(
            ResolveLinkRequest {
                code: link.code.clone(),
            },
            None,
            None,
        ))
        .await
        .expect("resolve")
        .into_inner()
        .link
        .expect("found");
    assert_eq!(resolved.link_id, link.link_id);
    for code in ["nope1234", "../../x", ""] {
        let r = t
            .client()
            .resolve_link(request(
                ResolveLinkRequest { code: code.into() },
                None,
                None,
            ))
            .await
            .expect("resolve")
            .into_inner();
        assert!(r.link.is_none(), "{code}");
    }
    let s = assert_code(
        t.client()
            .resolve_link(as_of(
                ResolveLinkRequest {
                    code: link.code.clone(),
                },
                &p,
            ))
            .await,
        Code::PermissionDenied,
    );
    assert_eq!(reason(&s), "GATEWAY_ONLY");
    // A partner the service has not heard of has no program to link into.
    assert_code(
        t.client()
            .create_link(as_of(
                CreateLinkRequest {
                    partner_id: String::new(),
                    destination_url: "https://shop.example/".into(),
                },
                &partner(),
            ))
            .await,
        Code::NotFound,
    );
    // Another partner cannot disable it; its partner can, and then it no
    // longer resolves.
    let disable = |who: &prm_runtime::Principal| {
        let mut client = t.client();
        let req = as_of(
            DisableLinkRequest {
                link_id: link.link_id.clone(),
            },
            who,
        );
        async move { client.disable_link(req).await }
    };
    assert_code(disable(&partner()).await, Code::NotFound);
    let disabled = disable(&p)
        .await
        .expect("disable")
        .into_inner()
        .link
        .expect("link");
    assert_eq!(disabled.status, LinkStatus::Disabled as i32);
    let gone = t
        .client()
        .resolve_link(request(
            ResolveLinkRequest {
                code: link.code.clone(),
            },
            None,
            None,
        ))
        .await
        .expect("resolve")
        .into_inner();
    assert!(gone.link.is_none());
    // Staff create for a partner; an analyst may not.
    assert_code(
        t.client()
            .create_link(as_of(
                CreateLinkRequest {
                    partner_id: pid(&p).to_string(),
                    destination_url: "https://shop.example/".into(),
                },
                &staff(Role::Analyst),
            ))
            .await,
        Code::PermissionDenied,
    );
}
