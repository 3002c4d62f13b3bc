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

const fn get(path: &'static str, expect: Expect) -> Probe {
    Probe {
        method: "get",
        path,
        expect,
    }
}

const fn post(path: &'static str, expect: Expect) -> Probe {
    Probe {
        method: "post",
        path,
        expect,
    }
}

const fn put(path: &'static str, expect: Expect) -> Probe {
    Probe {
        method: "put",
        path,
        expect,
    }
}

const fn patch(path: &'static str, expect: Expect) -> Probe {
    Probe {
        method: "patch",
        path,
        expect,
    }
}

const fn delete(path: &'static str, expect: Expect) -> Probe {
    Probe {
        method: "delete",
        path,
        expect,
    }
}

pub(super) const ROUTES: &[Probe] = &[
    // Onboarding: applications, partners, their users and keys, terms,
    // programs and tiers, enablement.
    post("/v1/applications", Shared),
    get("/v1/applications", Forbidden),
    get("/v1/applications/{id}", NotFound),
    post("/v1/applications/{id}/approve", Forbidden),
    post("/v1/applications/{id}/reject", Forbidden),
    get("/v1/me", OwnOnly),
    get("/v1/partners", OwnOnly),
    get("/v1/partners/{id}", NotFound),
    post("/v1/partners/{id}/suspend", Forbidden),
    post("/v1/partners/{id}/reactivate", Forbidden),
    post("/v1/partners/{id}/terminate", Forbidden),
    post("/v1/partners/{id}/tier", Forbidden),
    get("/v1/partners/{id}/checklist", NotFound),
    get("/v1/partners/{id}/tier-evaluation", NotFound),
    get("/v1/partners/{id}/terms-status", NotFound),
    get("/v1/partners/{id}/users", NotFound),
    post("/v1/partners/{id}/users", NotFound),
    get("/v1/partners/{id}/api-keys", NotFound),
    post("/v1/partners/{id}/api-keys", NotFound),
    delete("/v1/api-keys/{id}", NotFound),
    post("/v1/users/{id}/deactivate", NotFound),
    get("/v1/terms", Shared),
    post("/v1/terms", Forbidden),
    post("/v1/terms/{version}/accept", OwnOnly),
    get("/v1/programs", OwnOnly),
    post("/v1/programs", Forbidden),
    post("/v1/programs/{id}/tiers", Forbidden),
    get("/v1/tiers", OwnOnly),
    patch("/v1/tiers/{id}", Forbidden),
    post("/v1/tier-reviews", Forbidden),
    get("/v1/content", OwnOnly),
    post("/v1/content", Forbidden),
    get("/v1/courses", Shared),
    post("/v1/courses", Forbidden),
    post("/v1/courses/{id}/attempts", NotFound),
    get("/v1/certifications", OwnOnly),
    // Deal registration.
    post("/v1/deal-registrations", OwnOnly),
    get("/v1/deal-registrations", OwnOnly),
    get("/v1/deal-registrations/{id}", NotFound),
    patch("/v1/deal-registrations/{id}", NotFound),
    post("/v1/deal-registrations/{id}/approve", Forbidden),
    post("/v1/deal-registrations/{id}/reject", Forbidden),
    post("/v1/deal-registrations/{id}/return", Forbidden),
    post("/v1/deal-registrations/{id}/extend", Forbidden),
    post("/v1/deal-registrations/{id}/resubmit", NotFound),
    post("/v1/deal-registrations/{id}/win", NotFound),
    post("/v1/deal-registrations/{id}/lose", NotFound),
    get("/v1/deal-registrations/{id}/history", NotFound),
    get("/v1/direct-accounts", Forbidden),
    post("/v1/direct-accounts", Forbidden),
    delete("/v1/direct-accounts/{id}", Forbidden),
    get("/v1/deal-registration-policy", Shared),
    put("/v1/deal-registration-policy", Forbidden),
    // MDF.
    post("/v1/mdf/budgets", Forbidden),
    get("/v1/mdf/budgets", Forbidden),
    get("/v1/mdf/budgets/{id}", Forbidden),
    post("/v1/mdf/allocations", Forbidden),
    get("/v1/mdf/funds", OwnOnly),
    get("/v1/mdf/funds/{id}", NotFound),
    get("/v1/mdf/funds/{id}/entries", NotFound),
    post("/v1/mdf/requests", NotFound),
    get("/v1/mdf/requests", OwnOnly),
    get("/v1/mdf/requests/{id}", NotFound),
    post("/v1/mdf/requests/{id}/approve", Forbidden),
    post("/v1/mdf/requests/{id}/reject", Forbidden),
    post("/v1/mdf/requests/{id}/cancel", NotFound),
    get("/v1/mdf/requests/{id}/roi", NotFound),
    post("/v1/mdf/requests/{id}/claims", NotFound),
    get("/v1/mdf/claims", OwnOnly),
    get("/v1/mdf/claims/{id}", NotFound),
    post("/v1/mdf/claims/{id}/approve", Forbidden),
    post("/v1/mdf/claims/{id}/reject", Forbidden),
    // Commissions: links, tracking, postbacks, plans, payouts.
    post("/v1/links", NotFound),
    get("/v1/links", OwnOnly),
    post("/v1/links/{id}/disable", NotFound),
    get("/t/{code}", Shared),
    get("/v1/postbacks", Shared),
    post("/v1/postbacks", Shared),
    get("/v1/postback-log", OwnOnly),
    get("/v1/conversions", OwnOnly),
    get("/v1/commissions", OwnOnly),
    get("/v1/ledger", OwnOnly),
    post("/v1/plans", Forbidden),
    get("/v1/plans", OwnOnly),
    get("/v1/programs/{id}/commission-settings", NotFound),
    put("/v1/programs/{id}/commission-settings", Forbidden),
    post("/v1/payouts", Forbidden),
    get("/v1/payouts/{id}", Forbidden),
    get("/v1/payouts/{id}/export", Forbidden),
    post("/v1/payouts/{id}/cancel", Forbidden),
    post("/v1/payouts/{id}/mark-processing", Forbidden),
    post("/v1/payouts/{id}/mark-paid", Forbidden),
    post("/v1/payouts/{id}/mark-failed", Forbidden),
    get("/v1/partners/{id}/payout-profile", NotFound),
    put("/v1/partners/{id}/payout-profile", NotFound),
    // Reporting.
    get("/v1/reports/partners/{id}/scorecard", NotFound),
    get("/v1/reports/program", Forbidden),
    get("/v1/reports/export", Forbidden),
    get("/v1/reports/lag", Forbidden),
    post("/v1/reports/rebuild", Forbidden),
    get("/v1/reports/attribution/deals/{id}", NotFound),
    post("/v1/attribution-models", Forbidden),
    get("/v1/attribution-models", Forbidden),
    // Operations.
    get("/healthz", Shared),
    get("/readyz", Shared),
];
