//! Registrations: submission with conflict detection, reads, and every
//! transition of the workflow, each kept in the history.

use chrono::{DateTime, Utc};
use prm_proto::dealreg::*;
use prm_proto::events as ev;
use prm_runtime::auth::{PARTNER_MANAGEMENT, STAFF};
use prm_runtime::fields::{Notes, RequiredNote};
use prm_runtime::wire::timestamp;
use prm_runtime::{
    ApiError, CallContext, FieldErrors, Idempotency, Money, OnConstraint, Page, Principal,
    begin_or_replay, validate,
};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Dealreg, convert};
use crate::domain::customer::NEAR_MATCH_SIMILARITY;
use crate::domain::policy::{Policy, add_business_time, business_time_between};
use crate::domain::registration::RegistrationStatusRules;
use crate::domain::registration::{
    self, Edit, HistoryAction, NewRegistration, RegistrationStatus, RejectionReason,
};
use crate::operations::{self, Announce};
use crate::store::{self, RegistrationRow};

/// The answer to a registration that would take a held customer. It does
/// not say who holds it.
fn customer_conflict() -> ApiError {
    ApiError::already_exists(
        "CUSTOMER_CONFLICT",
        "this customer is already registered by a partner or is a direct account of the vendor",
    )
}

fn registration_id(value: &str) -> Result<Uuid, ApiError> {
    validate::uuid(value).map_err(|e| ApiError::invalid("registration_id", e))
}

fn note(value: &str) -> Result<String, ApiError> {
    Notes::check(value).map_err(|e| ApiError::invalid("note", e))
}

/// Who may make a change: staff deciding, or the registering partner
/// (and staff acting for it).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Actor {
    Staff,
    Owner,
}

/// What a transition did, for the history and the outbox.
struct Change {
    action: HistoryAction,
    note: String,
    event: Option<Announce>,
    /// New product lines, saved with the row.
    products: Option<Vec<registration::ProductLine>>,
}

impl Change {
    fn new(action: HistoryAction, note: impl Into<String>) -> Self {
        Self {
            action,
            note: note.into(),
            event: None,
            products: None,
        }
    }

    fn announcing(mut self, event: Announce) -> Self {
        self.event = Some(event);
        self
    }
}

impl Dealreg {
    /// Registrations as the principal may see them, with their products
    /// (and, for staff, their near matches).
    async fn views(
        &self,
        conn: &mut PgConnection,
        principal: &Principal,
        rows: &[RegistrationRow],
    ) -> Result<Vec<Registration>, ApiError> {
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let products = store::products_of(conn, &ids).await?;
        let staff = principal.is_staff();
        let matches = if staff && rows.iter().any(|r| r.needs_review) {
            store::near_matches_of(conn, &ids).await?
        } else {
            Vec::new()
        };
        Ok(rows
            .iter()
            .map(|r| {
                let lines: Vec<_> = products
                    .iter()
                    .filter(|(id, _)| *id == r.id)
                    .map(|(_, l)| l.clone())
                    .collect();
                let near: Vec<_> = matches
                    .iter()
                    .filter(|m| m.registration_id == r.id)
                    .cloned()
                    .collect();
                convert::registration(r, &lines, &near, staff)
            })
            .collect())
    }

    async fn view(
        &self,
        conn: &mut PgConnection,
        principal: &Principal,
        row: &RegistrationRow,
    ) -> Result<Registration, ApiError> {
        let mut views = self
            .views(conn, principal, std::slice::from_ref(row))
            .await?;
        views
            .pop()
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no view of {}", row.id)))
    }

    pub(super) async fn submit_registration(
        &self,
        ctx: CallContext,
        req: SubmitRegistrationRequest,
    ) -> Result<SubmitRegistrationResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let now = self.clock.now();
        let new = NewRegistration::parse(&req, now.date_naive())?;
        let partner_id = match principal.partner_id {
            Some(own) => {
                let named = validate::optional_uuid(&req.partner_id)
                    .map_err(|e| ApiError::invalid("partner_id", e))?;
                if named.is_some_and(|p| p != own) {
                    return Err(ApiError::not_found("partner"));
                }
                own
            }
            None => {
                principal.require_any_role(PARTNER_MANAGEMENT)?;
                validate::uuid(&req.partner_id).map_err(|e| {
                    ApiError::invalid("partner_id", format!("{e} (staff register for a partner)"))
                })?
            }
        };
        self.onboarding
            .ensure_may_register(&principal, partner_id)
            .await?;
        let idem = Idempotency::new(&ctx, "SubmitRegistration", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        if store::direct_account_holds(&mut tx, &new.domain_key, &new.company_key).await? {
            return Err(customer_conflict());
        }
        let policy = store::policy(&mut tx).await?;
        let mut row =
            store::insert_registration(&mut tx, partner_id, &new, now, policy.decision_due(now))
                .await
                .on_constraint(store::ACTIVE_DOMAIN_KEY, customer_conflict)
                .on_constraint(store::ACTIVE_COMPANY_KEY, customer_conflict)?;
        if store::record_near_matches(&mut tx, &row, NEAR_MATCH_SIMILARITY).await? > 0 {
            store::mark_needs_review(&mut tx, row.id).await?;
            row.needs_review = true;
        }
        store::record_transition(
            &mut tx,
            row.id,
            HistoryAction::Submitted,
            None,
            row.status,
            Some(principal.user_id),
            "",
            now,
        )
        .await?;
        self.outbox
            .stage_for(
                &mut tx,
                "deal.registered",
                &row,
                &ev::DealRegistered {
                    deal_registration_id: row.id.to_string(),
                    partner_id: row.partner_id.to_string(),
                    customer_company: row.customer_company.clone(),
                    customer_domain: row.domain_key.clone(),
                    estimated_value: Some(row.value().to_proto()),
                    mdf_reference: row.mdf_reference.clone(),
                    submitted_at: Some(timestamp(now)),
                },
            )
            .await?;
        // The lines are the ones just written; near matches, for staff, only
        // when there are some.
        let near = if principal.is_staff() && row.needs_review {
            store::near_matches_of(&mut tx, &[row.id]).await?
        } else {
            Vec::new()
        };
        let resp = SubmitRegistrationResponse {
            registration: Some(convert::registration(
                &row,
                &new.products,
                &near,
                principal.is_staff(),
            )),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn get_registration(
        &self,
        ctx: CallContext,
        req: GetRegistrationRequest,
    ) -> Result<GetRegistrationResponse, ApiError> {
        let principal = ctx.principal()?;
        let id = registration_id(&req.registration_id)?;
        let mut conn = self.db.acquire().await?;
        let row = self.visible(&mut conn, principal, id).await?;
        Ok(GetRegistrationResponse {
            registration: Some(self.view(&mut conn, principal, &row).await?),
        })
    }

    /// The registration, if the principal may see it: its partner, or staff.
    async fn visible(
        &self,
        conn: &mut PgConnection,
        principal: &Principal,
        id: Uuid,
    ) -> Result<RegistrationRow, ApiError> {
        let row = store::registration(conn, id)
            .await?
            .ok_or(ApiError::not_found("registration"))?;
        if principal.partner_id.is_none() {
            principal.require_any_role(STAFF)?;
        }
        principal.ensure_partner_access(row.partner_id, "registration")?;
        Ok(row)
    }

    pub(super) async fn list_registrations(
        &self,
        ctx: CallContext,
        req: ListRegistrationsRequest,
    ) -> Result<ListRegistrationsResponse, ApiError> {
        let principal = ctx.principal()?;
        let mut errs = FieldErrors::new();
        let status = errs.check("status", RegistrationStatus::filter_from_proto(req.status));
        let requested = errs.check("partner_id", validate::optional_uuid(&req.partner_id));
        errs.finish()?;
        if principal.partner_id.is_none() {
            principal.require_any_role(STAFF)?;
        }
        let partner = principal.partner_scope(requested.flatten())?;
        let status = status.flatten();
        let partner_filter = partner.map(|p| p.to_string()).unwrap_or_default();
        let page = Page::parse(
            req.page_size,
            &req.page_token,
            &[
                status.map_or("", RegistrationStatus::as_str),
                &partner_filter,
            ],
        )?;
        let mut conn = self.db.acquire().await?;
        let mut rows = store::list_registrations(
            &mut conn,
            partner,
            status,
            page.after_or_nil(),
            page.fetch_limit(),
        )
        .await?;
        let next_page_token = page.finish(&mut rows, |r| r.id);
        Ok(ListRegistrationsResponse {
            registrations: self.views(&mut conn, principal, &rows).await?,
            next_page_token,
        })
    }

    pub(super) async fn get_registration_history(
        &self,
        ctx: CallContext,
        req: GetRegistrationHistoryRequest,
    ) -> Result<GetRegistrationHistoryResponse, ApiError> {
        let principal = ctx.principal()?;
        let id = registration_id(&req.registration_id)?;
        let mut conn = self.db.acquire().await?;
        self.visible(&mut conn, principal, id).await?;
        let rows = store::history(&mut conn, id).await?;
        Ok(GetRegistrationHistoryResponse {
            transitions: rows.iter().map(convert::transition).collect(),
        })
    }

    /// One transition, in one transaction: lock the registration, check
    /// the actor, apply `change` (the domain rule) to the row, save it,
    /// keep the history, stage the event, and remember the response.
    async fn transition(
        &self,
        ctx: &CallContext,
        idem: Idempotency,
        id: Uuid,
        actor: Actor,
        change: impl FnOnce(&mut RegistrationRow, &Policy, DateTime<Utc>) -> Result<Change, ApiError>,
    ) -> Result<Registration, ApiError> {
        let principal = ctx.principal()?.clone();
        if actor == Actor::Staff || principal.partner_id.is_none() {
            principal.require_any_role(PARTNER_MANAGEMENT)?;
        }
        let mut tx = begin_or_replay!(self.db, idem, Registration);
        let mut row = store::registration_for_update(&mut tx, id)
            .await?
            .ok_or(ApiError::not_found("registration"))?;
        principal.ensure_partner_access(row.partner_id, "registration")?;
        let from = row.status;
        let now = self.clock.now();
        let policy = store::policy(&mut tx).await?;
        let done = change(&mut row, &policy, now)?;
        let row = store::save_registration(&mut tx, &row).await?;
        if let Some(lines) = &done.products {
            store::replace_products(&mut tx, row.id, lines).await?;
        }
        store::record_transition(
            &mut tx,
            row.id,
            done.action,
            Some(from),
            row.status,
            Some(principal.user_id),
            &done.note,
            now,
        )
        .await?;
        if let Some(event) = done.event {
            operations::announce(&mut tx, &self.outbox, &row, event, now).await?;
        }
        let view = self.view(&mut tx, &principal, &row).await?;
        idem.commit(tx, &view).await?;
        Ok(view)
    }

    pub(super) async fn approve_registration(
        &self,
        ctx: CallContext,
        req: ApproveRegistrationRequest,
    ) -> Result<ApproveRegistrationResponse, ApiError> {
        let id = registration_id(&req.registration_id)?;
        let text = note(&req.note)?;
        let idem = Idempotency::new(&ctx, "ApproveRegistration", &req);
        let user = ctx.principal()?.user_id;
        let registration = self
            .transition(&ctx, idem, id, Actor::Staff, |row, policy, now| {
                row.status = row.status.approve().map_err(|e| e.about(subject(row)))?;
                row.decided_at = Some(now);
                row.decided_by = Some(user);
                row.protected_until = Some(policy.protected_until(now));
                Ok(Change::new(HistoryAction::Approved, text).announcing(Announce::Approved))
            })
            .await?;
        Ok(ApproveRegistrationResponse {
            registration: Some(registration),
        })
    }

    pub(super) async fn reject_registration(
        &self,
        ctx: CallContext,
        req: RejectRegistrationRequest,
    ) -> Result<RejectRegistrationResponse, ApiError> {
        let id = registration_id(&req.registration_id)?;
        let mut errs = FieldErrors::new();
        let reason = errs.check("reason", RejectionReason::from_proto(req.reason));
        let text = errs.check("note", Notes::check(&req.note));
        let (reason, text) = errs.finish_with(|| Some((reason?, text?)))?;
        let idem = Idempotency::new(&ctx, "RejectRegistration", &req);
        let user = ctx.principal()?.user_id;
        let registration = self
            .transition(&ctx, idem, id, Actor::Staff, |row, _, now| {
                row.status = row.status.reject().map_err(|e| e.about(subject(row)))?;
                row.decided_at = Some(now);
                row.decided_by = Some(user);
                row.rejection_reason = Some(reason);
                row.status_note = text.clone();
                Ok(Change::new(
                    HistoryAction::Rejected,
                    format!("{}: {text}", reason.as_str()),
                )
                .announcing(Announce::Rejected))
            })
            .await?;
        Ok(RejectRegistrationResponse {
            registration: Some(registration),
        })
    }

    pub(super) async fn return_registration(
        &self,
        ctx: CallContext,
        req: ReturnRegistrationRequest,
    ) -> Result<ReturnRegistrationResponse, ApiError> {
        let id = registration_id(&req.registration_id)?;
        let text = RequiredNote::check(&req.note).map_err(|e| {
            ApiError::invalid("note", format!("{e}: say what the partner must add"))
        })?;
        let idem = Idempotency::new(&ctx, "ReturnRegistration", &req);
        let registration = self
            .transition(&ctx, idem, id, Actor::Staff, |row, _, now| {
                row.status = row.status.send_back().map_err(|e| e.about(subject(row)))?;
                row.returned_at = Some(now);
                row.status_note = text.clone();
                Ok(Change::new(HistoryAction::Returned, text))
            })
            .await?;
        Ok(ReturnRegistrationResponse {
            registration: Some(registration),
        })
    }

    pub(super) async fn update_registration(
        &self,
        ctx: CallContext,
        req: UpdateRegistrationRequest,
    ) -> Result<UpdateRegistrationResponse, ApiError> {
        let id = registration_id(&req.registration_id)?;
        let edit = Edit::parse(&req, self.clock.now().date_naive())?;
        if edit.is_empty() {
            return Err(ApiError::invalid(
                "registration",
                "nothing to change: set contact, estimated_value, products, expected_close_date or notes",
            ));
        }
        let idem = Idempotency::new(&ctx, "UpdateRegistration", &req);
        let registration = self
            .transition(&ctx, idem, id, Actor::Owner, |row, _, _| {
                row.status
                    .ensure_editable()
                    .map_err(|e| e.about(subject(row)))?;
                let mut changed = Vec::new();
                if let Some(c) = &edit.contact {
                    row.contact_name = c.name.clone();
                    row.contact_email = c.email.clone();
                    row.contact_phone = c.phone.clone();
                    changed.push("contact");
                }
                if let Some(v) = &edit.value {
                    row.value_minor = v.amount_minor;
                    row.currency = v.currency.clone();
                    changed.push("value");
                }
                if edit.products.is_some() {
                    changed.push("products");
                }
                if let Some(d) = edit.expected_close_date {
                    row.expected_close_date = d;
                    changed.push("expected_close_date");
                }
                if let Some(n) = &edit.notes {
                    row.notes = n.clone();
                    changed.push("notes");
                }
                let mut change = Change::new(HistoryAction::Updated, changed.join(", "));
                change.products = edit.products.clone();
                Ok(change)
            })
            .await?;
        Ok(UpdateRegistrationResponse {
            registration: Some(registration),
        })
    }

    pub(super) async fn resubmit_registration(
        &self,
        ctx: CallContext,
        req: ResubmitRegistrationRequest,
    ) -> Result<ResubmitRegistrationResponse, ApiError> {
        let id = registration_id(&req.registration_id)?;
        let idem = Idempotency::new(&ctx, "ResubmitRegistration", &req);
        let registration = self
            .transition(&ctx, idem, id, Actor::Owner, |row, _, now| {
                row.status = row.status.resubmit().map_err(|e| e.about(subject(row)))?;
                // The SLA clock stood still while the partner had it.
                if let Some(returned) = row.returned_at.take() {
                    let paused = business_time_between(returned, now);
                    row.decision_due_at = add_business_time(row.decision_due_at, paused);
                }
                row.status_note.clear();
                Ok(Change::new(HistoryAction::Resubmitted, ""))
            })
            .await?;
        Ok(ResubmitRegistrationResponse {
            registration: Some(registration),
        })
    }

    pub(super) async fn extend_protection(
        &self,
        ctx: CallContext,
        req: ExtendProtectionRequest,
    ) -> Result<ExtendProtectionResponse, ApiError> {
        let id = registration_id(&req.registration_id)?;
        let text = note(&req.note)?;
        let idem = Idempotency::new(&ctx, "ExtendProtection", &req);
        let registration = self
            .transition(&ctx, idem, id, Actor::Staff, |row, policy, now| {
                row.status
                    .ensure_extendable(row.extensions_used, policy.max_extensions)
                    .map_err(|e| e.about(subject(row)))?;
                let from = row.protected_until.unwrap_or(now).max(now);
                row.protected_until = Some(from + chrono::Duration::days(policy.extension_days));
                row.extensions_used += 1;
                // A new window gets its own expiry notice.
                row.expiring_notified_at = None;
                Ok(Change::new(HistoryAction::Extended, text))
            })
            .await?;
        Ok(ExtendProtectionResponse {
            registration: Some(registration),
        })
    }

    pub(super) async fn win_registration(
        &self,
        ctx: CallContext,
        req: WinRegistrationRequest,
    ) -> Result<WinRegistrationResponse, ApiError> {
        let id = registration_id(&req.registration_id)?;
        let amount =
            Money::parse(req.amount.as_ref(), false).map_err(|e| ApiError::invalid("amount", e))?;
        if amount.amount_minor > registration::MAX_AMOUNT_MINOR {
            return Err(ApiError::invalid(
                "amount",
                format!(
                    "amount_minor must be at most {}",
                    registration::MAX_AMOUNT_MINOR
                ),
            ));
        }
        let idem = Idempotency::new(&ctx, "WinRegistration", &req);
        let registration = self
            .transition(&ctx, idem, id, Actor::Owner, |row, _, now| {
                if amount.currency != row.currency {
                    return Err(ApiError::invalid(
                        "amount.currency",
                        format!("must be the registration's currency, {}", row.currency),
                    ));
                }
                row.status = row.status.win().map_err(|e| e.about(subject(row)))?;
                row.won_minor = Some(amount.amount_minor);
                row.closed_at = Some(now);
                Ok(Change::new(HistoryAction::Won, amount.to_string()).announcing(Announce::Won))
            })
            .await?;
        Ok(WinRegistrationResponse {
            registration: Some(registration),
        })
    }

    pub(super) async fn lose_registration(
        &self,
        ctx: CallContext,
        req: LoseRegistrationRequest,
    ) -> Result<LoseRegistrationResponse, ApiError> {
        let id = registration_id(&req.registration_id)?;
        let reason =
            registration::loss_reason(&req.reason).map_err(|e| ApiError::invalid("reason", e))?;
        let idem = Idempotency::new(&ctx, "LoseRegistration", &req);
        let registration = self
            .transition(&ctx, idem, id, Actor::Owner, |row, _, now| {
                row.status = row.status.lose().map_err(|e| e.about(subject(row)))?;
                row.status_note = reason.clone();
                row.closed_at = Some(now);
                Ok(Change::new(HistoryAction::Lost, reason).announcing(Announce::Lost))
            })
            .await?;
        Ok(LoseRegistrationResponse {
            registration: Some(registration),
        })
    }
}

fn subject(row: &RegistrationRow) -> String {
    format!("registration/{}", row.id)
}
