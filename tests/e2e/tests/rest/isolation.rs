//! Two partners, every route: a partner never reaches another partner's
//! data (404), never performs staff actions (403), and lists show only its
//! own. The route table is checked against the OpenAPI document, so a new
//! route cannot skip this test.

use std::collections::BTreeSet;

use prm_e2e::{ADMIN_KEY, PartnerAccount, ProgramIds, Stack, spawn};
use serde_json::{Value, json};

use crate::commissions;

enum Expect {
    /// The call targets the other partner's resource: 404.
    NotFound,
    /// A staff-only action: 403.
    Forbidden,
    /// Scoped to the caller by construction (its own partner or user):
    /// checked separately below.
    OwnOnly,
    /// Shared, non-partner data (health, docs, terms, tiers...).
    Shared,
}

struct Probe {
    method: &'static str,
    path: &'static str,
    expect: Expect,
}

const ROUTES: &[Probe] = &[
    Probe {
        method: "post",
        path: "/v1/applications",
        expect: Expect::Shared,
    },
    Probe {
        method: "get",
        path: "/v1/applications",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "get",
        path: "/v1/applications/{id}",
        expect: Expect::NotFound,
    },
    Probe {
        method: "post",
        path: "/v1/applications/{id}/approve",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "post",
        path: "/v1/applications/{id}/reject",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "get",
        path: "/v1/me",
        expect: Expect::OwnOnly,
    },
    Probe {
        method: "get",
        path: "/v1/partners",
        expect: Expect::OwnOnly,
    },
    Probe {
        method: "get",
        path: "/v1/partners/{id}",
        expect: Expect::NotFound,
    },
    Probe {
        method: "post",
        path: "/v1/partners/{id}/suspend",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "post",
        path: "/v1/partners/{id}/reactivate",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "post",
        path: "/v1/partners/{id}/terminate",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "post",
        path: "/v1/partners/{id}/tier",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "get",
        path: "/v1/partners/{id}/checklist",
        expect: Expect::NotFound,
    },
    Probe {
        method: "get",
        path: "/v1/partners/{id}/tier-evaluation",
        expect: Expect::NotFound,
    },
    Probe {
        method: "get",
        path: "/v1/partners/{id}/terms-status",
        expect: Expect::NotFound,
    },
    Probe {
        method: "get",
        path: "/v1/partners/{id}/users",
        expect: Expect::NotFound,
    },
    Probe {
        method: "post",
        path: "/v1/partners/{id}/users",
        expect: Expect::NotFound,
    },
    Probe {
        method: "get",
        path: "/v1/partners/{id}/api-keys",
        expect: Expect::NotFound,
    },
    Probe {
        method: "post",
        path: "/v1/partners/{id}/api-keys",
        expect: Expect::NotFound,
    },
    Probe {
        method: "delete",
        path: "/v1/api-keys/{id}",
        expect: Expect::NotFound,
    },
    Probe {
        method: "post",
        path: "/v1/users/{id}/deactivate",
        expect: Expect::NotFound,
    },
    Probe {
        method: "get",
        path: "/v1/terms",
        expect: Expect::Shared,
    },
    Probe {
        method: "post",
        path: "/v1/terms",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "post",
        path: "/v1/terms/{version}/accept",
        expect: Expect::OwnOnly,
    },
    Probe {
        method: "get",
        path: "/v1/programs",
        expect: Expect::OwnOnly,
    },
    Probe {
        method: "post",
        path: "/v1/programs",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "post",
        path: "/v1/programs/{id}/tiers",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "get",
        path: "/v1/tiers",
        expect: Expect::OwnOnly,
    },
    Probe {
        method: "patch",
        path: "/v1/tiers/{id}",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "post",
        path: "/v1/tier-reviews",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "get",
        path: "/v1/content",
        expect: Expect::OwnOnly,
    },
    Probe {
        method: "post",
        path: "/v1/content",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "get",
        path: "/v1/courses",
        expect: Expect::Shared,
    },
    Probe {
        method: "post",
        path: "/v1/courses",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "post",
        path: "/v1/courses/{id}/attempts",
        expect: Expect::NotFound,
    },
    Probe {
        method: "get",
        path: "/v1/certifications",
        expect: Expect::OwnOnly,
    },
    Probe {
        method: "post",
        path: "/v1/deal-registrations",
        expect: Expect::OwnOnly,
    },
    Probe {
        method: "get",
        path: "/v1/deal-registrations",
        expect: Expect::OwnOnly,
    },
    Probe {
        method: "get",
        path: "/v1/deal-registrations/{id}",
        expect: Expect::NotFound,
    },
    Probe {
        method: "patch",
        path: "/v1/deal-registrations/{id}",
        expect: Expect::NotFound,
    },
    Probe {
        method: "post",
        path: "/v1/deal-registrations/{id}/approve",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "post",
        path: "/v1/deal-registrations/{id}/reject",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "post",
        path: "/v1/deal-registrations/{id}/return",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "post",
        path: "/v1/deal-registrations/{id}/extend",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "post",
        path: "/v1/deal-registrations/{id}/resubmit",
        expect: Expect::NotFound,
    },
    Probe {
        method: "post",
        path: "/v1/deal-registrations/{id}/win",
        expect: Expect::NotFound,
    },
    Probe {
        method: "post",
        path: "/v1/deal-registrations/{id}/lose",
        expect: Expect::NotFound,
    },
    Probe {
        method: "get",
        path: "/v1/deal-registrations/{id}/history",
        expect: Expect::NotFound,
    },
    Probe {
        method: "get",
        path: "/v1/direct-accounts",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "post",
        path: "/v1/direct-accounts",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "delete",
        path: "/v1/direct-accounts/{id}",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "get",
        path: "/v1/deal-registration-policy",
        expect: Expect::Shared,
    },
    Probe {
        method: "put",
        path: "/v1/deal-registration-policy",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "post",
        path: "/v1/mdf/budgets",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "get",
        path: "/v1/mdf/budgets",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "get",
        path: "/v1/mdf/budgets/{id}",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "post",
        path: "/v1/mdf/allocations",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "get",
        path: "/v1/mdf/funds",
        expect: Expect::OwnOnly,
    },
    Probe {
        method: "get",
        path: "/v1/mdf/funds/{id}",
        expect: Expect::NotFound,
    },
    Probe {
        method: "get",
        path: "/v1/mdf/funds/{id}/entries",
        expect: Expect::NotFound,
    },
    Probe {
        method: "post",
        path: "/v1/mdf/requests",
        expect: Expect::NotFound,
    },
    Probe {
        method: "get",
        path: "/v1/mdf/requests",
        expect: Expect::OwnOnly,
    },
    Probe {
        method: "get",
        path: "/v1/mdf/requests/{id}",
        expect: Expect::NotFound,
    },
    Probe {
        method: "post",
        path: "/v1/mdf/requests/{id}/approve",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "post",
        path: "/v1/mdf/requests/{id}/reject",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "post",
        path: "/v1/mdf/requests/{id}/cancel",
        expect: Expect::NotFound,
    },
    Probe {
        method: "get",
        path: "/v1/mdf/requests/{id}/roi",
        expect: Expect::NotFound,
    },
    Probe {
        method: "post",
        path: "/v1/mdf/requests/{id}/claims",
        expect: Expect::NotFound,
    },
    Probe {
        method: "get",
        path: "/v1/mdf/claims",
        expect: Expect::OwnOnly,
    },
    Probe {
        method: "get",
        path: "/v1/mdf/claims/{id}",
        expect: Expect::NotFound,
    },
    Probe {
        method: "post",
        path: "/v1/mdf/claims/{id}/approve",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "post",
        path: "/v1/mdf/claims/{id}/reject",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "post",
        path: "/v1/links",
        expect: Expect::NotFound,
    },
    Probe {
        method: "get",
        path: "/v1/links",
        expect: Expect::OwnOnly,
    },
    Probe {
        method: "post",
        path: "/v1/links/{id}/disable",
        expect: Expect::NotFound,
    },
    Probe {
        method: "get",
        path: "/t/{code}",
        expect: Expect::Shared,
    },
    Probe {
        method: "get",
        path: "/v1/postbacks",
        expect: Expect::Shared,
    },
    Probe {
        method: "post",
        path: "/v1/postbacks",
        expect: Expect::Shared,
    },
    Probe {
        method: "get",
        path: "/v1/postback-log",
        expect: Expect::OwnOnly,
    },
    Probe {
        method: "get",
        path: "/v1/conversions",
        expect: Expect::OwnOnly,
    },
    Probe {
        method: "get",
        path: "/v1/commissions",
        expect: Expect::OwnOnly,
    },
    Probe {
        method: "get",
        path: "/v1/ledger",
        expect: Expect::OwnOnly,
    },
    Probe {
        method: "post",
        path: "/v1/plans",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "get",
        path: "/v1/plans",
        expect: Expect::OwnOnly,
    },
    Probe {
        method: "get",
        path: "/v1/programs/{id}/commission-settings",
        expect: Expect::NotFound,
    },
    Probe {
        method: "put",
        path: "/v1/programs/{id}/commission-settings",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "post",
        path: "/v1/payouts",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "get",
        path: "/v1/payouts/{id}",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "get",
        path: "/v1/payouts/{id}/export",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "post",
        path: "/v1/payouts/{id}/cancel",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "post",
        path: "/v1/payouts/{id}/mark-processing",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "post",
        path: "/v1/payouts/{id}/mark-paid",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "post",
        path: "/v1/payouts/{id}/mark-failed",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "get",
        path: "/v1/partners/{id}/payout-profile",
        expect: Expect::NotFound,
    },
    Probe {
        method: "put",
        path: "/v1/partners/{id}/payout-profile",
        expect: Expect::NotFound,
    },
    Probe {
        method: "get",
        path: "/v1/reports/partners/{id}/scorecard",
        expect: Expect::NotFound,
    },
    Probe {
        method: "get",
        path: "/v1/reports/program",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "get",
        path: "/v1/reports/export",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "get",
        path: "/v1/reports/lag",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "post",
        path: "/v1/reports/rebuild",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "get",
        path: "/v1/reports/attribution/deals/{id}",
        expect: Expect::NotFound,
    },
    Probe {
        method: "post",
        path: "/v1/attribution-models",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "get",
        path: "/v1/attribution-models",
        expect: Expect::Forbidden,
    },
    Probe {
        method: "get",
        path: "/healthz",
        expect: Expect::Shared,
    },
    Probe {
        method: "get",
        path: "/readyz",
        expect: Expect::Shared,
    },
];

/// B's resources that A attacks.
struct Targets {
    course: String,
    registration: String,
    direct_account: String,
    budget: String,
    fund: String,
    mdf_request: String,
    claim: String,
    link: String,
    payout: String,
    won_deal: String,
}

/// The id to put in `{id}` when partner A attacks B, and a valid body.
fn target(path: &str, b: &PartnerAccount, p2: &ProgramIds, t: &Targets) -> (String, Value) {
    let body = match path {
        "/v1/deal-registrations/{id}" => json!({"notes": "mine now"}),
        "/v1/deal-registrations/{id}/approve" | "/v1/deal-registrations/{id}/extend" => {
            json!({"note": "x"})
        }
        "/v1/deal-registrations/{id}/reject" => json!({"reason": "other"}),
        "/v1/deal-registrations/{id}/return" => json!({"note": "x"}),
        "/v1/deal-registrations/{id}/win" => {
            json!({"amount": {"amount_minor": 1, "currency": "EUR"}})
        }
        "/v1/direct-accounts" => json!({"company": "Initrode", "domain": "initrode.example"}),
        "/v1/mdf/budgets" => json!({
            "program_id": p2.id, "name": "Mine", "period": "2030-Q1",
            "amount": {"amount_minor": 1, "currency": "EUR"}
        }),
        "/v1/mdf/allocations" => json!({
            "budget_id": t.budget, "partner_id": b.id, "kind": "discretionary",
            "amount": {"amount_minor": 1, "currency": "EUR"}
        }),
        "/v1/mdf/requests" => mdf_request(&t.fund),
        "/v1/mdf/requests/{id}/claims" => mdf_claim("INV-MOLE"),
        "/v1/mdf/requests/{id}/approve" | "/v1/mdf/claims/{id}/approve" => json!({}),
        "/v1/links" => json!({"partner_id": b.id, "destination_url": "https://shop.example/mine"}),
        "/v1/plans" => {
            json!({"program_id": p2.id, "name": "Mine", "currency": "EUR", "revshare_bps": 9000})
        }
        "/v1/programs/{id}/commission-settings" => json!({"allowed_domains": ["evil.example"]}),
        "/v1/payouts" => json!({"program_id": p2.id, "currency": "EUR"}),
        "/v1/attribution-models" => {
            json!({"name": "Mine", "sourced_bps": 10000, "influencer_bps": 0})
        }
        "/v1/payouts/{id}/cancel"
        | "/v1/payouts/{id}/mark-processing"
        | "/v1/payouts/{id}/mark-paid"
        | "/v1/links/{id}/disable" => json!({}),
        "/v1/partners/{id}/payout-profile" => json!({
            "method": "paypal", "paypal_email": "mole@alpha.example", "payee_name": "Mole"
        }),
        "/v1/deal-registration-policy" => json!({
            "approval_sla_business_hours": 1, "on_sla_breach": "auto_approve",
            "protection_days": 1, "extension_days": 1, "max_extensions": 0,
            "expiring_notice_days": 0
        }),
        "/v1/applications/{id}/approve" => json!({"program_id": p2.id}),
        "/v1/partners/{id}/tier" => json!({"tier_id": p2.tiers[2], "reason": "x"}),
        "/v1/partners/{id}/users" => {
            json!({"email": "mole@alpha.example", "display_name": "Mole", "roles": ["partner_user"]})
        }
        "/v1/partners/{id}/api-keys" => json!({"name": "stolen"}),
        "/v1/courses/{id}/attempts" => json!({"score_percent": 100, "user_id": b.admin_user_id}),
        "/v1/programs/{id}/tiers" => json!({"name": "diamond", "rank": 9}),
        "/v1/tiers/{id}" => json!({"requirements": {"min_deals_won": 0}}),
        "/v1/terms" => json!({"kind": "disclosure", "version": "x1", "title": "t", "body": "b"}),
        "/v1/programs" => json!({"name": "Mine", "currency": "EUR"}),
        "/v1/tier-reviews" => json!({}),
        "/v1/content" => json!({"title": "t", "kind": "deck", "url": "https://x.example/d.pdf"}),
        "/v1/courses" => {
            json!({"title": "t", "pass_mark_percent": 50, "certification_valid_days": 30})
        }
        _ => json!({"reason": "because"}),
    };
    let id = if path.starts_with("/v1/applications/") {
        b.application_id.clone()
    } else if path.starts_with("/v1/partners/") || path.starts_with("/v1/reports/partners/") {
        b.id.clone()
    } else if path.starts_with("/v1/api-keys/") {
        b.key_id.clone()
    } else if path.starts_with("/v1/users/") {
        b.admin_user_id.clone()
    } else if path.starts_with("/v1/programs/") {
        p2.id.clone()
    } else if path.starts_with("/v1/tiers/") {
        p2.tiers[1].clone()
    } else if path.starts_with("/v1/deal-registrations/") {
        t.registration.clone()
    } else if path.starts_with("/v1/direct-accounts/") {
        t.direct_account.clone()
    } else if path.starts_with("/v1/mdf/budgets/") {
        t.budget.clone()
    } else if path.starts_with("/v1/mdf/funds/") {
        t.fund.clone()
    } else if path.starts_with("/v1/mdf/requests/") {
        t.mdf_request.clone()
    } else if path.starts_with("/v1/mdf/claims/") {
        t.claim.clone()
    } else if path.starts_with("/v1/links/") {
        t.link.clone()
    } else if path.starts_with("/v1/payouts/") {
        t.payout.clone()
    } else if path.starts_with("/v1/reports/attribution/deals/") {
        t.won_deal.clone()
    } else {
        t.course.clone()
    };
    let path = path.replace("{id}", &id);
    let path = if path.starts_with("/v1/reports/program") {
        format!("{path}?group_by=tier&period=2030-01")
    } else if path.starts_with("/v1/reports/") && !path.contains("/attribution/") {
        format!("{path}?period=2030-01")
    } else if path.ends_with("/export") {
        format!("{path}?format=paypal")
    } else {
        path
    };
    (path, body)
}

/// An MDF request for an activity that ended last week.
fn mdf_request(fund_id: &str) -> Value {
    let day = |ago| (chrono::Utc::now().date_naive() - chrono::Duration::days(ago)).to_string();
    json!({
        "fund_id": fund_id, "activity_type": "webinar", "description": "Partner webinar",
        "starts_on": day(8), "ends_on": day(7),
        "amount": {"amount_minor": 10000, "currency": "EUR"}
    })
}

/// A claim with its proof of performance.
fn mdf_claim(invoice: &str) -> Value {
    json!({
        "proven_cost": {"amount_minor": 5000, "currency": "EUR"},
        "invoice_number": invoice,
        "documents": [{
            "name": "invoice.pdf", "content_type": "application/pdf", "size_bytes": 1000,
            "checksum": format!("sha256:{}", "0".repeat(64)), "location": "s3://proofs/invoice.pdf"
        }]
    })
}

/// An expected close date two months ahead.
fn close_date() -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(60)).to_string()
}

async fn call(stack: &Stack, method: &str, path: &str, key: &str, body: Value) -> prm_e2e::Reply {
    match method {
        "get" => stack.get(path, Some(key)).await,
        "delete" => stack.delete(path, Some(key)).await,
        "patch" => stack.patch(path, Some(key), body).await,
        "put" => stack.put(path, Some(key), body).await,
        _ => stack.post(path, Some(key), body).await,
    }
}

fn ids(r: &prm_e2e::Reply) -> Vec<String> {
    r.body["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn partners_never_reach_each_other_over_any_route() {
    let stack = spawn().await;
    let p1 = stack.program("Alpha program").await;
    let p2 = stack.program("Beta program").await;
    let a = stack.partner(&p1, "alpha.example", "reseller").await;
    let b = stack.partner(&p2, "beta.example", "affiliate").await;
    let course = stack
        .post(
            "/v1/courses",
            Some(ADMIN_KEY),
            json!({"title": "Basics", "pass_mark_percent": 50, "certification_valid_days": 30}),
        )
        .await
        .str("/id");
    let b_attempt = stack
        .post(
            &format!("/v1/courses/{course}/attempts"),
            Some(&b.key),
            json!({"score_percent": 90}),
        )
        .await;
    assert_eq!(b_attempt.status, 201, "{b_attempt:?}");
    let b_registration = stack
        .post(
            "/v1/deal-registrations",
            Some(&b.key),
            json!({
                "customer_company": "Beta Customer", "customer_domain": "beta-customer.example",
                "contact": {"name": "Jo", "email": "jo@beta-customer.example"},
                "estimated_value": {"amount_minor": 100000, "currency": "EUR"},
                "expected_close_date": close_date()
            }),
        )
        .await;
    assert_eq!(b_registration.status, 201, "{b_registration:?}");
    let direct = stack
        .post(
            "/v1/direct-accounts",
            Some(ADMIN_KEY),
            json!({"company": "Globex", "domain": "globex.example"}),
        )
        .await;
    assert_eq!(direct.status, 201, "{direct:?}");
    // B's MDF: a budget of its program, its fund, an approved request
    // and a claim on it.
    let budget = stack
        .post(
            "/v1/mdf/budgets",
            Some(ADMIN_KEY),
            json!({"program_id": p2.id, "name": "Beta MDF", "period": "2030-Q1",
                   "amount": {"amount_minor": 1000000, "currency": "EUR"}}),
        )
        .await;
    assert_eq!(budget.status, 201, "{budget:?}");
    let fund = stack
        .post(
            "/v1/mdf/allocations",
            Some(ADMIN_KEY),
            json!({"budget_id": budget.str("/id"), "partner_id": b.id, "kind": "discretionary",
                   "amount": {"amount_minor": 100000, "currency": "EUR"}}),
        )
        .await;
    assert_eq!(fund.status, 201, "{fund:?}");
    let b_request = stack
        .post(
            "/v1/mdf/requests",
            Some(&b.key),
            mdf_request(&fund.str("/id")),
        )
        .await;
    assert_eq!(b_request.status, 201, "{b_request:?}");
    let approved = stack
        .post(
            &format!("/v1/mdf/requests/{}/approve", b_request.str("/id")),
            Some(ADMIN_KEY),
            json!({}),
        )
        .await;
    assert_eq!(approved.status, 200, "{approved:?}");
    let b_claim = stack
        .post(
            &format!("/v1/mdf/requests/{}/claims", b_request.str("/id")),
            Some(&b.key),
            mdf_claim("INV-B-1"),
        )
        .await;
    assert_eq!(b_claim.status, 201, "{b_claim:?}");
    // B's commissions: its program's settings and plan (payable at once),
    // a link, a click, a sale, its payout profile and a paid-out batch.
    let b_program = commissions::setup_program(&stack, &p2.id, "EUR").await;
    let b_link = commissions::link_for(&stack, &b).await;
    let click = commissions::click(&stack, &b_link).await;
    let sale = commissions::postback(
        &stack,
        &[
            ("program_id", p2.id.as_str()),
            ("token", b_program.token.as_str()),
            ("click_id", click.as_str()),
            ("transaction_id", "B-SALE-1"),
            ("amount", "50000"),
            ("currency", "EUR"),
        ],
    )
    .await;
    assert_eq!(sale.status, 201, "{sale:?}");
    let payout = commissions::paid_batch(&stack, &b, &p2.id, "EUR").await;
    // A deal B won, credited in reporting (its scorecard is B's too).
    let won_deal = crate::reporting::won_deal(&stack, &b, "beta-won.example").await;
    let targets = Targets {
        won_deal,
        link: b_link.str("/id"),
        payout,
        course: course.clone(),
        registration: b_registration.str("/id"),
        direct_account: direct.str("/id"),
        budget: budget.str("/id"),
        fund: fund.str("/id"),
        mdf_request: b_request.str("/id"),
        claim: b_claim.str("/id"),
    };

    // Every documented route is classified here.
    let spec = stack.get("/openapi.json", None).await.body;
    let documented: BTreeSet<(String, String)> = spec["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("item")
                .keys()
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    let classified: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|p| (p.method.to_owned(), p.path.to_owned()))
        .collect();
    assert_eq!(
        documented, classified,
        "classify every route in isolation.rs"
    );

    for probe in ROUTES {
        let (path, body) = target(probe.path, &b, &p2, &targets);
        let want = match probe.expect {
            Expect::NotFound => 404,
            Expect::Forbidden => 403,
            Expect::OwnOnly | Expect::Shared => continue,
        };
        let r = call(&stack, probe.method, &path, &a.key, body).await;
        assert_eq!(r.status, want, "{} {} -> {r:?}", probe.method, probe.path);
        assert!(r.is_problem());
    }

    // Own-only routes show A's data and nothing of B's.
    assert_eq!(
        ids(&stack.get("/v1/partners", Some(&a.key)).await),
        std::slice::from_ref(&a.id)
    );
    assert_eq!(
        ids(&stack.get("/v1/programs", Some(&a.key)).await),
        std::slice::from_ref(&p1.id)
    );
    let tiers = stack.get("/v1/tiers", Some(&a.key)).await;
    assert_eq!(ids(&tiers), p1.tiers);
    assert_eq!(
        stack
            .get(&format!("/v1/tiers?program_id={}", p2.id), Some(&a.key))
            .await
            .status,
        404
    );
    assert_eq!(
        stack.get("/v1/me", Some(&a.key)).await.str("/partner/id"),
        a.id
    );
    assert!(
        ids(&stack.get("/v1/certifications", Some(&a.key)).await).is_empty(),
        "B's certification is not listed for A"
    );
    assert_eq!(
        stack
            .get(
                &format!("/v1/certifications?partner_id={}", b.id),
                Some(&a.key)
            )
            .await
            .status,
        404
    );
    assert_eq!(
        stack
            .get(&format!("/v1/content?partner_id={}", b.id), Some(&a.key))
            .await
            .status,
        404
    );
    // Accepting terms acts for the caller's own partner only.
    stack
        .post(
            "/v1/terms",
            Some(ADMIN_KEY),
            json!({"kind": "partner_agreement", "version": "v1", "title": "t", "body": "b"}),
        )
        .await;
    let acc = stack
        .post("/v1/terms/v1/accept", Some(&a.key), json!({}))
        .await;
    assert_eq!(acc.str("/partner_id"), a.id);

    // Registrations: A lists only its own, and cannot register for B.
    let a_registration = stack
        .post(
            "/v1/deal-registrations",
            Some(&a.key),
            json!({
                "customer_company": "Alpha Customer", "customer_domain": "alpha-customer.example",
                "contact": {"name": "Al", "email": "al@alpha-customer.example"},
                "estimated_value": {"amount_minor": 100000, "currency": "EUR"},
                "expected_close_date": close_date()
            }),
        )
        .await;
    assert_eq!(a_registration.status, 201, "{a_registration:?}");
    assert_eq!(
        ids(&stack.get("/v1/deal-registrations", Some(&a.key)).await),
        [a_registration.str("/id")]
    );
    assert_eq!(
        stack
            .get(
                &format!("/v1/deal-registrations?partner_id={}", b.id),
                Some(&a.key)
            )
            .await
            .status,
        404
    );
    let for_b = stack
        .post(
            "/v1/deal-registrations",
            Some(&a.key),
            json!({
                "partner_id": b.id,
                "customer_company": "Gamma", "customer_domain": "gamma.example",
                "contact": {"name": "G", "email": "g@gamma.example"},
                "estimated_value": {"amount_minor": 1, "currency": "EUR"},
                "expected_close_date": close_date()
            }),
        )
        .await;
    assert_eq!(for_b.status, 404, "{for_b:?}");
    let b_reg = stack
        .get(
            &format!("/v1/deal-registrations/{}", targets.registration),
            Some(&b.key),
        )
        .await;
    assert_eq!(
        (b_reg.str("/status"), b_reg.str("/notes")),
        ("submitted".into(), String::new())
    );

    // MDF: A lists none of B's funds, requests or claims, and naming B is
    // NotFound; B's fund is untouched.
    for list in ["/v1/mdf/funds", "/v1/mdf/requests", "/v1/mdf/claims"] {
        assert!(
            ids(&stack.get(list, Some(&a.key)).await).is_empty(),
            "{list}"
        );
        let named = stack
            .get(&format!("{list}?partner_id={}", b.id), Some(&a.key))
            .await;
        assert_eq!(named.status, 404, "{list}: {named:?}");
    }
    let b_fund = stack
        .get(&format!("/v1/mdf/funds/{}", targets.fund), Some(&b.key))
        .await;
    assert_eq!(
        b_fund.body["balance"]["available"]["amount_minor"],
        json!(90000)
    );
    assert_eq!(
        ids(&stack.get("/v1/mdf/claims", Some(&b.key)).await),
        std::slice::from_ref(&targets.claim)
    );

    // Commissions: A lists none of B's links, conversions, commissions,
    // ledger entries or postbacks, and naming B is NotFound.
    for list in [
        "/v1/links",
        "/v1/conversions",
        "/v1/commissions",
        "/v1/postback-log",
    ] {
        assert!(
            ids(&stack.get(list, Some(&a.key)).await).is_empty(),
            "{list}"
        );
        let named = stack
            .get(&format!("{list}?partner_id={}", b.id), Some(&a.key))
            .await;
        assert_eq!(named.status, 404, "{list}: {named:?}");
    }
    let a_ledger = stack.get("/v1/ledger", Some(&a.key)).await;
    assert_eq!(a_ledger.status, 200, "{a_ledger:?}");
    assert_eq!(a_ledger.body["items"], json!([]));
    assert_eq!(
        stack
            .get(&format!("/v1/ledger?partner_id={}", b.id), Some(&a.key))
            .await
            .status,
        404
    );
    assert!(
        ids(&stack.get("/v1/plans", Some(&a.key)).await).is_empty(),
        "B's program's plans are not A's"
    );
    let b_commissions = stack.get("/v1/commissions", Some(&b.key)).await;
    assert_eq!(ids(&b_commissions).len(), 1, "{b_commissions:?}");
    let b_link_now = stack.get("/v1/links", Some(&b.key)).await;
    assert_eq!(b_link_now.body["items"][0]["status"], json!("active"));

    // B is exactly as it was.
    let b_now = stack
        .get(&format!("/v1/partners/{}", b.id), Some(&b.key))
        .await;
    assert_eq!(
        (b_now.str("/status"), b_now.str("/tier_name")),
        ("active".into(), "registered".into())
    );
    assert_eq!(
        ids(&stack
            .get(&format!("/v1/partners/{}/users", b.id), Some(&b.key))
            .await)
        .len(),
        1
    );
    assert_eq!(
        ids(&stack
            .get(&format!("/v1/partners/{}/api-keys", b.id), Some(&b.key))
            .await),
        std::slice::from_ref(&b.key_id)
    );
    let b_terms = stack
        .get(&format!("/v1/partners/{}/terms-status", b.id), Some(&b.key))
        .await;
    assert_eq!(b_terms.body["all_accepted"], json!(false));
}
