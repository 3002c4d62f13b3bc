//! Submission: normalisation, every bad field named with nothing stored,
//! conflicts (another partner, a direct account) that do not say who,
//! near matches flagged for staff, idempotency, and the race the database
//! settles.

use futures::future::join_all;
use prm_proto::dealreg::*;
use prm_proto::onboarding::SuspendPartnerRequest;
use prm_runtime::testing::grpc::{as_of, assert_code, bad_fields, reason};
use prm_runtime::{Principal, Role};
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn a_registration_is_normalised_and_its_history_begins() {
    let p = platform().await;
    let partner = p.partner("reseller-one.example").await;
    let r = p
        .submit(&partner, "ACME, Inc.", "eu.shop.acme.co.uk")
        .await
        .expect("registered");
    assert_eq!(r.status, RegistrationStatus::Submitted as i32);
    assert_eq!(r.customer_domain_key, "acme.co.uk");
    assert_eq!(
        r.partner_id,
        partner.partner_id.expect("partner").to_string()
    );
    assert!(r.decision_due_at.is_some());
    assert!(!r.needs_review);
    let history = p
        .client()
        .get_registration_history(as_of(
            GetRegistrationHistoryRequest {
                registration_id: r.id.clone(),
            },
            &partner,
        ))
        .await
        .expect("history")
        .into_inner()
        .transitions;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].action, "submitted");
    assert_eq!(history[0].actor_user_id, partner.user_id.to_string());
}

#[tokio::test]
async fn every_bad_field_is_named_and_nothing_is_stored() {
    let p = platform().await;
    let partner = p.partner("reseller-two.example").await;
    let mut bad = submission("", "co.uk");
    bad.contact = Some(Contact {
        name: String::new(),
        email: "not-an-email".into(),
        phone: String::new(),
    });
    bad.estimated_value = Some(prm_proto::common::Money {
        amount_minor: -5,
        currency: "EUR".into(),
    });
    bad.expected_close_date = "2001-01-01".into();
    let s = assert_code(
        p.client().submit_registration(as_of(bad, &partner)).await,
        Code::InvalidArgument,
    );
    assert_eq!(
        bad_fields(&s),
        [
            "customer_company",
            "customer_domain",
            "contact.name",
            "contact.email",
            "estimated_value",
            "expected_close_date"
        ]
    );
    let mut absurd = submission("Acme", "acme.example");
    absurd.estimated_value = Some(prm_proto::common::Money {
        amount_minor: i64::MAX,
        currency: "EUR".into(),
    });
    let s = assert_code(
        p.client()
            .submit_registration(as_of(absurd, &partner))
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&s), ["estimated_value"]);
    let mut unknown_currency = submission("Acme", "acme.example");
    unknown_currency.estimated_value = Some(prm_proto::common::Money {
        amount_minor: 100,
        currency: "EURO".into(),
    });
    let s = assert_code(
        p.client()
            .submit_registration(as_of(unknown_currency, &partner))
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&s), ["estimated_value"]);
    assert_eq!(p.count("SELECT count(*) FROM registrations").await, 0);
    assert_eq!(p.count("SELECT count(*) FROM outbox").await, 0);
}

#[tokio::test]
async fn a_held_customer_is_a_conflict_that_does_not_say_who_holds_it() {
    let p = platform().await;
    let a = p.partner("alpha-reseller.example").await;
    let b = p.partner("beta-reseller.example").await;
    let held = p
        .submit(&a, "Acme Corp", "acme.com")
        .await
        .expect("a holds acme");

    // The same customer by domain (www. and case fold away) ...
    let s = assert_code(
        p.submit(&b, "Acme Holdings", "WWW.ACME.COM").await,
        Code::AlreadyExists,
    );
    assert_eq!(reason(&s), "CUSTOMER_CONFLICT");
    assert!(!s.message().contains(&held.id) && !s.message().contains("alpha"));
    // ... and by company name on another domain.
    let s = assert_code(
        p.submit(&b, "ACME, Inc.", "acme-shop.de").await,
        Code::AlreadyExists,
    );
    assert_eq!(reason(&s), "CUSTOMER_CONFLICT");
    // The holder itself cannot hold it twice.
    assert_code(p.submit(&a, "Acme", "acme.com").await, Code::AlreadyExists);

    // A direct account of the vendor.
    let mut c = p.client();
    c.create_direct_account(as_of(
        CreateDirectAccountRequest {
            company: "Globex Corporation".into(),
            domain: "www.globex.com".into(),
        },
        &p.admin,
    ))
    .await
    .expect("direct account");
    let s = assert_code(
        p.submit(&a, "Globex", "sales.globex.com").await,
        Code::AlreadyExists,
    );
    assert_eq!(reason(&s), "CUSTOMER_CONFLICT");
    let accounts = c
        .list_direct_accounts(as_of(ListDirectAccountsRequest::default(), &p.admin))
        .await
        .expect("list")
        .into_inner()
        .direct_accounts;
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].domain_key, "globex.com");
    // Partners neither see nor keep the list.
    assert_code(
        c.list_direct_accounts(as_of(ListDirectAccountsRequest::default(), &a))
            .await,
        Code::PermissionDenied,
    );
    c.delete_direct_account(as_of(
        DeleteDirectAccountRequest {
            direct_account_id: accounts[0].id.clone(),
        },
        &p.admin,
    ))
    .await
    .expect("delete");
    p.submit(&a, "Globex", "sales.globex.com")
        .await
        .expect("free once no longer direct");
    assert_eq!(p.count("SELECT count(*) FROM registrations").await, 2);
}

#[tokio::test]
async fn near_matches_are_flagged_for_staff_not_blocked() {
    let p = platform().await;
    let a = p.partner("gamma-reseller.example").await;
    let b = p.partner("delta-reseller.example").await;
    let first = p
        .submit(&a, "Initech Systems", "initech.com")
        .await
        .expect("first");
    let second = p
        .submit(&b, "Initech System Group", "initech-group.net")
        .await
        .expect("a near match is not blocked");
    assert!(second.needs_review);
    // The partner is told only that it awaits review.
    assert!(second.near_matches.is_empty());
    let staff_view = p
        .client()
        .get_registration(as_of(
            GetRegistrationRequest {
                registration_id: second.id.clone(),
            },
            &p.admin,
        ))
        .await
        .expect("get")
        .into_inner()
        .registration
        .expect("registration");
    assert_eq!(staff_view.near_matches.len(), 1, "{staff_view:?}");
    assert_eq!(staff_view.near_matches[0].registration_id, first.id);
    assert!(staff_view.near_matches[0].similarity >= 0.5);
    // Unrelated names are no match.
    let third = p
        .submit(&b, "Umbrella", "umbrella.org")
        .await
        .expect("third");
    assert!(!third.needs_review);
}

#[tokio::test]
async fn a_repeated_submission_with_one_key_registers_once() {
    let p = platform().await;
    let a = p.partner("epsilon-reseller.example").await;
    let send = || {
        let mut req = as_of(submission("Hooli", "hooli.com"), &a);
        req.metadata_mut()
            .insert("idempotency-key", "reg-1".parse().expect("key"));
        let mut c = p.client();
        async move { c.submit_registration(req).await }
    };
    let replies = join_all((0..5).map(|_| send())).await;
    let ids: Vec<String> = replies
        .into_iter()
        .map(|r| {
            r.expect("each answered")
                .into_inner()
                .registration
                .expect("r")
                .id
        })
        .collect();
    assert!(ids.iter().all(|id| id == &ids[0]), "{ids:?}");
    assert_eq!(p.count("SELECT count(*) FROM registrations").await, 1);
    assert_eq!(
        p.count("SELECT count(*) FROM outbox WHERE subject LIKE '%deal.registered'")
            .await,
        1
    );
}

/// 50 partners register the same customer at once: exactly one holds it.
#[tokio::test]
async fn of_fifty_concurrent_registrations_for_one_customer_exactly_one_holds_it() {
    let p = platform().await;
    let mut partners = Vec::new();
    for i in 0..50 {
        partners.push(p.partner(&format!("racer-{i}.example")).await);
    }
    let results = join_all(partners.iter().enumerate().map(|(i, who)| {
        let mut c = p.client();
        let req = as_of(
            submission(
                &format!("Contested {}", ["Inc", "LLC", "GmbH", "Ltd"][i % 4]),
                "contested.io",
            ),
            who,
        );
        async move { c.submit_registration(req).await }
    }))
    .await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Err(s) if s.code() == Code::AlreadyExists && reason(s) == "CUSTOMER_CONFLICT"))
        .count();
    println!("50 concurrent registrations: {won} held the customer, {conflicts} conflicts");
    assert_eq!(won, 1);
    assert_eq!(conflicts, 49);
    assert_eq!(p.count("SELECT count(*) FROM registrations").await, 1);
}

#[tokio::test]
async fn only_an_active_partner_registers() {
    let p = platform().await;
    let a = p.partner("zeta-reseller.example").await;
    // Seen active once: deal registration remembers that for a few seconds.
    p.submit(&a, "Before Suspension", "before.example")
        .await
        .expect("active");
    p.onboarding()
        .suspend_partner(as_of(
            SuspendPartnerRequest {
                partner_id: a.partner_id.expect("partner").to_string(),
                reason: "overdue invoices".into(),
            },
            &p.admin,
        ))
        .await
        .expect("suspend");
    // A suspension stops registrations within ACTIVE_TTL.
    let mut n = 0;
    let refused = prm_runtime::testing::eventually(prm_dealreg::onboarding::ACTIVE_TTL * 2, || {
        n += 1;
        let (company, domain) = (format!("Attempt {n}"), format!("attempt{n}.example"));
        let (p, a) = (&p, &a);
        async move { p.submit(a, &company, &domain).await.err() }
    })
    .await
    .expect("refused once the partner's active status has lapsed");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(reason(&refused), "PARTNER_SUSPENDED");
    // Staff register for a partner they name; an unknown one is NotFound.
    let mut req = submission("Acme", "acme.com");
    req.partner_id = Uuid::now_v7().to_string();
    assert_code(
        p.client().submit_registration(as_of(req, &p.admin)).await,
        Code::NotFound,
    );
    let analyst = Principal {
        user_id: Uuid::now_v7(),
        partner_id: None,
        roles: vec![Role::Analyst],
        api_key_id: None,
        scopes: prm_runtime::Scopes::all(),
    };
    let mut req = submission("Acme", "acme.com");
    req.partner_id = a.partner_id.expect("partner").to_string();
    assert_code(
        p.client().submit_registration(as_of(req, &analyst)).await,
        Code::PermissionDenied,
    );
    assert_eq!(
        p.count("SELECT count(*) FROM registrations WHERE customer_domain = 'acme.com'")
            .await,
        0
    );
}
