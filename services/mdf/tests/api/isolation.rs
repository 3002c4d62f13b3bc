//! Tenancy, enforced by the service itself: a partner reaches only its own
//! funds, requests and claims; anything else is NotFound.

use prm_proto::mdf::*;
use prm_runtime::testing::grpc::{as_of, assert_code};
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn partners_never_see_one_anothers_funds() {
    let t = mdf().await;
    let (a, b) = (partner(), partner());
    let fund_a = t.fund(&a, 100_000).await;
    let fund_b = t.fund(&b, 100_000).await;
    let request_a = t.approved(&a, &fund_a, 10_000).await;
    let claim_a = t
        .claim(&a, claim_for(&request_a.id, 1_000, "INV-A1"))
        .await
        .expect("claim");
    let mut c = t.client();

    // Reads by id.
    assert_code(
        c.get_fund(as_of(
            GetFundRequest {
                fund_id: fund_a.id.clone(),
            },
            &b,
        ))
        .await,
        Code::NotFound,
    );
    assert_code(
        c.list_fund_entries(as_of(
            ListFundEntriesRequest {
                fund_id: fund_a.id.clone(),
                ..Default::default()
            },
            &b,
        ))
        .await,
        Code::NotFound,
    );
    assert_code(
        c.get_mdf_request(as_of(
            GetMdfRequestRequest {
                request_id: request_a.id.clone(),
            },
            &b,
        ))
        .await,
        Code::NotFound,
    );
    assert_code(
        c.get_request_roi(as_of(
            GetRequestRoiRequest {
                request_id: request_a.id.clone(),
            },
            &b,
        ))
        .await,
        Code::NotFound,
    );
    assert_code(
        c.get_claim(as_of(
            GetClaimRequest {
                claim_id: claim_a.id.clone(),
            },
            &b,
        ))
        .await,
        Code::NotFound,
    );
    // Acting on another partner's things.
    assert_code(
        t.submit(&b, activity(&fund_a.id, 1_000)).await,
        Code::NotFound,
    );
    assert_code(
        t.claim(&b, claim_for(&request_a.id, 1_000, "INV-B1")).await,
        Code::NotFound,
    );
    assert_code(
        c.cancel_mdf_request(as_of(
            CancelMdfRequestRequest {
                request_id: request_a.id.clone(),
                reason: String::new(),
            },
            &b,
        ))
        .await,
        Code::NotFound,
    );
    // Lists hold only one's own, and naming another partner is NotFound.
    let funds = c
        .list_funds(as_of(ListFundsRequest::default(), &b))
        .await
        .expect("funds")
        .into_inner()
        .funds;
    assert_eq!(
        funds.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
        [fund_b.id.as_str()]
    );
    for r in [
        c.list_funds(as_of(
            ListFundsRequest {
                partner_id: partner_id(&a),
                ..Default::default()
            },
            &b,
        ))
        .await
        .map(drop),
        c.list_mdf_requests(as_of(
            ListMdfRequestsRequest {
                partner_id: partner_id(&a),
                ..Default::default()
            },
            &b,
        ))
        .await
        .map(drop),
        c.list_claims(as_of(
            ListClaimsRequest {
                partner_id: partner_id(&a),
                ..Default::default()
            },
            &b,
        ))
        .await
        .map(drop),
    ] {
        assert_code(r, Code::NotFound);
    }
    let requests = c
        .list_mdf_requests(as_of(ListMdfRequestsRequest::default(), &b))
        .await
        .expect("requests")
        .into_inner()
        .requests;
    assert!(requests.is_empty());
    let claims = c
        .list_claims(as_of(ListClaimsRequest::default(), &b))
        .await
        .expect("claims")
        .into_inner()
        .claims;
    assert!(claims.is_empty());
    // Partners see no budgets at all.
    assert_code(
        c.list_budgets(as_of(ListBudgetsRequest::default(), &a))
            .await,
        Code::PermissionDenied,
    );
    // Staff see everyone's.
    let all = c
        .list_funds(as_of(ListFundsRequest::default(), &t.analyst))
        .await
        .expect("funds")
        .into_inner()
        .funds;
    assert_eq!(all.len(), 2);
    // A partner approves nothing, even its own.
    assert_code(
        c.approve_claim(as_of(
            ApproveClaimRequest {
                claim_id: claim_a.id.clone(),
                amount: None,
                reason: String::new(),
            },
            &a,
        ))
        .await,
        Code::PermissionDenied,
    );
}

/// The service checks each RPC's scope itself, whoever calls it: a
/// read-only key reads, and cannot write, even past the gateway.
#[tokio::test]
async fn a_read_only_key_cannot_write_even_past_the_gateway() {
    let t = mdf().await;
    let p = partner();
    let fund = t.fund(&p, 100_000).await;
    let read_only = prm_runtime::Principal {
        scopes: prm_runtime::Scopes::parse(&["read_only"]).expect("scope"),
        ..p.clone()
    };
    t.client()
        .get_fund(prm_runtime::testing::grpc::as_of(
            prm_proto::mdf::GetFundRequest {
                fund_id: fund.id.clone(),
            },
            &read_only,
        ))
        .await
        .expect("a read-only key reads");
    let s = prm_runtime::testing::grpc::assert_code(
        t.submit(&read_only, activity(&fund.id, 1_000)).await,
        tonic::Code::PermissionDenied,
    );
    assert_eq!(prm_runtime::testing::grpc::reason(&s), "MISSING_SCOPE");
    assert!(
        s.message().contains("mdf_requests.write"),
        "{}",
        s.message()
    );
}
