//! A partner reaches only its own registrations; the service enforces it,
//! answering NotFound for anything else, whatever the gateway does.

use prm_proto::dealreg::*;
use prm_runtime::testing::grpc::{as_of, assert_code};
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn partners_see_and_act_only_on_their_own_registrations() {
    let p = platform().await;
    let a = p.partner("iota-reseller.example").await;
    let b = p.partner("lambda-reseller.example").await;
    let ra = p
        .submit(&a, "Wayne Enterprises", "wayne.com")
        .await
        .expect("a");
    let rb = p
        .submit(&b, "Stark Industries", "stark.com")
        .await
        .expect("b");
    p.approve(&ra.id).await.expect("approved");
    let mut c = p.client();
    let id = ra.id.clone();

    assert_code(
        c.get_registration(as_of(
            GetRegistrationRequest {
                registration_id: id.clone(),
            },
            &b,
        ))
        .await,
        Code::NotFound,
    );
    assert_code(
        c.get_registration_history(as_of(
            GetRegistrationHistoryRequest {
                registration_id: id.clone(),
            },
            &b,
        ))
        .await,
        Code::NotFound,
    );
    assert_code(
        c.win_registration(as_of(
            WinRegistrationRequest {
                registration_id: id.clone(),
                amount: Some(eur(1)),
            },
            &b,
        ))
        .await,
        Code::NotFound,
    );
    assert_code(
        c.lose_registration(as_of(
            LoseRegistrationRequest {
                registration_id: id.clone(),
                reason: "sabotage".into(),
            },
            &b,
        ))
        .await,
        Code::NotFound,
    );
    assert_code(
        c.update_registration(as_of(
            UpdateRegistrationRequest {
                registration_id: id.clone(),
                notes: Some("mine now".into()),
                ..Default::default()
            },
            &b,
        ))
        .await,
        Code::NotFound,
    );
    assert_code(
        c.resubmit_registration(as_of(
            ResubmitRegistrationRequest {
                registration_id: id.clone(),
            },
            &b,
        ))
        .await,
        Code::NotFound,
    );
    // Registering in another partner's name.
    let mut req = submission("Oscorp", "oscorp.com");
    req.partner_id = a.partner_id.expect("a").to_string();
    assert_code(c.submit_registration(as_of(req, &b)).await, Code::NotFound);

    // Lists: a partner sees its own, even when it names another partner.
    let list = |who, partner_id: String| {
        let mut c = p.client();
        async move {
            c.list_registrations(as_of(
                ListRegistrationsRequest {
                    partner_id,
                    ..Default::default()
                },
                who,
            ))
            .await
        }
    };
    let own = list(&b, String::new())
        .await
        .expect("list")
        .into_inner()
        .registrations;
    assert_eq!(
        own.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [rb.id.as_str()]
    );
    assert_code(
        list(&b, a.partner_id.expect("a").to_string()).await,
        Code::NotFound,
    );
    // Staff see both, and filter by partner and status.
    let all = list(&p.admin, String::new())
        .await
        .expect("list")
        .into_inner()
        .registrations;
    assert_eq!(all.len(), 2);
    let approved = p
        .client()
        .list_registrations(as_of(
            ListRegistrationsRequest {
                status: RegistrationStatus::Approved as i32,
                ..Default::default()
            },
            &p.admin,
        ))
        .await
        .expect("list")
        .into_inner()
        .registrations;
    assert_eq!(
        approved.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [ra.id.as_str()]
    );
    // Nothing changed for a.
    let still = p
        .client()
        .get_registration(as_of(
            GetRegistrationRequest {
                registration_id: id,
            },
            &a,
        ))
        .await
        .expect("get")
        .into_inner()
        .registration
        .expect("r");
    assert_eq!(still.status, RegistrationStatus::Approved as i32);
    assert_eq!(still.notes, "");
}
