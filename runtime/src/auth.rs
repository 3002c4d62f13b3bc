//! Who is calling: the service credential every caller presents, the
//! principal the call acts for, and the idempotency key of a retried call.
//!
//! The gateway resolves an API key to a [`Principal`] through onboarding and
//! forwards it in `x-prm-principal`; internal clients send the same header.
//! Only holders of the service credential are trusted to assert a principal.
//! Services still enforce authorisation themselves: a partner principal
//! only ever reaches its own partner's resources.

use std::sync::Arc;
#[cfg(test)]
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tonic::{Request, Status, service::Interceptor};
use uuid::Uuid;

use crate::audit::{CLIENT_IP_HEADER, ClientInfo, REQUEST_ID_HEADER, USER_AGENT_HEADER};
use crate::error::ApiError;
use crate::scopes::Scopes;
use crate::throttle::FailureThrottle;

pub const SERVICE_TOKEN_HEADER: &str = "x-prm-service-token";
pub const PRINCIPAL_HEADER: &str = "x-prm-principal";
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// Longest idempotency key accepted.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

crate::domain_enum! {
    /// What a user may do. Staff roles belong to the vendor; partner roles
    /// to a partner's users. Stored as its lower-case name.
    pub enum Role: prm_proto::onboarding::Role as "role" {
        // Vendor staff.
        Admin = "admin" => Admin,
        PartnerManager = "partner_manager" => PartnerManager,
        Finance = "finance" => Finance,
        Marketing = "marketing" => Marketing,
        Analyst = "analyst" => Analyst,
        // Partner users.
        PartnerAdmin = "partner_admin" => PartnerAdmin,
        PartnerUser = "partner_user" => PartnerUser,
    }
}

impl Role {
    pub fn is_staff(self) -> bool {
        !matches!(self, Role::PartnerAdmin | Role::PartnerUser)
    }
}

/// The identity a call acts for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub user_id: Uuid,
    /// `None` for vendor staff.
    pub partner_id: Option<Uuid>,
    pub roles: Vec<Role>,
    /// The API key the caller authenticated with, if any.
    pub api_key_id: Option<Uuid>,
    /// What the key may do (see [`crate::scopes`]); every service checks
    /// its RPC's scope against them.
    pub scopes: Scopes,
}

/// Staff roles that may manage partners (approve, suspend, set tiers, ...).
pub const PARTNER_MANAGEMENT: &[Role] = &[Role::Admin, Role::PartnerManager];
/// Every staff role: may read across partners.
pub const STAFF: &[Role] = &[
    Role::Admin,
    Role::PartnerManager,
    Role::Finance,
    Role::Marketing,
    Role::Analyst,
];

impl Principal {
    /// Vendor staff: no partner, and at least one staff role.
    pub fn is_staff(&self) -> bool {
        self.partner_id.is_none() && self.roles.iter().any(|r| r.is_staff())
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn has_any_role(&self, roles: &[Role]) -> bool {
        self.roles.iter().any(|r| roles.contains(r))
    }

    /// Staff reach every partner; a partner principal only its own.
    pub fn can_access_partner(&self, partner_id: Uuid) -> bool {
        match self.partner_id {
            Some(own) => own == partner_id,
            None => self.is_staff(),
        }
    }

    /// Fails with NotFound (never PermissionDenied) when the principal may
    /// not see the partner, so ids cannot be probed.
    pub fn ensure_partner_access(
        &self,
        partner_id: Uuid,
        resource: &'static str,
    ) -> Result<(), ApiError> {
        if self.can_access_partner(partner_id) {
            Ok(())
        } else {
            Err(ApiError::not_found(resource))
        }
    }

    /// Which partner a list covers when the caller may name one
    /// (`requested`): a partner principal's own, or staff's choice, or (for
    /// staff naming none) every partner (`None`). Naming another partner is
    /// NotFound; a principal with no staff role and no partner may not list
    /// across partners.
    pub fn partner_scope(&self, requested: Option<Uuid>) -> Result<Option<Uuid>, ApiError> {
        match (self.partner_id, requested) {
            (Some(own), None) => Ok(Some(own)),
            (_, Some(pid)) => {
                self.ensure_partner_access(pid, "partner")?;
                Ok(Some(pid))
            }
            (None, None) => {
                self.require_any_role(STAFF)?;
                Ok(None)
            }
        }
    }

    /// Fails with PermissionDenied unless the principal holds one of `roles`.
    pub fn require_any_role(&self, roles: &[Role]) -> Result<(), ApiError> {
        if self.has_any_role(roles) {
            Ok(())
        } else {
            Err(ApiError::permission_denied(
                "ROLE_REQUIRED",
                format!(
                    "requires one of the roles: {}",
                    roles
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ))
        }
    }

    /// The `x-prm-principal` header value:
    /// `user=<uuid>;partner=<uuid>;roles=a,b;key=<uuid>` (partner and key optional).
    pub fn to_header_value(&self) -> String {
        let mut s = format!("user={}", self.user_id);
        if let Some(p) = self.partner_id {
            s.push_str(&format!(";partner={p}"));
        }
        s.push_str(";roles=");
        s.push_str(
            &self
                .roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(","),
        );
        if let Some(k) = self.api_key_id {
            s.push_str(&format!(";key={k}"));
        }
        s.push_str(";scopes=");
        s.push_str(&self.scopes.to_string());
        s
    }

    pub fn from_header_value(value: &str) -> Result<Self, String> {
        let mut user = None;
        let mut partner = None;
        let mut roles = Vec::new();
        let mut key = None;
        let mut scopes = None;
        for part in value.split(';') {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("malformed principal part {part:?}"))?;
            match k.trim() {
                "user" => user = Some(Uuid::parse_str(v.trim()).map_err(|_| "bad user id")?),
                "partner" => {
                    partner = Some(Uuid::parse_str(v.trim()).map_err(|_| "bad partner id")?)
                }
                "key" => key = Some(Uuid::parse_str(v.trim()).map_err(|_| "bad key id")?),
                "scopes" => {
                    let names: Vec<&str> = v.split(',').filter(|s| !s.is_empty()).collect();
                    scopes = Some(Scopes::parse(&names)?);
                }
                "roles" => {
                    for r in v.split(',').map(str::trim).filter(|r| !r.is_empty()) {
                        roles.push(Role::parse(r).ok_or_else(|| format!("unknown role {r:?}"))?);
                    }
                }
                other => return Err(format!("unknown principal attribute {other:?}")),
            }
        }
        let user_id = user.ok_or("principal has no user")?;
        if partner.is_some() && roles.iter().any(|r| r.is_staff()) {
            return Err("a partner principal cannot hold staff roles".into());
        }
        if partner.is_none() && roles.iter().any(|r| !r.is_staff()) {
            return Err("a partner role needs a partner".into());
        }
        Ok(Principal {
            user_id,
            partner_id: partner,
            roles,
            api_key_id: key,
            scopes: scopes.ok_or("principal has no scopes")?,
        })
    }
}

impl Principal {
    /// The principal as onboarding's `Authenticate` returns it.
    pub fn to_proto(&self) -> prm_proto::onboarding::Principal {
        prm_proto::onboarding::Principal {
            user_id: self.user_id.to_string(),
            partner_id: crate::wire::opt_id(self.partner_id),
            roles: self.roles.iter().map(|r| r.to_proto()).collect(),
            api_key_id: crate::wire::opt_id(self.api_key_id),
            scopes: self.scopes.names().to_vec(),
        }
    }

    /// Reads a principal from the wire. Malformed ids are refused; a role
    /// this build does not know (a newer identity owner during a rolling
    /// update) is left out, so the principal only ever gets less.
    pub fn from_proto(p: &prm_proto::onboarding::Principal) -> Result<Self, String> {
        let user_id = Uuid::parse_str(&p.user_id).map_err(|_| "bad user id")?;
        let partner_id = crate::wire::parse_opt_id(&p.partner_id).map_err(|_| "bad partner id")?;
        let api_key_id = crate::wire::parse_opt_id(&p.api_key_id).map_err(|_| "bad API key id")?;
        let roles = p
            .roles
            .iter()
            .filter_map(|r| Role::from_proto(*r).ok())
            .collect();
        Ok(Principal {
            user_id,
            partner_id,
            roles,
            api_key_id,
            scopes: Scopes::from_wire(&p.scopes),
        })
    }
}

/// What the interceptor learned about a call, stored in the request's
/// extensions for handlers.
#[derive(Clone, Debug, Default)]
pub struct CallContext {
    pub principal: Option<Principal>,
    pub idempotency_key: Option<String>,
    /// The service serving the call (its audit events say so).
    pub service: &'static str,
    /// Where the call came from, as the gateway forwards it.
    pub client: ClientInfo,
}

impl CallContext {
    pub fn of<T>(request: &Request<T>) -> CallContext {
        request
            .extensions()
            .get::<CallContext>()
            .cloned()
            .unwrap_or_default()
    }

    /// The principal, or Unauthenticated.
    pub fn principal(&self) -> Result<&Principal, ApiError> {
        self.principal
            .as_ref()
            .ok_or_else(|| ApiError::Unauthenticated("this call needs a principal".into()))
    }

    /// Refuses a principal whose key lacks `scope` (see [`crate::scopes`]);
    /// a call without a principal is left to the handler, which refuses it
    /// where it needs one.
    pub fn require_scope(&self, scope: &str) -> Result<(), ApiError> {
        match &self.principal {
            Some(p) if !p.scopes.allows(scope) => Err(missing_scope(scope)),
            _ => Ok(()),
        }
    }
}

/// The refusal of a call whose key lacks `scope`, naming it.
pub fn missing_scope(scope: &str) -> ApiError {
    ApiError::permission_denied(
        "MISSING_SCOPE",
        format!("the API key lacks the scope {scope}"),
    )
}

/// Compares secrets without leaking, by timing, where the first difference
/// is.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Rejects calls without the service credential and parses the principal
/// and idempotency key into a [`CallContext`]. Wrong credentials are
/// counted per calling address: once an address has spent its allowance,
/// its calls are refused (`RESOURCE_EXHAUSTED`) before the credential is
/// compared, until one failure is forgiven.
#[derive(Clone)]
pub struct ServiceAuth {
    token: Arc<SecretString>,
    throttle: Arc<FailureThrottle>,
    service: &'static str,
}

impl ServiceAuth {
    pub fn new(token: SecretString, throttle: Arc<FailureThrottle>) -> Self {
        Self {
            token: Arc::new(token),
            throttle,
            service: "",
        }
    }

    /// The same check, naming the service in each call's context.
    pub fn for_service(mut self, service: &'static str) -> Self {
        self.service = service;
        self
    }
}

impl Interceptor for ServiceAuth {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let peer = request.remote_addr().map(|a| a.ip());
        if let Some(wait) = peer.and_then(|ip| self.throttle.refused(ip)) {
            let mut status = Status::resource_exhausted(format!(
                "too many calls with a wrong service credential from this address; retry in {}s",
                wait.as_secs().max(1)
            ));
            if let Ok(v) = wait.as_secs().max(1).to_string().parse() {
                status.metadata_mut().insert("retry-after", v);
            }
            return Err(status);
        }
        let md = request.metadata();
        let presented = md
            .get(SERVICE_TOKEN_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if !constant_time_eq(presented, self.token.expose_secret().as_bytes()) {
            if let Some(ip) = peer {
                self.throttle.failed(ip);
            }
            return Err(
                ApiError::Unauthenticated("missing or invalid service credential".into()).into(),
            );
        }
        let principal = match md.get(PRINCIPAL_HEADER) {
            None => None,
            Some(v) => {
                let v = v
                    .to_str()
                    .map_err(|_| Status::unauthenticated("principal header is not ASCII"))?;
                Some(
                    Principal::from_header_value(v)
                        .map_err(|e| Status::unauthenticated(format!("invalid principal: {e}")))?,
                )
            }
        };
        let idempotency_key = match md.get(IDEMPOTENCY_KEY_HEADER) {
            None => None,
            Some(v) => {
                let key = v.to_str().unwrap_or_default();
                if key.is_empty()
                    || key.len() > MAX_IDEMPOTENCY_KEY_LEN
                    || !key.bytes().all(|b| b.is_ascii_graphic())
                {
                    return Err(ApiError::invalid(
                        IDEMPOTENCY_KEY_HEADER,
                        format!(
                            "must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} printable ASCII characters"
                        ),
                    )
                    .into());
                }
                Some(key.to_owned())
            }
        };
        let text = |name: &str, max: usize| {
            md.get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(max).collect::<String>())
                .unwrap_or_default()
        };
        let client = ClientInfo {
            ip: text(CLIENT_IP_HEADER, 64),
            user_agent: text(USER_AGENT_HEADER, 512),
            request_id: text(REQUEST_ID_HEADER, 128),
        };
        request.extensions_mut().insert(CallContext {
            principal,
            idempotency_key,
            service: self.service,
            client,
        });
        Ok(request)
    }
}

/// Adds the service credential, and optionally a principal and idempotency
/// key, to an outgoing request (used by the gateway, internal clients and tests).
pub fn authorize_request<T>(
    request: &mut Request<T>,
    service_token: &str,
    principal: Option<&Principal>,
    idempotency_key: Option<&str>,
) -> Result<(), Status> {
    let md = request.metadata_mut();
    md.insert(
        SERVICE_TOKEN_HEADER,
        service_token
            .parse()
            .map_err(|_| Status::internal("service token is not a valid header"))?,
    );
    if let Some(p) = principal {
        md.insert(
            PRINCIPAL_HEADER,
            p.to_header_value()
                .parse()
                .map_err(|_| Status::internal("principal is not a valid header"))?,
        );
    }
    if let Some(k) = idempotency_key {
        md.insert(
            IDEMPOTENCY_KEY_HEADER,
            k.parse()
                .map_err(|_| Status::invalid_argument("idempotency key is not a valid header"))?,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partner_admin() -> Principal {
        Principal {
            user_id: Uuid::now_v7(),
            partner_id: Some(Uuid::now_v7()),
            roles: vec![Role::PartnerAdmin],
            api_key_id: Some(Uuid::now_v7()),
            scopes: Scopes::all(),
        }
    }

    #[test]
    fn principal_round_trips_through_its_header() {
        let p = partner_admin();
        assert_eq!(Principal::from_header_value(&p.to_header_value()), Ok(p));
        let staff = Principal {
            user_id: Uuid::now_v7(),
            partner_id: None,
            roles: vec![Role::Finance, Role::Analyst],
            api_key_id: None,
            scopes: Scopes::all(),
        };
        assert_eq!(
            Principal::from_header_value(&staff.to_header_value()),
            Ok(staff)
        );
    }

    #[test]
    fn principal_round_trips_through_proto() {
        let p = partner_admin();
        assert_eq!(Principal::from_proto(&p.to_proto()), Ok(p));
        let staff = Principal {
            user_id: Uuid::now_v7(),
            partner_id: None,
            roles: vec![Role::Admin, Role::Analyst],
            api_key_id: None,
            scopes: Scopes::all(),
        };
        assert_eq!(Principal::from_proto(&staff.to_proto()), Ok(staff.clone()));
        let mut unknown_role = staff.to_proto();
        unknown_role.roles.extend([0, 99]);
        assert_eq!(Principal::from_proto(&unknown_role), Ok(staff));
        let mut bad_id = partner_admin().to_proto();
        bad_id.partner_id = "not-a-uuid".into();
        assert!(Principal::from_proto(&bad_id).is_err());
    }

    #[test]
    fn partner_principals_cannot_claim_staff_roles() {
        let p = partner_admin();
        let forged = format!(
            "user={};partner={};roles=admin",
            p.user_id,
            p.partner_id.unwrap_or_default()
        );
        assert!(Principal::from_header_value(&forged).is_err());
        assert!(Principal::from_header_value("user=x;roles=admin").is_err());
        assert!(Principal::from_header_value(&format!("user={};roles=root", p.user_id)).is_err());
    }

    #[test]
    fn a_partner_reaches_only_its_own_partner() {
        let p = partner_admin();
        let own = p.partner_id.unwrap_or_default();
        assert!(p.can_access_partner(own));
        assert!(!p.can_access_partner(Uuid::now_v7()));
        let staff = Principal {
            user_id: Uuid::now_v7(),
            partner_id: None,
            roles: vec![Role::Analyst],
            api_key_id: None,
            scopes: Scopes::all(),
        };
        assert!(staff.can_access_partner(own));
        let nobody = Principal {
            roles: vec![],
            ..staff
        };
        assert!(!nobody.can_access_partner(own));
    }

    #[test]
    fn a_list_covers_the_callers_own_partner_or_what_staff_choose() {
        let p = partner_admin();
        let own = p.partner_id.unwrap_or_default();
        assert_eq!(p.partner_scope(None).ok(), Some(Some(own)));
        assert_eq!(p.partner_scope(Some(own)).ok(), Some(Some(own)));
        assert!(matches!(
            p.partner_scope(Some(Uuid::now_v7())),
            Err(ApiError::NotFound { .. })
        ));
        let staff = Principal {
            user_id: Uuid::now_v7(),
            partner_id: None,
            roles: vec![Role::Analyst],
            api_key_id: None,
            scopes: Scopes::all(),
        };
        assert_eq!(staff.partner_scope(None).ok(), Some(None));
        assert_eq!(staff.partner_scope(Some(own)).ok(), Some(Some(own)));
        let nobody = Principal {
            roles: vec![],
            ..staff
        };
        assert!(matches!(
            nobody.partner_scope(None),
            Err(ApiError::PermissionDenied { .. })
        ));
    }

    #[test]
    fn interceptor_requires_the_service_token() {
        let throttle = Arc::new(FailureThrottle::new(20, Duration::from_secs(60)));
        let mut auth = ServiceAuth::new(SecretString::from("s3cret"), throttle);
        let err = auth.call(Request::new(())).expect_err("no token");
        assert_eq!(err.code(), tonic::Code::Unauthenticated);

        let mut req = Request::new(());
        authorize_request(&mut req, "wrong", None, None).expect("headers");
        assert!(auth.call(req).is_err());

        let p = partner_admin();
        let mut req = Request::new(());
        authorize_request(&mut req, "s3cret", Some(&p), Some("key-1")).expect("headers");
        let req = auth.call(req).expect("accepted");
        let ctx = CallContext::of(&req);
        assert_eq!(ctx.principal, Some(p));
        assert_eq!(ctx.idempotency_key.as_deref(), Some("key-1"));
    }

    #[test]
    fn an_address_that_spent_its_wrong_tokens_is_refused_and_others_are_not() {
        use tonic::transport::server::TcpConnectInfo;
        let throttle = Arc::new(FailureThrottle::new(3, Duration::from_secs(60)));
        let mut auth = ServiceAuth::new(SecretString::from("s3cret"), throttle);
        let from = |ip: &str, token: &str| {
            let mut req = Request::new(());
            req.extensions_mut().insert(TcpConnectInfo {
                local_addr: None,
                remote_addr: Some(format!("{ip}:5000").parse().expect("addr")),
            });
            authorize_request(&mut req, token, None, None).expect("headers");
            req
        };
        for _ in 0..3 {
            let err = auth.call(from("10.1.1.1", "wrong")).expect_err("wrong");
            assert_eq!(err.code(), tonic::Code::Unauthenticated);
        }
        // Now even the right token is refused from that address, before it
        // is compared; another address is served.
        let err = auth.call(from("10.1.1.1", "s3cret")).expect_err("refused");
        assert_eq!(err.code(), tonic::Code::ResourceExhausted);
        assert!(err.metadata().get("retry-after").is_some());
        auth.call(from("10.1.1.2", "s3cret"))
            .expect("another address");
    }
}
