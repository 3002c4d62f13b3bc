//! The directory of partners commissions keeps from onboarding's events:
//! a partner's status there decides whether it may make links.

use prm_proto::commissions::*;
use prm_proto::events::{PartnerReactivated, PartnerSuspended, PartnerTerminated};
use prm_runtime::testing::grpc::{as_of, assert_code, reason};
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn onboarding_status_events_close_and_reopen_a_partner_s_links() {
    let t = commissions().await;
    let (_, p, _) = t.affiliate().await;
    let id = pid(&p).to_string();
    let new_link = || async {
        t.client()
            .create_link(as_of(
                CreateLinkRequest {
                    partner_id: String::new(),
                    destination_url: "https://shop.example/spring".into(),
                },
                &p,
            ))
            .await
    };

    let suspended = PartnerSuspended {
        partner_id: id.clone(),
        ..Default::default()
    };
    t.announce(&p, "partner.suspended", suspended, 2).await;
    assert_eq!(
        t.partner_status(&p, "suspended").await.as_deref(),
        Some("suspended")
    );
    let s = assert_code(new_link().await, Code::FailedPrecondition);
    assert_eq!(reason(&s), "PARTNER_NOT_ACTIVE");

    let reactivated = PartnerReactivated {
        partner_id: id.clone(),
        ..Default::default()
    };
    t.announce(&p, "partner.reactivated", reactivated, 3).await;
    assert_eq!(
        t.partner_status(&p, "active").await.as_deref(),
        Some("active")
    );
    new_link().await.expect("an active partner's link");

    let terminated = PartnerTerminated {
        partner_id: id,
        ..Default::default()
    };
    t.announce(&p, "partner.terminated", terminated, 4).await;
    assert_eq!(
        t.partner_status(&p, "terminated").await.as_deref(),
        Some("terminated")
    );
    let s = assert_code(new_link().await, Code::FailedPrecondition);
    assert_eq!(reason(&s), "PARTNER_NOT_ACTIVE");
}
