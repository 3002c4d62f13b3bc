//! Versioned terms and their acceptance by partners.

use prm_proto::events as ev;
use prm_proto::onboarding::*;
use prm_runtime::fields::{TermsBody, TermsVersion, Title};
use prm_runtime::{
    ApiError, CallContext, FieldErrors, Idempotency, OnConstraint, PartnerType, Role,
    begin_or_replay, validate,
};

use super::{Onboarding, convert, ensure_may_act};
use crate::domain::checklist::ChecklistItem;
use crate::domain::terms::{self, TermsKind};
use crate::operations;
use crate::store;

impl Onboarding {
    pub(super) async fn publish_terms(
        &self,
        ctx: CallContext,
        req: PublishTermsRequest,
    ) -> Result<PublishTermsResponse, ApiError> {
        let principal = ctx.principal()?;
        principal.require_any_role(&[Role::Admin])?;
        let mut errs = FieldErrors::new();
        let kind = errs.check("kind", TermsKind::from_proto(req.kind));
        let version = errs.check("version", TermsVersion::check(&req.version));
        let title = errs.check("title", Title::check(&req.title));
        let body = errs.check("body", TermsBody::check(&req.body));
        let (kind, version, title, body) =
            errs.finish_with(|| Some((kind?, version?, title?, body?)))?;
        let idem = Idempotency::new(&ctx, "PublishTerms", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let row = store::insert_terms(&mut tx, kind, &version, &title, &body)
            .await
            .on_constraint("terms_kind_version_key", || {
                ApiError::already_exists(
                    "TERMS_VERSION_EXISTS",
                    format!("{kind} version {version} is already published"),
                )
            })?;
        let resp = PublishTermsResponse {
            terms: Some(convert::terms(&row)),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn list_terms(
        &self,
        ctx: CallContext,
        req: ListTermsRequest,
    ) -> Result<ListTermsResponse, ApiError> {
        ctx.principal()?;
        let kind =
            TermsKind::filter_from_proto(req.kind).map_err(|e| ApiError::invalid("kind", e))?;
        let mut conn = self.db.acquire().await?;
        let rows = store::list_terms(&mut conn, kind).await?;
        Ok(ListTermsResponse {
            terms: rows.iter().map(convert::terms).collect(),
        })
    }

    /// A partner admin accepts the latest version of some terms for their
    /// partner. Accepting again returns the existing acceptance.
    pub(super) async fn accept_terms(
        &self,
        ctx: CallContext,
        req: AcceptTermsRequest,
    ) -> Result<AcceptTermsResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let mut errs = FieldErrors::new();
        let partner_id = errs.check("partner_id", validate::uuid(&req.partner_id));
        let kind = errs.check("kind", TermsKind::from_proto(req.kind));
        let version = errs.check("version", TermsVersion::check(&req.version));
        let (partner_id, kind, version) =
            errs.finish_with(|| Some((partner_id?, kind?, version?)))?;
        let partner = self.visible_partner(&principal, partner_id).await?;
        // Acceptance is the partner's own legal act.
        if principal.partner_id != Some(partner_id) || !principal.has_role(Role::PartnerAdmin) {
            return Err(ApiError::permission_denied(
                "PARTNER_ADMIN_REQUIRED",
                "only the partner's own admin can accept its terms",
            ));
        }
        ensure_may_act(&principal, &partner)?;

        let idem = Idempotency::new(&ctx, "AcceptTerms", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        // Locked: accepting may complete the checklist.
        let mut partner = store::partner_for_update(&mut tx, partner_id)
            .await?
            .ok_or(ApiError::not_found("partner"))?;
        let terms = store::terms_by_version(&mut tx, kind, &version)
            .await?
            .ok_or(ApiError::not_found("terms"))?;
        let latest = store::latest_terms(&mut tx, kind).await?;
        if latest.as_ref().is_some_and(|l| l.id != terms.id) {
            return Err(ApiError::precondition(
                "TERMS_VERSION_SUPERSEDED",
                "version",
                format!(
                    "version {version} is superseded by {}",
                    latest.map(|l| l.version).unwrap_or_default()
                ),
            ));
        }
        if store::insert_acceptance(&mut tx, partner_id, terms.id, principal.user_id).await? {
            self.outbox
                .stage_for(
                    &mut tx,
                    "terms.accepted",
                    &partner,
                    &ev::TermsAccepted {
                        partner_id: partner_id.to_string(),
                        terms_id: terms.id.to_string(),
                        terms_kind: kind.as_str().to_owned(),
                        version: version.clone(),
                        accepted_by_user_id: principal.user_id.to_string(),
                    },
                )
                .await?;
            if self
                .all_terms_accepted(&mut tx, partner_id, partner.partner_type)
                .await?
            {
                operations::complete_checklist_item(
                    &mut tx,
                    &self.outbox,
                    &mut partner,
                    ChecklistItem::TermsAccepted,
                    self.clock.now(),
                )
                .await?;
            }
        }
        let acceptance = store::acceptance(&mut tx, partner_id, terms.id)
            .await?
            .ok_or(ApiError::not_found("acceptance"))?;
        let resp = AcceptTermsResponse {
            acceptance: Some(convert::acceptance(&acceptance)),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    async fn all_terms_accepted(
        &self,
        tx: &mut sqlx::PgConnection,
        partner_id: uuid::Uuid,
        partner_type: PartnerType,
    ) -> Result<bool, ApiError> {
        Ok(self
            .required_terms(tx, partner_id, partner_type)
            .await?
            .iter()
            .all(|r| r.acceptance.is_some()))
    }

    async fn required_terms(
        &self,
        conn: &mut sqlx::PgConnection,
        partner_id: uuid::Uuid,
        partner_type: PartnerType,
    ) -> Result<Vec<RequiredTerms>, ApiError> {
        let mut required = Vec::new();
        for kind in terms::required_kinds(partner_type) {
            // Nothing published yet for a kind: nothing to accept.
            let Some(latest) = store::latest_terms(conn, kind).await? else {
                continue;
            };
            let acceptance = store::acceptance(conn, partner_id, latest.id).await?;
            required.push(RequiredTerms {
                terms: Some(convert::terms(&latest)),
                acceptance: acceptance.as_ref().map(convert::acceptance),
            });
        }
        Ok(required)
    }

    pub(super) async fn get_terms_status(
        &self,
        ctx: CallContext,
        req: GetTermsStatusRequest,
    ) -> Result<GetTermsStatusResponse, ApiError> {
        let principal = ctx.principal()?;
        let partner_id =
            validate::uuid(&req.partner_id).map_err(|e| ApiError::invalid("partner_id", e))?;
        let partner = self.visible_partner(principal, partner_id).await?;
        let mut conn = self.db.acquire().await?;
        let required = self
            .required_terms(&mut conn, partner_id, partner.partner_type)
            .await?;
        let all_accepted = required.iter().all(|r| r.acceptance.is_some());
        Ok(GetTermsStatusResponse {
            required,
            all_accepted,
        })
    }
}
