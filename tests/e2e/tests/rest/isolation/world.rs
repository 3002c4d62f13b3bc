//! The world the isolation test runs in: partner A in one program, and
//! partner B in another with real rows behind every route (a course
//! attempt, a deal registration, MDF, commissions, a won deal), and the
//! path-parameter values and bodies A sends when it aims a route at B.

use prm_e2e::{ADMIN_KEY, PartnerAccount, ProgramIds, Stack, spawn_with};
use serde_json::{Value, json};

use crate::commissions;

/// Two partners on one stack: A attacks, B is attacked.
pub(super) struct World {
    pub(super) stack: Stack,
    /// A's program.
    pub(super) p1: ProgramIds,
    /// B's program.
    pub(super) p2: ProgramIds,
    pub(super) a: PartnerAccount,
    pub(super) b: PartnerAccount,
    pub(super) targets: Targets,
}

/// B's resources that A attacks.
pub(super) struct Targets {
    course: String,
    pub(super) registration: String,
    direct_account: String,
    budget: String,
    pub(super) fund: String,
    mdf_request: String,
    pub(super) claim: String,
    link: String,
    payout: String,
    won_deal: String,
    held_conversion: String,
}

/// B's MDF: a budget of its program, its fund, an approved request and a
/// claim on it.
struct Mdf {
    budget: String,
    fund: String,
    request: String,
    claim: String,
}

impl World {
    /// A fresh stack with partners A and B, and B's rows.
    pub(super) async fn seed() -> World {
        // Refused keys are tried on every route from one address: the
        // failure throttle (tested on its own) would answer 429 first.
        let stack = spawn_with(|s| s.auth.failure_burst = 100_000).await;
        let p1 = stack.program("Alpha program").await;
        let p2 = stack.program("Beta program").await;
        let a = stack.partner(&p1, "alpha.example", "reseller").await;
        let b = stack.partner(&p2, "beta.example", "affiliate").await;
        let course = course_attempted_by(&stack, &b).await;
        let registration = registration_of(&stack, &b).await;
        let direct_account = direct_account(&stack).await;
        let mdf = mdf_of(&stack, &b, &p2).await;
        let (link, payout, held_conversion) = commissions_of(&stack, &b, &p2).await;
        // A deal B won, credited in reporting (its scorecard is B's too).
        let won_deal = crate::reporting::won_deal(&stack, &b, "beta-won.example").await;
        let targets = Targets {
            won_deal,
            link,
            payout,
            held_conversion,
            course,
            registration,
            direct_account,
            budget: mdf.budget,
            fund: mdf.fund,
            mdf_request: mdf.request,
            claim: mdf.claim,
        };
        World {
            stack,
            p1,
            p2,
            a,
            b,
            targets,
        }
    }

    /// The path (with B's id in `{id}`) and a valid body for A's call to
    /// the route `path`.
    pub(super) fn target(&self, path: &str) -> (String, Value) {
        let body = self.body(path);
        let path = path.replace("{id}", &self.id(path));
        (with_query(path), body)
    }

    /// A valid body for the route, naming B's resources where it names any.
    fn body(&self, path: &str) -> Value {
        let (b, p2, t) = (&self.b, &self.p2, &self.targets);
        match path {
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
            "/v1/links" => {
                json!({"partner_id": b.id, "destination_url": "https://shop.example/mine"})
            }
            "/v1/plans" => {
                json!({"program_id": p2.id, "name": "Mine", "currency": "EUR", "revshare_bps": 9000})
            }
            "/v1/programs/{id}/commission-settings" => {
                json!({"allowed_domains": ["evil.example"]})
            }
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
            "/v1/courses/{id}/attempts" => {
                json!({"score_percent": 100, "user_id": b.admin_user_id})
            }
            "/v1/programs/{id}/tiers" => json!({"name": "diamond", "rank": 9}),
            "/v1/api-key-policy" | "/v1/programs/{id}/api-key-policy" => {
                json!({"max_key_days": 1})
            }
            "/v1/api-keys/{id}/rotate" => json!({}),
            "/v1/tiers/{id}" => json!({"requirements": {"min_deals_won": 0}}),
            "/v1/terms" => {
                json!({"kind": "disclosure", "version": "x1", "title": "t", "body": "b"})
            }
            "/v1/programs" => json!({"name": "Mine", "currency": "EUR"}),
            "/v1/tier-reviews" => json!({}),
            "/v1/content" => {
                json!({"title": "t", "kind": "deck", "url": "https://x.example/d.pdf"})
            }
            "/v1/courses" => {
                json!({"title": "t", "pass_mark_percent": 50, "certification_valid_days": 30})
            }
            _ => json!({"reason": "because"}),
        }
    }

    /// The id to put in `{id}` when A attacks B: B's resource of the
    /// route's kind.
    fn id(&self, path: &str) -> String {
        let (b, p2, t) = (&self.b, &self.p2, &self.targets);
        if path.starts_with("/v1/applications/") {
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
        } else if path.starts_with("/v1/conversions/") {
            t.held_conversion.clone()
        } else if path.starts_with("/v1/reports/attribution/deals/") {
            t.won_deal.clone()
        } else {
            t.course.clone()
        }
    }
}

/// The query a route needs to answer at all (a period, a grouping, a
/// format).
fn with_query(path: String) -> String {
    if path.starts_with("/v1/reports/program") {
        format!("{path}?group_by=tier&period=2030-01")
    } else if path.starts_with("/v1/reports/") && !path.contains("/attribution/") {
        format!("{path}?period=2030-01")
    } else if path.ends_with("/export") {
        format!("{path}?format=paypal")
    } else {
        path
    }
}

/// A course, and B's passing attempt at it (a certification of B's).
async fn course_attempted_by(stack: &Stack, b: &PartnerAccount) -> String {
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
    course
}

/// B's deal registration, submitted.
async fn registration_of(stack: &Stack, b: &PartnerAccount) -> String {
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
    b_registration.str("/id")
}

/// A direct account (staff data).
async fn direct_account(stack: &Stack) -> String {
    let direct = stack
        .post(
            "/v1/direct-accounts",
            Some(ADMIN_KEY),
            json!({"company": "Globex", "domain": "globex.example"}),
        )
        .await;
    assert_eq!(direct.status, 201, "{direct:?}");
    direct.str("/id")
}

/// B's MDF: a budget of its program, its fund, an approved request and a
/// claim on it.
async fn mdf_of(stack: &Stack, b: &PartnerAccount, p2: &ProgramIds) -> Mdf {
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
    Mdf {
        budget: budget.str("/id"),
        fund: fund.str("/id"),
        request: b_request.str("/id"),
        claim: b_claim.str("/id"),
    }
}

/// B's commissions: its program's settings and plan (payable at once), a
/// link, a click, a sale, its payout profile and a paid-out batch. Returns
/// the link's id and the payout's.
/// B's link, a paid batch, and a conversion of B's held for self-referral.
async fn commissions_of(
    stack: &Stack,
    b: &PartnerAccount,
    p2: &ProgramIds,
) -> (String, String, String) {
    let b_program = commissions::setup_program(stack, &p2.id, "EUR").await;
    let b_link = commissions::link_for(stack, b).await;
    let click = commissions::click(stack, &b_link).await;
    let sale = commissions::postback(
        stack,
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
    let held = commissions::postback(
        stack,
        &[
            ("program_id", p2.id.as_str()),
            ("token", b_program.token.as_str()),
            ("click_id", click.as_str()),
            ("transaction_id", "B-SALE-SELF"),
            ("amount", "100"),
            ("currency", "EUR"),
            ("customer_domain", "beta.example"),
        ],
    )
    .await;
    assert_eq!(held.str("/answer"), "HELD", "{held:?}");
    let payout = commissions::paid_batch(stack, b, &p2.id, "EUR").await;
    (b_link.str("/id"), payout, held.str("/conversion_id"))
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
pub(super) fn close_date() -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(60)).to_string()
}
