use prm_proto::dealreg as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::dto::*;
use crate::extract::JsonBody;
use crate::forward::{Call, Reply, ok};
use crate::problem::Problem;

/// The deal registration policy every registration is held to.
#[utoipa::path(get, path = "/v1/deal-registration-policy", tag = "deal registration", security(("api_key" = ["deal_registration_policy.read"])),
    responses((status = 200, description = "OK", body = DealRegistrationPolicy)))]
pub async fn get_policy(call: Call) -> Reply<DealRegistrationPolicy> {
    policy(call.send(pb::GetPolicyRequest {}).await?.policy)
}

/// Replace the policy (partner managers). It applies from now on: due
/// times and windows already set stay as they are.
#[utoipa::path(put, path = "/v1/deal-registration-policy", tag = "deal registration", security(("api_key" = ["deal_registration_policy.write"])),
    request_body = DealRegistrationPolicy,
    responses((status = 200, description = "OK", body = DealRegistrationPolicy)))]
pub async fn update_policy(
    call: Call,
    JsonBody(body): JsonBody<DealRegistrationPolicy>,
) -> Reply<DealRegistrationPolicy> {
    let req = pb::UpdatePolicyRequest {
        policy: Some(pb::Policy {
            approval_sla_business_hours: body.approval_sla_business_hours.into(),
            on_sla_breach: body.on_sla_breach.to_proto(),
            protection_days: body.protection_days.into(),
            extension_days: body.extension_days.into(),
            max_extensions: body.max_extensions.into(),
            expiring_notice_days: body.expiring_notice_days.into(),
        }),
    };
    let r = call.send(req).await?;
    policy(r.policy)
}

fn policy(p: Option<pb::Policy>) -> Reply<DealRegistrationPolicy> {
    let p = p.ok_or_else(Problem::internal)?;
    ok(DealRegistrationPolicy {
        approval_sla_business_hours: SlaBusinessHours(p.approval_sla_business_hours),
        on_sla_breach: SlaBreachAction::from_proto(p.on_sla_breach)
            .map_err(|_| Problem::internal())?,
        protection_days: ProtectionDays(p.protection_days),
        extension_days: ExtensionDays(p.extension_days),
        max_extensions: MaxExtensions(p.max_extensions),
        expiring_notice_days: NoticeDays(p.expiring_notice_days),
    })
}

// ------------------------------------------------------------ JSON shapes

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DealRegistrationPolicy {
    /// Business hours (Monday to Friday, UTC).
    pub approval_sla_business_hours: SlaBusinessHours,
    pub on_sla_breach: SlaBreachAction,
    pub protection_days: ProtectionDays,
    pub extension_days: ExtensionDays,
    pub max_extensions: MaxExtensions,
    pub expiring_notice_days: NoticeDays,
}
