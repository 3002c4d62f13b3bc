//! The commissions service on a clock the test moves, onboarding's event
//! stream (partners join programs through it), and the steps tests repeat.

use std::time::Duration;

use chrono::{DateTime, Utc};
use prm_proto::commissions::commissions_service_client::CommissionsServiceClient;
use prm_proto::commissions::*;
use prm_proto::events::{EventEnvelope, PartnerApproved};
use prm_runtime::testing::grpc::{as_of, request};
use prm_runtime::testing::{
    EventStream, RunningService, SpawnOptions, eventually, unique_namespace,
};
use prm_runtime::wire::timestamp;
use prm_runtime::{Clock, Principal, Role};
use prost::{Message, Name};
use tonic::transport::Channel;
use uuid::Uuid;

pub const TOKEN: &str = "program-postback-token-1";
pub const SECRET: &str = "program-hmac-secret-key-1";
pub const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";

pub struct TestCommissions {
    pub svc: RunningService,
    pub admin: Principal,
    pub pool: sqlx::PgPool,
    pub onboarding: EventStream,
    pub dealreg: EventStream,
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

/// A partner's admin user (the partner joins a program with
/// [`TestCommissions::join`]).
pub fn partner() -> Principal {
    Principal {
        user_id: Uuid::now_v7(),
        partner_id: Some(Uuid::now_v7()),
        roles: vec![Role::PartnerAdmin],
        api_key_id: None,
        scopes: prm_runtime::Scopes::all(),
    }
}

pub fn pid(p: &Principal) -> Uuid {
    p.partner_id.expect("a partner")
}

pub async fn commissions() -> TestCommissions {
    let namespace = unique_namespace();
    let onboarding =
        EventStream::open(&prm_runtime::testing::nats_url(), &namespace, "onboarding").await;
    let dealreg = EventStream::open(&prm_runtime::testing::nats_url(), &namespace, "dealreg").await;
    let clock = Clock::system();
    let svc = prm_commissions::testing::spawn(
        SpawnOptions {
            namespace: Some(namespace),
            ..Default::default()
        },
        clock,
    )
    .await;
    svc.wait_serving().await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect_lazy(&svc.db.url)
        .expect("pool");
    TestCommissions {
        svc,
        admin: staff(Role::Admin),
        pool,
        onboarding,
        dealreg,
    }
}

/// A program set up for tracking: links to shop.example, the test token
/// and secret, and the given thresholds.
pub fn program_settings(program: Uuid) -> PutProgramSettingsRequest {
    PutProgramSettingsRequest {
        program_id: program.to_string(),
        allowed_domains: vec!["shop.example".into()],
        attribution_model: AttributionModel::LastClick as i32,
        attribution_window_days: 30,
        min_seconds_to_convert: 10,
        max_clicks_per_source_hour: 20,
        min_payout_minor: 5_000,
        postback_token: TOKEN.into(),
        postback_secret: SECRET.into(),
    }
}

/// A plan: 20% revshare, 500 per signup, hold 30 days.
pub fn revshare_plan(program: Uuid) -> CreatePlanRequest {
    CreatePlanRequest {
        program_id: program.to_string(),
        name: "Standard".into(),
        currency: "USD".into(),
        cpa: vec![CpaRate {
            event_type: "signup".into(),
            amount_minor: 500,
        }],
        revshare_bps: 2_000,
        ..Default::default()
    }
}

/// A postback for a sale, authenticated with the token.
pub fn sale(program: Uuid, click: &str, txn: &str, amount_minor: i64) -> RecordPostbackRequest {
    RecordPostbackRequest {
        program_id: program.to_string(),
        token: TOKEN.into(),
        click_id: click.into(),
        transaction_id: txn.into(),
        kind: "sale".into(),
        amount: amount_minor.to_string(),
        currency: "USD".into(),
        ..Default::default()
    }
}

/// A status change postback.
pub fn status(
    program: Uuid,
    txn: &str,
    status: &str,
    amount: Option<i64>,
) -> RecordPostbackRequest {
    RecordPostbackRequest {
        program_id: program.to_string(),
        token: TOKEN.into(),
        transaction_id: txn.into(),
        status: status.into(),
        amount: amount.map(|a| a.to_string()).unwrap_or_default(),
        currency: if amount.is_some() {
            "USD".into()
        } else {
            String::new()
        },
        ..Default::default()
    }
}

impl TestCommissions {
    pub fn client(&self) -> CommissionsServiceClient<Channel> {
        CommissionsServiceClient::new(self.svc.channel())
    }

    /// A new program with the test settings and `plan`.
    pub async fn program_with(&self, plan: impl FnOnce(Uuid) -> CreatePlanRequest) -> Uuid {
        let program = Uuid::now_v7();
        self.client()
            .put_program_settings(as_of(program_settings(program), &self.admin))
            .await
            .expect("settings");
        self.client()
            .create_plan(as_of(plan(program), &self.admin))
            .await
            .expect("plan");
        program
    }

    pub async fn program(&self) -> Uuid {
        self.program_with(revshare_plan).await
    }

    /// Onboarding approves `partner` into `program` (through NATS), and
    /// the service has applied it.
    pub async fn join(&self, partner: &Principal, program: Uuid, domain: &str) {
        self.join_as(
            partner,
            program,
            domain,
            prm_proto::common::PartnerType::Affiliate,
        )
        .await;
    }

    pub async fn join_as(
        &self,
        partner: &Principal,
        program: Uuid,
        domain: &str,
        partner_type: prm_proto::common::PartnerType,
    ) {
        let id = pid(partner);
        let approved = PartnerApproved {
            partner_id: id.to_string(),
            company_name: "Acme Referrals".into(),
            domain: domain.into(),
            country: "DE".into(),
            partner_type: partner_type as i32,
            program_id: program.to_string(),
            approved_at: Some(timestamp(Utc::now())),
            ..Default::default()
        };
        let envelope = EventEnvelope {
            event_id: Uuid::now_v7().to_string(),
            r#type: PartnerApproved::full_name(),
            occurred_at: None,
            producer: "onboarding".into(),
            partner_id: id.to_string(),
            aggregate_type: "partner".into(),
            aggregate_id: id.to_string(),
            aggregate_version: 1,
            payload: approved.encode_to_vec(),
        };
        self.onboarding
            .publish("partner.approved", &envelope, &envelope.event_id)
            .await;
        let pool = self.pool.clone();
        eventually(Duration::from_secs(10), || {
            let pool = pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>("SELECT count(*) FROM partners WHERE partner_id = $1")
                    .bind(id)
                    .fetch_one(&pool)
                    .await
                    .ok()
                    .filter(|n| *n == 1)
            }
        })
        .await
        .expect("the partner reached the commissions service");
    }

    /// Onboarding announces `event` (`partner.suspended`, ...) about
    /// `partner`, once the directory has the partner at `version - 1`.
    pub async fn announce<M: Message + Name>(
        &self,
        partner: &Principal,
        subject: &str,
        event: M,
        version: i64,
    ) {
        let id = pid(partner);
        let envelope = EventEnvelope {
            event_id: Uuid::now_v7().to_string(),
            r#type: M::full_name(),
            occurred_at: None,
            producer: "onboarding".into(),
            partner_id: id.to_string(),
            aggregate_type: "partner".into(),
            aggregate_id: id.to_string(),
            aggregate_version: version,
            payload: event.encode_to_vec(),
        };
        self.onboarding
            .publish(subject, &envelope, &envelope.event_id)
            .await;
    }

    /// The partner's status in the commissions directory, once it is
    /// `want` (None if it does not get there).
    pub async fn partner_status(&self, partner: &Principal, want: &str) -> Option<String> {
        let (pool, id) = (self.pool.clone(), pid(partner));
        eventually(Duration::from_secs(10), || {
            let pool = pool.clone();
            async move {
                sqlx::query_scalar::<_, String>("SELECT status FROM partners WHERE partner_id = $1")
                    .bind(id)
                    .fetch_one(&pool)
                    .await
                    .ok()
                    .filter(|s| s == want)
            }
        })
        .await
    }

    /// A joined partner of a new program with the revshare plan, and its
    /// link.
    pub async fn affiliate(&self) -> (Uuid, Principal, Link) {
        let program = self.program().await;
        let p = partner();
        self.join(&p, program, "acme-referrals.example").await;
        let link = self.link(&p).await;
        (program, p, link)
    }

    pub async fn link(&self, p: &Principal) -> Link {
        self.client()
            .create_link(as_of(
                CreateLinkRequest {
                    partner_id: String::new(),
                    destination_url: "https://shop.example/landing?utm_source=partner".into(),
                },
                p,
            ))
            .await
            .expect("link")
            .into_inner()
            .link
            .expect("link")
    }

    /// Records a click on `link` at `at` from `ip` with a browser's user
    /// agent, as the gateway hands it over; returns its id.
    pub async fn click_at(&self, link: &Link, at: DateTime<Utc>, ip: &str) -> String {
        self.clicks(link, at, &[(ip, BROWSER)]).await.remove(0)
    }

    pub async fn clicks(
        &self,
        link: &Link,
        at: DateTime<Utc>,
        sources: &[(&str, &str)],
    ) -> Vec<String> {
        let clicks: Vec<Click> = sources
            .iter()
            .map(|(ip, ua)| Click {
                click_id: Uuid::now_v7().to_string(),
                link_id: link.link_id.clone(),
                clicked_at: Some(timestamp(at)),
                ip_hash: format!("hash-of-{ip}"),
                user_agent: (*ua).into(),
                referrer: "https://blog.example/review".into(),
                sub_ids: vec!["newsletter".into()],
            })
            .collect();
        let ids = clicks.iter().map(|c| c.click_id.clone()).collect();
        self.client()
            .record_clicks(request(RecordClicksRequest { clicks }, None, None))
            .await
            .expect("clicks");
        ids
    }

    pub async fn postback(&self, req: RecordPostbackRequest) -> RecordPostbackResponse {
        self.client()
            .record_postback(request(req, None, None))
            .await
            .expect("postback")
            .into_inner()
    }

    pub async fn ledger(&self, p: &Principal) -> GetLedgerResponse {
        self.client()
            .get_ledger(as_of(
                GetLedgerRequest {
                    page_size: 500,
                    ..Default::default()
                },
                p,
            ))
            .await
            .expect("ledger")
            .into_inner()
    }

    pub async fn commissions_of(&self, p: &Principal) -> Vec<Commission> {
        self.client()
            .list_commissions(as_of(
                ListCommissionsRequest {
                    page_size: 500,
                    ..Default::default()
                },
                p,
            ))
            .await
            .expect("commissions")
            .into_inner()
            .commissions
    }

    /// Runs the hold-period approval job at `now`, as the service would.
    pub async fn approve_due(&self, now: DateTime<Utc>) -> usize {
        let outbox = self.outbox();
        let mut conn = self.pool.acquire().await.expect("conn");
        let ids = prm_commissions::jobs::commissions_due(&mut conn, now)
            .await
            .expect("due");
        for id in &ids {
            let mut tx = self.pool.begin().await.expect("tx");
            prm_commissions::jobs::approve_commission(&mut tx, &outbox, *id, now)
                .await
                .expect("approve");
            tx.commit().await.expect("commit");
        }
        ids.len()
    }

    pub fn outbox(&self) -> prm_runtime::Outbox {
        prm_runtime::Outbox::new(
            "commissions",
            prm_runtime::nats::Subjects::new(self.svc.namespace.clone()),
            prm_runtime::Clock::system(),
        )
    }

    /// Every ledger entry's deltas summed per partner and currency, straight
    /// from the table.
    pub async fn sums(&self, partner: Uuid) -> Vec<(String, i64, i64)> {
        sqlx::query_as(
            "SELECT currency, sum(pending_delta)::bigint, sum(available_delta)::bigint
             FROM ledger_entries WHERE partner_id = $1 GROUP BY currency ORDER BY currency",
        )
        .bind(partner)
        .fetch_all(&self.pool)
        .await
        .expect("sums")
    }
}

/// A time `secs` seconds before now.
pub fn ago(secs: i64) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::seconds(secs)
}
