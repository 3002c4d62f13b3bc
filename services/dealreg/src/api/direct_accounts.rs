//! The vendor's direct-sales accounts, which staff keep: no partner may
//! register these customers.

use prm_proto::dealreg::*;
use prm_runtime::auth::{PARTNER_MANAGEMENT, STAFF};
use prm_runtime::fields::CompanyName;
use prm_runtime::{
    ApiError, CallContext, FieldErrors, Idempotency, OnConstraint, Page, begin_or_replay, validate,
};

use super::{Dealreg, convert};
use crate::domain::customer;
use crate::store;

impl Dealreg {
    pub(super) async fn create_direct_account(
        &self,
        ctx: CallContext,
        req: CreateDirectAccountRequest,
    ) -> Result<CreateDirectAccountResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let mut errs = FieldErrors::new();
        let company = errs.check("company", CompanyName::check(&req.company));
        let domain_key = errs.check("domain", customer::domain_key(&req.domain));
        errs.finish()?;
        principal.require_any_role(PARTNER_MANAGEMENT)?;
        let (Some(company), Some(domain_key)) = (company, domain_key) else {
            return Err(ApiError::invalid("domain", "is required"));
        };
        let idem = Idempotency::new(&ctx, "CreateDirectAccount", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let row = store::insert_direct_account(
            &mut tx,
            &company,
            &customer::company_key(&company),
            req.domain.trim().to_ascii_lowercase().trim_end_matches('.'),
            &domain_key,
            principal.user_id,
        )
        .await
        .on_constraint(store::DIRECT_ACCOUNT_DOMAIN_KEY, || {
            ApiError::already_exists(
                "DIRECT_ACCOUNT_EXISTS",
                format!("{domain_key} is already a direct account"),
            )
        })?;
        let resp = CreateDirectAccountResponse {
            direct_account: Some(convert::direct_account(&row)),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn list_direct_accounts(
        &self,
        ctx: CallContext,
        req: ListDirectAccountsRequest,
    ) -> Result<ListDirectAccountsResponse, ApiError> {
        ctx.principal()?.require_any_role(STAFF)?;
        let page = Page::parse(req.page_size, &req.page_token, &[])?;
        let mut conn = self.db.acquire().await?;
        let mut rows =
            store::list_direct_accounts(&mut conn, page.after_or_nil(), page.fetch_limit()).await?;
        let next_page_token = page.finish(&mut rows, |r| r.id);
        Ok(ListDirectAccountsResponse {
            direct_accounts: rows.iter().map(convert::direct_account).collect(),
            next_page_token,
        })
    }

    pub(super) async fn delete_direct_account(
        &self,
        ctx: CallContext,
        req: DeleteDirectAccountRequest,
    ) -> Result<DeleteDirectAccountResponse, ApiError> {
        let id = validate::uuid(&req.direct_account_id)
            .map_err(|e| ApiError::invalid("direct_account_id", e))?;
        ctx.principal()?.require_any_role(PARTNER_MANAGEMENT)?;
        let idem = Idempotency::new(&ctx, "DeleteDirectAccount", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        if !store::delete_direct_account(&mut tx, id).await? {
            return Err(ApiError::not_found("direct account"));
        }
        let resp = DeleteDirectAccountResponse {};
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }
}
