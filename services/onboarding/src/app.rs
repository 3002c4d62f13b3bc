//! Onboarding, declared: the API, the deal outcomes it consumes, its jobs
//! and the bootstrap admin key. The runtime does the rest.

use prm_proto::onboarding::onboarding_service_server::OnboardingServiceServer;
use prm_runtime::config::ServiceIdentity;
use prm_runtime::{GrpcApi, Service, ServiceHost};
use sqlx::migrate::Migrator;

use crate::api::{self, Onboarding};
use crate::config::OnboardingSettings;
use crate::{events, jobs};

impl Service for Onboarding {
    const IDENTITY: ServiceIdentity = crate::config::IDENTITY;
    type Settings = OnboardingSettings;

    fn migrator() -> Migrator {
        sqlx::migrate!("./migrations")
    }

    fn declare(host: &mut ServiceHost, settings: OnboardingSettings) -> anyhow::Result<GrpcApi> {
        host.consume("dealreg", Some("deal.*"), events::deal_outcomes());
        jobs::schedule(host, &settings);
        if let Some(key) = settings.bootstrap_admin_key {
            host.on_ready(move |tx, _| {
                let key = key.clone();
                Box::pin(async move { api::ensure_bootstrap_admin(tx, &key).await })
            });
        }
        Ok(host.serve(OnboardingServiceServer::new(Onboarding::new(host))))
    }
}
