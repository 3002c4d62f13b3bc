//! Onboarding and deal registration running side by side, sharing a NATS
//! namespace, each on its own database; and the steps tests repeat.

use chrono::{Duration, Utc};
use prm_proto::common::Money;
use prm_proto::dealreg::dealreg_service_client::DealregServiceClient;
use prm_proto::dealreg::*;
use prm_proto::onboarding::onboarding_service_client::OnboardingServiceClient;
use prm_proto::onboarding::{
    ApproveApplicationRequest, AuthenticateRequest, CreateProgramRequest, CreateTierRequest,
    SubmitApplicationRequest, TierRequirements,
};
use prm_runtime::testing::grpc::{as_of, request};
use prm_runtime::testing::{RunningService, SpawnOptions};
use prm_runtime::{Principal, Role};
use tonic::Status;
use tonic::transport::Channel;
use uuid::Uuid;

pub struct Platform {
    pub onboarding: RunningService,
    pub dealreg: RunningService,
    pub admin: Principal,
    pub pool: sqlx::PgPool,
    pub program_id: String,
}

pub async fn platform() -> Platform {
    let onboarding = prm_onboarding::testing::spawn(SpawnOptions::default()).await;
    let dealreg = prm_dealreg::testing::spawn(
        SpawnOptions {
            namespace: Some(onboarding.namespace.clone()),
            ..SpawnOptions::default()
        },
        &onboarding.url(),
    )
    .await;
    onboarding.wait_serving().await;
    dealreg.wait_serving().await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect_lazy(&dealreg.db.url)
        .expect("pool");
    let mut p = Platform {
        onboarding,
        dealreg,
        admin: Principal {
            user_id: Uuid::now_v7(),
            partner_id: None,
            roles: vec![Role::Admin],
            api_key_id: None,
            scopes: prm_runtime::Scopes::all(),
        },
        pool,
        program_id: String::new(),
    };
    p.program_id = p.program().await;
    p
}

impl Platform {
    pub fn onboarding(&self) -> OnboardingServiceClient<Channel> {
        OnboardingServiceClient::new(self.onboarding.channel())
    }

    pub fn client(&self) -> DealregServiceClient<Channel> {
        DealregServiceClient::new(self.dealreg.channel())
    }

    async fn program(&self) -> String {
        let mut c = self.onboarding();
        let program = c
            .create_program(as_of(
                CreateProgramRequest {
                    name: "Resellers".into(),
                    currency: "EUR".into(),
                    ..Default::default()
                },
                &self.admin,
            ))
            .await
            .expect("program")
            .into_inner()
            .program
            .expect("program");
        c.create_tier(as_of(
            CreateTierRequest {
                program_id: program.id.clone(),
                name: "registered".into(),
                rank: 0,
                requirements: Some(TierRequirements {
                    min_revenue_won: Some(eur(0)),
                    ..Default::default()
                }),
            },
            &self.admin,
        ))
        .await
        .expect("tier");
        program.id
    }

    /// An approved partner, as its admin user.
    pub async fn partner(&self, domain: &str) -> Principal {
        let mut c = self.onboarding();
        let app = c
            .submit_application(request(
                SubmitApplicationRequest {
                    company_name: format!("{domain} Ltd"),
                    domain: domain.into(),
                    country: "DE".into(),
                    partner_type: prm_proto::common::PartnerType::Reseller as i32,
                    contact_name: "Pat Partner".into(),
                    contact_email: format!("pat@{domain}"),
                },
                None,
                None,
            ))
            .await
            .expect("apply")
            .into_inner()
            .application
            .expect("application");
        let approved = c
            .approve_application(as_of(
                ApproveApplicationRequest {
                    application_id: app.id,
                    program_id: self.program_id.clone(),
                    tier_id: String::new(),
                },
                &self.admin,
            ))
            .await
            .expect("approve")
            .into_inner();
        let p = c
            .authenticate(request(
                AuthenticateRequest {
                    secret: approved.admin_api_key_secret,
                    client_ip: String::new(),
                },
                None,
                None,
            ))
            .await
            .expect("authenticate")
            .into_inner()
            .principal
            .expect("principal");
        Principal::from_proto(&p).expect("principal")
    }

    pub async fn submit(
        &self,
        who: &Principal,
        company: &str,
        domain: &str,
    ) -> Result<Registration, Status> {
        self.client()
            .submit_registration(as_of(submission(company, domain), who))
            .await
            .map(|r| r.into_inner().registration.expect("registration"))
    }

    pub async fn approve(&self, id: &str) -> Result<Registration, Status> {
        self.client()
            .approve_registration(as_of(
                ApproveRegistrationRequest {
                    registration_id: id.into(),
                    note: String::new(),
                },
                &self.admin,
            ))
            .await
            .map(|r| r.into_inner().registration.expect("registration"))
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.pool)
            .await
            .expect("count")
    }
}

pub fn eur(amount_minor: i64) -> Money {
    Money {
        amount_minor,
        currency: "EUR".into(),
    }
}

pub fn submission(company: &str, domain: &str) -> SubmitRegistrationRequest {
    SubmitRegistrationRequest {
        partner_id: String::new(),
        customer_company: company.into(),
        customer_domain: domain.into(),
        contact: Some(Contact {
            name: "Jo Buyer".into(),
            email: format!("jo@{domain}"),
            phone: String::new(),
        }),
        estimated_value: Some(eur(5_000_000)),
        products: vec![],
        expected_close_date: (Utc::now().date_naive() + Duration::days(45)).to_string(),
        notes: String::new(),
        mdf_reference: String::new(),
    }
}
