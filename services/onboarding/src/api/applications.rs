//! Partner applications: the public form, review, approval and rejection.

use prm_proto::events as ev;
use prm_proto::onboarding::*;
use prm_runtime::auth::{PARTNER_MANAGEMENT, STAFF};
use prm_runtime::fields::DecisionReason;
use prm_runtime::wire::timestamp;
use prm_runtime::{
    ApiError, CallContext, FieldErrors, Idempotency, OnConstraint, Page, Role, begin_or_replay,
    validate,
};

use super::{Onboarding, convert};
use crate::domain::application::ApplicationStatusRules;
use crate::domain::application::{ApplicationStatus, NewApplication};
use crate::domain::credentials;
use crate::operations;
use crate::store;

impl Onboarding {
    /// The public application form: needs no principal.
    pub(super) async fn submit_application(
        &self,
        ctx: CallContext,
        req: SubmitApplicationRequest,
    ) -> Result<SubmitApplicationResponse, ApiError> {
        let app = NewApplication::parse(&req)?;
        let idem = Idempotency::new(&ctx, "SubmitApplication", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let row = store::insert_application(&mut tx, &app)
            .await
            .on_constraint("applications_open_domain_key", || {
                ApiError::already_exists(
                    "APPLICATION_ALREADY_OPEN",
                    format!(
                        "an application for {} is already awaiting review",
                        app.domain
                    ),
                )
            })?;
        self.outbox
            .stage_for(
                &mut tx,
                "application.submitted",
                &row,
                &ev::ApplicationSubmitted {
                    application_id: row.id.to_string(),
                    company_name: row.company_name.clone(),
                    domain: row.domain.clone(),
                    country: row.country.clone(),
                    partner_type: app.partner_type.to_proto(),
                },
            )
            .await?;
        let resp = SubmitApplicationResponse {
            application: Some(convert::application(&row)),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn get_application(
        &self,
        ctx: CallContext,
        req: GetApplicationRequest,
    ) -> Result<GetApplicationResponse, ApiError> {
        let principal = ctx.principal()?;
        let id = validate::uuid(&req.application_id)
            .map_err(|e| ApiError::invalid("application_id", e))?;
        let mut conn = self.db.acquire().await?;
        let row = store::application(&mut conn, id)
            .await?
            .ok_or(ApiError::not_found("application"))?;
        // A partner sees only the application that became itself.
        let visible = match principal.partner_id {
            Some(pid) => row.partner_id == Some(pid),
            None => principal.is_staff(),
        };
        if !visible {
            return Err(ApiError::not_found("application"));
        }
        Ok(GetApplicationResponse {
            application: Some(convert::application(&row)),
        })
    }

    pub(super) async fn list_applications(
        &self,
        ctx: CallContext,
        req: ListApplicationsRequest,
    ) -> Result<ListApplicationsResponse, ApiError> {
        let principal = ctx.principal()?;
        principal.require_any_role(STAFF)?;
        let status = ApplicationStatus::filter_from_proto(req.status)
            .map_err(|e| ApiError::invalid("status", e))?;
        let page = Page::parse(
            req.page_size,
            &req.page_token,
            &[status.map_or("", ApplicationStatus::as_str)],
        )?;
        let mut conn = self.db.acquire().await?;
        let mut rows =
            store::list_applications(&mut conn, status, page.after_or_nil(), page.fetch_limit())
                .await?;
        let next_page_token = page.finish(&mut rows, |r| r.id);
        Ok(ListApplicationsResponse {
            applications: rows.iter().map(convert::application).collect(),
            next_page_token,
        })
    }

    /// Approves an application: creates the partner in a program and tier,
    /// and provisions its partner admin (the application's contact) with an
    /// API key whose secret is returned once.
    pub(super) async fn approve_application(
        &self,
        ctx: CallContext,
        req: ApproveApplicationRequest,
    ) -> Result<ApproveApplicationResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        principal.require_any_role(PARTNER_MANAGEMENT)?;
        let mut errs = FieldErrors::new();
        let application_id = errs.check("application_id", validate::uuid(&req.application_id));
        let program_id = errs.check("program_id", validate::uuid(&req.program_id));
        let tier_id = errs.check("tier_id", validate::optional_uuid(&req.tier_id));
        let (application_id, program_id, tier_id) =
            errs.finish_with(|| Some((application_id?, program_id?, tier_id?)))?;

        let idem = Idempotency::new(&ctx, "ApproveApplication", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        // The row lock serialises concurrent decisions on one application.
        let app = store::application_for_update(&mut tx, application_id)
            .await?
            .ok_or(ApiError::not_found("application"))?;
        app.status
            .decide(ApplicationStatus::Approved)
            .map_err(|e| e.about(format!("application/{application_id}")))?;
        let program = store::program(&mut tx, program_id)
            .await?
            .ok_or_else(|| ApiError::invalid("program_id", "no such program"))?;
        let tiers = store::tiers(&mut tx, Some(program.id)).await?;
        let tier = match tier_id {
            Some(id) => tiers
                .iter()
                .find(|t| t.id == id)
                .ok_or_else(|| ApiError::invalid("tier_id", "is not a tier of the program"))?,
            None => tiers.first().ok_or_else(|| {
                ApiError::precondition(
                    "PROGRAM_HAS_NO_TIERS",
                    format!("program/{program_id}"),
                    "the program has no tiers yet",
                )
            })?,
        };
        let partner_id = store::insert_partner(&mut tx, &app, program.id, tier.id)
            .await
            .on_constraint("partners_live_domain_key", || {
                ApiError::precondition(
                    "PARTNER_DOMAIN_TAKEN",
                    format!("application/{application_id}"),
                    format!("a live partner already has the domain {}", app.domain),
                )
            })?;
        let admin = store::insert_user(
            &mut tx,
            Some(partner_id),
            &app.contact_email,
            &app.contact_name,
            &[Role::PartnerAdmin],
        )
        .await
        .on_constraint("users_email_key", || {
            ApiError::precondition(
                "CONTACT_EMAIL_IN_USE",
                format!("application/{application_id}"),
                format!("{} already belongs to a user", app.contact_email),
            )
        })?;
        let key = credentials::generate();
        let api_key = store::insert_api_key(
            &mut tx,
            &admin,
            "partner admin (provisioned at approval)",
            &key.display_prefix,
            &key.hash,
            false,
            &store::NewKeyLimits::unrestricted(),
        )
        .await?;
        let app = store::decide_application(
            &mut tx,
            application_id,
            ApplicationStatus::Approved,
            "",
            Some(partner_id),
            principal.user_id,
        )
        .await?;
        let mut partner = store::partner(&mut tx, partner_id)
            .await?
            .ok_or(ApiError::not_found("partner"))?;
        let now = self.clock.now();

        self.outbox
            .stage_for(
                &mut tx,
                "partner.approved",
                &partner,
                &ev::PartnerApproved {
                    partner_id: partner_id.to_string(),
                    application_id: application_id.to_string(),
                    company_name: partner.company_name.clone(),
                    domain: partner.domain.clone(),
                    country: partner.country.clone(),
                    partner_type: partner.partner_type.to_proto(),
                    program_id: program.id.to_string(),
                    tier_id: tier.id.to_string(),
                    tier_name: tier.name.clone(),
                    approved_by_user_id: principal.user_id.to_string(),
                    approved_at: Some(timestamp(partner.approved_at)),
                },
            )
            .await?;
        self.outbox
            .stage_for(
                &mut tx,
                "user.created",
                &admin,
                &ev::PartnerUserCreated {
                    user_id: admin.id.to_string(),
                    partner_id: partner_id.to_string(),
                    roles: admin.roles.iter().map(|r| r.as_str().to_owned()).collect(),
                },
            )
            .await?;
        // With no required course visible to this partner, that item is done.
        operations::check_required_courses(&mut tx, &self.outbox, &mut partner, now).await?;

        let resp = ApproveApplicationResponse {
            application: Some(convert::application(&app)),
            partner: Some(convert::partner(&partner)),
            admin_user: Some(convert::user(&admin)),
            admin_api_key: Some(convert::api_key(&api_key)),
            admin_api_key_secret: key.secret,
        };
        // The secret is never stored, not even for idempotent replays.
        let stored = ApproveApplicationResponse {
            admin_api_key_secret: String::new(),
            ..resp.clone()
        };
        idem.commit(tx, &stored).await?;
        Ok(resp)
    }

    pub(super) async fn reject_application(
        &self,
        ctx: CallContext,
        req: RejectApplicationRequest,
    ) -> Result<RejectApplicationResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        principal.require_any_role(PARTNER_MANAGEMENT)?;
        let mut errs = FieldErrors::new();
        let application_id = errs.check("application_id", validate::uuid(&req.application_id));
        let reason = errs.check("reason", DecisionReason::check(&req.reason));
        let (application_id, reason) = errs.finish_with(|| Some((application_id?, reason?)))?;

        let idem = Idempotency::new(&ctx, "RejectApplication", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let app = store::application_for_update(&mut tx, application_id)
            .await?
            .ok_or(ApiError::not_found("application"))?;
        app.status
            .decide(ApplicationStatus::Rejected)
            .map_err(|e| e.about(format!("application/{application_id}")))?;
        let app = store::decide_application(
            &mut tx,
            application_id,
            ApplicationStatus::Rejected,
            &reason,
            None,
            principal.user_id,
        )
        .await?;
        self.outbox
            .stage_for(
                &mut tx,
                "application.rejected",
                &app,
                &ev::ApplicationRejected {
                    application_id: app.id.to_string(),
                    reason,
                    decided_by_user_id: principal.user_id.to_string(),
                },
            )
            .await?;
        let resp = RejectApplicationResponse {
            application: Some(convert::application(&app)),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }
}
