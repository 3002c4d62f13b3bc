//! The deal registration policy, which staff keep through the API.

use prm_proto::dealreg::*;
use prm_runtime::auth::PARTNER_MANAGEMENT;
use prm_runtime::{ApiError, CallContext, Idempotency, begin_or_replay};

use super::Dealreg;
use crate::domain::policy::Policy;
use crate::store;

impl Dealreg {
    /// Anyone registering deals may know the rules they are held to.
    pub(super) async fn get_policy(
        &self,
        ctx: CallContext,
        _req: GetPolicyRequest,
    ) -> Result<GetPolicyResponse, ApiError> {
        ctx.principal()?;
        let mut conn = self.db.acquire().await?;
        Ok(GetPolicyResponse {
            policy: Some(store::policy(&mut conn).await?.to_proto()),
        })
    }

    /// Applies to registrations from now on: due times and windows already
    /// set stay as they are.
    pub(super) async fn update_policy(
        &self,
        ctx: CallContext,
        req: UpdatePolicyRequest,
    ) -> Result<UpdatePolicyResponse, ApiError> {
        let policy = Policy::parse(req.policy.as_ref())?;
        let principal = ctx.principal()?;
        principal.require_any_role(PARTNER_MANAGEMENT)?;
        let idem = Idempotency::new(&ctx, "UpdatePolicy", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        store::save_policy(&mut tx, &policy, principal.user_id).await?;
        let resp = UpdatePolicyResponse {
            policy: Some(policy.to_proto()),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }
}
