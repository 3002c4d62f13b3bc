use prm_proto::dealreg as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::dto::SlaBreachAction;
use crate::extract::JsonBody;
use crate::forward::{Call, Reply, ok};
use crate::problem::Problem;

/// The deal registration policy every registration is held to.
#[utoipa::path(get, path = "/v1/deal-registration-policy", tag = "deal registration", security(("api_key" = [])),
    responses((status = 200, description = "OK", body = DealRegistrationPolicy)))]
pub async fn get_policy(call: Call) -> Reply<DealRegistrationPolicy> {
    policy(call.send(pb::GetPolicyRequest {}).await?.policy)
}

/// Replace the policy (partner managers). It applies from now on: due
/// times and windows already set stay as they are.
#[utoipa::path(put, path = "/v1/deal-registration-policy", tag = "deal registration", security(("api_key" = [])),
    request_body = DealRegistrationPolicy,
    responses((status = 200, description = "OK", body = DealRegistrationPolicy)))]
pub async fn update_policy(
    call: Call,
    JsonBody(body): JsonBody<DealRegistrationPolicy>,
) -> Reply<DealRegistrationPolicy> {
    let req = pb::UpdatePolicyRequest {
        policy: Some(pb::Policy {
            approval_sla_business_hours: body.approval_sla_business_hours,
            on_sla_breach: body.on_sla_breach.to_proto(),
            protection_days: body.protection_days,
            extension_days: body.extension_days,
            max_extensions: body.max_extensions,
            expiring_notice_days: body.expiring_notice_days,
        }),
    };
    let r = call.send(req).await?;
    policy(r.policy)
}

fn policy(p: Option<pb::Policy>) -> Reply<DealRegistrationPolicy> {
    let p = p.ok_or_else(Problem::internal)?;
    ok(DealRegistrationPolicy {
        approval_sla_business_hours: p.approval_sla_business_hours,
        on_sla_breach: SlaBreachAction::from_proto(p.on_sla_breach)
            .map_err(|_| Problem::internal())?,
        protection_days: p.protection_days,
        extension_days: p.extension_days,
        max_extensions: p.max_extensions,
        expiring_notice_days: p.expiring_notice_days,
    })
}

// ------------------------------------------------------------ JSON shapes

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DealRegistrationPolicy {
    /// Business hours (Monday to Friday, UTC) staff have to decide; 1 to 2000.
    #[schema(example = 48)]
    pub approval_sla_business_hours: i32,
    pub on_sla_breach: SlaBreachAction,
    /// Days an approval protects the registration; 1 to 730.
    #[schema(example = 90)]
    pub protection_days: i32,
    /// Days each extension adds; 1 to 365.
    #[schema(example = 30)]
    pub extension_days: i32,
    /// Extensions allowed per registration; 0 to 10.
    #[schema(example = 2)]
    pub max_extensions: i32,
    /// Days before protection ends that partners are warned; 0 to 365.
    #[schema(example = 14)]
    pub expiring_notice_days: i32,
}
