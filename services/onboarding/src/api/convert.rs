//! Rows and domain values to protobuf messages.

use chrono::{DateTime, Utc};
use prm_proto::onboarding as pb;
use prm_runtime::Money;
use prm_runtime::wire::{opt_id, opt_timestamp, timestamp};

use crate::domain::enablement::CertificationStatusRules;
use crate::domain::enablement::{CertificationStatus, Visibility};
use crate::domain::tiering::TierMetrics;
use crate::store::{
    AcceptanceRow, ApiKeyRow, ApplicationRow, AttemptRow, CertificationRow, ContentRow, CourseRow,
    PartnerRow, ProgramRow, TermsRow, TierRow, UserRow,
};

pub fn program(r: &ProgramRow) -> pb::Program {
    pb::Program {
        id: r.id.to_string(),
        name: r.name.clone(),
        description: r.description.clone(),
        currency: r.currency.clone(),
        tier_window_days: r.tier_window_days,
        demotion_grace_days: r.demotion_grace_days,
        created_at: Some(timestamp(r.created_at)),
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
        created_at: Some(timestamp(r.created_at)),
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
        partner_type: r.partner_type.to_proto(),
        contact_name: r.contact_name.clone(),
        contact_email: r.contact_email.clone(),
        status: r.status.to_proto(),
        rejection_reason: r.rejection_reason.clone(),
        partner_id: opt_id(r.partner_id),
        submitted_at: Some(timestamp(r.submitted_at)),
        decided_at: opt_timestamp(r.decided_at),
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
        partner_type: r.partner_type.to_proto(),
        program_id: r.program_id.to_string(),
        tier_id: r.tier_id.to_string(),
        tier_name: r.tier_name.clone(),
        status: r.status.to_proto(),
        status_reason: r.status_reason.clone(),
        approved_at: Some(timestamp(r.approved_at)),
        demotion_due_at: opt_timestamp(r.demotion_due_at),
        version: r.version,
    }
}

pub fn user(r: &UserRow) -> pb::User {
    pb::User {
        id: r.id.to_string(),
        partner_id: opt_id(r.partner_id),
        email: r.email.clone(),
        display_name: r.display_name.clone(),
        roles: r.roles.iter().map(|role| role.to_proto()).collect(),
        status: r.status.to_proto(),
        created_at: Some(timestamp(r.created_at)),
    }
}

pub fn api_key(r: &ApiKeyRow) -> pb::ApiKey {
    pb::ApiKey {
        id: r.id.to_string(),
        user_id: r.user_id.to_string(),
        partner_id: opt_id(r.partner_id),
        name: r.name.clone(),
        display_prefix: r.display_prefix.clone(),
        created_at: Some(timestamp(r.created_at)),
        last_used_at: opt_timestamp(r.last_used_at),
        revoked_at: opt_timestamp(r.revoked_at),
        scopes: r.scopes.clone(),
        expires_at: opt_timestamp(r.expires_at),
        allowed_cidrs: r.allowed_cidrs.clone(),
        last_used_ip: r.last_used_ip.clone().unwrap_or_default(),
    }
}

pub fn terms(r: &TermsRow) -> pb::Terms {
    pb::Terms {
        id: r.id.to_string(),
        kind: r.kind.to_proto(),
        version: r.version.clone(),
        title: r.title.clone(),
        body: r.body.clone(),
        published_at: Some(timestamp(r.published_at)),
    }
}

pub fn acceptance(r: &AcceptanceRow) -> pb::TermsAcceptance {
    pb::TermsAcceptance {
        partner_id: r.partner_id.to_string(),
        terms_id: r.terms_id.to_string(),
        kind: r.kind.to_proto(),
        version: r.version.clone(),
        accepted_by_user_id: r.accepted_by.to_string(),
        accepted_at: Some(timestamp(r.accepted_at)),
    }
}

fn visibility(v: &Visibility) -> pb::Visibility {
    pb::Visibility {
        min_tier_rank: v.min_tier_rank,
        partner_types: v.partner_types.iter().map(|t| t.to_proto()).collect(),
    }
}

pub fn content(r: &ContentRow) -> pb::Content {
    pb::Content {
        id: r.id.to_string(),
        title: r.title.clone(),
        kind: r.kind.to_proto(),
        url: r.url.clone(),
        visibility: Some(visibility(&r.visibility())),
        created_at: Some(timestamp(r.created_at)),
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
        visibility: Some(visibility(&r.visibility())),
        created_at: Some(timestamp(r.created_at)),
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
        attempted_at: Some(timestamp(r.attempted_at)),
    }
}

pub fn certification(r: &CertificationRow, now: DateTime<Utc>) -> pb::Certification {
    pb::Certification {
        id: r.id.to_string(),
        course_id: r.course_id.to_string(),
        user_id: r.user_id.to_string(),
        partner_id: r.partner_id.to_string(),
        earned_at: Some(timestamp(r.earned_at)),
        expires_at: Some(timestamp(r.expires_at)),
        renewals: r.renewals,
        status: CertificationStatus::at(r.expires_at, now).to_proto(),
    }
}
