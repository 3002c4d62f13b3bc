use chrono::{DateTime, Utc};
use prm_proto::dealreg as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::dto::*;
use crate::extract::{JsonBody, OptionalJsonBody, PathId, QueryParams};
use crate::forward::{Call, Reply, created, ok, one};

/// Register a deal (a partner for itself; partner managers for a partner
/// they name). A customer another registration or a direct account holds
/// is a 409 `CUSTOMER_CONFLICT`, which does not say who holds it.
#[utoipa::path(post, path = "/v1/deal-registrations", tag = "deal registration", security(("api_key" = ["deal_registrations.write"])),
    request_body = NewRegistration,
    responses((status = 201, description = "Registered", body = Registration)))]
pub async fn submit_registration(
    call: Call,
    JsonBody(body): JsonBody<NewRegistration>,
) -> Reply<Registration> {
    let req = pb::SubmitRegistrationRequest {
        partner_id: body.partner_id.unwrap_or_default().into(),
        customer_company: body.customer_company.into(),
        customer_domain: body.customer_domain.into(),
        contact: Some(body.contact.to_proto()),
        estimated_value: body.estimated_value.as_ref().map(Amount::to_proto),
        products: body.products.iter().map(ProductLine::to_proto).collect(),
        expected_close_date: body.expected_close_date.into(),
        notes: body.notes.unwrap_or_default().into(),
        mdf_reference: body.mdf_reference.unwrap_or_default().into(),
    };
    let r = call.send(req).await?;
    created(one(r.registration)?)
}

/// List registrations: a partner sees its own, staff every partner's.
#[utoipa::path(get, path = "/v1/deal-registrations", tag = "deal registration", security(("api_key" = ["deal_registrations.read"])),
    params(PageQuery, RegistrationQuery),
    responses((status = 200, description = "OK", body = RegistrationList)))]
pub async fn list_registrations(
    call: Call,
    QueryParams(page): QueryParams<PageQuery>,
    QueryParams(q): QueryParams<RegistrationQuery>,
) -> Reply<RegistrationList> {
    let req = pb::ListRegistrationsRequest {
        page_size: page.page_size.unwrap_or_default(),
        page_token: page.page_token.unwrap_or_default(),
        status: q.status.map(|s| s.to_proto()).unwrap_or_default(),
        partner_id: q.partner_id.unwrap_or_default().into(),
    };
    let r = call.send(req).await?;
    ok(List::of(&r.registrations, r.next_page_token))
}

/// Get a registration.
#[utoipa::path(get, path = "/v1/deal-registrations/{id}", tag = "deal registration", security(("api_key" = ["deal_registrations.read"])),
    params(("id" = Uuid, Path, description = "Registration id")),
    responses((status = 200, description = "OK", body = Registration)))]
pub async fn get_registration(call: Call, PathId(id): PathId) -> Reply<Registration> {
    let req = pb::GetRegistrationRequest {
        registration_id: id,
    };
    let r = call.send(req).await?;
    ok(one(r.registration)?)
}

/// Edit a registration that staff returned for more information: contact,
/// value, close date, products and notes (only what is sent changes).
#[utoipa::path(patch, path = "/v1/deal-registrations/{id}", tag = "deal registration", security(("api_key" = ["deal_registrations.write"])),
    params(("id" = Uuid, Path, description = "Registration id")),
    request_body = RegistrationEdit,
    responses((status = 200, description = "OK", body = Registration)))]
pub async fn update_registration(
    call: Call,
    PathId(id): PathId,
    JsonBody(body): JsonBody<RegistrationEdit>,
) -> Reply<Registration> {
    let req = pb::UpdateRegistrationRequest {
        registration_id: id,
        contact: body.contact.as_ref().map(CustomerContact::to_proto),
        estimated_value: body.estimated_value.as_ref().map(Amount::to_proto),
        replace_products: body.products.is_some(),
        products: body
            .products
            .unwrap_or_default()
            .iter()
            .map(ProductLine::to_proto)
            .collect(),
        expected_close_date: body.expected_close_date.unwrap_or_default().into(),
        notes: body.notes.map(String::from),
    };
    let r = call.send(req).await?;
    ok(one(r.registration)?)
}

/// Approve a submitted registration (partner managers): its protection
/// window starts.
#[utoipa::path(post, path = "/v1/deal-registrations/{id}/approve", tag = "deal registration", security(("api_key" = ["deal_registrations.write"])),
    params(("id" = Uuid, Path, description = "Registration id")),
    request_body(content = Option<DecisionNote>),
    responses((status = 200, description = "OK", body = Registration)))]
pub async fn approve_registration(
    call: Call,
    PathId(id): PathId,
    OptionalJsonBody(body): OptionalJsonBody<DecisionNote>,
) -> Reply<Registration> {
    let req = pb::ApproveRegistrationRequest {
        registration_id: id,
        note: body.note.unwrap_or_default().into(),
    };
    let r = call.send(req).await?;
    ok(one(r.registration)?)
}

/// Reject a submitted or returned registration, with a reason code.
#[utoipa::path(post, path = "/v1/deal-registrations/{id}/reject", tag = "deal registration", security(("api_key" = ["deal_registrations.write"])),
    params(("id" = Uuid, Path, description = "Registration id")),
    request_body = RegistrationRejection,
    responses((status = 200, description = "OK", body = Registration)))]
pub async fn reject_registration(
    call: Call,
    PathId(id): PathId,
    JsonBody(body): JsonBody<RegistrationRejection>,
) -> Reply<Registration> {
    let req = pb::RejectRegistrationRequest {
        registration_id: id,
        reason: body.reason.to_proto(),
        note: body.note.unwrap_or_default().into(),
    };
    let r = call.send(req).await?;
    ok(one(r.registration)?)
}

/// Return a submitted registration to the partner for more information;
/// the approval SLA pauses until it is resubmitted.
#[utoipa::path(post, path = "/v1/deal-registrations/{id}/return", tag = "deal registration", security(("api_key" = ["deal_registrations.write"])),
    params(("id" = Uuid, Path, description = "Registration id")),
    request_body = RegistrationReturn,
    responses((status = 200, description = "OK", body = Registration)))]
pub async fn return_registration(
    call: Call,
    PathId(id): PathId,
    JsonBody(body): JsonBody<RegistrationReturn>,
) -> Reply<Registration> {
    let req = pb::ReturnRegistrationRequest {
        registration_id: id,
        note: body.note.into(),
    };
    let r = call.send(req).await?;
    ok(one(r.registration)?)
}

/// Resubmit a returned registration (its partner).
#[utoipa::path(post, path = "/v1/deal-registrations/{id}/resubmit", tag = "deal registration", security(("api_key" = ["deal_registrations.write"])),
    params(("id" = Uuid, Path, description = "Registration id")),
    responses((status = 200, description = "OK", body = Registration)))]
pub async fn resubmit_registration(call: Call, PathId(id): PathId) -> Reply<Registration> {
    let req = pb::ResubmitRegistrationRequest {
        registration_id: id,
    };
    let r = call.send(req).await?;
    ok(one(r.registration)?)
}

/// Extend an approved registration's protection (partner managers; a
/// limited number of times).
#[utoipa::path(post, path = "/v1/deal-registrations/{id}/extend", tag = "deal registration", security(("api_key" = ["deal_registrations.write"])),
    params(("id" = Uuid, Path, description = "Registration id")),
    request_body(content = Option<DecisionNote>),
    responses((status = 200, description = "OK", body = Registration)))]
pub async fn extend_protection(
    call: Call,
    PathId(id): PathId,
    OptionalJsonBody(body): OptionalJsonBody<DecisionNote>,
) -> Reply<Registration> {
    let req = pb::ExtendProtectionRequest {
        registration_id: id,
        note: body.note.unwrap_or_default().into(),
    };
    let r = call.send(req).await?;
    ok(one(r.registration)?)
}

/// Record an approved registration as won, with the actual amount.
#[utoipa::path(post, path = "/v1/deal-registrations/{id}/win", tag = "deal registration", security(("api_key" = ["deal_registrations.write"])),
    params(("id" = Uuid, Path, description = "Registration id")),
    request_body = DealWon,
    responses((status = 200, description = "OK", body = Registration)))]
pub async fn win_registration(
    call: Call,
    PathId(id): PathId,
    JsonBody(body): JsonBody<DealWon>,
) -> Reply<Registration> {
    let req = pb::WinRegistrationRequest {
        registration_id: id,
        amount: Some(body.amount.to_proto()),
    };
    let r = call.send(req).await?;
    ok(one(r.registration)?)
}

/// Record an approved registration as lost, with the reason.
#[utoipa::path(post, path = "/v1/deal-registrations/{id}/lose", tag = "deal registration", security(("api_key" = ["deal_registrations.write"])),
    params(("id" = Uuid, Path, description = "Registration id")),
    request_body = DealLost,
    responses((status = 200, description = "OK", body = Registration)))]
pub async fn lose_registration(
    call: Call,
    PathId(id): PathId,
    JsonBody(body): JsonBody<DealLost>,
) -> Reply<Registration> {
    let req = pb::LoseRegistrationRequest {
        registration_id: id,
        reason: body.reason.into(),
    };
    let r = call.send(req).await?;
    ok(one(r.registration)?)
}

/// Every transition of a registration: who, when, from, to and why.
#[utoipa::path(get, path = "/v1/deal-registrations/{id}/history", tag = "deal registration", security(("api_key" = ["deal_registrations.read"])),
    params(("id" = Uuid, Path, description = "Registration id")),
    responses((status = 200, description = "OK", body = RegistrationTransitionList)))]
pub async fn registration_history(
    call: Call,
    PathId(id): PathId,
) -> Reply<RegistrationTransitionList> {
    let req = pb::GetRegistrationHistoryRequest {
        registration_id: id,
    };
    let r = call.send(req).await?;
    ok(RegistrationTransitionList::all(
        r.transitions
            .iter()
            .map(RegistrationTransition::from)
            .collect(),
    ))
}

// ------------------------------------------------------------ JSON shapes

/// The partner's contact at the customer.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerContact {
    pub name: PersonName,
    pub email: EmailAddress,
    #[serde(default)]
    pub phone: PhoneNumber,
}

impl CustomerContact {
    fn to_proto(&self) -> pb::Contact {
        pb::Contact {
            name: self.name.0.clone(),
            email: self.email.0.clone(),
            phone: self.phone.0.clone(),
        }
    }
}

/// A product on a registration: what, how many, and the line's amount.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductLine {
    pub product: ProductName,
    pub quantity: Quantity,
    pub amount: Amount,
}

impl ProductLine {
    fn to_proto(&self) -> pb::ProductLine {
        pb::ProductLine {
            product: self.product.0.clone(),
            quantity: self.quantity.0,
            amount: Some(self.amount.to_proto()),
        }
    }
}

/// A deal registration.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRegistration {
    /// Required from staff (partner managers register for this partner);
    /// a partner's own users leave it out.
    pub partner_id: Option<Id>,
    pub customer_company: CompanyName,
    /// Any host of the customer; the registrable domain (e.g. `acme.co.uk`
    /// for `eu.shop.acme.co.uk`) is what conflicts are checked on.
    pub customer_domain: DomainName,
    pub contact: CustomerContact,
    /// Required unless `products` are given; then it is their total and may
    /// be left out.
    pub estimated_value: Option<Amount>,
    #[schema(max_items = 100)]
    #[serde(default)]
    pub products: Vec<ProductLine>,
    /// From today to five years ahead.
    pub expected_close_date: CalendarDate,
    pub notes: Option<Notes>,
    /// The MDF activity or campaign the deal came from.
    pub mdf_reference: Option<MdfReference>,
}

/// What a partner may change while a registration is returned; only what
/// is sent changes (at least one field). `products` replaces every line.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct RegistrationEdit {
    #[schema(nullable = false)]
    pub contact: Option<CustomerContact>,
    #[schema(nullable = false)]
    pub estimated_value: Option<Amount>,
    #[schema(max_items = 100, nullable = false)]
    pub products: Option<Vec<ProductLine>>,
    /// From today to five years ahead.
    #[schema(nullable = false)]
    pub expected_close_date: Option<CalendarDate>,
    #[schema(nullable = false)]
    pub notes: Option<Notes>,
}

/// An optional note on a decision.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionNote {
    pub note: Option<Notes>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationRejection {
    pub reason: RejectionReason,
    pub note: Option<Notes>,
}

/// What the partner must add or fix.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationReturn {
    pub note: RequiredNote,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DealWon {
    /// The actual amount, in the registration's currency.
    pub amount: Amount,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DealLost {
    pub reason: RequiredNote,
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RegistrationQuery {
    pub status: Option<RegistrationStatus>,
    /// Staff only; a partner always sees its own.
    #[param(inline)]
    pub partner_id: Option<Id>,
}

/// A registration of another partner whose customer name is similar:
/// staff only.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct NearMatch {
    pub registration_id: String,
    pub customer_company: String,
    /// Trigram similarity of the normalised names, 0 to 1.
    pub similarity: f64,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Registration {
    pub id: String,
    pub partner_id: String,
    pub status: Option<RegistrationStatus>,
    pub customer_company: String,
    pub customer_domain: String,
    /// The registrable domain conflicts are checked on.
    pub customer_domain_key: String,
    pub contact: Option<CustomerContact>,
    pub estimated_value: Option<Money>,
    pub products: Vec<ProductLine>,
    #[schema(format = Date)]
    pub expected_close_date: String,
    pub notes: String,
    pub mdf_reference: String,
    pub submitted_at: Option<DateTime<Utc>>,
    /// When staff must decide by (the approval SLA, paused while returned).
    pub decision_due_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub protected_until: Option<DateTime<Utc>>,
    pub extensions_used: i32,
    pub rejection_reason: Option<RejectionReason>,
    /// Why it was rejected, returned or lost.
    pub status_note: String,
    pub won_amount: Option<Money>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Similar registrations exist and staff will look.
    pub needs_review: bool,
    /// Staff only.
    pub near_matches: Vec<NearMatch>,
    pub version: i64,
}

pub type RegistrationList = List<Registration>;

impl From<&pb::Registration> for Registration {
    fn from(r: &pb::Registration) -> Self {
        Self {
            id: r.id.clone(),
            partner_id: r.partner_id.clone(),
            status: RegistrationStatus::from_proto(r.status).ok(),
            customer_company: r.customer_company.clone(),
            customer_domain: r.customer_domain.clone(),
            customer_domain_key: r.customer_domain_key.clone(),
            contact: r.contact.as_ref().map(|c| CustomerContact {
                name: PersonName(c.name.clone()),
                email: EmailAddress(c.email.clone()),
                phone: PhoneNumber(c.phone.clone()),
            }),
            estimated_value: Money::from_proto(&r.estimated_value),
            products: r
                .products
                .iter()
                .filter_map(|l| {
                    Some(ProductLine {
                        product: ProductName(l.product.clone()),
                        quantity: Quantity(l.quantity),
                        amount: Amount::from_proto(&l.amount)?,
                    })
                })
                .collect(),
            expected_close_date: r.expected_close_date.clone(),
            notes: r.notes.clone(),
            mdf_reference: r.mdf_reference.clone(),
            submitted_at: time(&r.submitted_at),
            decision_due_at: time(&r.decision_due_at),
            decided_at: time(&r.decided_at),
            protected_until: time(&r.protected_until),
            extensions_used: r.extensions_used,
            rejection_reason: RejectionReason::from_proto(r.rejection_reason).ok(),
            status_note: r.status_note.clone(),
            won_amount: Money::from_proto(&r.won_amount),
            closed_at: time(&r.closed_at),
            needs_review: r.needs_review,
            near_matches: r
                .near_matches
                .iter()
                .map(|m| NearMatch {
                    registration_id: m.registration_id.clone(),
                    customer_company: m.customer_company.clone(),
                    similarity: m.similarity,
                })
                .collect(),
            version: r.version,
        }
    }
}

/// One step of a registration's history.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RegistrationTransition {
    /// submitted, returned, updated, resubmitted, approved, rejected,
    /// extended, won, lost, expired or sla_breached.
    pub action: String,
    pub from_status: Option<RegistrationStatus>,
    pub to_status: Option<RegistrationStatus>,
    /// The user who acted; null for the platform (the sweep).
    pub actor_user_id: Option<String>,
    pub note: String,
    pub at: Option<DateTime<Utc>>,
}

pub type RegistrationTransitionList = List<RegistrationTransition>;

impl From<&pb::Transition> for RegistrationTransition {
    fn from(t: &pb::Transition) -> Self {
        Self {
            action: t.action.clone(),
            from_status: RegistrationStatus::from_proto(t.from_status).ok(),
            to_status: RegistrationStatus::from_proto(t.to_status).ok(),
            actor_user_id: id(&t.actor_user_id),
            note: t.note.clone(),
            at: time(&t.at),
        }
    }
}
