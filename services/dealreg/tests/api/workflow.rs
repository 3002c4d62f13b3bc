//! The workflow: return for more information, limited edits, resubmission
//! with the SLA paused, approval with a protection window, limited
//! extensions, won and lost, refusals from the wrong state, and the history
//! of it all.

use prm_proto::dealreg::*;
use prm_runtime::testing::grpc::{as_of, assert_code, bad_fields, reason};
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn a_registration_goes_from_returned_to_won_and_keeps_its_history() {
    let p = platform().await;
    let partner = p.partner("omega-reseller.example").await;
    let r = p
        .submit(&partner, "Vandelay Industries", "vandelay.com")
        .await
        .expect("submitted");
    let mut c = p.client();

    // Staff return it; the partner may not decide on its own.
    assert_code(
        c.approve_registration(as_of(
            ApproveRegistrationRequest {
                registration_id: r.id.clone(),
                note: String::new(),
            },
            &partner,
        ))
        .await,
        Code::PermissionDenied,
    );
    let s = assert_code(
        c.return_registration(as_of(
            ReturnRegistrationRequest {
                registration_id: r.id.clone(),
                note: String::new(),
            },
            &p.admin,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&s), ["note"]);
    let returned = c
        .return_registration(as_of(
            ReturnRegistrationRequest {
                registration_id: r.id.clone(),
                note: "Which products, and how many seats?".into(),
            },
            &p.admin,
        ))
        .await
        .expect("returned")
        .into_inner()
        .registration
        .expect("r");
    assert_eq!(returned.status, RegistrationStatus::Returned as i32);
    // It still holds the customer while with the partner.
    let other = p.partner("sigma-reseller.example").await;
    assert_code(
        p.submit(&other, "Vandelay", "vandelay.com").await,
        Code::AlreadyExists,
    );

    // The partner edits the allowed fields: product lines set the value.
    let edited = c
        .update_registration(as_of(
            UpdateRegistrationRequest {
                registration_id: r.id.clone(),
                products: vec![
                    ProductLine {
                        product: "Seats".into(),
                        quantity: 250,
                        amount: Some(eur(7_500_000)),
                    },
                    ProductLine {
                        product: "Premium support".into(),
                        quantity: 1,
                        amount: Some(eur(1_000_000)),
                    },
                ],
                notes: Some("250 seats from Q1".into()),
                ..Default::default()
            },
            &partner,
        ))
        .await
        .expect("edited")
        .into_inner()
        .registration
        .expect("r");
    assert_eq!(edited.products.len(), 2);
    assert_eq!(edited.estimated_value, Some(eur(8_500_000)));
    assert_eq!(edited.notes, "250 seats from Q1");
    let resubmitted = c
        .resubmit_registration(as_of(
            ResubmitRegistrationRequest {
                registration_id: r.id.clone(),
            },
            &partner,
        ))
        .await
        .expect("resubmitted")
        .into_inner()
        .registration
        .expect("r");
    assert_eq!(resubmitted.status, RegistrationStatus::Submitted as i32);
    // The SLA clock stood still while it was returned: due no earlier.
    let due = |r: &Registration| r.decision_due_at.as_ref().map(|t| (t.seconds, t.nanos));
    assert!(due(&resubmitted) >= due(&r));
    // Edits are for returned registrations only.
    let s = assert_code(
        c.update_registration(as_of(
            UpdateRegistrationRequest {
                registration_id: r.id.clone(),
                notes: Some("again".into()),
                ..Default::default()
            },
            &partner,
        ))
        .await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&s), "REGISTRATION_NOT_RETURNED");

    let approved = p.approve(&r.id).await.expect("approved");
    assert_eq!(approved.status, RegistrationStatus::Approved as i32);
    let decided = approved.decided_at.as_ref().expect("decided").seconds;
    let until = approved
        .protected_until
        .as_ref()
        .expect("protected")
        .seconds;
    assert_eq!(until - decided, 90 * 86_400);

    // Protection extends twice, not a third time.
    for n in 1..=2 {
        let e = c
            .extend_protection(as_of(
                ExtendProtectionRequest {
                    registration_id: r.id.clone(),
                    note: format!("extension {n}"),
                },
                &p.admin,
            ))
            .await
            .expect("extended")
            .into_inner()
            .registration
            .expect("r");
        assert_eq!(e.extensions_used, n);
    }
    let s = assert_code(
        c.extend_protection(as_of(
            ExtendProtectionRequest {
                registration_id: r.id.clone(),
                note: String::new(),
            },
            &p.admin,
        ))
        .await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&s), "EXTENSION_LIMIT_REACHED");

    // Won, in the registration's currency only.
    let s = assert_code(
        c.win_registration(as_of(
            WinRegistrationRequest {
                registration_id: r.id.clone(),
                amount: Some(prm_proto::common::Money {
                    amount_minor: 1,
                    currency: "USD".into(),
                }),
            },
            &partner,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&s), ["amount.currency"]);
    let won = c
        .win_registration(as_of(
            WinRegistrationRequest {
                registration_id: r.id.clone(),
                amount: Some(eur(8_000_000)),
            },
            &partner,
        ))
        .await
        .expect("won")
        .into_inner()
        .registration
        .expect("r");
    assert_eq!(won.status, RegistrationStatus::Won as i32);
    assert_eq!(won.won_amount, Some(eur(8_000_000)));
    // A won deal releases the customer.
    p.submit(&other, "Vandelay", "vandelay.com")
        .await
        .expect("free after the outcome");

    let history: Vec<String> = c
        .get_registration_history(as_of(
            GetRegistrationHistoryRequest {
                registration_id: r.id.clone(),
            },
            &partner,
        ))
        .await
        .expect("history")
        .into_inner()
        .transitions
        .into_iter()
        .map(|t| t.action)
        .collect();
    assert_eq!(
        history,
        [
            "submitted",
            "returned",
            "updated",
            "resubmitted",
            "approved",
            "extended",
            "extended",
            "won"
        ]
    );
    assert_eq!(
        p.count("SELECT count(*) FROM outbox WHERE subject LIKE '%dealreg.deal.%'")
            .await,
        // registered twice (two registrations), approved, won.
        4
    );
}

#[tokio::test]
async fn transitions_from_the_wrong_state_are_refused() {
    let p = platform().await;
    let partner = p.partner("kappa-reseller.example").await;
    let r = p
        .submit(&partner, "Soylent", "soylent.com")
        .await
        .expect("submitted");
    let mut c = p.client();
    // Rejection needs a reason.
    let s = assert_code(
        c.reject_registration(as_of(
            RejectRegistrationRequest {
                registration_id: r.id.clone(),
                reason: 0,
                note: String::new(),
            },
            &p.admin,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&s), ["reason"]);
    let rejected = c
        .reject_registration(as_of(
            RejectRegistrationRequest {
                registration_id: r.id.clone(),
                reason: RejectionReason::NotQualified as i32,
                note: "no budget this year".into(),
            },
            &p.admin,
        ))
        .await
        .expect("rejected")
        .into_inner()
        .registration
        .expect("r");
    assert_eq!(
        rejected.rejection_reason,
        RejectionReason::NotQualified as i32
    );
    // Winning, approving or losing a rejected deal is refused.
    let s = assert_code(
        c.win_registration(as_of(
            WinRegistrationRequest {
                registration_id: r.id.clone(),
                amount: Some(eur(1)),
            },
            &partner,
        ))
        .await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&s), "REGISTRATION_NOT_APPROVED");
    assert_code(p.approve(&r.id).await, Code::FailedPrecondition);
    assert_code(
        c.lose_registration(as_of(
            LoseRegistrationRequest {
                registration_id: r.id.clone(),
                reason: "went elsewhere".into(),
            },
            &partner,
        ))
        .await,
        Code::FailedPrecondition,
    );
    // A rejected registration frees the customer.
    let again = p
        .submit(&partner, "Soylent", "soylent.com")
        .await
        .expect("free again");
    p.approve(&again.id).await.expect("approved");
    let s = assert_code(
        c.lose_registration(as_of(
            LoseRegistrationRequest {
                registration_id: again.id.clone(),
                reason: " ".into(),
            },
            &partner,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&s), ["reason"]);
    let lost = c
        .lose_registration(as_of(
            LoseRegistrationRequest {
                registration_id: again.id.clone(),
                reason: "chose a competitor".into(),
            },
            &partner,
        ))
        .await
        .expect("lost")
        .into_inner()
        .registration
        .expect("r");
    assert_eq!(lost.status, RegistrationStatus::Lost as i32);
    assert_eq!(lost.status_note, "chose a competitor");
}
