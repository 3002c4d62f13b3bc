//! Authentication: the gateway resolves every API key to its principal
//! here. Onboarding is the platform's identity owner.

use prm_proto::onboarding::*;
use std::net::IpAddr;

use prm_runtime::{ApiError, CallContext, Scopes};

use super::{Onboarding, convert};
use crate::domain::checklist::ChecklistItem;
use crate::domain::credentials::{self, KeyRefusal};
use crate::domain::partner::PartnerStatusRules;
use crate::operations;
use crate::store;

impl Onboarding {
    /// Resolves a secret to its principal. Unknown, revoked, expired and
    /// malformed keys, keys used from outside their allow-list, deactivated
    /// users and terminated partners authenticate nothing: the one place
    /// these are checked.
    /// Users of a suspended partner still authenticate (to read), but their
    /// partner cannot act.
    pub(super) async fn authenticate(
        &self,
        _ctx: CallContext,
        req: AuthenticateRequest,
    ) -> Result<AuthenticateResponse, ApiError> {
        let refuse = || ApiError::Unauthenticated("invalid or revoked API key".into());
        if !credentials::looks_like_key(&req.secret) {
            return Err(refuse());
        }
        let hash = credentials::hash(&req.secret);
        let mut conn = self.db.acquire().await?;
        let cred = store::credential_by_hash(&mut conn, &hash)
            .await?
            .ok_or_else(refuse)?;
        if cred.partner_status.is_some_and(|s| !s.authenticates()) {
            return Err(refuse());
        }
        let from = req.client_ip.parse::<IpAddr>().ok();
        let limits = cred.limits().map_err(|e| {
            tracing::error!(api_key_id = %cred.api_key_id, error = %e, "a key's allow-list is unreadable");
            refuse()
        })?;
        match limits.admit(self.clock.now(), from) {
            Ok(()) => {}
            Err(KeyRefusal::Expired) => {
                return Err(ApiError::Unauthenticated("the API key has expired".into()));
            }
            Err(KeyRefusal::OutsideAllowList) => {
                return Err(ApiError::Unauthenticated(
                    "the API key may not be used from this address".into(),
                ));
            }
        }
        let user = store::user(&mut conn, cred.user_id)
            .await?
            .ok_or_else(refuse)?;
        drop(conn);
        if cred.last_used_at.is_none() {
            // First use of this key: for a partner, its first user is active.
            let mut tx = self.db.begin().await?;
            store::touch_api_key(&mut tx, cred.api_key_id, from).await?;
            if let Some(mut partner) = match cred.partner_id {
                // Locked: this may complete the checklist.
                Some(pid) => store::partner_for_update(&mut tx, pid).await?,
                None => None,
            } {
                operations::complete_checklist_item(
                    &mut tx,
                    &self.outbox,
                    &mut partner,
                    ChecklistItem::FirstUserActive,
                    self.clock.now(),
                )
                .await?;
            }
            tx.commit().await?;
        } else {
            let mut conn = self.db.acquire().await?;
            store::touch_api_key(&mut conn, cred.api_key_id, from).await?;
        }
        let principal = prm_runtime::Principal {
            user_id: user.id,
            partner_id: user.partner_id,
            roles: user.roles.clone(),
            api_key_id: Some(cred.api_key_id),
            scopes: Scopes::from_wire(&cred.scopes),
        };
        Ok(AuthenticateResponse {
            principal: Some(principal.to_proto()),
            user: Some(convert::user(&user)),
        })
    }
}
