//! What partners and staff read: conversions, commissions, the ledger with
//! its balances, and the postback log. A partner reads only its own.

use prm_proto::commissions::*;
use prm_runtime::{ApiError, CallContext, FieldErrors, Page, validate};

use super::{Commissions, convert};
use crate::domain::ledger::CommissionStatus;
use crate::domain::postback::{Answer, ConversionStatus};
use crate::store;

impl Commissions {
    pub(super) async fn list_conversions(
        &self,
        ctx: CallContext,
        req: ListConversionsRequest,
    ) -> Result<ListConversionsResponse, ApiError> {
        let principal = ctx.principal()?;
        let mut errs = FieldErrors::new();
        let requested = errs.check("partner_id", validate::optional_uuid(&req.partner_id));
        let status = errs.check("status", ConversionStatus::filter_from_proto(req.status));
        let (requested, status) = errs.finish_with(|| Some((requested?, status?)))?;
        let partner = principal.partner_scope(requested)?;
        let filter = partner.map(|p| p.to_string()).unwrap_or_default();
        let page = Page::parse(
            req.page_size,
            &req.page_token,
            &[&filter, status.map_or("", ConversionStatus::as_str)],
        )?;
        let mut conn = self.db.acquire().await?;
        let mut rows = store::list_conversions(
            &mut conn,
            partner,
            status,
            page.after_or_nil(),
            page.fetch_limit(),
        )
        .await?;
        let next_page_token = page.finish(&mut rows, |r| r.id);
        Ok(ListConversionsResponse {
            conversions: rows.iter().map(convert::conversion).collect(),
            next_page_token,
        })
    }

    pub(super) async fn list_commissions(
        &self,
        ctx: CallContext,
        req: ListCommissionsRequest,
    ) -> Result<ListCommissionsResponse, ApiError> {
        let principal = ctx.principal()?;
        let mut errs = FieldErrors::new();
        let requested = errs.check("partner_id", validate::optional_uuid(&req.partner_id));
        let status = errs.check("status", CommissionStatus::filter_from_proto(req.status));
        let (requested, status) = errs.finish_with(|| Some((requested?, status?)))?;
        let partner = principal.partner_scope(requested)?;
        let filter = partner.map(|p| p.to_string()).unwrap_or_default();
        let page = Page::parse(
            req.page_size,
            &req.page_token,
            &[&filter, status.map_or("", CommissionStatus::as_str)],
        )?;
        let mut conn = self.db.acquire().await?;
        let mut rows = store::list_commissions(
            &mut conn,
            partner,
            status,
            page.after_or_nil(),
            page.fetch_limit(),
        )
        .await?;
        let next_page_token = page.finish(&mut rows, |r| r.id);
        Ok(ListCommissionsResponse {
            commissions: rows.iter().map(convert::commission).collect(),
            next_page_token,
        })
    }

    pub(super) async fn get_ledger(
        &self,
        ctx: CallContext,
        req: GetLedgerRequest,
    ) -> Result<GetLedgerResponse, ApiError> {
        let principal = ctx.principal()?;
        let mut errs = FieldErrors::new();
        let requested = errs.check("partner_id", validate::optional_uuid(&req.partner_id));
        let requested = errs.finish_with(|| requested)?;
        let partner = principal
            .partner_scope(requested)?
            .ok_or_else(|| ApiError::invalid("partner_id", "is required for staff"))?;
        let page = Page::parse(req.page_size, &req.page_token, &[&partner.to_string()])?;
        let mut conn = self.db.acquire().await?;
        let balances = store::balances(&mut conn, partner).await?;
        let mut rows =
            store::list_entries(&mut conn, partner, page.after_or_nil(), page.fetch_limit())
                .await?;
        let next_page_token = page.finish(&mut rows, |r| r.id);
        Ok(GetLedgerResponse {
            balances: balances
                .iter()
                .map(|(c, b)| convert::balance(c, b))
                .collect(),
            entries: rows.iter().map(convert::entry).collect(),
            next_page_token,
        })
    }

    pub(super) async fn list_postback_log(
        &self,
        ctx: CallContext,
        req: ListPostbackLogRequest,
    ) -> Result<ListPostbackLogResponse, ApiError> {
        let principal = ctx.principal()?;
        let mut errs = FieldErrors::new();
        let requested = errs.check("partner_id", validate::optional_uuid(&req.partner_id));
        let program = errs.check("program_id", validate::optional_uuid(&req.program_id));
        let answer = match req.answer.as_str() {
            "" => Some(None),
            a => errs.check(
                "answer",
                Answer::parse(a).map(Some).ok_or_else(|| {
                    format!(
                        "must be one of {}",
                        Answer::ALL
                            .iter()
                            .map(|a| a.code())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }),
            ),
        };
        let (requested, program, answer) =
            errs.finish_with(|| Some((requested?, program?, answer?)))?;
        let partner = principal.partner_scope(requested)?;
        let mut conn = self.db.acquire().await?;
        let filters = [
            partner.map(|p| p.to_string()).unwrap_or_default(),
            program.map(|p| p.to_string()).unwrap_or_default(),
            answer.map(|a| a.code().to_owned()).unwrap_or_default(),
        ];
        let page = Page::parse(
            req.page_size,
            &req.page_token,
            &[&filters[0], &filters[1], &filters[2]],
        )?;
        let mut rows = store::list_postback_log(
            &mut conn,
            partner,
            program,
            answer.map(|a| a.code()),
            page.after_or_nil(),
            page.fetch_limit(),
        )
        .await?;
        let next_page_token = page.finish(&mut rows, |r| r.id);
        Ok(ListPostbackLogResponse {
            entries: rows.iter().map(convert::log_entry).collect(),
            next_page_token,
        })
    }
}
