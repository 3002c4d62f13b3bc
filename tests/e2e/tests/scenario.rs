//! The whole platform, end to end: every service and the gateway as their
//! own processes (the release's binaries, in debug), on real PostgreSQL and
//! NATS, driven through the REST API only. An admin sets up a program;
//! a reseller and a referral partner join, accept the terms and pass a
//! course; the referral partner's link is clicked and a sale converts for
//! a customer the reseller then registers; both race for another customer;
//! deals are won; MDF is requested, approved, claimed and reimbursed; a
//! payout batch is paid and a refund arrives after it. Every service (and
//! the gateway) is restarted once along the way. At the end every figure of
//! both scorecards and of the program view is checked against values
//! worked out here from what the test did.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Datelike;
use prm_e2e::processes::{Api, Processes, SERVICES};
use prm_runtime::testing::eventually;
use serde_json::{Value, json};

const TOKEN: &str = "scenario-postback-token-1";

struct Partner {
    id: String,
    key: String,
}

async fn join(api: &Api, admin: &str, program: &str, domain: &str, kind: &str) -> Partner {
    let app = api
        .post(
            "/v1/applications",
            None,
            json!({"company_name": format!("{domain} Ltd"), "domain": domain, "country": "GB",
                   "partner_type": kind, "contact_name": "Pat Partner",
                   "contact_email": format!("pat@{domain}")}),
        )
        .await;
    assert_eq!(app.status, 201, "{app:?}");
    let approved = api
        .post(
            &format!("/v1/applications/{}/approve", app.str("/id")),
            Some(admin),
            json!({"program_id": program}),
        )
        .await;
    assert_eq!(approved.status, 200, "{approved:?}");
    Partner {
        id: approved.str("/partner/id"),
        key: approved.str("/admin_api_key/secret"),
    }
}

fn registration(domain: &str, estimate: i64, mdf_reference: Option<&str>) -> Value {
    let close = (chrono::Utc::now().date_naive() + chrono::Duration::days(30)).to_string();
    let mut body = json!({"customer_company": format!("{domain} Inc"), "customer_domain": domain,
        "contact": {"name": "Jo Buyer", "email": format!("jo@{domain}")},
        "estimated_value": {"amount_minor": estimate, "currency": "EUR"},
        "expected_close_date": close});
    if let Some(r) = mdf_reference {
        body["mdf_reference"] = json!(r);
    }
    body
}

async fn win(api: &Api, admin: &str, deal: &str, amount: i64) {
    let ok = api
        .post(
            &format!("/v1/deal-registrations/{deal}/approve"),
            Some(admin),
            json!({}),
        )
        .await;
    assert_eq!(ok.status, 200, "{ok:?}");
    let won = api
        .post(
            &format!("/v1/deal-registrations/{deal}/win"),
            Some(admin),
            json!({"amount": {"amount_minor": amount, "currency": "EUR"}}),
        )
        .await;
    assert_eq!(won.status, 200, "{won:?}");
}

/// Retries `call` until it answers `status` (a service that has not heard
/// of a partner yet, a sweep that has not run yet).
async fn until(status: u16, call: impl AsyncFn() -> prm_e2e::Reply) -> prm_e2e::Reply {
    let mut last = None;
    for _ in 0..150 {
        let r = call().await;
        if r.status == status {
            return r;
        }
        last = Some(r);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("never answered {status}: {last:?}");
}

/// What the test expects of one figure.
#[derive(Clone, Debug, PartialEq)]
enum Want {
    Int(i64),
    Num(f64),
    Null,
    /// Defined and below this (times the test cannot fix to the second).
    Below(f64),
    /// Either (what depends on whether an hour has ended).
    Either(Box<Want>, Box<Want>),
}

fn matches(actual: &Value, want: &Want) -> bool {
    match want {
        Want::Int(n) => actual.as_i64() == Some(*n),
        Want::Num(x) => actual.as_f64().is_some_and(|a| (a - x).abs() < 1e-6),
        Want::Null => actual.is_null(),
        Want::Below(x) => actual.as_f64().is_some_and(|a| a >= 0.0 && a < *x),
        Want::Either(a, b) => matches(actual, a) || matches(actual, b),
    }
}

fn mismatches(figures: &Value, wanted: &BTreeMap<&'static str, Want>) -> Vec<String> {
    wanted
        .iter()
        .filter(|(k, w)| !matches(&figures[**k], w))
        .map(|(k, w)| format!("{k}: got {}, want {w:?}", figures[*k]))
        .collect()
}

fn ratio(n: f64, d: f64) -> Want {
    if d == 0.0 {
        Want::Null
    } else {
        Want::Num(n / d)
    }
}

/// Every figure of a scorecard, from what one partner did.
#[derive(Clone, Debug, Default)]
struct Did {
    registered: i64,
    won: i64,
    sourced: i64,
    won_revenue: i64,
    credited: i64,
    influenced: i64,
    mdf_requested: i64,
    mdf_approved: i64,
    mdf_claimed: i64,
    mdf_paid: i64,
    mdf_backed_won: i64,
    clicks: i64,
    conversions: i64,
    conversion_revenue: i64,
    earned: i64,
    reversed: i64,
    paid: i64,
    checklist_done: i64,
    certifications: i64,
}

impl Did {
    fn plus(&self, o: &Did) -> Did {
        Did {
            registered: self.registered + o.registered,
            won: self.won + o.won,
            sourced: self.sourced + o.sourced,
            won_revenue: self.won_revenue + o.won_revenue,
            credited: self.credited + o.credited,
            influenced: self.influenced + o.influenced,
            mdf_requested: self.mdf_requested + o.mdf_requested,
            mdf_approved: self.mdf_approved + o.mdf_approved,
            mdf_claimed: self.mdf_claimed + o.mdf_claimed,
            mdf_paid: self.mdf_paid + o.mdf_paid,
            mdf_backed_won: self.mdf_backed_won + o.mdf_backed_won,
            clicks: self.clicks + o.clicks,
            conversions: self.conversions + o.conversions,
            conversion_revenue: self.conversion_revenue + o.conversion_revenue,
            earned: self.earned + o.earned,
            reversed: self.reversed + o.reversed,
            paid: self.paid + o.paid,
            checklist_done: self.checklist_done + o.checklist_done,
            certifications: self.certifications + o.certifications,
        }
    }

    /// The figures, for `partners` partners.
    fn figures(&self, partners: i64) -> BTreeMap<&'static str, Want> {
        let f = |n: i64| n as f64;
        let mut w = BTreeMap::new();
        w.insert("sourced_pipeline_minor", Want::Int(self.sourced));
        w.insert("influenced_pipeline_minor", Want::Int(self.influenced));
        w.insert("won_revenue_minor", Want::Int(self.won_revenue));
        w.insert("credited_revenue_minor", Want::Int(self.credited));
        w.insert("deals_registered", Want::Int(self.registered));
        w.insert("deals_approved", Want::Int(self.registered));
        w.insert("deals_rejected", Want::Int(0));
        w.insert("deals_won", Want::Int(self.won));
        w.insert("deals_lost", Want::Int(0));
        w.insert("deals_expired", Want::Int(0));
        w.insert("sla_breaches", Want::Int(0));
        w.insert(
            "registration_conversion_rate",
            ratio(f(self.won), f(self.registered)),
        );
        // Approved and won within the test's minutes.
        w.insert(
            "median_approval_hours",
            if self.registered > 0 {
                Want::Below(1.0)
            } else {
                Want::Null
            },
        );
        w.insert(
            "deal_velocity_days",
            if self.won > 0 {
                Want::Below(1.0)
            } else {
                Want::Null
            },
        );
        w.insert("win_rate", ratio(f(self.won), f(self.won)));
        w.insert("mdf_requested_minor", Want::Int(self.mdf_requested));
        w.insert("mdf_approved_minor", Want::Int(self.mdf_approved));
        w.insert("mdf_claimed_minor", Want::Int(self.mdf_claimed));
        w.insert("mdf_paid_minor", Want::Int(self.mdf_paid));
        w.insert("mdf_roi", ratio(f(self.mdf_backed_won), f(self.mdf_paid)));
        w.insert("commissions_earned_minor", Want::Int(self.earned));
        w.insert("commissions_reversed_minor", Want::Int(self.reversed));
        w.insert("commissions_paid_minor", Want::Int(self.paid));
        // Clicks are counted once their hour is over: none, unless the
        // test ran across the end of the hour of its one click.
        let per_click = |n: i64| {
            if self.clicks == 0 {
                Want::Null
            } else {
                Want::Either(Box::new(Want::Null), Box::new(Want::Num(n as f64)))
            }
        };
        w.insert(
            "clicks",
            Want::Either(Box::new(Want::Int(0)), Box::new(Want::Int(self.clicks))),
        );
        w.insert("conversions", Want::Int(self.conversions));
        w.insert("click_conversion_rate", per_click(self.conversions));
        w.insert(
            "conversion_revenue_minor",
            Want::Int(self.conversion_revenue),
        );
        w.insert("earnings_per_click_minor", per_click(self.earned));
        w.insert(
            "revenue_per_click_minor",
            per_click(self.conversion_revenue),
        );
        w.insert(
            "days_since_last_conversion",
            if self.conversions > 0 {
                Want::Num(0.0)
            } else {
                Want::Null
            },
        );
        w.insert(
            "return_on_commission_spend",
            ratio(f(self.conversion_revenue + self.credited), f(self.paid)),
        );
        w.insert(
            "checklist_completion",
            ratio(f(self.checklist_done), f(4 * partners)),
        );
        w.insert("certifications_held", Want::Int(self.certifications));
        w.insert(
            "time_to_first_deal_days",
            if self.registered > 0 {
                Want::Below(1.0)
            } else {
                Want::Null
            },
        );
        w
    }
}

#[tokio::test]
async fn a_whole_program_through_the_rest_api_with_every_process_restarted() {
    let mut platform = Processes::start("scenario").await;
    let api = Api::new(platform.gateway);
    let admin = platform.admin_key.clone();
    let admin = admin.as_str();

    // -- An admin sets up the program, its tiers, terms, a course, the
    //    commission settings and plan, and the attribution model.
    let program = api
        .post(
            "/v1/programs",
            Some(admin),
            json!({"name": "Scenario", "currency": "EUR"}),
        )
        .await;
    assert_eq!(program.status, 201, "{program:?}");
    let program = program.str("/id");
    for (rank, name, deals) in [(0, "registered", 0), (1, "gold", 50)] {
        let t = api
            .post(
                &format!("/v1/programs/{program}/tiers"),
                Some(admin),
                json!({"name": name, "rank": rank, "requirements": {"min_deals_won": deals}}),
            )
            .await;
        assert_eq!(t.status, 201, "{t:?}");
    }
    let terms = api
        .post(
            "/v1/terms",
            Some(admin),
            json!({"kind": "partner_agreement", "version": "2026-01", "title": "Partner agreement",
                   "body": "The partner agrees."}),
        )
        .await;
    assert_eq!(terms.status, 201, "{terms:?}");
    let course = api
        .post(
            "/v1/courses",
            Some(admin),
            json!({"title": "Selling PRM", "description": "Basics", "pass_mark_percent": 70,
                   "certification_valid_days": 365, "required_for_onboarding": true}),
        )
        .await;
    assert_eq!(course.status, 201, "{course:?}");
    let course = course.str("/id");
    let settings = api
        .put(
            &format!("/v1/programs/{program}/commission-settings"),
            Some(admin),
            json!({"allowed_domains": ["shop.example"], "min_seconds_to_convert": 0,
                   "min_payout_minor": 100, "postback_token": TOKEN}),
        )
        .await;
    assert_eq!(settings.status, 200, "{settings:?}");
    let plan = api
        .post(
            "/v1/plans",
            Some(admin),
            json!({"program_id": program, "name": "Referrals", "currency": "EUR",
                   "revshare_bps": 2000, "hold_days": 0}),
        )
        .await;
    assert_eq!(plan.status, 201, "{plan:?}");
    let model = api
        .post(
            "/v1/attribution-models",
            Some(admin),
            json!({"name": "Sourced 70 / influencers 30", "sourced_bps": 7000,
                   "influencer_bps": 3000, "window_days": 90}),
        )
        .await;
    assert_eq!(model.status, 201, "{model:?}");

    // -- Two partners apply and are approved, accept the terms and pass
    //    the course.
    let reseller = join(&api, admin, &program, "alpha-scenario.example", "reseller").await;
    let referrer = join(&api, admin, &program, "beta-scenario.example", "referral").await;
    for p in [&reseller, &referrer] {
        let accepted = api
            .post(
                "/v1/terms/2026-01/accept",
                Some(&p.key),
                json!({"kind": "partner_agreement"}),
            )
            .await;
        assert!(accepted.status < 300, "{accepted:?}");
        let passed = api
            .post(
                &format!("/v1/courses/{course}/attempts"),
                Some(&p.key),
                json!({"score_percent": 90}),
            )
            .await;
        assert_eq!(passed.status, 201, "{passed:?}");
    }
    platform.restart("onboarding").await;

    // -- The referral partner's link is clicked, and the shop reports a
    //    sale for shared.example by postback.
    let link = until(201, async || {
        api.post(
            "/v1/links",
            Some(&referrer.key),
            json!({"destination_url": "https://shop.example/pricing"}),
        )
        .await
    })
    .await;
    let click = api.browse(&format!("/t/{}", link.str("/code"))).await;
    assert_eq!(click.status, 302, "{click:?}");
    let location = click.header("location").expect("location").to_owned();
    let click_id = location
        .split("prm_click_id=")
        .nth(1)
        .expect("a click id")
        .to_owned();
    // The gateway hands clicks over at least every second.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let postback = |query: String| {
        let api = api.clone();
        let program = program.clone();
        async move {
            api.get(
                &format!("/v1/postbacks?program_id={program}&token={TOKEN}&{query}"),
                None,
            )
            .await
        }
    };
    let sale = postback(format!(
        "click_id={click_id}&transaction_id=ORDER-1&amount=12500&currency=EUR&customer_domain=shared-scenario.example"
    ))
    .await;
    assert_eq!(sale.status, 201, "{sale:?}");
    assert_eq!(sale.body["answer"], json!("ACCEPTED"));
    platform.restart("commissions").await;

    // -- The reseller registers shared.example (with its MDF campaign),
    //    and both race for race.example: exactly one wins.
    let shared = api
        .post(
            "/v1/deal-registrations",
            Some(&reseller.key),
            registration("shared-scenario.example", 4_000_000, Some("WEB-LAUNCH")),
        )
        .await;
    assert_eq!(shared.status, 201, "{shared:?}");
    let shared = shared.str("/id");
    let (a, b) = tokio::join!(
        api.post(
            "/v1/deal-registrations",
            Some(&reseller.key),
            registration("race-scenario.example", 1_500_000, None),
        ),
        api.post(
            "/v1/deal-registrations",
            Some(&referrer.key),
            registration("race-scenario.example", 1_500_000, None),
        ),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{a:?} {b:?}");
    let loser = if a.status == 409 { &a } else { &b };
    assert_eq!(loser.code(), "CUSTOMER_CONFLICT", "{loser:?}");
    let reseller_won_race = a.status == 201;
    let race = if reseller_won_race {
        a.str("/id")
    } else {
        b.str("/id")
    };
    platform.restart("dealreg").await;

    // -- Deals are won.
    win(&api, admin, &shared, 3_800_000).await;
    win(&api, admin, &race, 1_000_000).await;

    // -- MDF: a budget, the reseller's fund at 50%, a request approved
    //    in part, a claim approved and reimbursed.
    let today = chrono::Utc::now().date_naive();
    let quarter = format!("{}-Q{}", today.year(), (today.month() - 1) / 3 + 1);
    let budget = api
        .post(
            "/v1/mdf/budgets",
            Some(admin),
            json!({"program_id": program, "name": "Channel", "period": quarter,
                   "amount": {"amount_minor": 50_000_000, "currency": "EUR"}}),
        )
        .await;
    assert_eq!(budget.status, 201, "{budget:?}");
    let fund = until(201, async || {
        api.post(
            "/v1/mdf/allocations",
            Some(admin),
            json!({"budget_id": budget.str("/id"), "partner_id": reseller.id,
                   "kind": "discretionary", "reimbursement_rate_bps": 5000,
                   "amount": {"amount_minor": 1_000_000, "currency": "EUR"}}),
        )
        .await
    })
    .await;
    let request = api
        .post(
            "/v1/mdf/requests",
            Some(&reseller.key),
            json!({"fund_id": fund.str("/id"), "activity_type": "webinar",
                   "description": "Launch webinar", "starts_on": today.to_string(),
                   "ends_on": today.to_string(), "campaign_code": "WEB-LAUNCH",
                   "amount": {"amount_minor": 400_000, "currency": "EUR"}}),
        )
        .await;
    assert_eq!(request.status, 201, "{request:?}");
    let request = request.str("/id");
    let approved = api
        .post(
            &format!("/v1/mdf/requests/{request}/approve"),
            Some(admin),
            json!({"amount": {"amount_minor": 300_000, "currency": "EUR"}}),
        )
        .await;
    assert_eq!(approved.status, 200, "{approved:?}");
    let claim = api
        .post(
            &format!("/v1/mdf/requests/{request}/claims"),
            Some(&reseller.key),
            json!({"proven_cost": {"amount_minor": 500_000, "currency": "EUR"},
                   "invoice_number": "INV-SCENARIO-1",
                   "documents": [{"name": "invoice.pdf", "content_type": "application/pdf",
                                  "size_bytes": 1000,
                                  "checksum": format!("sha256:{}", "0".repeat(64)),
                                  "location": "s3://proofs/scenario.pdf"}]}),
        )
        .await;
    assert_eq!(claim.status, 201, "{claim:?}");
    assert_eq!(claim.body["reimbursable"]["amount_minor"], json!(250_000));
    let reimbursed = api
        .post(
            &format!("/v1/mdf/claims/{}/approve", claim.str("/id")),
            Some(admin),
            json!({}),
        )
        .await;
    assert_eq!(reimbursed.status, 200, "{reimbursed:?}");
    platform.restart("mdf").await;
    platform.restart("reporting").await;

    // -- The referral partner is paid: its profile and tax form, a batch
    //    once its commission is approved (hold 0), processing, paid.
    let profile = api
        .put(
            &format!("/v1/partners/{}/payout-profile", referrer.id),
            Some(admin),
            json!({"method": "paypal", "paypal_email": "pay@beta-scenario.example",
                   "payee_name": "Beta", "tax_form": "w9", "tax_form_received_on": today.to_string()}),
        )
        .await;
    assert_eq!(profile.status, 200, "{profile:?}");
    let batch = until(201, async || {
        api.post(
            "/v1/payouts",
            Some(admin),
            json!({"program_id": program, "currency": "EUR"}),
        )
        .await
    })
    .await;
    assert_eq!(
        batch.body["total"]["amount_minor"],
        json!(2_500),
        "{batch:?}"
    );
    let batch = batch.str("/id");
    for step in ["mark-processing", "mark-paid"] {
        let r = api
            .post(
                &format!("/v1/payouts/{batch}/{step}"),
                Some(admin),
                json!({}),
            )
            .await;
        assert_eq!(r.status, 200, "{step}: {r:?}");
    }
    platform.restart("gateway").await;

    // -- A refund after the payout: 40% of the sale.
    let refund =
        postback("transaction_id=ORDER-1&status=refunded&amount=5000&currency=EUR".to_owned())
            .await;
    assert_eq!(refund.status, 200, "{refund:?}");
    assert_eq!(refund.body["answer"], json!("STATUS_UPDATED"));

    for name in SERVICES.iter().copied().chain(["gateway"]) {
        assert_eq!(platform.starts(name), 2, "{name} was restarted once");
    }

    // -- What each partner did, worked out here.
    let checklist = |p: &Partner| {
        let api = api.clone();
        let path = format!("/v1/partners/{}/checklist", p.id);
        let key = p.key.clone();
        async move {
            let c = api.get(&path, Some(&key)).await;
            assert_eq!(c.status, 200, "{c:?}");
            c.body["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter(|i| i["done"] == json!(true))
                .count() as i64
        }
    };
    let race_won = Did {
        registered: 1,
        won: 1,
        sourced: 1_500_000,
        won_revenue: 1_000_000,
        // No one converted race-scenario.example: the registering partner
        // gets the influencers' 30% too.
        credited: 1_000_000,
        ..Did::default()
    };
    let mut did_reseller = Did {
        registered: 1,
        won: 1,
        sourced: 4_000_000,
        won_revenue: 3_800_000,
        // 70% of 38,000.00; the referral partner converted the customer
        // before the registration.
        credited: 2_660_000,
        mdf_requested: 400_000,
        mdf_approved: 300_000,
        mdf_claimed: 250_000,
        mdf_paid: 250_000,
        mdf_backed_won: 3_800_000,
        certifications: 1,
        ..Did::default()
    };
    let mut did_referrer = Did {
        influenced: 4_000_000,
        credited: 1_140_000,
        clicks: 1,
        conversions: 1,
        conversion_revenue: 12_500,
        // 20% of 125.00; 40% of it reversed by the refund; paid before.
        earned: 2_500,
        reversed: 1_000,
        paid: 2_500,
        certifications: 1,
        ..Did::default()
    };
    if reseller_won_race {
        did_reseller = did_reseller.plus(&race_won);
    } else {
        did_referrer = did_referrer.plus(&race_won);
    }

    // The shared deal's credit, under the 70/30 model.
    let credit = until(200, async || {
        api.get(
            &format!("/v1/reports/attribution/deals/{shared}"),
            Some(admin),
        )
        .await
    })
    .await;
    let shares: Vec<(String, String, i64)> = credit.body["shares"]
        .as_array()
        .expect("shares")
        .iter()
        .map(|s| {
            (
                s["role"].as_str().unwrap_or_default().to_owned(),
                s["partner_id"].as_str().unwrap_or_default().to_owned(),
                s["amount"]["amount_minor"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        shares,
        vec![
            ("sourced".to_owned(), reseller.id.clone(), 2_660_000),
            ("influencer".to_owned(), referrer.id.clone(), 1_140_000),
        ]
    );

    // -- Every figure of both scorecards, once reporting has caught up.
    let month = today.format("%Y-%m").to_string();
    // The checklist as onboarding keeps it (its items arrive from other
    // services' events too, so both sides are read until they agree).
    for (p, did) in [
        (&reseller, &mut did_reseller),
        (&referrer, &mut did_referrer),
    ] {
        let path = format!(
            "/v1/reports/partners/{}/scorecard?period={month}&currency=EUR",
            p.id
        );
        let settled = eventually(Duration::from_secs(60), || async {
            let mut now = did.clone();
            now.checklist_done = checklist(p).await;
            let card = api.get(&path, Some(&p.key)).await;
            (card.status == 200 && mismatches(&card.body["figures"], &now.figures(1)).is_empty())
                .then_some(now.checklist_done)
        })
        .await;
        match settled {
            Some(done) => did.checklist_done = done,
            None => {
                let mut now = did.clone();
                now.checklist_done = checklist(p).await;
                let card = api.get(&path, Some(&p.key)).await;
                panic!(
                    "scorecard of {}: {:#?}",
                    p.id,
                    mismatches(&card.body["figures"], &now.figures(1))
                );
            }
        }
    }

    // -- The program view by partner type: each group is its partner, the
    //    total both, and the leading indicators follow.
    let view = api
        .get(
            &format!(
                "/v1/reports/program?group_by=partner_type&period={month}&currency=EUR&program_id={program}"
            ),
            Some(admin),
        )
        .await;
    assert_eq!(view.status, 200, "{view:?}");
    let weeks = {
        let start = today.with_day(1).expect("first");
        let next = if start.month() == 12 {
            start
                .with_year(start.year() + 1)
                .and_then(|d| d.with_month(1))
        } else {
            start.with_month(start.month() + 1)
        }
        .expect("next month");
        (next - start).num_days() as f64 / 7.0
    };
    let groups = view.body["groups"].as_array().expect("groups").clone();
    for (key, did) in [("referral", &did_referrer), ("reseller", &did_reseller)] {
        let g = groups
            .iter()
            .find(|g| g["key"] == json!(key))
            .unwrap_or_else(|| panic!("no {key} group: {view:?}"));
        assert_eq!(g["partners"], json!(1), "{key}");
        let wrong = mismatches(&g["figures"], &did.figures(1));
        assert!(wrong.is_empty(), "{key}: {wrong:#?}");
        let leading = &g["leading"];
        assert!(
            matches(&leading["certification_rate"], &Want::Num(1.0)),
            "{key}: {leading}"
        );
        assert!(
            matches(
                &leading["onboarding_completion_rate"],
                &Want::Num(if did.checklist_done == 4 { 1.0 } else { 0.0 })
            ),
            "{key}: {leading}"
        );
        assert!(
            matches(
                &leading["registrations_per_partner_week"],
                &Want::Num(did.registered as f64 / weeks)
            ),
            "{key}: {leading}"
        );
    }
    let both = did_reseller.plus(&did_referrer);
    let total = &view.body["total"];
    assert_eq!(total["partners"], json!(2));
    let mut wanted = both.figures(2);
    // Medians over the whole program: still within the hour and the day.
    wanted.insert("days_since_last_conversion", Want::Num(0.0));
    let wrong = mismatches(&total["figures"], &wanted);
    assert!(wrong.is_empty(), "total: {wrong:#?}");
}
