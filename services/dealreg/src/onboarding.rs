//! What deal registration asks onboarding: whether a partner may register
//! deals (it exists, the caller may see it, and it is active). The call
//! carries the caller's principal, so onboarding applies its own tenancy
//! rules; a partner another partner cannot see is NotFound here too. The
//! call goes through the runtime's retrying channel, so a restart or a
//! recycled connection of onboarding fails no registration.
//!
//! An active answer is remembered for [`ACTIVE_TTL`], so a partner
//! registering many deals does not cost a call each: a suspension stops
//! registrations within that time (as a revoked API key stops working
//! within the gateway's cache TTL). Callers check the principal's reach
//! to the partner themselves before asking.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prm_proto::onboarding::onboarding_service_client::OnboardingServiceClient;
use prm_proto::onboarding::{GetPartnerRequest, PartnerStatus};
use prm_runtime::auth::authorize_request;
use prm_runtime::client::{Repeatable, UpstreamChannel};
use prm_runtime::{ApiError, Principal, Scopes};
use secrecy::{ExposeSecret, SecretString};
use tonic::Code;
use uuid::Uuid;

/// How long an active partner is taken to stay active.
pub const ACTIVE_TTL: Duration = Duration::from_secs(5);
/// Partners remembered at most; the memory is cleared when it is full.
const REMEMBERED: usize = 10_000;

#[derive(Clone)]
pub struct Onboarding {
    client: OnboardingServiceClient<UpstreamChannel>,
    service_token: SecretString,
    /// When each partner was last seen active.
    active: Arc<Mutex<HashMap<Uuid, Instant>>>,
}

impl Onboarding {
    /// A lazily connected client of onboarding at `url`.
    pub fn new(url: &str, service_token: SecretString) -> anyhow::Result<Self> {
        let channel = UpstreamChannel::new("onboarding", url, Duration::from_secs(2))
            .map_err(|e| anyhow::anyhow!("onboarding_url: {e}"))?;
        Ok(Self {
            client: OnboardingServiceClient::new(channel),
            service_token,
            active: Arc::default(),
        })
    }

    /// The partner exists, `principal` may see it, and it is active.
    pub async fn ensure_may_register(
        &self,
        principal: &Principal,
        partner_id: Uuid,
    ) -> Result<(), ApiError> {
        if self.seen_active(partner_id) {
            return Ok(());
        }
        let mut req = tonic::Request::new(GetPartnerRequest {
            partner_id: partner_id.to_string(),
        });
        // The caller's identity (onboarding applies its tenancy), with only
        // the read this check is: registering a deal implies it, whatever
        // else the caller's key may do.
        let asking = Principal {
            scopes: Scopes::from_wire(&["partners.read"]),
            ..principal.clone()
        };
        authorize_request(
            &mut req,
            self.service_token.expose_secret(),
            Some(&asking),
            None,
        )
        .map_err(|s| ApiError::Internal(anyhow::anyhow!("{}", s.message())))?;
        req.set_timeout(Duration::from_secs(5));
        // A read: safe to send again.
        req.extensions_mut().insert(Repeatable);
        let partner = match self.client.clone().get_partner(req).await {
            Ok(r) => r.into_inner().partner,
            Err(s) if s.code() == Code::NotFound => return Err(ApiError::not_found("partner")),
            Err(s) => {
                tracing::warn!(code = ?s.code(), message = s.message(), "onboarding could not say whether the partner is active");
                return Err(ApiError::Unavailable(
                    "cannot check the partner's status with onboarding".into(),
                ));
            }
        };
        let status = partner
            .map(|p| p.status)
            .and_then(|s| PartnerStatus::try_from(s).ok());
        let subject = format!("partner/{partner_id}");
        match status {
            Some(PartnerStatus::Active) => {
                self.remember_active(partner_id);
                Ok(())
            }
            Some(PartnerStatus::Suspended) => Err(ApiError::precondition(
                "PARTNER_SUSPENDED",
                subject,
                "a suspended partner cannot register deals",
            )),
            Some(PartnerStatus::Terminated) => Err(ApiError::precondition(
                "PARTNER_TERMINATED",
                subject,
                "a terminated partner cannot register deals",
            )),
            _ => Err(ApiError::Internal(anyhow::anyhow!(
                "onboarding answered partner {partner_id} without a status"
            ))),
        }
    }

    fn seen_active(&self, partner_id: Uuid) -> bool {
        let active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        active
            .get(&partner_id)
            .is_some_and(|at| at.elapsed() < ACTIVE_TTL)
    }

    fn remember_active(&self, partner_id: Uuid) {
        let mut active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        if active.len() >= REMEMBERED {
            active.clear();
        }
        active.insert(partner_id, Instant::now());
    }
}
