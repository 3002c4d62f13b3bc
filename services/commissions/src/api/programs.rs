//! Program settings and plans: staff set them; a partner reads those of
//! its own program.

use prm_proto::commissions::*;
use prm_runtime::{
    ApiError, CallContext, FieldErrors, Idempotency, Page, Principal, auth::STAFF, begin_or_replay,
    validate,
};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Commissions, convert};
use crate::domain::access::PROGRAM_MANAGEMENT;
use crate::domain::plan::NewPlan;
use crate::domain::settings::NewSettings;
use crate::store;

/// The program a partner principal belongs to (None for staff). A partner
/// the service has not heard of yet belongs to no program it can see.
pub(super) async fn own_program(
    conn: &mut PgConnection,
    principal: &Principal,
) -> Result<Option<Uuid>, ApiError> {
    match principal.partner_id {
        None => {
            principal.require_any_role(STAFF)?;
            Ok(None)
        }
        Some(p) => Ok(Some(
            store::partner(conn, p)
                .await?
                .ok_or(ApiError::not_found("program"))?
                .program_id,
        )),
    }
}

/// Staff see any program; a partner only its own.
async fn ensure_program_visible(
    conn: &mut PgConnection,
    principal: &Principal,
    program: Uuid,
) -> Result<(), ApiError> {
    match own_program(conn, principal).await? {
        Some(own) if own != program => Err(ApiError::not_found("program")),
        _ => Ok(()),
    }
}

impl Commissions {
    pub(super) async fn put_program_settings(
        &self,
        ctx: CallContext,
        req: PutProgramSettingsRequest,
    ) -> Result<PutProgramSettingsResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let (program, new) = NewSettings::parse(&req)?;
        principal.require_any_role(PROGRAM_MANAGEMENT)?;
        let idem = Idempotency::new(&ctx, "PutProgramSettings", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let row = store::put_settings(&mut tx, program, &new, self.clock.now()).await?;
        let resp = PutProgramSettingsResponse {
            settings: Some(convert::settings(&row)),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn get_program_settings(
        &self,
        ctx: CallContext,
        req: GetProgramSettingsRequest,
    ) -> Result<GetProgramSettingsResponse, ApiError> {
        let principal = ctx.principal()?;
        let program =
            validate::uuid(&req.program_id).map_err(|e| ApiError::invalid("program_id", e))?;
        let mut conn = self.db.acquire().await?;
        ensure_program_visible(&mut conn, principal, program).await?;
        let row = store::settings(&mut conn, program)
            .await?
            .ok_or(ApiError::not_found("program settings"))?;
        Ok(GetProgramSettingsResponse {
            settings: Some(convert::settings(&row)),
        })
    }

    pub(super) async fn create_plan(
        &self,
        ctx: CallContext,
        req: CreatePlanRequest,
    ) -> Result<CreatePlanResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let new = NewPlan::parse(&req)?;
        principal.require_any_role(PROGRAM_MANAGEMENT)?;
        let now = self.clock.now();
        let effective_from = match new.effective_from {
            None => now,
            Some(t) if t < now - chrono::Duration::minutes(1) => {
                return Err(ApiError::invalid(
                    "effective_from",
                    "must not be in the past: commissions already earned keep the version that produced them",
                ));
            }
            Some(t) => t,
        };
        let idem = Idempotency::new(&ctx, "CreatePlan", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let row = store::insert_plan(&mut tx, &new, effective_from, principal.user_id, now).await?;
        let resp = CreatePlanResponse {
            plan: Some(convert::plan(&row)),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn list_plans(
        &self,
        ctx: CallContext,
        req: ListPlansRequest,
    ) -> Result<ListPlansResponse, ApiError> {
        let principal = ctx.principal()?;
        let mut errs = FieldErrors::new();
        let requested = errs.check("program_id", validate::optional_uuid(&req.program_id));
        let requested = errs.finish_with(|| requested)?;
        let mut conn = self.db.acquire().await?;
        let program = match (own_program(&mut conn, principal).await?, requested) {
            (Some(own), Some(p)) if p != own => return Err(ApiError::not_found("program")),
            (Some(own), _) => Some(own),
            (None, p) => p,
        };
        let filter = program.map(|p| p.to_string()).unwrap_or_default();
        let page = Page::parse(req.page_size, &req.page_token, &[&filter])?;
        let mut rows =
            store::list_plans(&mut conn, program, page.after_or_nil(), page.fetch_limit()).await?;
        let next_page_token = page.finish(&mut rows, |r| r.id);
        Ok(ListPlansResponse {
            plans: rows.iter().map(convert::plan).collect(),
            next_page_token,
        })
    }
}
