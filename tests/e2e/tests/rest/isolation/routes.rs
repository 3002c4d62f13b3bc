//! Every REST route, one line each, with what partner A gets when it
//! aims the route at partner B. `checks.rs` asserts this table equals the
//! OpenAPI document's paths, so a new route cannot skip the test.

use Expect::{Forbidden, NotFound, OwnOnly, Shared};

/// What partner A gets when it aims a route at partner B.
pub(super) enum Expect {
    /// The call targets the other partner's resource: 404.
    NotFound,
    /// A staff-only action: 403.
    Forbidden,
    /// Scoped to the caller by construction (its own partner or user):
    /// checked separately, in `checks.rs`.
    OwnOnly,
    /// Shared, non-partner data (health, docs, terms, tiers...).
    Shared,
}

/// One route: its method (as the OpenAPI document spells it), its path
/// template and what A gets.
pub(super) struct Probe {
    pub(super) method: &'static str,
    pub(super) path: &'static str,
    pub(super) expect: Expect,
}

const fn route(method: &'static str, path: &'static str, expect: Expect) -> Probe {
    Probe {
        method,
        path,
        expect,
    }
}

pub(super) const ROUTES: &[Probe] = &[
    // Onboarding: applications, partners, their users and keys, terms,
    // programs and tiers, enablement.
    route("post", "/v1/applications", Shared),
    route("get", "/v1/applications", Forbidden),
    route("get", "/v1/applications/{id}", NotFound),
    route("post", "/v1/applications/{id}/approve", Forbidden),
    route("post", "/v1/applications/{id}/reject", Forbidden),
    route("get", "/v1/me", OwnOnly),
    route("get", "/v1/partners", OwnOnly),
    route("get", "/v1/partners/{id}", NotFound),
    route("post", "/v1/partners/{id}/suspend", Forbidden),
    route("post", "/v1/partners/{id}/reactivate", Forbidden),
    route("post", "/v1/partners/{id}/terminate", Forbidden),
    route("post", "/v1/partners/{id}/tier", Forbidden),
    route("get", "/v1/partners/{id}/checklist", NotFound),
    route("get", "/v1/partners/{id}/tier-evaluation", NotFound),
    route("get", "/v1/partners/{id}/terms-status", NotFound),
    route("get", "/v1/partners/{id}/users", NotFound),
    route("post", "/v1/partners/{id}/users", NotFound),
    route("get", "/v1/partners/{id}/api-keys", NotFound),
    route("post", "/v1/partners/{id}/api-keys", NotFound),
    route("delete", "/v1/api-keys/{id}", NotFound),
    route("post", "/v1/api-keys/{id}/rotate", NotFound),
    route("get", "/v1/audit-events", OwnOnly),
    route("get", "/v1/audit-events/export", OwnOnly),
    route("get", "/v1/audit-events/verification", Forbidden),
    route("get", "/v1/api-key-policy", Forbidden),
    route("put", "/v1/api-key-policy", Forbidden),
    route("get", "/v1/programs/{id}/api-key-policy", Forbidden),
    route("put", "/v1/programs/{id}/api-key-policy", Forbidden),
    route("post", "/v1/users/{id}/deactivate", NotFound),
    route("get", "/v1/terms", Shared),
    route("post", "/v1/terms", Forbidden),
    route("post", "/v1/terms/{version}/accept", OwnOnly),
    route("get", "/v1/programs", OwnOnly),
    route("post", "/v1/programs", Forbidden),
    route("post", "/v1/programs/{id}/tiers", Forbidden),
    route("get", "/v1/tiers", OwnOnly),
    route("patch", "/v1/tiers/{id}", Forbidden),
    route("post", "/v1/tier-reviews", Forbidden),
    route("get", "/v1/content", OwnOnly),
    route("post", "/v1/content", Forbidden),
    route("get", "/v1/courses", Shared),
    route("post", "/v1/courses", Forbidden),
    route("post", "/v1/courses/{id}/attempts", NotFound),
    route("get", "/v1/certifications", OwnOnly),
    // Deal registration.
    route("post", "/v1/deal-registrations", OwnOnly),
    route("get", "/v1/deal-registrations", OwnOnly),
    route("get", "/v1/deal-registrations/{id}", NotFound),
    route("patch", "/v1/deal-registrations/{id}", NotFound),
    route("post", "/v1/deal-registrations/{id}/approve", Forbidden),
    route("post", "/v1/deal-registrations/{id}/reject", Forbidden),
    route("post", "/v1/deal-registrations/{id}/return", Forbidden),
    route("post", "/v1/deal-registrations/{id}/extend", Forbidden),
    route("post", "/v1/deal-registrations/{id}/resubmit", NotFound),
    route("post", "/v1/deal-registrations/{id}/win", NotFound),
    route("post", "/v1/deal-registrations/{id}/lose", NotFound),
    route("get", "/v1/deal-registrations/{id}/history", NotFound),
    route("get", "/v1/direct-accounts", Forbidden),
    route("post", "/v1/direct-accounts", Forbidden),
    route("delete", "/v1/direct-accounts/{id}", Forbidden),
    route("get", "/v1/deal-registration-policy", Shared),
    route("put", "/v1/deal-registration-policy", Forbidden),
    // MDF.
    route("post", "/v1/mdf/budgets", Forbidden),
    route("get", "/v1/mdf/budgets", Forbidden),
    route("get", "/v1/mdf/budgets/{id}", Forbidden),
    route("post", "/v1/mdf/allocations", Forbidden),
    route("get", "/v1/mdf/funds", OwnOnly),
    route("get", "/v1/mdf/funds/{id}", NotFound),
    route("get", "/v1/mdf/funds/{id}/entries", NotFound),
    route("post", "/v1/mdf/requests", NotFound),
    route("get", "/v1/mdf/requests", OwnOnly),
    route("get", "/v1/mdf/requests/{id}", NotFound),
    route("post", "/v1/mdf/requests/{id}/approve", Forbidden),
    route("post", "/v1/mdf/requests/{id}/reject", Forbidden),
    route("post", "/v1/mdf/requests/{id}/cancel", NotFound),
    route("get", "/v1/mdf/requests/{id}/roi", NotFound),
    route("post", "/v1/mdf/requests/{id}/claims", NotFound),
    route("get", "/v1/mdf/claims", OwnOnly),
    route("get", "/v1/mdf/claims/{id}", NotFound),
    route("post", "/v1/mdf/claims/{id}/approve", Forbidden),
    route("post", "/v1/mdf/claims/{id}/reject", Forbidden),
    // Commissions: links, tracking, postbacks, plans, payouts.
    route("post", "/v1/links", NotFound),
    route("get", "/v1/links", OwnOnly),
    route("post", "/v1/links/{id}/disable", NotFound),
    route("get", "/t/{code}", Shared),
    route("get", "/v1/postbacks", Shared),
    route("post", "/v1/postbacks", Shared),
    route("get", "/v1/postback-log", OwnOnly),
    route("get", "/v1/conversions", OwnOnly),
    route("post", "/v1/conversions/{id}/release", Forbidden),
    route("post", "/v1/conversions/{id}/reject", Forbidden),
    route("get", "/v1/commissions", OwnOnly),
    route("get", "/v1/ledger", OwnOnly),
    route("post", "/v1/plans", Forbidden),
    route("get", "/v1/plans", OwnOnly),
    route("get", "/v1/programs/{id}/commission-settings", NotFound),
    route("put", "/v1/programs/{id}/commission-settings", Forbidden),
    route("post", "/v1/payouts", Forbidden),
    route("get", "/v1/payouts/{id}", Forbidden),
    route("get", "/v1/payouts/{id}/export", Forbidden),
    route("post", "/v1/payouts/{id}/cancel", Forbidden),
    route("post", "/v1/payouts/{id}/mark-processing", Forbidden),
    route("post", "/v1/payouts/{id}/mark-paid", Forbidden),
    route("post", "/v1/payouts/{id}/mark-failed", Forbidden),
    route("get", "/v1/partners/{id}/payout-profile", NotFound),
    route("put", "/v1/partners/{id}/payout-profile", NotFound),
    // Reporting.
    route("get", "/v1/reports/partners/{id}/scorecard", NotFound),
    route("get", "/v1/reports/program", Forbidden),
    route("get", "/v1/reports/export", Forbidden),
    route("get", "/v1/reports/lag", Forbidden),
    route("post", "/v1/reports/rebuild", Forbidden),
    route("get", "/v1/reports/attribution/deals/{id}", NotFound),
    route("post", "/v1/attribution-models", Forbidden),
    route("get", "/v1/attribution-models", Forbidden),
    // Operations.
    route("get", "/healthz", Shared),
    route("get", "/readyz", Shared),
];
