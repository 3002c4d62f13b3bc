//! Programs and tiers.

use prm_proto::onboarding::*;
use prm_runtime::auth::{PARTNER_MANAGEMENT, STAFF};
use prm_runtime::fields::{
    Count, ProgramDescription, ProgramName, TierName, TierRank, TierWindowDays,
};
use prm_runtime::{
    ApiError, CallContext, FieldErrors, Idempotency, Money, OnConstraint, Page, begin_or_replay,
    validate,
};
use uuid::Uuid;

use super::{Onboarding, convert};
use crate::domain::tiering::TierMetrics;
use crate::store::{self, NewProgram};

const DEFAULT_TIER_WINDOW_DAYS: i32 = 365;
const DEFAULT_DEMOTION_GRACE_DAYS: i32 = 90;
const MAX_WINDOW_DAYS: i32 = 3_650;

/// Tier requirements in the program's currency.
fn requirements(
    field: &str,
    r: Option<&TierRequirements>,
    currency: &str,
    errs: &mut FieldErrors,
) -> TierMetrics {
    let Some(r) = r else {
        return TierMetrics::default();
    };
    let mut revenue = 0;
    if let Some(m) = &r.min_revenue_won {
        match Money::parse(Some(m), false) {
            Ok(m) if m.currency != currency => errs.add(
                format!("{field}.min_revenue_won.currency"),
                format!("must be the program currency {currency}; amounts are never converted"),
            ),
            Ok(m) => revenue = m.amount_minor,
            Err(e) => errs.add(format!("{field}.min_revenue_won"), e),
        }
    }
    errs.check(
        &format!("{field}.min_certified_people"),
        Count::check(r.min_certified_people),
    );
    errs.check(
        &format!("{field}.min_deals_won"),
        Count::check(r.min_deals_won),
    );
    TierMetrics {
        revenue_minor: revenue,
        certified_people: r.min_certified_people,
        deals_won: r.min_deals_won,
    }
}

impl Onboarding {
    pub(super) async fn create_program(
        &self,
        ctx: CallContext,
        req: CreateProgramRequest,
    ) -> Result<CreateProgramResponse, ApiError> {
        let principal = ctx.principal()?;
        principal.require_any_role(PARTNER_MANAGEMENT)?;
        let mut errs = FieldErrors::new();
        let name = errs.check("name", ProgramName::check(&req.name));
        let description = errs.check("description", ProgramDescription::check(&req.description));
        let currency = errs.check("currency", validate::currency(&req.currency));
        let window = match errs.check(
            "tier_window_days",
            TierWindowDays::check(req.tier_window_days),
        ) {
            Some(0) | None => DEFAULT_TIER_WINDOW_DAYS,
            Some(d) => d,
        };
        let grace = match req.demotion_grace_days {
            0 => DEFAULT_DEMOTION_GRACE_DAYS,
            -1 => 0,
            d if (1..=MAX_WINDOW_DAYS).contains(&d) => d,
            _ => {
                errs.add("demotion_grace_days", format!("must be from 1 to {MAX_WINDOW_DAYS} days, 0 for the default, or -1 for none"));
                0
            }
        };
        let (name, description, currency) =
            errs.finish_with(|| Some((name?, description?, currency?)))?;

        let idem = Idempotency::new(&ctx, "CreateProgram", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let row = store::insert_program(
            &mut tx,
            NewProgram {
                name: &name,
                description: &description,
                currency: &currency,
                tier_window_days: window,
                demotion_grace_days: grace,
            },
        )
        .await
        .on_constraint("programs_name_key", || {
            ApiError::already_exists(
                "PROGRAM_NAME_TAKEN",
                format!("a program named {name:?} exists"),
            )
        })?;
        let resp = CreateProgramResponse {
            program: Some(convert::program(&row)),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn get_program(
        &self,
        ctx: CallContext,
        req: GetProgramRequest,
    ) -> Result<GetProgramResponse, ApiError> {
        let principal = ctx.principal()?;
        let id = validate::uuid(&req.program_id).map_err(|e| ApiError::invalid("program_id", e))?;
        let mut conn = self.db.acquire().await?;
        // Partners see only their own program.
        if let Some(pid) = principal.partner_id {
            let p = store::partner(&mut conn, pid)
                .await?
                .ok_or(ApiError::not_found("program"))?;
            if p.program_id != id {
                return Err(ApiError::not_found("program"));
            }
        }
        let row = store::program(&mut conn, id)
            .await?
            .ok_or(ApiError::not_found("program"))?;
        Ok(GetProgramResponse {
            program: Some(convert::program(&row)),
        })
    }

    pub(super) async fn list_programs(
        &self,
        ctx: CallContext,
        req: ListProgramsRequest,
    ) -> Result<ListProgramsResponse, ApiError> {
        let principal = ctx.principal()?;
        let page = Page::parse(req.page_size, &req.page_token, &[])?;
        let mut conn = self.db.acquire().await?;
        let only = match principal.partner_id {
            Some(pid) => Some(
                store::partner(&mut conn, pid)
                    .await?
                    .map(|p| p.program_id)
                    .unwrap_or(Uuid::nil()),
            ),
            None => {
                principal.require_any_role(STAFF)?;
                None
            }
        };
        let mut rows =
            store::list_programs(&mut conn, only, page.after_or_nil(), page.fetch_limit()).await?;
        let next_page_token = page.finish(&mut rows, |r| r.id);
        Ok(ListProgramsResponse {
            programs: rows.iter().map(convert::program).collect(),
            next_page_token,
        })
    }

    pub(super) async fn create_tier(
        &self,
        ctx: CallContext,
        req: CreateTierRequest,
    ) -> Result<CreateTierResponse, ApiError> {
        let principal = ctx.principal()?;
        principal.require_any_role(PARTNER_MANAGEMENT)?;
        let mut errs = FieldErrors::new();
        let program_id = errs.check("program_id", validate::uuid(&req.program_id));
        let name = errs.check("name", TierName::check(&req.name));
        errs.check("rank", TierRank::check(req.rank));
        let program = match program_id {
            Some(id) => {
                let mut conn = self.db.acquire().await?;
                let p = store::program(&mut conn, id).await?;
                if p.is_none() {
                    errs.add("program_id", "no such program");
                }
                p
            }
            None => None,
        };
        let currency = program
            .as_ref()
            .map(|p| p.currency.clone())
            .unwrap_or_default();
        let reqs = requirements(
            "requirements",
            req.requirements.as_ref(),
            &currency,
            &mut errs,
        );
        let (program, name) = errs.finish_with(|| Some((program?, name?)))?;

        let idem = Idempotency::new(&ctx, "CreateTier", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let row = store::insert_tier(&mut tx, program.id, &name, req.rank, reqs)
            .await
            .on_constraint("tiers_program_rank_key", || {
                ApiError::already_exists(
                    "TIER_RANK_TAKEN",
                    format!("the program already has a tier of rank {}", req.rank),
                )
            })
            .on_constraint("tiers_program_name_key", || {
                ApiError::already_exists(
                    "TIER_NAME_TAKEN",
                    format!("the program already has a tier named {name:?}"),
                )
            })?;
        let resp = CreateTierResponse {
            tier: Some(convert::tier(&row, &program.currency)),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn update_tier(
        &self,
        ctx: CallContext,
        req: UpdateTierRequest,
    ) -> Result<UpdateTierResponse, ApiError> {
        let principal = ctx.principal()?;
        principal.require_any_role(PARTNER_MANAGEMENT)?;
        let mut errs = FieldErrors::new();
        let tier_id = errs.check("tier_id", validate::uuid(&req.tier_id));
        if req.requirements.is_none() {
            errs.add("requirements", "is required");
        }
        errs.finish()?;
        let tier_id = tier_id.unwrap_or_default();
        let mut conn = self.db.acquire().await?;
        let tier = store::tier(&mut conn, tier_id)
            .await?
            .ok_or(ApiError::not_found("tier"))?;
        let program = store::program(&mut conn, tier.program_id)
            .await?
            .ok_or(ApiError::not_found("program"))?;
        drop(conn);
        let mut errs = FieldErrors::new();
        let reqs = requirements(
            "requirements",
            req.requirements.as_ref(),
            &program.currency,
            &mut errs,
        );
        errs.finish()?;

        let idem = Idempotency::new(&ctx, "UpdateTier", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let row = store::update_tier_requirements(&mut tx, tier_id, reqs)
            .await?
            .ok_or(ApiError::not_found("tier"))?;
        let resp = UpdateTierResponse {
            tier: Some(convert::tier(&row, &program.currency)),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn list_tiers(
        &self,
        ctx: CallContext,
        req: ListTiersRequest,
    ) -> Result<ListTiersResponse, ApiError> {
        let principal = ctx.principal()?;
        let requested = validate::optional_uuid(&req.program_id)
            .map_err(|e| ApiError::invalid("program_id", e))?;
        let mut conn = self.db.acquire().await?;
        let program_id = match principal.partner_id {
            Some(pid) => {
                let own = store::partner(&mut conn, pid)
                    .await?
                    .map(|p| p.program_id)
                    .unwrap_or(Uuid::nil());
                if requested.is_some_and(|r| r != own) {
                    return Err(ApiError::not_found("program"));
                }
                Some(own)
            }
            None => {
                principal.require_any_role(prm_runtime::auth::STAFF)?;
                requested
            }
        };
        let rows = store::tiers(&mut conn, program_id).await?;
        let mut tiers = Vec::with_capacity(rows.len());
        let mut currencies = std::collections::HashMap::new();
        for t in &rows {
            if let std::collections::hash_map::Entry::Vacant(slot) = currencies.entry(t.program_id)
            {
                let c = store::program(&mut conn, t.program_id)
                    .await?
                    .map(|p| p.currency)
                    .unwrap_or_default();
                slot.insert(c);
            }
            tiers.push(convert::tier(t, &currencies[&t.program_id]));
        }
        Ok(ListTiersResponse { tiers })
    }
}
