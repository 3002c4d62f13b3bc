//! Partner scorecards, the program view and the CSV export.

use prm_proto::reporting::*;
use prm_runtime::{ApiError, CallContext, FieldErrors, Page, Principal, auth::STAFF, validate};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Reporting, convert};
use crate::domain::DEFAULT_CURRENCY;
use crate::domain::attribution::Weights;
use crate::domain::period::Period;
use crate::store::{self, GroupFigures, Grouping, RawFigures, Selection};

/// The currency asked for, USD when none.
fn currency(value: &str) -> Result<String, String> {
    if value.trim().is_empty() {
        Ok(DEFAULT_CURRENCY.to_owned())
    } else {
        validate::currency(value)
    }
}

impl Reporting {
    /// The figures of `partners` (or a program's, or everyone's) for a
    /// period, on `db`, in one statement; the influence window is the
    /// model's in force at the period's end (or now, if sooner).
    async fn report(
        &self,
        db: &mut PgConnection,
        grouping: Grouping,
        partners: Option<Vec<Uuid>>,
        program: Option<Uuid>,
        period: &Period,
        currency: String,
    ) -> Result<(Selection, GroupFigures), ApiError> {
        let now = self.clock.now();
        let s = Selection {
            grouping,
            partners,
            program,
            start: period.start,
            end: period.end,
            currency,
            default_window_days: Weights::BUILT_IN.window_days,
            now,
            whole_months: period.whole_months(),
        };
        let figures = store::figures(db, &s).await?;
        Ok((s, figures))
    }

    /// One connection for a request's reads. No transaction: the figures
    /// are one statement, so one snapshot.
    async fn connection(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Postgres>, ApiError> {
        Ok(self.db.acquire().await.map_err(anyhow::Error::from)?)
    }

    pub(super) async fn get_partner_scorecard(
        &self,
        ctx: CallContext,
        req: GetPartnerScorecardRequest,
    ) -> Result<GetPartnerScorecardResponse, ApiError> {
        let principal = ctx.principal()?;
        let mut errors = FieldErrors::new();
        let partner = errors.check("partner_id", validate::uuid(&req.partner_id));
        let period = errors.check("period", Period::parse(&req.period));
        let currency = errors.check("currency", currency(&req.currency));
        let (partner, period, currency) =
            errors.finish_with(|| Some((partner?, period?, currency?)))?;
        principal.ensure_partner_access(partner, "partner")?;
        // One connection: the partner, then the figures.
        let mut db = self.connection().await?;
        let row = store::partner(&mut db, partner)
            .await?
            .ok_or(ApiError::not_found("partner"))?;
        let (s, figures) = self
            .report(
                &mut db,
                Grouping::Partner,
                Some(vec![partner]),
                None,
                &period,
                currency.clone(),
            )
            .await?;
        let raw = figures.total;
        Ok(GetPartnerScorecardResponse {
            scorecard: Some(Scorecard {
                partner: Some(convert::partner(&row)),
                period: Some(convert::period(&period)),
                currency,
                figures: Some(convert::figures(&raw, &period, s.now)),
            }),
        })
    }

    pub(super) async fn get_program_report(
        &self,
        ctx: CallContext,
        req: GetProgramReportRequest,
    ) -> Result<GetProgramReportResponse, ApiError> {
        let principal = ctx.principal()?;
        let mut errors = FieldErrors::new();
        let grouping = match GroupBy::try_from(req.group_by) {
            Ok(GroupBy::Tier) => Some(Grouping::Tier),
            Ok(GroupBy::PartnerType) => Some(Grouping::PartnerType),
            _ => {
                errors.add("group_by", "must be tier or partner_type");
                None
            }
        };
        let period = errors.check("period", Period::parse(&req.period));
        let currency = errors.check("currency", currency(&req.currency));
        let program = errors.check("program_id", validate::optional_uuid(&req.program_id));
        let (grouping, period, currency, program) =
            errors.finish_with(|| Some((grouping?, period?, currency?, program?)))?;
        require_staff(principal)?;
        let mut db = self.connection().await?;
        let (s, GroupFigures { groups, total }) = self
            .report(&mut db, grouping, None, program, &period, currency.clone())
            .await?;
        Ok(GetProgramReportResponse {
            period: Some(convert::period(&period)),
            currency,
            groups: groups
                .iter()
                .map(|(key, raw)| convert::group(key, raw, &period, s.now))
                .collect(),
            total: Some(convert::group("all", &total, &period, s.now)),
        })
    }

    pub(super) async fn export_scorecards(
        &self,
        ctx: CallContext,
        req: ExportScorecardsRequest,
    ) -> Result<ExportScorecardsResponse, ApiError> {
        let principal = ctx.principal()?;
        let mut errors = FieldErrors::new();
        let period = errors.check("period", Period::parse(&req.period));
        let currency = errors.check("currency", currency(&req.currency));
        let page = Page::parse(
            req.page_size,
            &req.page_token,
            &[&req.period, &req.currency],
        );
        let (period, currency) = errors.finish_with(|| Some((period?, currency?)))?;
        let page = page?;
        require_staff(principal)?;
        let mut db = self.connection().await?;
        let mut partners =
            store::partners_page(&mut db, page.after_or_nil(), page.fetch_limit()).await?;
        let next = page.finish(&mut partners, |p| p.partner_id);
        let ids: Vec<Uuid> = partners.iter().map(|p| p.partner_id).collect();
        let (s, figures) = self
            .report(
                &mut db,
                Grouping::Partner,
                Some(ids),
                None,
                &period,
                currency.clone(),
            )
            .await?;
        let figures: std::collections::HashMap<String, RawFigures> =
            figures.groups.into_iter().collect();
        let mut csv = convert::CSV_HEADER.to_owned();
        for p in &partners {
            let raw = figures
                .get(&p.partner_id.to_string())
                .cloned()
                .unwrap_or_default();
            csv.push_str(&convert::csv_line(p, &period, &currency, &raw, s.now));
        }
        Ok(ExportScorecardsResponse {
            csv,
            rows: partners.len() as i32,
            next_page_token: next,
        })
    }
}

pub(super) fn require_staff(principal: &Principal) -> Result<(), ApiError> {
    principal.require_any_role(STAFF)
}
