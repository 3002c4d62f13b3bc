//! Spawning the service and acting as its callers.

use std::sync::Arc;
use std::time::Duration;

use prm_onboarding::testing::{RunningService, SpawnOptions};
use prm_proto::common::PartnerType;
use prm_proto::onboarding::onboarding_service_client::OnboardingServiceClient;
use prm_proto::onboarding::*;
use prm_runtime::inbox::ConsumerStats;
use prm_runtime::outbox::RelayStats;
use prm_runtime::testing::{self, TestDatabase};
use prm_runtime::{Principal, Role};
use sqlx::PgPool;
use tonic::Status;
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use uuid::Uuid;

pub use prm_onboarding::testing::BOOTSTRAP_KEY;
pub use prm_runtime::testing::grpc::{as_of, assert_code, bad_fields, reason, request as req};

pub type Client = OnboardingServiceClient<Channel>;

pub struct TestApp {
    pub service: RunningService,
    pub channel: Channel,
    /// A pool of the test's own, for assertions on stored state.
    pub pool: PgPool,
    pub namespace: String,
    pub nats_url: String,
    pub relay: Arc<RelayStats>,
    pub deal_consumer: Arc<ConsumerStats>,
    /// The vendor admin installed from the bootstrap key.
    pub admin: Principal,
}

/// Options for spawning.
#[derive(Clone, Default)]
pub struct Spawn {
    pub db: Option<TestDatabase>,
    pub namespace: Option<String>,
    pub nats_url: Option<String>,
    /// Don't wait for SERVING (NATS may be down on purpose).
    pub no_wait: bool,
}

pub async fn spawn_app() -> TestApp {
    spawn(Spawn::default()).await
}

pub async fn spawn(opts: Spawn) -> TestApp {
    let service = prm_onboarding::testing::spawn(SpawnOptions {
        db: opts.db,
        namespace: opts.namespace,
        nats_url: opts.nats_url,
        ..SpawnOptions::default()
    })
    .await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect_lazy(&service.db.url)
        .expect("test pool");
    let mut app = TestApp {
        channel: service.channel(),
        pool,
        namespace: service.namespace.clone(),
        nats_url: service.nats_url.clone(),
        relay: service.relay.clone(),
        deal_consumer: service.consumer("dealreg"),
        service,
        admin: Principal {
            user_id: Uuid::nil(),
            partner_id: None,
            roles: vec![Role::Admin],
            api_key_id: None,
            scopes: prm_runtime::Scopes::all(),
        },
    };
    if !opts.no_wait {
        app.wait_serving().await;
        app.admin = app
            .authenticate(BOOTSTRAP_KEY)
            .await
            .expect("bootstrap admin authenticates");
    }
    app
}

pub struct Onboarded {
    pub id: String,
    pub application_id: String,
    pub admin: Principal,
    pub admin_user_id: String,
    pub secret: String,
}

pub struct Program {
    pub id: String,
    /// Tier ids by rank: registered (0), silver (1), gold (2).
    pub tiers: Vec<String>,
}

impl TestApp {
    pub fn client(&self) -> Client {
        OnboardingServiceClient::new(self.channel.clone())
    }

    pub async fn wait_serving(&self) {
        self.service.wait_serving().await;
    }

    pub async fn health(&self, service: &str) -> i32 {
        HealthClient::new(self.channel.clone())
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .map(|r| r.into_inner().status)
            .unwrap_or(-1)
    }

    pub async fn authenticate(&self, secret: &str) -> Result<Principal, Status> {
        let p = self
            .client()
            .authenticate(req(
                AuthenticateRequest {
                    secret: secret.into(),
                    client_ip: "127.0.0.1".into(),
                },
                None,
                None,
            ))
            .await?
            .into_inner()
            .principal
            .expect("principal");
        Ok(Principal::from_proto(&p).expect("a valid principal"))
    }

    /// A program in EUR with three tiers: registered (rank 0), silver
    /// (EUR 50,000, 1 certified, 2 deals) and gold (EUR 250,000, 2 certified, 3 deals).
    pub async fn program(&self, name: &str) -> Program {
        let mut c = self.client();
        let program = c
            .create_program(as_of(
                CreateProgramRequest {
                    name: name.into(),
                    currency: "EUR".into(),
                    demotion_grace_days: 30,
                    ..Default::default()
                },
                &self.admin,
            ))
            .await
            .expect("program")
            .into_inner()
            .program
            .expect("program");
        let mut tiers = Vec::new();
        for (rank, name, rev, cert, deals) in [
            (0, "registered", 0, 0, 0),
            (1, "silver", 5_000_000, 1, 2),
            (2, "gold", 25_000_000, 2, 3),
        ] {
            let t = c
                .create_tier(as_of(
                    CreateTierRequest {
                        program_id: program.id.clone(),
                        name: name.into(),
                        rank,
                        requirements: Some(TierRequirements {
                            min_revenue_won: Some(prm_proto::common::Money {
                                amount_minor: rev,
                                currency: "EUR".into(),
                            }),
                            min_certified_people: cert,
                            min_deals_won: deals,
                        }),
                    },
                    &self.admin,
                ))
                .await
                .expect("tier")
                .into_inner()
                .tier
                .expect("tier");
            tiers.push(t.id);
        }
        Program {
            id: program.id,
            tiers,
        }
    }

    pub async fn submit(
        &self,
        company: &str,
        domain: &str,
        partner_type: PartnerType,
    ) -> Application {
        self.client()
            .submit_application(req(
                SubmitApplicationRequest {
                    company_name: company.into(),
                    domain: domain.into(),
                    country: "DE".into(),
                    partner_type: partner_type as i32,
                    contact_name: format!("{company} Admin"),
                    contact_email: format!("admin@{domain}"),
                },
                None,
                None,
            ))
            .await
            .expect("submit")
            .into_inner()
            .application
            .expect("application")
    }

    /// Applies, is approved into `program`, and authenticates as the
    /// provisioned partner admin.
    pub async fn partner(
        &self,
        program: &Program,
        domain: &str,
        partner_type: PartnerType,
    ) -> Onboarded {
        let app = self
            .submit(&format!("{domain} Ltd"), domain, partner_type)
            .await;
        let approved = self
            .client()
            .approve_application(as_of(
                ApproveApplicationRequest {
                    application_id: app.id.clone(),
                    program_id: program.id.clone(),
                    tier_id: String::new(),
                },
                &self.admin,
            ))
            .await
            .expect("approve")
            .into_inner();
        let secret = approved.admin_api_key_secret.clone();
        let admin = self
            .authenticate(&secret)
            .await
            .expect("partner admin authenticates");
        Onboarded {
            id: approved.partner.expect("partner").id,
            application_id: app.id,
            admin,
            admin_user_id: approved.admin_user.expect("user").id,
            secret,
        }
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.pool)
            .await
            .expect("count")
    }

    /// Waits until the outbox is fully published.
    pub async fn outbox_drained(&self) -> bool {
        testing::eventually(Duration::from_secs(30), || async {
            let pending: i64 =
                sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                    .fetch_one(&self.pool)
                    .await
                    .ok()?;
            (pending == 0).then_some(())
        })
        .await
        .is_some()
    }

    /// Stops the service and waits for it to exit.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        self.service.stop().await
    }
}
