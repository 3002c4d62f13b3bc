//! The MDF service on a clock the test moves, its staff and partners, and
//! the steps tests repeat.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use prm_mdf::domain::ledger::Balance;
use prm_proto::common::Money;
use prm_proto::mdf::mdf_service_client::MdfServiceClient;
use prm_proto::mdf::*;
use prm_runtime::testing::grpc::as_of;
use prm_runtime::testing::{RunningService, SpawnOptions};
use prm_runtime::{Clock, Principal, Role};
use tonic::Status;
use tonic::transport::Channel;
use uuid::Uuid;

pub struct TestMdf {
    pub svc: RunningService,
    pub clock: Clock,
    pub admin: Principal,
    pub marketing: Principal,
    pub finance: Principal,
    pub analyst: Principal,
    pub pool: sqlx::PgPool,
}

pub fn staff(role: Role) -> Principal {
    Principal {
        user_id: Uuid::now_v7(),
        partner_id: None,
        roles: vec![role],
        api_key_id: None,
        scopes: prm_runtime::Scopes::all(),
    }
}

/// A partner's admin user.
pub fn partner() -> Principal {
    Principal {
        user_id: Uuid::now_v7(),
        partner_id: Some(Uuid::now_v7()),
        roles: vec![Role::PartnerAdmin],
        api_key_id: None,
        scopes: prm_runtime::Scopes::all(),
    }
}

pub fn partner_id(p: &Principal) -> String {
    p.partner_id.expect("a partner").to_string()
}

pub fn eur(amount_minor: i64) -> Money {
    Money {
        amount_minor,
        currency: "EUR".into(),
    }
}

/// The quarter containing today, e.g. "2026-Q4".
pub fn this_quarter() -> String {
    let today = Utc::now().date_naive();
    format!("{}-Q{}", today.year(), (today.month() - 1) / 3 + 1)
}

pub fn days_ago(n: i64) -> NaiveDate {
    Utc::now().date_naive() - Duration::days(n)
}

pub async fn mdf() -> TestMdf {
    mdf_with(SpawnOptions::default()).await
}

pub async fn mdf_with(opts: SpawnOptions) -> TestMdf {
    let clock = Clock::system();
    let svc = prm_mdf::testing::spawn(opts, clock.clone()).await;
    svc.wait_serving().await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect_lazy(&svc.db.url)
        .expect("pool");
    TestMdf {
        svc,
        clock,
        admin: staff(Role::Admin),
        marketing: staff(Role::Marketing),
        finance: staff(Role::Finance),
        analyst: staff(Role::Analyst),
        pool,
    }
}

/// An activity that ended five days ago, asking for `amount_minor`.
pub fn activity(fund_id: &str, amount_minor: i64) -> SubmitMdfRequestRequest {
    SubmitMdfRequestRequest {
        fund_id: fund_id.into(),
        activity_type: ActivityType::Webinar as i32,
        description: "Launch webinar for the new product line".into(),
        starts_on: days_ago(6).to_string(),
        ends_on: days_ago(5).to_string(),
        expected_leads: 40,
        campaign_code: "WEB-LAUNCH".into(),
        amount: Some(eur(amount_minor)),
    }
}

pub fn proof() -> ProofDocument {
    ProofDocument {
        name: "invoice.pdf".into(),
        content_type: "application/pdf".into(),
        size_bytes: 48_213,
        checksum: format!("sha256:{}", "ab".repeat(32)),
        location: "s3://prm-proofs/invoice.pdf".into(),
    }
}

pub fn claim_for(request_id: &str, cost_minor: i64, invoice: &str) -> SubmitClaimRequest {
    SubmitClaimRequest {
        request_id: request_id.into(),
        proven_cost: Some(eur(cost_minor)),
        invoice_number: invoice.into(),
        leads_generated: 31,
        attendees: 120,
        documents: vec![proof()],
    }
}

impl TestMdf {
    pub fn client(&self) -> MdfServiceClient<Channel> {
        MdfServiceClient::new(self.svc.channel())
    }

    /// A budget of `amount_minor` EUR for this quarter in a new program.
    pub async fn budget(&self, amount_minor: i64) -> Budget {
        self.client()
            .create_budget(as_of(
                CreateBudgetRequest {
                    program_id: Uuid::now_v7().to_string(),
                    name: "Resellers EMEA".into(),
                    period: this_quarter(),
                    amount: Some(eur(amount_minor)),
                    claim_window_days: 0,
                },
                &self.marketing,
            ))
            .await
            .expect("budget")
            .into_inner()
            .budget
            .expect("budget")
    }

    pub async fn allocate(
        &self,
        budget: &Budget,
        partner: &Principal,
        amount_minor: i64,
    ) -> Result<Fund, Status> {
        self.client()
            .allocate_funds(as_of(
                AllocateFundsRequest {
                    budget_id: budget.id.clone(),
                    partner_id: partner_id(partner),
                    kind: FundKind::Discretionary as i32,
                    amount: Some(eur(amount_minor)),
                    ..Default::default()
                },
                &self.marketing,
            ))
            .await
            .map(|r| r.into_inner().fund.expect("fund"))
    }

    /// A discretionary fund of `amount_minor` for `partner` in a budget of
    /// its own.
    pub async fn fund(&self, partner: &Principal, amount_minor: i64) -> Fund {
        let budget = self.budget(amount_minor.max(1) * 10).await;
        self.allocate(&budget, partner, amount_minor)
            .await
            .expect("allocate")
    }

    pub async fn submit(
        &self,
        partner: &Principal,
        req: SubmitMdfRequestRequest,
    ) -> Result<MdfRequest, Status> {
        self.client()
            .submit_mdf_request(as_of(req, partner))
            .await
            .map(|r| r.into_inner().request.expect("request"))
    }

    pub async fn approve(
        &self,
        request_id: &str,
        amount: Option<i64>,
    ) -> Result<MdfRequest, Status> {
        self.client()
            .approve_mdf_request(as_of(
                ApproveMdfRequestRequest {
                    request_id: request_id.into(),
                    amount: amount.map(eur),
                    reason: String::new(),
                },
                &self.marketing,
            ))
            .await
            .map(|r| r.into_inner().request.expect("request"))
    }

    /// A request for `amount_minor` on `fund`, approved in full.
    pub async fn approved(
        &self,
        partner: &Principal,
        fund: &Fund,
        amount_minor: i64,
    ) -> MdfRequest {
        let r = self
            .submit(partner, activity(&fund.id, amount_minor))
            .await
            .expect("submit");
        self.approve(&r.id, None).await.expect("approve")
    }

    pub async fn claim(
        &self,
        partner: &Principal,
        req: SubmitClaimRequest,
    ) -> Result<Claim, Status> {
        self.client()
            .submit_claim(as_of(req, partner))
            .await
            .map(|r| r.into_inner().claim.expect("claim"))
    }

    pub async fn get_fund(&self, id: &str) -> Fund {
        self.client()
            .get_fund(as_of(GetFundRequest { fund_id: id.into() }, &self.admin))
            .await
            .expect("fund")
            .into_inner()
            .fund
            .expect("fund")
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.pool)
            .await
            .expect("count")
    }

    /// The fund's balance as stored beside it, and as recomputed from its
    /// entries; they must agree, and neither may be overdrawn.
    pub async fn check_ledger(&self, fund_id: &str) -> Balance {
        let id: Uuid = fund_id.parse().expect("uuid");
        let mut conn = self.pool.acquire().await.expect("conn");
        let stored = prm_mdf::store::fund(&mut conn, id)
            .await
            .expect("fund")
            .expect("fund")
            .balance();
        let derived = prm_mdf::store::balance_from_entries(&mut conn, id)
            .await
            .expect("entries");
        assert_eq!(
            stored, derived,
            "the stored balance is not the sum of the entries"
        );
        assert!(stored.available() >= 0, "overdrawn: {stored:?}");
        assert!(
            stored.reserved_outstanding() >= 0,
            "over-released: {stored:?}"
        );
        stored
    }
}

/// The minor units of an optional Money.
pub fn minor(m: &Option<Money>) -> i64 {
    m.as_ref().map_or(0, |m| m.amount_minor)
}

pub fn available(f: &Fund) -> i64 {
    minor(&f.balance.as_ref().expect("balance").available)
}
