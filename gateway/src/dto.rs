//! The JSON shapes of the REST API (snake_case, money as
//! `{amount_minor, currency}`, times in RFC 3339, enums as lower-case
//! strings) and their conversion from the services' protobuf messages.

use chrono::{DateTime, Utc};
use prm_proto::common as pc;
use prm_proto::onboarding as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn time(t: &Option<prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    t.as_ref()
        .and_then(|t| DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
}

fn id(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// Declares a string enum with its protobuf mapping.
macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident : $proto:ty { $($variant:ident = $wire:literal => $pv:ident),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),* }

        impl $name {
            pub fn to_proto(self) -> i32 {
                match self { $(Self::$variant => <$proto>::$pv as i32),* }
            }
            pub fn from_proto(v: i32) -> Option<Self> {
                match <$proto>::try_from(v).ok()? {
                    $(<$proto>::$pv => Some(Self::$variant),)*
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $wire),* }
            }
        }
    };
}

wire_enum!(
    /// The kind of partner.
    PartnerType: pc::PartnerType {
        Reseller = "reseller" => Reseller,
        Si = "si" => Si,
        Technology = "technology" => Technology,
        Referral = "referral" => Referral,
        Affiliate = "affiliate" => Affiliate,
    }
);
wire_enum!(ApplicationStatus: pb::ApplicationStatus { Submitted = "submitted" => Submitted, Approved = "approved" => Approved, Rejected = "rejected" => Rejected });
wire_enum!(PartnerStatus: pb::PartnerStatus { Active = "active" => Active, Suspended = "suspended" => Suspended, Terminated = "terminated" => Terminated });
wire_enum!(
    /// Staff roles: admin, partner_manager, finance, marketing, analyst.
    /// Partner roles: partner_admin, partner_user.
    Role: pb::Role {
        Admin = "admin" => Admin,
        PartnerManager = "partner_manager" => PartnerManager,
        Finance = "finance" => Finance,
        Marketing = "marketing" => Marketing,
        Analyst = "analyst" => Analyst,
        PartnerAdmin = "partner_admin" => PartnerAdmin,
        PartnerUser = "partner_user" => PartnerUser,
    }
);
wire_enum!(UserStatus: pb::UserStatus { Active = "active" => Active, Deactivated = "deactivated" => Deactivated });
wire_enum!(TermsKind: pb::TermsKind { PartnerAgreement = "partner_agreement" => PartnerAgreement, Disclosure = "disclosure" => Disclosure });
wire_enum!(ContentKind: pb::ContentKind {
    Deck = "deck" => Deck,
    Battlecard = "battlecard" => Battlecard,
    DemoScript = "demo_script" => DemoScript,
    Document = "document" => Document,
    Video = "video" => Video,
});
wire_enum!(ChecklistItemKind: pb::ChecklistItemKind {
    TermsAccepted = "terms_accepted" => TermsAccepted,
    FirstUserActive = "first_user_active" => FirstUserActive,
    RequiredCoursesPassed = "required_courses_passed" => RequiredCoursesPassed,
    FirstDealRegistered = "first_deal_registered" => FirstDealRegistered,
});
wire_enum!(CertificationStatus: pb::CertificationStatus { Active = "active" => Active, Expired = "expired" => Expired });

/// Money in integer minor units of an ISO 4217 currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Money {
    #[schema(example = 125000)]
    pub amount_minor: i64,
    #[schema(example = "EUR")]
    pub currency: String,
}

impl Money {
    pub fn from_proto(m: &Option<pc::Money>) -> Option<Money> {
        m.as_ref().map(|m| Money {
            amount_minor: m.amount_minor,
            currency: m.currency.clone(),
        })
    }
    pub fn to_proto(&self) -> pc::Money {
        pc::Money {
            amount_minor: self.amount_minor,
            currency: self.currency.clone(),
        }
    }
}

/// Paging parameters of every list.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page (default 50, at most 500).
    pub page_size: Option<i32>,
    /// The `next_page_token` of the previous page.
    pub page_token: Option<String>,
}

// ------------------------------------------------------------ applications

/// The public partner application form.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationForm {
    #[schema(example = "Acme GmbH")]
    pub company_name: String,
    #[schema(example = "acme.example")]
    pub domain: String,
    /// ISO 3166-1 alpha-2.
    #[schema(example = "DE")]
    pub country: String,
    pub partner_type: PartnerType,
    #[schema(example = "Jane Doe")]
    pub contact_name: String,
    #[schema(example = "jane@acme.example")]
    pub contact_email: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Application {
    pub id: String,
    pub company_name: String,
    pub domain: String,
    pub country: String,
    pub partner_type: Option<PartnerType>,
    pub contact_name: String,
    pub contact_email: String,
    pub status: Option<ApplicationStatus>,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub rejection_reason: String,
    pub partner_id: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by_user_id: Option<String>,
}

impl From<&pb::Application> for Application {
    fn from(a: &pb::Application) -> Self {
        Self {
            id: a.id.clone(),
            company_name: a.company_name.clone(),
            domain: a.domain.clone(),
            country: a.country.clone(),
            partner_type: PartnerType::from_proto(a.partner_type),
            contact_name: a.contact_name.clone(),
            contact_email: a.contact_email.clone(),
            status: ApplicationStatus::from_proto(a.status),
            rejection_reason: a.rejection_reason.clone(),
            partner_id: id(&a.partner_id),
            submitted_at: time(&a.submitted_at),
            decided_at: time(&a.decided_at),
            decided_by_user_id: id(&a.decided_by_user_id),
        }
    }
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApplicationQuery {
    pub page_size: Option<i32>,
    pub page_token: Option<String>,
    /// Only applications in this status.
    pub status: Option<ApplicationStatus>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ApplicationList {
    pub items: Vec<Application>,
    /// Pass as `page_token` for the next page; absent on the last page.
    pub next_page_token: Option<String>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    pub program_id: String,
    /// Defaults to the program's entry tier.
    pub tier_id: Option<String>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    pub reason: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ApprovalResult {
    pub application: Application,
    pub partner: Partner,
    pub admin_user: User,
    /// The partner admin's API key; `secret` is shown only in this response.
    pub admin_api_key: CreatedApiKey,
}

// ---------------------------------------------------------------- partners

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Partner {
    pub id: String,
    pub application_id: String,
    pub company_name: String,
    pub domain: String,
    pub country: String,
    pub partner_type: Option<PartnerType>,
    pub program_id: String,
    pub tier_id: String,
    pub tier_name: String,
    pub status: Option<PartnerStatus>,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub status_reason: String,
    pub approved_at: Option<DateTime<Utc>>,
    /// Set while the partner is below its tier and due for demotion.
    pub demotion_due_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl From<&pb::Partner> for Partner {
    fn from(p: &pb::Partner) -> Self {
        Self {
            id: p.id.clone(),
            application_id: p.application_id.clone(),
            company_name: p.company_name.clone(),
            domain: p.domain.clone(),
            country: p.country.clone(),
            partner_type: PartnerType::from_proto(p.partner_type),
            program_id: p.program_id.clone(),
            tier_id: p.tier_id.clone(),
            tier_name: p.tier_name.clone(),
            status: PartnerStatus::from_proto(p.status),
            status_reason: p.status_reason.clone(),
            approved_at: time(&p.approved_at),
            demotion_due_at: time(&p.demotion_due_at),
            version: p.version,
        }
    }
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PartnerQuery {
    pub page_size: Option<i32>,
    pub page_token: Option<String>,
    pub status: Option<PartnerStatus>,
    pub program_id: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PartnerList {
    pub items: Vec<Partner>,
    pub next_page_token: Option<String>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    pub reason: String,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierAssignment {
    pub tier_id: String,
    pub reason: String,
}

// ---------------------------------------------------------------- identity

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: String,
    /// Absent for vendor staff.
    pub partner_id: Option<String>,
    pub email: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub status: Option<UserStatus>,
    pub created_at: Option<DateTime<Utc>>,
}

impl From<&pb::User> for User {
    fn from(u: &pb::User) -> Self {
        Self {
            id: u.id.clone(),
            partner_id: id(&u.partner_id),
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            roles: u
                .roles
                .iter()
                .filter_map(|r| Role::from_proto(*r))
                .collect(),
            status: UserStatus::from_proto(u.status),
            created_at: time(&u.created_at),
        }
    }
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub roles: Vec<Role>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct UserList {
    pub items: Vec<User>,
    pub next_page_token: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiKey {
    pub id: String,
    pub user_id: String,
    pub partner_id: Option<String>,
    pub name: String,
    /// The first characters of the secret, to recognise the key.
    pub display_prefix: String,
    pub created_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&pb::ApiKey> for ApiKey {
    fn from(k: &pb::ApiKey) -> Self {
        Self {
            id: k.id.clone(),
            user_id: k.user_id.clone(),
            partner_id: id(&k.partner_id),
            name: k.name.clone(),
            display_prefix: k.display_prefix.clone(),
            created_at: time(&k.created_at),
            last_used_at: time(&k.last_used_at),
            revoked_at: time(&k.revoked_at),
        }
    }
}

/// A new key and its secret, which is shown only once.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// Present only in the response that created the key (not on replays).
    pub secret: Option<String>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    #[schema(example = "CRM sync")]
    pub name: String,
    /// The partner user the key is for; defaults to the caller (partner users only).
    pub user_id: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyList {
    pub items: Vec<ApiKey>,
    pub next_page_token: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub user: User,
    /// The caller's partner; absent for vendor staff.
    pub partner: Option<Partner>,
    pub roles: Vec<Role>,
    pub api_key_id: Option<String>,
}

// ------------------------------------------------------------------- terms

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Terms {
    pub id: String,
    pub kind: Option<TermsKind>,
    pub version: String,
    pub title: String,
    pub body: String,
    pub published_at: Option<DateTime<Utc>>,
}

impl From<&pb::Terms> for Terms {
    fn from(t: &pb::Terms) -> Self {
        Self {
            id: t.id.clone(),
            kind: TermsKind::from_proto(t.kind),
            version: t.version.clone(),
            title: t.title.clone(),
            body: t.body.clone(),
            published_at: time(&t.published_at),
        }
    }
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTerms {
    pub kind: TermsKind,
    pub version: String,
    pub title: String,
    pub body: String,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TermsAcceptanceRequest {
    /// Defaults to `partner_agreement`.
    pub kind: Option<TermsKind>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TermsAcceptance {
    pub partner_id: String,
    pub terms_id: String,
    pub kind: Option<TermsKind>,
    pub version: String,
    pub accepted_by_user_id: String,
    pub accepted_at: Option<DateTime<Utc>>,
}

impl From<&pb::TermsAcceptance> for TermsAcceptance {
    fn from(a: &pb::TermsAcceptance) -> Self {
        Self {
            partner_id: a.partner_id.clone(),
            terms_id: a.terms_id.clone(),
            kind: TermsKind::from_proto(a.kind),
            version: a.version.clone(),
            accepted_by_user_id: a.accepted_by_user_id.clone(),
            accepted_at: time(&a.accepted_at),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TermsList {
    pub items: Vec<Terms>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RequiredTerms {
    pub terms: Option<Terms>,
    pub acceptance: Option<TermsAcceptance>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TermsStatus {
    pub required: Vec<RequiredTerms>,
    pub all_accepted: bool,
}

// --------------------------------------------------- programs and tiering

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Program {
    pub id: String,
    pub name: String,
    pub description: String,
    pub currency: String,
    pub tier_window_days: i32,
    pub demotion_grace_days: i32,
    pub created_at: Option<DateTime<Utc>>,
}

impl From<&pb::Program> for Program {
    fn from(p: &pb::Program) -> Self {
        Self {
            id: p.id.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            currency: p.currency.clone(),
            tier_window_days: p.tier_window_days,
            demotion_grace_days: p.demotion_grace_days,
            created_at: time(&p.created_at),
        }
    }
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProgram {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub currency: String,
    /// Days the tier rules look back (default 365).
    pub tier_window_days: Option<i32>,
    /// Days below its tier before a partner is demoted (default 90; 0 for none).
    pub demotion_grace_days: Option<i32>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ProgramList {
    pub items: Vec<Program>,
    pub next_page_token: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierRequirements {
    pub min_revenue_won: Option<Money>,
    #[serde(default)]
    pub min_certified_people: i32,
    #[serde(default)]
    pub min_deals_won: i32,
}

impl TierRequirements {
    pub fn to_proto(&self) -> pb::TierRequirements {
        pb::TierRequirements {
            min_revenue_won: self.min_revenue_won.as_ref().map(Money::to_proto),
            min_certified_people: self.min_certified_people,
            min_deals_won: self.min_deals_won,
        }
    }
    fn from_proto(r: &pb::TierRequirements) -> Self {
        Self {
            min_revenue_won: Money::from_proto(&r.min_revenue_won),
            min_certified_people: r.min_certified_people,
            min_deals_won: r.min_deals_won,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Tier {
    pub id: String,
    pub program_id: String,
    pub name: String,
    pub rank: i32,
    pub requirements: Option<TierRequirements>,
    pub created_at: Option<DateTime<Utc>>,
}

impl From<&pb::Tier> for Tier {
    fn from(t: &pb::Tier) -> Self {
        Self {
            id: t.id.clone(),
            program_id: t.program_id.clone(),
            name: t.name.clone(),
            rank: t.rank,
            requirements: t.requirements.as_ref().map(TierRequirements::from_proto),
            created_at: time(&t.created_at),
        }
    }
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTier {
    pub name: String,
    pub rank: i32,
    pub requirements: Option<TierRequirements>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierUpdate {
    pub requirements: TierRequirements,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TierList {
    pub items: Vec<Tier>,
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TierQuery {
    pub program_id: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TierMetrics {
    pub revenue_won: Option<Money>,
    pub certified_people: i32,
    pub deals_won: i32,
}

impl TierMetrics {
    fn from_proto(m: &pb::TierMetrics) -> Self {
        Self {
            revenue_won: Money::from_proto(&m.revenue_won),
            certified_people: m.certified_people,
            deals_won: m.deals_won,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TierGap {
    pub tier: Option<Tier>,
    /// What is still missing to qualify.
    pub missing: Option<TierMetrics>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TierEvaluation {
    pub partner_id: String,
    pub current_tier: Option<Tier>,
    pub window_start: Option<DateTime<Utc>>,
    pub window_end: Option<DateTime<Utc>>,
    pub metrics: Option<TierMetrics>,
    pub qualified_tier: Option<Tier>,
    pub next_tier: Option<TierGap>,
    pub demotion_due_at: Option<DateTime<Utc>>,
}

impl From<&pb::TierEvaluation> for TierEvaluation {
    fn from(e: &pb::TierEvaluation) -> Self {
        Self {
            partner_id: e.partner_id.clone(),
            current_tier: e.current_tier.as_ref().map(Tier::from),
            window_start: time(&e.window_start),
            window_end: time(&e.window_end),
            metrics: e.metrics.as_ref().map(TierMetrics::from_proto),
            qualified_tier: e.qualified_tier.as_ref().map(Tier::from),
            next_tier: e.next_tier.as_ref().map(|g| TierGap {
                tier: g.tier.as_ref().map(Tier::from),
                missing: g.missing.as_ref().map(TierMetrics::from_proto),
            }),
            demotion_due_at: time(&e.demotion_due_at),
        }
    }
}

/// What-if additions to a partner's real figures.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WhatIfQuery {
    /// Extra revenue won, in minor units of the program currency.
    pub what_if_revenue_minor: Option<i64>,
    /// Currency of `what_if_revenue_minor` (the program currency).
    pub what_if_currency: Option<String>,
    pub what_if_certified_people: Option<i32>,
    pub what_if_deals_won: Option<i32>,
}

#[derive(Clone, Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct TierReviewRequest {
    /// Review one partner; absent reviews every active partner.
    pub partner_id: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TierReviewOutcome {
    pub partner_id: String,
    pub from_tier_id: String,
    pub to_tier_id: String,
    /// promoted, demoted, demotion_scheduled, demotion_cancelled or unchanged.
    pub action: String,
    pub demotion_due_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TierReview {
    pub outcomes: Vec<TierReviewOutcome>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ChecklistItem {
    pub kind: Option<ChecklistItemKind>,
    pub done: bool,
    pub completed_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Checklist {
    pub partner_id: String,
    pub items: Vec<ChecklistItem>,
    pub completed: bool,
    pub completed_at: Option<DateTime<Utc>>,
    pub approved_at: Option<DateTime<Utc>>,
    pub first_deal_at: Option<DateTime<Utc>>,
    /// Seconds from approval to the first approved or won deal.
    pub time_to_first_deal_seconds: Option<i64>,
}

impl From<&pb::OnboardingChecklist> for Checklist {
    fn from(c: &pb::OnboardingChecklist) -> Self {
        Self {
            partner_id: c.partner_id.clone(),
            items: c
                .items
                .iter()
                .map(|i| ChecklistItem {
                    kind: ChecklistItemKind::from_proto(i.kind),
                    done: i.done,
                    completed_at: time(&i.completed_at),
                })
                .collect(),
            completed: c.completed,
            completed_at: time(&c.completed_at),
            approved_at: time(&c.approved_at),
            first_deal_at: time(&c.first_deal_at),
            time_to_first_deal_seconds: c.time_to_first_deal.as_ref().map(|d| d.seconds),
        }
    }
}

// -------------------------------------------------------------- enablement

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Visibility {
    /// Lowest tier rank that sees it; 0 is everyone.
    #[serde(default)]
    pub min_tier_rank: i32,
    /// Empty: every partner type.
    #[serde(default)]
    pub partner_types: Vec<PartnerType>,
}

impl Visibility {
    pub fn to_proto(&self) -> pb::Visibility {
        pb::Visibility {
            min_tier_rank: self.min_tier_rank,
            partner_types: self.partner_types.iter().map(|t| t.to_proto()).collect(),
        }
    }
    fn from_proto(v: &pb::Visibility) -> Self {
        Self {
            min_tier_rank: v.min_tier_rank,
            partner_types: v
                .partner_types
                .iter()
                .filter_map(|t| PartnerType::from_proto(*t))
                .collect(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Content {
    pub id: String,
    pub title: String,
    pub kind: Option<ContentKind>,
    pub url: String,
    pub visibility: Option<Visibility>,
    pub created_at: Option<DateTime<Utc>>,
}

impl From<&pb::Content> for Content {
    fn from(c: &pb::Content) -> Self {
        Self {
            id: c.id.clone(),
            title: c.title.clone(),
            kind: ContentKind::from_proto(c.kind),
            url: c.url.clone(),
            visibility: c.visibility.as_ref().map(Visibility::from_proto),
            created_at: time(&c.created_at),
        }
    }
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContent {
    pub title: String,
    pub kind: ContentKind,
    pub url: String,
    pub visibility: Option<Visibility>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ContentList {
    pub items: Vec<Content>,
    pub next_page_token: Option<String>,
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LibraryQuery {
    pub page_size: Option<i32>,
    pub page_token: Option<String>,
    /// Staff: show what this partner sees.
    pub partner_id: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Course {
    pub id: String,
    pub title: String,
    pub description: String,
    pub pass_mark_percent: i32,
    pub certification_valid_days: i32,
    pub required_for_onboarding: bool,
    pub visibility: Option<Visibility>,
    pub created_at: Option<DateTime<Utc>>,
}

impl From<&pb::Course> for Course {
    fn from(c: &pb::Course) -> Self {
        Self {
            id: c.id.clone(),
            title: c.title.clone(),
            description: c.description.clone(),
            pass_mark_percent: c.pass_mark_percent,
            certification_valid_days: c.certification_valid_days,
            required_for_onboarding: c.required_for_onboarding,
            visibility: c.visibility.as_ref().map(Visibility::from_proto),
            created_at: time(&c.created_at),
        }
    }
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCourse {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub pass_mark_percent: i32,
    pub certification_valid_days: i32,
    #[serde(default)]
    pub required_for_onboarding: bool,
    pub visibility: Option<Visibility>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CourseList {
    pub items: Vec<Course>,
    pub next_page_token: Option<String>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAttempt {
    pub score_percent: i32,
    /// Defaults to the caller.
    pub user_id: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CourseAttempt {
    pub id: String,
    pub course_id: String,
    pub user_id: String,
    pub partner_id: String,
    pub score_percent: i32,
    pub passed: bool,
    pub attempted_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Certification {
    pub id: String,
    pub course_id: String,
    pub user_id: String,
    pub partner_id: String,
    pub earned_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub renewals: i32,
    pub status: Option<CertificationStatus>,
}

impl From<&pb::Certification> for Certification {
    fn from(c: &pb::Certification) -> Self {
        Self {
            id: c.id.clone(),
            course_id: c.course_id.clone(),
            user_id: c.user_id.clone(),
            partner_id: c.partner_id.clone(),
            earned_at: time(&c.earned_at),
            expires_at: time(&c.expires_at),
            renewals: c.renewals,
            status: CertificationStatus::from_proto(c.status),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AttemptResult {
    pub attempt: CourseAttempt,
    /// The certification earned or renewed by a pass.
    pub certification: Option<Certification>,
}

impl From<&pb::RecordCourseAttemptResponse> for AttemptResult {
    fn from(r: &pb::RecordCourseAttemptResponse) -> Self {
        let a = r.attempt.clone().unwrap_or_default();
        Self {
            attempt: CourseAttempt {
                id: a.id,
                course_id: a.course_id,
                user_id: a.user_id,
                partner_id: a.partner_id,
                score_percent: a.score_percent,
                passed: a.passed,
                attempted_at: time(&a.attempted_at),
            },
            certification: r.certification.as_ref().map(Certification::from),
        }
    }
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CertificationQuery {
    pub page_size: Option<i32>,
    pub page_token: Option<String>,
    pub partner_id: Option<String>,
    pub user_id: Option<String>,
    /// Include expired certifications.
    pub include_expired: Option<bool>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CertificationList {
    pub items: Vec<Certification>,
    pub next_page_token: Option<String>,
}

pub fn token(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}
