use prm_proto::common::PartnerType;
use prm_proto::onboarding::*;
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn keys_are_shown_once_stored_hashed_and_revocable() {
    let app = spawn_app().await;
    let program = app.program("Channel").await;
    let p = app
        .partner(&program, "acme.example", PartnerType::Reseller)
        .await;
    let mut c = app.client();
    let created = c
        .create_api_key(as_of(
            CreateApiKeyRequest {
                user_id: String::new(),
                name: "CI".into(),
                ..Default::default()
            },
            &p.admin,
        ))
        .await
        .expect("create")
        .into_inner();
    let key = created.api_key.expect("key");
    assert!(created.secret.starts_with("prm_"));
    assert!(created.secret.starts_with(&key.display_prefix));
    // Only a hash is stored: the secret appears nowhere in the database.
    let leaked: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM api_keys WHERE encode(secret_hash, 'escape') LIKE '%' || $1 || '%')
              + (SELECT count(*) FROM idempotency_keys WHERE encode(response, 'escape') LIKE '%' || $1 || '%')",
    )
    .bind(&created.secret)
    .fetch_one(&app.pool)
    .await
    .expect("query");
    assert_eq!(leaked, 0);
    let listed = c
        .list_api_keys(as_of(ListApiKeysRequest::default(), &p.admin))
        .await
        .expect("list")
        .into_inner()
        .api_keys;
    assert_eq!(listed.len(), 2, "the provisioned key and the new one");

    let principal = app
        .authenticate(&created.secret)
        .await
        .expect("authenticates");
    assert_eq!(principal.partner_id, p.admin.partner_id);
    assert_eq!(
        principal.api_key_id.map(|k| k.to_string()),
        Some(key.id.clone())
    );

    let revoked = c
        .revoke_api_key(as_of(
            RevokeApiKeyRequest {
                api_key_id: key.id.clone(),
            },
            &p.admin,
        ))
        .await
        .expect("revoke")
        .into_inner()
        .api_key
        .expect("key");
    assert!(revoked.revoked_at.is_some());
    assert_code(
        app.authenticate(&created.secret).await,
        Code::Unauthenticated,
    );
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE subject LIKE '%.api_key.revoked'")
            .await,
        1
    );
    // The other key is untouched.
    app.authenticate(&p.secret)
        .await
        .expect("provisioned key still works");
}

#[tokio::test]
async fn unknown_and_malformed_keys_authenticate_nothing() {
    let app = spawn_app().await;
    for secret in [
        "",
        "prm_",
        "prm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "not a key at all, with spaces in it",
        &"x".repeat(5000),
    ] {
        assert_code(app.authenticate(secret).await, Code::Unauthenticated);
    }
}

#[tokio::test]
async fn calls_need_the_service_credential_and_a_principal() {
    let app = spawn_app().await;
    let mut c = app.client();
    // No service token at all.
    let r = c
        .list_partners(tonic::Request::new(ListPartnersRequest::default()))
        .await;
    assert_code(r, Code::Unauthenticated);
    // A wrong one.
    let mut wrong = tonic::Request::new(ListPartnersRequest::default());
    prm_runtime::auth::authorize_request(&mut wrong, "guess", Some(&app.admin), None)
        .expect("headers");
    assert_code(c.list_partners(wrong).await, Code::Unauthenticated);
    // The token but no principal.
    assert_code(
        c.list_partners(req(ListPartnersRequest::default(), None, None))
            .await,
        Code::Unauthenticated,
    );
    // A forged principal header that claims staff roles for a partner.
    let mut forged = tonic::Request::new(ListPartnersRequest::default());
    forged.metadata_mut().insert(
        prm_runtime::auth::SERVICE_TOKEN_HEADER,
        prm_runtime::config::LOCAL_SERVICE_TOKEN.parse().expect("v"),
    );
    forged.metadata_mut().insert(
        prm_runtime::auth::PRINCIPAL_HEADER,
        format!(
            "user={};partner={};roles=admin",
            uuid::Uuid::now_v7(),
            uuid::Uuid::now_v7()
        )
        .parse()
        .expect("v"),
    );
    assert_code(c.list_partners(forged).await, Code::Unauthenticated);
}

#[tokio::test]
async fn partner_admins_manage_their_own_users() {
    let app = spawn_app().await;
    let program = app.program("Channel").await;
    let p = app
        .partner(&program, "acme.example", PartnerType::Reseller)
        .await;
    let mut c = app.client();
    let user = c
        .create_user(as_of(
            CreateUserRequest {
                partner_id: p.id.clone(),
                email: "Seller@Acme.Example".into(),
                display_name: "Sam Seller".into(),
                roles: vec![Role::PartnerUser as i32],
            },
            &p.admin,
        ))
        .await
        .expect("create user")
        .into_inner()
        .user
        .expect("user");
    assert_eq!(user.email, "Seller@acme.example");
    // Partner users cannot hold staff roles, and partners cannot make staff.
    let r = c
        .create_user(as_of(
            CreateUserRequest {
                partner_id: p.id.clone(),
                email: "boss@acme.example".into(),
                display_name: "Boss".into(),
                roles: vec![Role::Admin as i32],
            },
            &p.admin,
        ))
        .await;
    assert_eq!(
        bad_fields(&assert_code(r, Code::InvalidArgument)),
        ["roles[0]"]
    );
    let r = c
        .create_user(as_of(
            CreateUserRequest {
                partner_id: String::new(),
                email: "staff@acme.example".into(),
                display_name: "Staff".into(),
                roles: vec![Role::Finance as i32],
            },
            &p.admin,
        ))
        .await;
    assert_code(r, Code::PermissionDenied);
    let r = c
        .create_user(as_of(
            CreateUserRequest {
                partner_id: p.id.clone(),
                email: "seller@ACME.example".into(),
                display_name: "Dup".into(),
                roles: vec![Role::PartnerUser as i32],
            },
            &p.admin,
        ))
        .await;
    assert_eq!(
        reason(&assert_code(r, Code::AlreadyExists)),
        "USER_EMAIL_TAKEN"
    );
    let r = c
        .create_user(as_of(
            CreateUserRequest {
                partner_id: p.id.clone(),
                email: "x".into(),
                display_name: "".into(),
                roles: vec![0, 42],
            },
            &p.admin,
        ))
        .await;
    assert_eq!(
        bad_fields(&assert_code(r, Code::InvalidArgument)),
        ["email", "display_name", "roles[0]", "roles[1]"]
    );

    // A key for the seller, then deactivation revokes it.
    let key = c
        .create_api_key(as_of(
            CreateApiKeyRequest {
                user_id: user.id.clone(),
                name: "seller".into(),
                ..Default::default()
            },
            &p.admin,
        ))
        .await
        .expect("key")
        .into_inner();
    let seller = app
        .authenticate(&key.secret)
        .await
        .expect("seller authenticates");
    // A plain partner user cannot manage others.
    let r = c
        .deactivate_user(as_of(
            DeactivateUserRequest {
                user_id: p.admin_user_id.clone(),
            },
            &seller,
        ))
        .await;
    assert_code(r, Code::PermissionDenied);
    c.deactivate_user(as_of(
        DeactivateUserRequest {
            user_id: user.id.clone(),
        },
        &p.admin,
    ))
    .await
    .expect("deactivate");
    assert_code(app.authenticate(&key.secret).await, Code::Unauthenticated);
    let r = c
        .deactivate_user(as_of(
            DeactivateUserRequest {
                user_id: p.admin_user_id.clone(),
            },
            &p.admin,
        ))
        .await;
    assert_eq!(
        reason(&assert_code(r, Code::FailedPrecondition)),
        "CANNOT_DEACTIVATE_SELF"
    );
}

#[tokio::test]
async fn a_retried_call_replays_its_first_response() {
    let app = spawn_app().await;
    let program = app.program("Channel").await;
    let p = app
        .partner(&program, "acme.example", PartnerType::Reseller)
        .await;
    let mut c = app.client();
    let body = CreateApiKeyRequest {
        user_id: String::new(),
        name: "retry-me".into(),
        ..Default::default()
    };
    let first = c
        .create_api_key(req(body.clone(), Some(&p.admin), Some("key-123")))
        .await
        .expect("first")
        .into_inner();
    let second = c
        .create_api_key(req(body.clone(), Some(&p.admin), Some("key-123")))
        .await
        .expect("replay")
        .into_inner();
    assert_eq!(
        first.api_key, second.api_key,
        "the same key, not a second one"
    );
    assert!(!first.secret.is_empty());
    assert!(
        second.secret.is_empty(),
        "a replay never carries the secret again"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM api_keys WHERE name = 'retry-me'")
            .await,
        1
    );
    // The same key with another body is refused and changes nothing.
    let other = CreateApiKeyRequest {
        user_id: String::new(),
        name: "something else".into(),
        ..Default::default()
    };
    let r = c
        .create_api_key(req(other, Some(&p.admin), Some("key-123")))
        .await;
    assert_eq!(
        reason(&assert_code(r, Code::FailedPrecondition)),
        "IDEMPOTENCY_KEY_REUSED"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM api_keys WHERE name = 'something else'")
            .await,
        0
    );
    // Keys are per principal: another partner using the same key string is independent.
    let q = app
        .partner(&program, "beta.example", PartnerType::Reseller)
        .await;
    let theirs = c
        .create_api_key(req(body, Some(&q.admin), Some("key-123")))
        .await
        .expect("independent")
        .into_inner();
    assert_ne!(theirs.api_key.expect("k").id, first.api_key.expect("k").id);
    // Concurrent retries of one keyed request make one effect.
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let mut c = app.client();
        let admin = app.admin.clone();
        tasks.push(tokio::spawn(async move {
            c.create_program(req(
                CreateProgramRequest {
                    name: "Raced".into(),
                    currency: "USD".into(),
                    ..Default::default()
                },
                Some(&admin),
                Some("prog-1"),
            ))
            .await
            .map(|r| r.into_inner().program.expect("program").id)
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.expect("join").expect("created or replayed"));
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every retry got the same program");
    assert_eq!(
        app.count("SELECT count(*) FROM programs WHERE name = 'Raced'")
            .await,
        1
    );
    // Bad keys are refused up front.
    let r = c
        .create_api_key(req(
            CreateApiKeyRequest {
                user_id: String::new(),
                name: "x".into(),
                ..Default::default()
            },
            Some(&p.admin),
            Some(&"k".repeat(300)),
        ))
        .await;
    assert_eq!(
        bad_fields(&assert_code(r, Code::InvalidArgument)),
        ["idempotency-key"]
    );
}

#[tokio::test]
async fn first_use_of_a_key_marks_the_first_user_active() {
    let app = spawn_app().await;
    let program = app.program("Channel").await;
    let p = app
        .partner(&program, "acme.example", PartnerType::Reseller)
        .await;
    let checklist = app
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
    let item = checklist
        .items
        .iter()
        .find(|i| i.kind == ChecklistItemKind::FirstUserActive as i32)
        .expect("item");
    assert!(
        item.done,
        "the admin authenticated when the test helper signed in"
    );
}
