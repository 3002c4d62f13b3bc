//! Tenancy in the service itself: a partner reaches only its own links,
//! conversions, commissions, ledger and postback log; naming another
//! partner is NotFound; the gateway's calls are not for users.

use prm_proto::commissions::*;
use prm_runtime::testing::grpc::{as_of, assert_code};
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn partners_never_see_one_another() {
    let t = commissions().await;
    let (program, a, link_a) = t.affiliate().await;
    let b = partner();
    t.join(&b, program, "b.example").await;
    let link_b = t.link(&b).await;
    let click = t.click_at(&link_a, ago(600), "10.0.0.1").await;
    t.postback(sale(program, &click, "T-A", 10_000)).await;
    let other = pid(&a).to_string();
    assert_code(
        t.client()
            .list_conversions(as_of(
                ListConversionsRequest {
                    partner_id: other.clone(),
                    ..Default::default()
                },
                &b,
            ))
            .await,
        Code::NotFound,
    );
    assert_code(
        t.client()
            .list_commissions(as_of(
                ListCommissionsRequest {
                    partner_id: other.clone(),
                    ..Default::default()
                },
                &b,
            ))
            .await,
        Code::NotFound,
    );
    assert_code(
        t.client()
            .get_ledger(as_of(
                GetLedgerRequest {
                    partner_id: other.clone(),
                    ..Default::default()
                },
                &b,
            ))
            .await,
        Code::NotFound,
    );
    assert_code(
        t.client()
            .list_links(as_of(
                ListLinksRequest {
                    partner_id: other.clone(),
                    ..Default::default()
                },
                &b,
            ))
            .await,
        Code::NotFound,
    );
    assert_code(
        t.client()
            .list_postback_log(as_of(
                ListPostbackLogRequest {
                    partner_id: other.clone(),
                    ..Default::default()
                },
                &b,
            ))
            .await,
        Code::NotFound,
    );
    assert_code(
        t.client()
            .create_link(as_of(
                CreateLinkRequest {
                    partner_id: other,
                    destination_url: "https://shop.example/".into(),
                },
                &b,
            ))
            .await,
        Code::NotFound,
    );
    // Unfiltered, B's lists hold only B's rows.
    let links = t
        .client()
        .list_links(as_of(ListLinksRequest::default(), &b))
        .await
        .expect("test step")
        .into_inner()
        .links;
    assert_eq!(
        links.iter().map(|l| l.link_id.clone()).collect::<Vec<_>>(),
        [link_b.link_id]
    );
    let conversions = t
        .client()
        .list_conversions(as_of(ListConversionsRequest::default(), &b))
        .await
        .expect("test step")
        .into_inner()
        .conversions;
    assert!(conversions.is_empty());
    assert!(t.commissions_of(&b).await.is_empty());
    assert!(t.ledger(&b).await.entries.is_empty());
    let log = t
        .client()
        .list_postback_log(as_of(ListPostbackLogRequest::default(), &b))
        .await
        .expect("test step")
        .into_inner();
    assert!(log.entries.is_empty());
    // Staff see A's.
    assert_eq!(t.commissions_of(&t.admin).await.len(), 1);
    // A user may not hand over clicks or relay postbacks.
    assert_code(
        t.client()
            .record_clicks(as_of(RecordClicksRequest::default(), &b))
            .await,
        Code::PermissionDenied,
    );
    assert_code(
        t.client()
            .record_postback(as_of(sale(program, &click, "T-B", 1), &b))
            .await,
        Code::PermissionDenied,
    );
}
