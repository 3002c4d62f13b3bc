//! The glue between tonic's generated service traits and a service's
//! handlers, written once.
//!
//! A service implements each RPC as an inherent method
//! `async fn name(&self, ctx: CallContext, req: XRequest) -> Result<XResponse, ApiError>`
//! and lists them in [`grpc_service!`](crate::grpc_service), which
//! implements the tonic trait: it hands each handler the call's
//! [`CallContext`](crate::CallContext) (principal, idempotency key) and
//! turns its [`ApiError`](crate::ApiError) into a rich `Status`.

/// Implements a tonic service trait by delegating every RPC to the inherent
/// method of the same name, after checking the scope each RPC declares
/// (see [`crate::scopes`]: a resource's `.read` or `.write`, `"any"` for
/// any principal, `"gateway"` for the gateway's own calls):
///
/// ```ignore
/// use prm_proto::onboarding::onboarding_service_server::OnboardingService;
/// prm_runtime::grpc_service! {
///     impl OnboardingService for Onboarding {
///         get_partner(GetPartnerRequest) -> GetPartnerResponse: "partners.read";
///         suspend_partner(SuspendPartnerRequest) -> SuspendPartnerResponse: "partners.write";
///     }
/// }
/// ```
///
/// It also lists them as `Service::SCOPES`, which tests check against the
/// known scopes.
#[macro_export]
macro_rules! grpc_service {
    (impl $service_trait:ident for $service:ty { $($name:ident($req:ty) -> $resp:ty: $scope:literal;)* }) => {
        impl $service {
            /// Each RPC and the scope a key needs for it.
            pub const SCOPES: &'static [(&'static str, &'static str)] =
                &[$((stringify!($name), $scope)),*];
        }

        #[$crate::__private::async_trait]
        impl $service_trait for $service {
            $(
                async fn $name(
                    &self,
                    request: $crate::__private::tonic::Request<$req>,
                ) -> ::core::result::Result<
                    $crate::__private::tonic::Response<$resp>,
                    $crate::__private::tonic::Status,
                > {
                    let ctx = $crate::CallContext::of(&request);
                    ctx.require_scope($scope)
                        .map_err($crate::__private::tonic::Status::from)?;
                    <$service>::$name(self, ctx, request.into_inner())
                        .await
                        .map($crate::__private::tonic::Response::new)
                        .map_err($crate::__private::tonic::Status::from)
                }
            )*
        }
    };
}
