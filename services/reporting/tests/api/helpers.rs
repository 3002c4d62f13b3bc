//! The reporting service with the four streams it reads, events published
//! into them as their producers would, and the steps tests repeat.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use prm_proto::common::{Money, PartnerType};
use prm_proto::events as ev;
use prm_proto::events::EventEnvelope;
use prm_proto::reporting::reporting_service_client::ReportingServiceClient;
use prm_proto::reporting::*;
use prm_runtime::testing::grpc::as_of;
use prm_runtime::testing::{
    EventStream, RunningService, SpawnOptions, eventually, unique_namespace,
};
use prm_runtime::wire::timestamp;
use prm_runtime::{Clock, Principal, Role};
use prost::{Message, Name};
use tonic::transport::Channel;
use uuid::Uuid;

pub struct TestReporting {
    pub svc: RunningService,
    pub admin: Principal,
    pub onboarding: EventStream,
    pub dealreg: EventStream,
    pub mdf: EventStream,
    pub commissions: EventStream,
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
pub fn partner_user(partner: Uuid) -> Principal {
    Principal {
        user_id: Uuid::now_v7(),
        partner_id: Some(partner),
        roles: vec![Role::PartnerAdmin],
        api_key_id: None,
        scopes: prm_runtime::Scopes::all(),
    }
}

/// 2026-10-`day` at `hour`:00 UTC.
pub fn oct(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, day, hour, 0, 0)
        .single()
        .expect("time")
}

pub fn usd(minor: i64) -> Option<Money> {
    Some(Money {
        amount_minor: minor,
        currency: "USD".into(),
    })
}

pub fn money_in(minor: i64, currency: &str) -> Option<Money> {
    Some(Money {
        amount_minor: minor,
        currency: currency.into(),
    })
}

pub fn ts(t: DateTime<Utc>) -> Option<prost_types::Timestamp> {
    Some(timestamp(t))
}

pub async fn reporting() -> TestReporting {
    reporting_on(SpawnOptions::default()).await
}

pub async fn reporting_on(opts: SpawnOptions) -> TestReporting {
    let namespace = opts.namespace.clone().unwrap_or_else(unique_namespace);
    let url = prm_runtime::testing::nats_url();
    let onboarding = EventStream::open(&url, &namespace, "onboarding").await;
    let dealreg = EventStream::open(&url, &namespace, "dealreg").await;
    let mdf = EventStream::open(&url, &namespace, "mdf").await;
    let commissions = EventStream::open(&url, &namespace, "commissions").await;
    let svc = prm_reporting::testing::spawn(
        SpawnOptions {
            namespace: Some(namespace.clone()),
            ..opts
        },
        Clock::system(),
    )
    .await;
    svc.wait_serving().await;
    TestReporting {
        svc,
        admin: staff(Role::Admin),
        onboarding,
        dealreg,
        mdf,
        commissions,
    }
}

/// What an event is about, for its envelope.
pub struct About {
    pub partner: Option<Uuid>,
    pub aggregate_type: &'static str,
    pub aggregate_id: Uuid,
    pub version: i64,
    pub at: DateTime<Utc>,
}

pub fn envelope<M: Message + Name>(producer: &str, about: &About, payload: &M) -> EventEnvelope {
    EventEnvelope {
        event_id: Uuid::now_v7().to_string(),
        r#type: M::full_name(),
        occurred_at: ts(about.at),
        producer: producer.into(),
        partner_id: about.partner.map(|p| p.to_string()).unwrap_or_default(),
        aggregate_type: about.aggregate_type.into(),
        aggregate_id: about.aggregate_id.to_string(),
        aggregate_version: about.version,
        payload: payload.encode_to_vec(),
    }
}

impl TestReporting {
    pub fn client(&self) -> ReportingServiceClient<Channel> {
        ReportingServiceClient::new(self.svc.channel())
    }

    fn stream(&self, source: &str) -> &EventStream {
        match source {
            "onboarding" => &self.onboarding,
            "dealreg" => &self.dealreg,
            "mdf" => &self.mdf,
            "commissions" => &self.commissions,
            other => panic!("no stream {other}"),
        }
    }

    /// Publishes `payload` as `source` would, on `<source>.<entity_verb>`.
    pub async fn emit<M: Message + Name>(
        &self,
        source: &str,
        entity_verb: &str,
        about: About,
        payload: &M,
    ) -> EventEnvelope {
        let env = envelope(source, &about, payload);
        self.stream(source)
            .publish(entity_verb, &env, &env.event_id)
            .await;
        env
    }

    /// Publishes an envelope again under another message id (JetStream
    /// does not drop it; the inbox must).
    pub async fn redeliver(&self, source: &str, entity_verb: &str, env: &EventEnvelope) {
        self.stream(source)
            .publish(entity_verb, env, &Uuid::now_v7().to_string())
            .await;
    }

    pub async fn lag(&self) -> Vec<StreamLag> {
        self.client()
            .get_lag(as_of(GetLagRequest {}, &self.admin))
            .await
            .expect("lag")
            .into_inner()
            .streams
    }

    /// Waits until every stream's events are applied (the lag is zero).
    pub async fn settle(&self) {
        let settled = eventually(Duration::from_secs(60), || async {
            let lag = self.lag().await;
            lag.iter()
                .all(|s| s.available && s.pending_events == 0)
                .then_some(())
        })
        .await;
        assert!(
            settled.is_some(),
            "read models caught up: {:?}",
            self.lag().await
        );
    }

    pub async fn scorecard(&self, partner: Uuid, period: &str) -> Scorecard {
        self.scorecard_as(partner, period, &self.admin)
            .await
            .expect("scorecard")
    }

    pub async fn scorecard_as(
        &self,
        partner: Uuid,
        period: &str,
        who: &Principal,
    ) -> Result<Scorecard, tonic::Status> {
        self.client()
            .get_partner_scorecard(as_of(
                GetPartnerScorecardRequest {
                    partner_id: partner.to_string(),
                    period: period.into(),
                    currency: String::new(),
                },
                who,
            ))
            .await
            .map(|r| r.into_inner().scorecard.expect("scorecard"))
    }

    pub async fn program(&self, group_by: GroupBy, period: &str) -> GetProgramReportResponse {
        self.client()
            .get_program_report(as_of(
                GetProgramReportRequest {
                    group_by: group_by as i32,
                    period: period.into(),
                    ..Default::default()
                },
                &self.admin,
            ))
            .await
            .expect("program report")
            .into_inner()
    }

    pub async fn attribution(&self, deal: Uuid) -> DealAttribution {
        self.client()
            .get_deal_attribution(as_of(
                GetDealAttributionRequest {
                    deal_registration_id: deal.to_string(),
                },
                &self.admin,
            ))
            .await
            .expect("attribution")
            .into_inner()
            .attribution
            .expect("attribution")
    }

    // -- Events as the producers publish them --

    /// Onboarding approves a partner into `program` and `tier`.
    pub async fn approve(
        &self,
        partner: Uuid,
        program: Uuid,
        tier: &str,
        kind: PartnerType,
        at: DateTime<Utc>,
    ) {
        self.emit(
            "onboarding",
            "partner.approved",
            About {
                partner: Some(partner),
                aggregate_type: "partner",
                aggregate_id: partner,
                version: 1,
                at,
            },
            &ev::PartnerApproved {
                partner_id: partner.to_string(),
                company_name: format!("Partner {}", &partner.to_string()[..8]),
                domain: "partner.example".into(),
                country: "DE".into(),
                partner_type: kind as i32,
                program_id: program.to_string(),
                tier_id: Uuid::now_v7().to_string(),
                tier_name: tier.into(),
                approved_by_user_id: Uuid::now_v7().to_string(),
                approved_at: ts(at),
                application_id: Uuid::now_v7().to_string(),
            },
        )
        .await;
    }

    pub async fn checklist(&self, partner: Uuid, item: &str, at: DateTime<Utc>) {
        self.emit(
            "onboarding",
            "checklist.item_completed",
            About {
                partner: Some(partner),
                aggregate_type: "partner",
                aggregate_id: partner,
                version: 2,
                at,
            },
            &ev::OnboardingChecklistItemCompleted {
                partner_id: partner.to_string(),
                item: item.into(),
                completed_at: ts(at),
            },
        )
        .await;
    }

    pub async fn certify(&self, partner: Uuid, at: DateTime<Utc>) -> Uuid {
        let cert = Uuid::now_v7();
        self.emit(
            "onboarding",
            "certification.earned",
            About {
                partner: Some(partner),
                aggregate_type: "certification",
                aggregate_id: cert,
                version: 1,
                at,
            },
            &ev::CertificationEarned {
                certification_id: cert.to_string(),
                course_id: Uuid::now_v7().to_string(),
                user_id: Uuid::now_v7().to_string(),
                partner_id: partner.to_string(),
                expires_at: ts(at + chrono::Duration::days(365 * 3)),
                renewal: false,
            },
        )
        .await;
        cert
    }

    fn deal_about(partner: Uuid, deal: Uuid, version: i64, at: DateTime<Utc>) -> About {
        About {
            partner: Some(partner),
            aggregate_type: "deal_registration",
            aggregate_id: deal,
            version,
            at,
        }
    }

    /// Registers a deal for `domain` worth `estimate` USD minor units.
    pub async fn register(
        &self,
        partner: Uuid,
        domain: &str,
        estimate: i64,
        at: DateTime<Utc>,
    ) -> Uuid {
        let deal = Uuid::now_v7();
        self.emit(
            "dealreg",
            "deal.registered",
            Self::deal_about(partner, deal, 1, at),
            &ev::DealRegistered {
                deal_registration_id: deal.to_string(),
                partner_id: partner.to_string(),
                customer_company: domain.into(),
                customer_domain: domain.into(),
                estimated_value: usd(estimate),
                mdf_reference: String::new(),
                submitted_at: ts(at),
            },
        )
        .await;
        deal
    }

    pub async fn approve_deal(&self, partner: Uuid, deal: Uuid, at: DateTime<Utc>) {
        self.emit(
            "dealreg",
            "deal.approved",
            Self::deal_about(partner, deal, 2, at),
            &ev::DealRegistrationApproved {
                deal_registration_id: deal.to_string(),
                partner_id: partner.to_string(),
                approved_at: ts(at),
                protected_until: ts(at + chrono::Duration::days(90)),
                customer_domain: String::new(),
            },
        )
        .await;
    }

    pub async fn win(
        &self,
        partner: Uuid,
        deal: Uuid,
        domain: &str,
        amount: i64,
        mdf_reference: &str,
        at: DateTime<Utc>,
    ) {
        self.emit(
            "dealreg",
            "deal.won",
            Self::deal_about(partner, deal, 3, at),
            &ev::DealWon {
                deal_registration_id: deal.to_string(),
                partner_id: partner.to_string(),
                amount: usd(amount),
                won_at: ts(at),
                customer_company: domain.into(),
                customer_domain: domain.into(),
                mdf_reference: mdf_reference.into(),
            },
        )
        .await;
    }

    pub async fn lose(&self, partner: Uuid, deal: Uuid, at: DateTime<Utc>) {
        self.emit(
            "dealreg",
            "deal.lost",
            Self::deal_about(partner, deal, 3, at),
            &ev::DealLost {
                deal_registration_id: deal.to_string(),
                partner_id: partner.to_string(),
                reason: "price".into(),
                lost_at: ts(at),
            },
        )
        .await;
    }

    /// An attributed conversion (a sale when `amount` is set, else a lead).
    pub async fn convert(
        &self,
        partner: Uuid,
        domain: &str,
        amount: Option<i64>,
        at: DateTime<Utc>,
    ) -> Uuid {
        let conversion = Uuid::now_v7();
        self.emit(
            "commissions",
            "conversion.recorded",
            About {
                partner: Some(partner),
                aggregate_type: "conversion",
                aggregate_id: conversion,
                version: 1,
                at,
            },
            &ev::ConversionRecorded {
                conversion_id: conversion.to_string(),
                program_id: Uuid::now_v7().to_string(),
                partner_id: partner.to_string(),
                transaction_id: conversion.to_string(),
                kind: if amount.is_some() { "sale" } else { "lead" }.into(),
                event_type: if amount.is_some() { "sale" } else { "signup" }.into(),
                amount: amount.and_then(usd),
                customer_domain: domain.into(),
                occurred_at: ts(at),
                ..Default::default()
            },
        )
        .await;
        conversion
    }

    pub async fn clicks(&self, partner: Uuid, counted: i64, hour: DateTime<Utc>) {
        let link = Uuid::now_v7();
        self.emit(
            "commissions",
            "link.clicks_counted",
            About {
                partner: Some(partner),
                aggregate_type: "tracking_link",
                aggregate_id: link,
                version: 1,
                at: hour,
            },
            &ev::TrackingLinkClicksCounted {
                link_id: link.to_string(),
                partner_id: partner.to_string(),
                program_id: Uuid::now_v7().to_string(),
                hour_start: ts(hour),
                clicks: counted + 3,
                counted_clicks: counted,
            },
        )
        .await;
    }

    /// A commission earned (on a conversion, or a deal when `on_deal`).
    pub async fn earn(&self, partner: Uuid, amount: i64, on_deal: bool, at: DateTime<Utc>) {
        let commission = Uuid::now_v7();
        self.emit(
            "commissions",
            "commission.earned",
            About {
                partner: Some(partner),
                aggregate_type: "commission",
                aggregate_id: commission,
                version: 1,
                at,
            },
            &ev::CommissionEarned {
                commission_id: commission.to_string(),
                partner_id: partner.to_string(),
                amount: usd(amount),
                conversion_id: if on_deal {
                    String::new()
                } else {
                    Uuid::now_v7().to_string()
                },
                deal_registration_id: if on_deal {
                    Uuid::now_v7().to_string()
                } else {
                    String::new()
                },
                ..Default::default()
            },
        )
        .await;
    }
}
