//! Rows and domain values to protobuf messages, and back for enums.

use chrono::{DateTime, Utc};
use prm_proto::onboarding as pb;
use prm_runtime::{Money, PartnerType, Role};

use crate::domain::application::ApplicationStatus;
use crate::domain::enablement::ContentKind;
use crate::domain::partner::PartnerStatus;
use crate::domain::terms::TermsKind;
use crate::domain::tiering::TierMetrics;
use crate::store::{
    AcceptanceRow, ApiKeyRow, ApplicationRow, AttemptRow, CertificationRow, ContentRow, CourseRow,
    PartnerRow, ProgramRow, TermsRow, TierRow, UserRow,
};

pub fn ts(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}

pub fn opt_ts(t: Option<DateTime<Utc>>) -> Option<prost_types::Timestamp> {
    t.map(ts)
}

pub fn opt_id(id: Option<uuid::Uuid>) -> String {
    id.map(|i| i.to_string()).unwrap_or_default()
}

fn partner_type(s: &str) -> i32 {
    PartnerType::parse(s)
        .map(PartnerType::to_proto)
        .unwrap_or_default()
}

pub fn partner_types(v: &[String]) -> Vec<i32> {
    v.iter().map(|s| partner_type(s)).collect()
}

pub fn role_to_proto(r: Role) -> i32 {
    (match r {
        Role::Admin => pb::Role::Admin,
        Role::PartnerManager => pb::Role::PartnerManager,
        Role::Finance => pb::Role::Finance,
        Role::Marketing => pb::Role::Marketing,
        Role::Analyst => pb::Role::Analyst,
        Role::PartnerAdmin => pb::Role::PartnerAdmin,
        Role::PartnerUser => pb::Role::PartnerUser,
    }) as i32
}

pub fn role_from_proto(v: i32) -> Result<Role, String> {
    match pb::Role::try_from(v) {
        Ok(pb::Role::Admin) => Ok(Role::Admin),
        Ok(pb::Role::PartnerManager) => Ok(Role::PartnerManager),
        Ok(pb::Role::Finance) => Ok(Role::Finance),
        Ok(pb::Role::Marketing) => Ok(Role::Marketing),
        Ok(pb::Role::Analyst) => Ok(Role::Analyst),
        Ok(pb::Role::PartnerAdmin) => Ok(Role::PartnerAdmin),
        Ok(pb::Role::PartnerUser) => Ok(Role::PartnerUser),
        Ok(pb::Role::Unspecified) => Err("must not contain ROLE_UNSPECIFIED".into()),
        Err(_) => Err(format!("unknown role {v}")),
    }
}

pub fn roles(stored: &[String]) -> Vec<Role> {
    stored.iter().filter_map(|r| Role::parse(r)).collect()
}

pub fn program(r: &ProgramRow) -> pb::Program {
    pb::Program {
        id: r.id.to_string(),
        name: r.name.clone(),
        description: r.description.clone(),
        currency: r.currency.clone(),
        tier_window_days: r.tier_window_days,
        demotion_grace_days: r.demotion_grace_days,
        created_at: Some(ts(r.created_at)),
    }
}

pub fn tier(r: &TierRow, currency: &str) -> pb::Tier {
    pb::Tier {
        id: r.id.to_string(),
        program_id: r.program_id.to_string(),
        name: r.name.clone(),
        rank: r.rank,
        requirements: Some(pb::TierRequirements {
            min_revenue_won: Some(Money::new(r.min_revenue_won_minor, currency).to_proto()),
            min_certified_people: r.min_certified_people,
            min_deals_won: r.min_deals_won,
        }),
        created_at: Some(ts(r.created_at)),
    }
}

pub fn metrics(m: &TierMetrics, currency: &str) -> pb::TierMetrics {
    pb::TierMetrics {
        revenue_won: Some(Money::new(m.revenue_minor, currency).to_proto()),
        certified_people: m.certified_people,
        deals_won: m.deals_won,
    }
}

pub fn application(r: &ApplicationRow) -> pb::Application {
    pb::Application {
        id: r.id.to_string(),
        company_name: r.company_name.clone(),
        domain: r.domain.clone(),
        country: r.country.clone(),
        partner_type: partner_type(&r.partner_type),
        contact_name: r.contact_name.clone(),
        contact_email: r.contact_email.clone(),
        status: ApplicationStatus::parse(&r.status)
            .map(ApplicationStatus::to_proto)
            .unwrap_or_default(),
        rejection_reason: r.rejection_reason.clone(),
        partner_id: opt_id(r.partner_id),
        submitted_at: Some(ts(r.submitted_at)),
        decided_at: opt_ts(r.decided_at),
        decided_by_user_id: opt_id(r.decided_by),
    }
}

pub fn partner(r: &PartnerRow) -> pb::Partner {
    pb::Partner {
        id: r.id.to_string(),
        application_id: r.application_id.to_string(),
        company_name: r.company_name.clone(),
        domain: r.domain.clone(),
        country: r.country.clone(),
        partner_type: partner_type(&r.partner_type),
        program_id: r.program_id.to_string(),
        tier_id: r.tier_id.to_string(),
        tier_name: r.tier_name.clone(),
        status: PartnerStatus::parse(&r.status)
            .map(PartnerStatus::to_proto)
            .unwrap_or_default(),
        status_reason: r.status_reason.clone(),
        approved_at: Some(ts(r.approved_at)),
        demotion_due_at: opt_ts(r.demotion_due_at),
        version: r.version,
    }
}

pub fn user(r: &UserRow) -> pb::User {
    pb::User {
        id: r.id.to_string(),
        partner_id: opt_id(r.partner_id),
        email: r.email.clone(),
        display_name: r.display_name.clone(),
        roles: roles(&r.roles).into_iter().map(role_to_proto).collect(),
        status: if r.status == "active" {
            pb::UserStatus::Active as i32
        } else {
            pb::UserStatus::Deactivated as i32
        },
        created_at: Some(ts(r.created_at)),
    }
}

pub fn api_key(r: &ApiKeyRow) -> pb::ApiKey {
    pb::ApiKey {
        id: r.id.to_string(),
        user_id: r.user_id.to_string(),
        partner_id: opt_id(r.partner_id),
        name: r.name.clone(),
        display_prefix: r.display_prefix.clone(),
        created_at: Some(ts(r.created_at)),
        last_used_at: opt_ts(r.last_used_at),
        revoked_at: opt_ts(r.revoked_at),
    }
}

fn terms_kind(s: &str) -> i32 {
    TermsKind::parse(s)
        .map(TermsKind::to_proto)
        .unwrap_or_default()
}

pub fn terms(r: &TermsRow) -> pb::Terms {
    pb::Terms {
        id: r.id.to_string(),
        kind: terms_kind(&r.kind),
        version: r.version.clone(),
        title: r.title.clone(),
        body: r.body.clone(),
        published_at: Some(ts(r.published_at)),
    }
}

pub fn acceptance(r: &AcceptanceRow) -> pb::TermsAcceptance {
    pb::TermsAcceptance {
        partner_id: r.partner_id.to_string(),
        terms_id: r.terms_id.to_string(),
        kind: terms_kind(&r.kind),
        version: r.version.clone(),
        accepted_by_user_id: r.accepted_by.to_string(),
        accepted_at: Some(ts(r.accepted_at)),
    }
}

fn visibility(min_tier_rank: i32, types: &[String]) -> pb::Visibility {
    pb::Visibility {
        min_tier_rank,
        partner_types: partner_types(types),
    }
}

pub fn content(r: &ContentRow) -> pb::Content {
    pb::Content {
        id: r.id.to_string(),
        title: r.title.clone(),
        kind: ContentKind::parse(&r.kind)
            .map(ContentKind::to_proto)
            .unwrap_or_default(),
        url: r.url.clone(),
        visibility: Some(visibility(r.min_tier_rank, &r.partner_types)),
        created_at: Some(ts(r.created_at)),
    }
}

pub fn course(r: &CourseRow) -> pb::Course {
    pb::Course {
        id: r.id.to_string(),
        title: r.title.clone(),
        description: r.description.clone(),
        pass_mark_percent: r.pass_mark_percent,
        certification_valid_days: r.certification_valid_days,
        required_for_onboarding: r.required_for_onboarding,
        visibility: Some(visibility(r.min_tier_rank, &r.partner_types)),
        created_at: Some(ts(r.created_at)),
    }
}

pub fn attempt(r: &AttemptRow) -> pb::CourseAttempt {
    pb::CourseAttempt {
        id: r.id.to_string(),
        course_id: r.course_id.to_string(),
        user_id: r.user_id.to_string(),
        partner_id: r.partner_id.to_string(),
        score_percent: r.score_percent,
        passed: r.passed,
        attempted_at: Some(ts(r.attempted_at)),
    }
}

pub fn certification(r: &CertificationRow, now: DateTime<Utc>) -> pb::Certification {
    pb::Certification {
        id: r.id.to_string(),
        course_id: r.course_id.to_string(),
        user_id: r.user_id.to_string(),
        partner_id: r.partner_id.to_string(),
        earned_at: Some(ts(r.earned_at)),
        expires_at: Some(ts(r.expires_at)),
        renewals: r.renewals,
        status: if r.expires_at > now {
            pb::CertificationStatus::Active as i32
        } else {
            pb::CertificationStatus::Expired as i32
        },
    }
}
