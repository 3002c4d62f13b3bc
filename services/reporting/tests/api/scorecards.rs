//! Scorecards and the program view: a month of a reseller's life in
//! events, each figure checked against values worked out here.

use chrono::Duration;
use prm_proto::common::PartnerType;
use prm_proto::events as ev;
use prm_proto::reporting::*;
use prm_runtime::Role;
use prm_runtime::testing::grpc::{as_of, assert_code, bad_fields};
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

fn ratio(r: &Option<Ratio>) -> Option<f64> {
    r.as_ref().filter(|r| r.defined).map(|r| r.value)
}

fn measure(m: &Option<Measure>) -> Option<f64> {
    m.as_ref().filter(|m| m.defined).map(|m| m.value)
}

fn close(actual: Option<f64>, expected: f64, what: &str) {
    let a = actual.unwrap_or_else(|| panic!("{what} is undefined"));
    assert!((a - expected).abs() < 1e-6, "{what}: {a} != {expected}");
}

/// Partner A's October: see the comments for each expected figure.
pub async fn reseller_october(t: &TestReporting, a: Uuid, b: Uuid, program: Uuid) {
    t.approve(
        a,
        program,
        "Gold",
        PartnerType::Reseller,
        oct(1, 0) - Duration::days(11),
    )
    .await;
    t.approve(b, program, "Silver", PartnerType::Referral, oct(1, 0))
        .await;
    for (item, day) in [
        ("terms_accepted", 1),
        ("first_user_active", 1),
        ("required_courses_passed", 2),
    ] {
        t.checklist(a, item, oct(day, 0)).await;
    }
    t.certify(a, oct(2, 0)).await;
    let lapsed = t.certify(a, oct(2, 1)).await;
    t.emit(
        "onboarding",
        "certification.expired",
        About {
            partner: Some(a),
            aggregate_type: "certification",
            aggregate_id: lapsed,
            version: 2,
            at: oct(5, 0),
        },
        &ev::CertificationExpired {
            certification_id: lapsed.to_string(),
            course_id: Uuid::now_v7().to_string(),
            user_id: Uuid::now_v7().to_string(),
            partner_id: a.to_string(),
        },
    )
    .await;

    // Deals. d4 was registered in September and approved on October 1.
    let d4 = t
        .register(a, "old.example", 70_000, oct(1, 0) - Duration::days(3))
        .await;
    t.approve_deal(a, d4, oct(1, 0)).await; // 72 h; the first approval, 11 days in
    let d1 = t.register(a, "acme.example", 100_000, oct(3, 0)).await;
    t.approve_deal(a, d1, oct(3, 12)).await; // 12 h
    t.win(a, d1, "acme.example", 120_000, "MDF-CAMPAIGN-1", oct(13, 0))
        .await; // 10 days
    let d2 = t.register(a, "beta.example", 50_000, oct(4, 0)).await;
    t.approve_deal(a, d2, oct(5, 0)).await; // 24 h
    t.lose(a, d2, oct(20, 0)).await;
    let d3 = t.register(a, "gamma.example", 30_000, oct(6, 0)).await;
    t.approve_deal(a, d3, oct(6, 6)).await; // 6 h
    t.win(a, d3, "gamma.example", 30_000, "", oct(26, 0)).await; // 20 days
    let d5 = t.register(a, "delta.example", 10_000, oct(7, 0)).await;
    let about = |v, at| About {
        partner: Some(a),
        aggregate_type: "deal_registration",
        aggregate_id: d5,
        version: v,
        at,
    };
    t.emit(
        "dealreg",
        "deal.sla_breached",
        about(2, oct(8, 0)),
        &ev::DealSlaBreached {
            deal_registration_id: d5.to_string(),
            partner_id: a.to_string(),
            decision_due_at: ts(oct(8, 0)),
            action: "escalated".into(),
        },
    )
    .await;
    t.emit(
        "dealreg",
        "deal.rejected",
        about(3, oct(8, 1)),
        &ev::DealRejected {
            deal_registration_id: d5.to_string(),
            partner_id: a.to_string(),
            reason: "not_qualified".into(),
            rejected_at: ts(oct(8, 1)),
        },
    )
    .await;

    // MDF, plus a request in EUR (left out of the USD figures).
    let request = Uuid::now_v7();
    let mdf_about = |at| About {
        partner: Some(a),
        aggregate_type: "mdf_request",
        aggregate_id: request,
        version: 1,
        at,
    };
    t.emit(
        "mdf",
        "request.submitted",
        mdf_about(oct(2, 0)),
        &ev::MdfRequestSubmitted {
            request_id: request.to_string(),
            partner_id: a.to_string(),
            requested: usd(10_000),
            submitted_at: ts(oct(2, 0)),
            ..Default::default()
        },
    )
    .await;
    t.emit(
        "mdf",
        "request.submitted",
        mdf_about(oct(9, 0)),
        &ev::MdfRequestSubmitted {
            request_id: Uuid::now_v7().to_string(),
            partner_id: a.to_string(),
            requested: money_in(5_000, "EUR"),
            submitted_at: ts(oct(9, 0)),
            ..Default::default()
        },
    )
    .await;
    t.emit(
        "mdf",
        "request.approved",
        mdf_about(oct(3, 0)),
        &ev::MdfRequestApproved {
            request_id: request.to_string(),
            partner_id: a.to_string(),
            requested: usd(10_000),
            approved: usd(8_000),
            approved_at: ts(oct(3, 0)),
            ..Default::default()
        },
    )
    .await;
    t.emit(
        "mdf",
        "claim.submitted",
        mdf_about(oct(15, 0)),
        &ev::MdfClaimSubmitted {
            claim_id: Uuid::now_v7().to_string(),
            request_id: request.to_string(),
            partner_id: a.to_string(),
            proven_cost: usd(9_000),
            reimbursable: usd(7_500),
            submitted_at: ts(oct(15, 0)),
            ..Default::default()
        },
    )
    .await;
    t.emit(
        "mdf",
        "claim.reimbursed",
        mdf_about(oct(20, 0)),
        &ev::MdfClaimReimbursed {
            claim_id: Uuid::now_v7().to_string(),
            request_id: request.to_string(),
            partner_id: a.to_string(),
            reimbursed: usd(7_000),
            reimbursed_at: ts(oct(20, 0)),
            ..Default::default()
        },
    )
    .await;

    // Tracking: 100 counted clicks in October (and 9 on November 1).
    t.clicks(a, 40, oct(10, 9)).await;
    t.clicks(a, 60, oct(11, 9)).await;
    t.clicks(a, 9, oct(31, 0) + Duration::days(1)).await;
    t.convert(a, "shop1.example", Some(20_000), oct(12, 0))
        .await;
    t.convert(a, "shop2.example", Some(5_000), oct(14, 0)).await;
    t.convert(a, "lead.example", None, oct(15, 0)).await;
    // The last conversion, on Oct 21 at 23:00.
    t.convert(a, "late.example", None, oct(22, 0) - Duration::hours(1))
        .await;
    // A September sale, and a held one: neither counts in October.
    t.convert(
        a,
        "sept.example",
        Some(99_000),
        oct(1, 0) - Duration::hours(1),
    )
    .await;
    let held = Uuid::now_v7();
    t.emit(
        "commissions",
        "conversion.held",
        About {
            partner: Some(a),
            aggregate_type: "conversion",
            aggregate_id: held,
            version: 1,
            at: oct(16, 0),
        },
        &ev::ConversionRecorded {
            conversion_id: held.to_string(),
            partner_id: a.to_string(),
            kind: "sale".into(),
            amount: usd(77_000),
            hold_reason: "too_fast".into(),
            occurred_at: ts(oct(16, 0)),
            ..Default::default()
        },
    )
    .await;
    t.earn(a, 4_000, false, oct(12, 0)).await;
    t.earn(a, 1_000, false, oct(14, 0)).await;
    t.earn(a, 6_000, true, oct(13, 0)).await;
    let commission = Uuid::now_v7();
    t.emit(
        "commissions",
        "commission.reversed",
        About {
            partner: Some(a),
            aggregate_type: "commission",
            aggregate_id: commission,
            version: 2,
            at: oct(25, 0),
        },
        &ev::CommissionReversed {
            commission_id: commission.to_string(),
            partner_id: a.to_string(),
            reversed: usd(500),
            reversed_total_minor: 500,
            reason: "refunded".into(),
            after_approval: true,
            reversed_at: ts(oct(25, 0)),
        },
    )
    .await;
    let batch = Uuid::now_v7();
    t.emit(
        "commissions",
        "payout.partner_paid",
        About {
            partner: Some(a),
            aggregate_type: "payout_batch",
            aggregate_id: batch,
            version: 3,
            at: oct(28, 0),
        },
        &ev::PartnerPaidOut {
            batch_id: batch.to_string(),
            partner_id: a.to_string(),
            amount: usd(9_000),
            paid_at: ts(oct(28, 0)),
        },
    )
    .await;

    // B registers a deal A influenced (A's lead for lead.example on Oct
    // 15), one A did not, and one A converted only after it was registered.
    t.register(b, "lead.example", 40_000, oct(20, 0)).await;
    t.register(b, "unrelated.example", 80_000, oct(20, 0)).await;
    t.register(b, "late.example", 60_000, oct(21, 0)).await;
}

#[tokio::test]
async fn a_partners_month_adds_up_to_its_scorecard() {
    let t = reporting().await;
    let (a, b, program) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    reseller_october(&t, a, b, program).await;
    t.settle().await;

    let card = t.scorecard(a, "2026-10").await;
    let p = card.partner.as_ref().expect("partner");
    assert_eq!(p.tier_name, "Gold");
    assert_eq!(p.partner_type, PartnerType::Reseller as i32);
    assert_eq!(card.currency, "USD");
    let f = card.figures.expect("figures");
    // Pipeline: d1 + d2 + d3 + d5 registered in October; B's lead.example
    // deal influenced; d1 + d3 won, all credited to A (no model: the
    // registering partner gets the whole deal).
    assert_eq!(f.sourced_pipeline_minor, 190_000);
    assert_eq!(f.influenced_pipeline_minor, 40_000);
    assert_eq!(f.won_revenue_minor, 150_000);
    assert_eq!(f.credited_revenue_minor, 150_000);
    // Deal registration.
    assert_eq!(
        (
            f.deals_registered,
            f.deals_approved,
            f.deals_rejected,
            f.deals_won,
            f.deals_lost,
            f.deals_expired,
            f.sla_breaches
        ),
        (4, 4, 1, 2, 1, 0, 1)
    );
    close(
        ratio(&f.registration_conversion_rate),
        0.5,
        "conversion rate",
    );
    // Approvals in October took 72, 12, 24 and 6 hours: median 18.
    close(measure(&f.median_approval_hours), 18.0, "median approval");
    close(measure(&f.deal_velocity_days), 15.0, "velocity");
    close(ratio(&f.win_rate), 2.0 / 3.0, "win rate");
    // MDF; ROI is the MDF-backed won revenue (d1) over MDF paid.
    assert_eq!(
        (
            f.mdf_requested_minor,
            f.mdf_approved_minor,
            f.mdf_claimed_minor,
            f.mdf_paid_minor
        ),
        (10_000, 8_000, 7_500, 7_000)
    );
    close(ratio(&f.mdf_roi), 120_000.0 / 7_000.0, "MDF ROI");
    assert_eq!(f.other_currencies, vec!["EUR".to_owned()]);
    // Commissions.
    assert_eq!(f.commissions_earned_minor, 11_000);
    assert_eq!(f.commissions_reversed_minor, 500);
    assert_eq!(f.commissions_paid_minor, 9_000);
    // Tracking: 4 conversions (two sales, two leads) on 100 clicks.
    assert_eq!((f.clicks, f.conversions), (100, 4));
    assert_eq!(f.conversion_revenue_minor, 25_000);
    close(ratio(&f.click_conversion_rate), 0.04, "click conversion");
    close(ratio(&f.earnings_per_click_minor), 50.0, "EPC");
    close(
        ratio(&f.revenue_per_click_minor),
        250.0,
        "revenue per click",
    );
    // The last conversion was on Oct 21 (23:00): 11 days to Nov 1.
    close(measure(&f.days_since_last_conversion), 11.0, "days since");
    close(
        ratio(&f.return_on_commission_spend),
        (25_000.0 + 150_000.0) / 9_000.0,
        "return on commission spend",
    );
    // Onboarding: 3 of 4 items, one certification held (one lapsed),
    // first approval 11 days after joining.
    close(ratio(&f.checklist_completion), 0.75, "checklist");
    assert_eq!(f.certifications_held, 1);
    close(
        measure(&f.time_to_first_deal_days),
        11.0,
        "time to first deal",
    );

    // September holds only d4's registration and the September sale.
    let sept = t.scorecard(a, "2026-09").await.figures.expect("figures");
    assert_eq!(
        (sept.deals_registered, sept.sourced_pipeline_minor),
        (1, 70_000)
    );
    assert_eq!(
        (sept.conversions, sept.conversion_revenue_minor),
        (1, 99_000)
    );
    assert_eq!(ratio(&sept.win_rate), None, "no deal closed in September");
    // Week 42 (Oct 12-18) holds the two sales' commissions and the claim.
    let week = t.scorecard(a, "2026-W42").await.figures.expect("figures");
    assert_eq!(week.commissions_earned_minor, 11_000);
    assert_eq!(week.mdf_claimed_minor, 7_500);
    let quarter = t.scorecard(a, "2026-Q4").await.figures.expect("figures");
    assert_eq!(
        quarter.clicks, 109,
        "the quarter includes November's clicks"
    );

    // The program view, by tier and by partner type.
    let by_tier = t.program(GroupBy::Tier, "2026-10").await;
    let keys: Vec<&str> = by_tier.groups.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(keys, vec!["Gold", "Silver"]);
    let gold = &by_tier.groups[0];
    assert_eq!(gold.partners, 1);
    let gold_f = gold.figures.as_ref().expect("figures");
    assert_eq!(gold_f.sourced_pipeline_minor, 190_000);
    let leading = gold.leading.as_ref().expect("leading");
    close(ratio(&leading.onboarding_completion_rate), 0.0, "onboarded");
    close(ratio(&leading.certification_rate), 1.0, "certified");
    close(
        ratio(&leading.registrations_per_partner_week),
        4.0 / (31.0 / 7.0),
        "registrations per partner week",
    );
    let silver = by_tier.groups[1].figures.as_ref().expect("figures");
    assert_eq!(silver.deals_registered, 3);
    assert_eq!(silver.sourced_pipeline_minor, 180_000);
    let total = by_tier.total.expect("total");
    assert_eq!(total.partners, 2);
    let tf = total.figures.expect("figures");
    assert_eq!(tf.deals_registered, 7);
    assert_eq!(tf.sourced_pipeline_minor, 370_000);
    close(
        ratio(&tf.registration_conversion_rate),
        2.0 / 7.0,
        "program conversion",
    );
    let by_type = t.program(GroupBy::PartnerType, "2026-10").await;
    let keys: Vec<&str> = by_type.groups.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(keys, vec!["referral", "reseller"]);

    // The export: one CSV line per partner, paginated.
    let export = |token: String| {
        let t = &t;
        async move {
            t.client()
                .export_scorecards(as_of(
                    ExportScorecardsRequest {
                        period: "2026-10".into(),
                        page_size: 1,
                        page_token: token,
                        ..Default::default()
                    },
                    &t.admin,
                ))
                .await
                .expect("export")
                .into_inner()
        }
    };
    let first = export(String::new()).await;
    assert_eq!(first.rows, 1);
    assert!(!first.next_page_token.is_empty());
    let second = export(first.next_page_token.clone()).await;
    assert_eq!(second.rows, 1);
    assert!(second.next_page_token.is_empty());
    let lines: Vec<&str> = first.csv.lines().collect();
    assert!(lines[0].starts_with("partner_id,company_name"));
    let a_line = if lines[1].starts_with(&a.to_string()) {
        lines[1].to_owned()
    } else {
        second.csv.lines().nth(1).expect("a's line").to_owned()
    };
    let cells: Vec<&str> = a_line.split(',').collect();
    assert_eq!(cells.len(), 41);
    assert_eq!(cells[7], "190000", "sourced pipeline in the export");
}

#[tokio::test]
async fn partners_see_only_their_own_scorecard_and_bad_input_is_named() {
    let t = reporting().await;
    let (a, b, program) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    t.approve(a, program, "Gold", PartnerType::Reseller, oct(1, 0))
        .await;
    t.approve(b, program, "Gold", PartnerType::Reseller, oct(1, 0))
        .await;
    t.settle().await;

    let a_user = partner_user(a);
    t.scorecard_as(a, "2026-10", &a_user).await.expect("own");
    let s = assert_code(t.scorecard_as(b, "2026-10", &a_user).await, Code::NotFound);
    assert!(s.message().contains("partner"), "{}", s.message());
    assert_code(
        t.scorecard_as(Uuid::now_v7(), "2026-10", &t.admin).await,
        Code::NotFound,
    );
    // A partner may not see the program view, the export, the lag or
    // the models, nor rebuild.
    let client = t.client();
    assert_code(
        client
            .clone()
            .get_program_report(as_of(
                GetProgramReportRequest {
                    group_by: GroupBy::Tier as i32,
                    period: "2026-10".into(),
                    ..Default::default()
                },
                &a_user,
            ))
            .await,
        Code::PermissionDenied,
    );
    assert_code(
        client
            .clone()
            .export_scorecards(as_of(
                ExportScorecardsRequest {
                    period: "2026-10".into(),
                    ..Default::default()
                },
                &a_user,
            ))
            .await,
        Code::PermissionDenied,
    );
    assert_code(
        client
            .clone()
            .get_lag(as_of(GetLagRequest {}, &a_user))
            .await,
        Code::PermissionDenied,
    );
    assert_code(
        client
            .clone()
            .rebuild_read_models(as_of(RebuildReadModelsRequest {}, &staff(Role::Analyst)))
            .await,
        Code::PermissionDenied,
    );

    // Bad input names the field.
    for (period, currency, field) in [
        ("2026-13", "", "period"),
        ("last month", "", "period"),
        ("", "", "period"),
        ("2026-10", "usd!", "currency"),
    ] {
        let s = assert_code(
            client
                .clone()
                .get_partner_scorecard(as_of(
                    GetPartnerScorecardRequest {
                        partner_id: a.to_string(),
                        period: period.into(),
                        currency: currency.into(),
                    },
                    &t.admin,
                ))
                .await,
            Code::InvalidArgument,
        );
        assert_eq!(
            bad_fields(&s),
            vec![field.to_owned()],
            "{period} {currency}"
        );
    }
    let s = assert_code(
        client
            .clone()
            .get_partner_scorecard(as_of(
                GetPartnerScorecardRequest {
                    partner_id: "not-an-id".into(),
                    period: "2026-10".into(),
                    currency: String::new(),
                },
                &t.admin,
            ))
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&s), vec!["partner_id".to_owned()]);
    let s = assert_code(
        client
            .clone()
            .get_program_report(as_of(
                GetProgramReportRequest {
                    group_by: 0,
                    period: "2026-Q5".into(),
                    program_id: "x".into(),
                    ..Default::default()
                },
                &t.admin,
            ))
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&s), vec!["group_by", "period", "program_id"]);
    let s = assert_code(
        client
            .clone()
            .export_scorecards(as_of(
                ExportScorecardsRequest {
                    period: "2026-10".into(),
                    page_size: -1,
                    ..Default::default()
                },
                &t.admin,
            ))
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&s), vec!["page_size"]);
}
