//! The REST routes: one module per upstream service, listed once in
//! [`UPSTREAMS`] and merged here with the operational routes. Each handler
//! validates what the gateway can (JSON shape, ids in the path), calls the
//! owning service over gRPC with the caller's principal, and renders the
//! reply; the services enforce the rules and the authorisation themselves.
//!
//! What every operation shares is declared once, in [`SharedResponses`]:
//! the problem+json `4XX`/`5XX` responses, the `Idempotency-Key` header of
//! every POST, and `security: []` on the public operations.

mod audit;
mod commissions;
mod dealreg;
mod mdf;
mod onboarding;
mod ops;
mod reporting;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder, ServerBuilder};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

use crate::problem::Problem;
use crate::state::AppState;
use crate::upstream::UpstreamSpec;

pub use commissions::tracking;
pub use ops::docs_page;

/// A service behind the gateway, and the REST routes it serves for it.
pub struct UpstreamRoutes {
    pub upstream: UpstreamSpec,
    /// Its routes, with their OpenAPI.
    pub routes: fn() -> OpenApiRouter<AppState>,
}

/// The services behind the gateway, each with its routes: adding a
/// service is one line here plus its module.
pub const UPSTREAMS: &[UpstreamRoutes] = &[
    onboarding::UPSTREAM,
    dealreg::UPSTREAM,
    mdf::UPSTREAM,
    commissions::UPSTREAM,
    reporting::UPSTREAM,
];

/// What the gateway is built with: the services it calls.
pub fn upstreams() -> Vec<UpstreamSpec> {
    UPSTREAMS.iter().map(|u| u.upstream).collect()
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "PRM API",
        description = "Partner Relationship Management: onboarding and enablement, deal registration, marketing development funds (MDF), commissions with tracking links, postbacks and payouts, and reporting with partner scorecards and attribution credit. Authenticate with `Authorization: Bearer <API key>`. Errors are RFC 9457 problem+json with a stable `code`. Every POST accepts `Idempotency-Key`.",
        version = "1.0.0",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    modifiers(&BearerAuth, &SharedResponses),
    tags(
        (name = "applications", description = "Partner applications"),
        (name = "partners", description = "Partners, status and tiers"),
        (name = "identity", description = "Users, API keys and the caller"),
        (name = "terms", description = "Versioned terms and acceptance"),
        (name = "programs", description = "Programs, tiers, tier rules and the onboarding checklist"),
        (name = "enablement", description = "The library, courses and certifications"),
        (name = "deal registration", description = "Deal registrations, their approval workflow and protection, the vendor's direct accounts, and the policy"),
        (name = "mdf", description = "Marketing development funds: budgets, allocations and accruals, the funds ledger, requests, claims with proof of performance, and ROI"),
        (name = "tracking", description = "Tracking links and their public redirect, server-to-server postbacks and the postback log"),
        (name = "commissions", description = "Commission plans and program settings, conversions, commissions and the partner ledger"),
        (name = "payouts", description = "Payout batches, provider files, and partners' payout profiles"),
        (name = "reporting", description = "Partner scorecards, the program view, the CSV export, attribution credit and its models, and the read models' lag and rebuild"),
        (name = "audit", description = "The audit log of staff and partner-admin actions in every service, its CSV export and the verification of its hash chains"),
        (name = "operations", description = "Health and documentation"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A PRM API key"))
                    .build(),
            ),
        );
        openapi.servers = Some(vec![
            ServerBuilder::new()
                .url("http://127.0.0.1:8080")
                .description(Some("A local platform started with `make up`"))
                .build(),
        ]);
    }
}

const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// What the gateway accepts as an idempotency key (a UUID is a good one).
fn idempotency_key_schema() -> RefOr<utoipa::openapi::schema::Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(prm_runtime::auth::MAX_IDEMPOTENCY_KEY_LEN))
        .pattern(Some("^[!-~]+$"))
        .into()
}

/// What every operation shares, added to each one that does not say
/// otherwise.
struct SharedResponses;

impl SharedResponses {
    fn apply(operation: &mut Operation, method_is_post: bool) {
        let problem = || {
            ResponseBuilder::new().content(
                crate::problem::CONTENT_TYPE,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
        };
        let responses = &mut operation.responses.responses;
        responses
            .entry("4XX".to_owned())
            .or_insert_with(|| problem().description("Problem").build().into());
        responses.entry("5XX".to_owned()).or_insert_with(|| {
            problem()
                .description("The service or one it depends on is unavailable or failed")
                .build()
                .into()
        });
        if method_is_post {
            let params = operation.parameters.get_or_insert_with(Vec::new);
            let declared = params.iter_mut().find_map(|p| match p {
                RefOr::T(p) if p.name == IDEMPOTENCY_KEY => Some(p),
                _ => None,
            });
            match declared {
                // A handler may say more about replays; the shape is shared.
                Some(p) => p.schema = Some(idempotency_key_schema()),
                None => params.push(
                    ParameterBuilder::new()
                        .name(IDEMPOTENCY_KEY)
                        .parameter_in(ParameterIn::Header)
                        .required(Required::False)
                        .description(Some("Retries with the same key replay the first response"))
                        .schema(Some(idempotency_key_schema()))
                        .build()
                        .into(),
                ),
            }
        }
        // No security requirement means public: say so explicitly.
        if operation.security.is_none() {
            operation.security = Some(Vec::new());
        }
    }
}

impl Modify for SharedResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut problem = vec![("Problem".to_owned(), Problem::schema())];
        <Problem as ToSchema>::schemas(&mut problem);
        for (name, schema) in problem {
            components.schemas.entry(name).or_insert(schema);
        }
        for item in openapi.paths.paths.values_mut() {
            if let Some(op) = item.post.as_mut() {
                Self::apply(op, true);
            }
            for op in [
                item.get.as_mut(),
                item.put.as_mut(),
                item.patch.as_mut(),
                item.delete.as_mut(),
            ]
            .into_iter()
            .flatten()
            {
                Self::apply(op, false);
            }
        }
    }
}

type Schemas = [(String, RefOr<utoipa::openapi::schema::Schema>)];

/// The component names `incoming` gives a schema other than the one the
/// document (or `incoming` itself) already has under that name.
fn clashing_names(known: &Schemas, incoming: &Schemas) -> Vec<String> {
    let mut seen: std::collections::BTreeMap<&str, &RefOr<_>> = Default::default();
    let mut clashes = Vec::new();
    for (name, schema) in known.iter().chain(incoming) {
        match seen.insert(name, schema) {
            Some(before) if before != schema && !clashes.contains(name) => {
                clashes.push(name.clone());
            }
            _ => {}
        }
    }
    clashes
}

fn components(
    doc: &utoipa::openapi::OpenApi,
) -> Vec<(String, RefOr<utoipa::openapi::schema::Schema>)> {
    doc.components
        .as_ref()
        .map(|c| c.schemas.clone().into_iter().collect())
        .unwrap_or_default()
}

fn refuse_clashes(known: &Schemas, incoming: &Schemas) {
    let clashes = clashing_names(known, incoming);
    assert!(
        clashes.is_empty(),
        "OpenAPI components {clashes:?} name two different Rust types: \
         rename one (its name is its component name)"
    );
}

/// Routes added, and routers merged, with the document's component names
/// checked: utoipa keys a component by its type's name alone, so two
/// types of one name would document one body with the other's schema (as
/// `Approval` once did for MDF request approvals). A clash panics while
/// the router is built, as axum does for two handlers of one route, so
/// every test that starts the gateway catches it.
pub trait Documented: Sized {
    /// `OpenApiRouter::routes`, checked.
    fn operations(self, routes: UtoipaMethodRouter<AppState>) -> Self;
    /// `OpenApiRouter::merge`, checked.
    fn merge_documented(self, other: Self) -> Self;
}

impl Documented for OpenApiRouter<AppState> {
    fn operations(self, routes: UtoipaMethodRouter<AppState>) -> Self {
        refuse_clashes(&components(self.get_openapi()), &routes.0);
        self.routes(routes)
    }

    fn merge_documented(self, other: Self) -> Self {
        refuse_clashes(
            &components(self.get_openapi()),
            &components(other.get_openapi()),
        );
        self.merge(other)
    }
}

/// The API router and its OpenAPI document, built from the same handlers
/// so they cannot drift apart.
pub fn api() -> Api {
    let mut router = OpenApiRouter::with_openapi(ApiDoc::openapi());
    for service in UPSTREAMS {
        router = router.merge_documented((service.routes)());
    }
    let (router, mut openapi) = router
        .merge_documented(ops::routes())
        .merge_documented(audit::routes())
        .split_for_parts();
    let (bare, bare_doc) = commissions::bare_routes().split_for_parts();
    refuse_clashes(&components(&openapi), &components(&bare_doc));
    openapi.merge(bare_doc);
    // Modifiers run before the routes are merged; apply the shared parts
    // to the merged document.
    SharedResponses.modify(&mut openapi);
    Api {
        router,
        bare,
        openapi,
    }
}

/// The routes and their document.
pub struct Api {
    /// Every route behind the API's middleware (a span, the deadline,
    /// rate-limit headers, CORS, the body limit).
    pub router: Router<AppState>,
    /// Public high-volume routes served with nothing around them:
    /// tracking-link redirects, whose only work is a cache lookup and a
    /// buffered click. They close connections while draining themselves.
    pub bare: Router<AppState>,
    pub openapi: utoipa::openapi::OpenApi,
}

/// A JSON response with a status.
pub fn json<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
    (status, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    mod onboarding {
        /// Approve an application.
        #[derive(utoipa::ToSchema)]
        #[allow(dead_code)]
        pub struct Approval {
            pub program_id: String,
        }
    }

    mod mdf {
        /// Approve an MDF request.
        #[derive(utoipa::ToSchema)]
        #[allow(dead_code)]
        pub struct Approval {
            pub approved_amount_minor: i64,
        }
    }

    fn schemas<T: ToSchema>() -> Vec<(String, RefOr<utoipa::openapi::schema::Schema>)> {
        vec![(T::name().into_owned(), T::schema())]
    }

    #[test]
    fn two_types_of_one_name_are_refused() {
        let known = schemas::<onboarding::Approval>();
        assert_eq!(
            clashing_names(&known, &schemas::<mdf::Approval>()),
            ["Approval"]
        );
        assert_eq!(
            clashing_names(&[], &[known.clone(), schemas::<mdf::Approval>()].concat()),
            ["Approval"]
        );
        // One type met twice (two routes share a body) is no clash.
        assert!(clashing_names(&known, &known).is_empty());
    }

    #[test]
    fn the_api_document_has_no_clashing_names() {
        // Panics, naming the components, if two types share a name.
        let api = api();
        let schemas = &api.openapi.components.expect("components").schemas;
        assert!(schemas.contains_key("MdfApproval") && schemas.contains_key("ApplicationApproval"));
    }
}
