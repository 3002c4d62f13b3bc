//! Onboarding's words: applications, users, the enablement library,
//! certifications, terms and the checklist. (Partner types and statuses,
//! which several services keep, are in the parent module.)

use prm_proto::onboarding as pb;

use super::vocabulary;

vocabulary! {
    pub enum ApplicationStatus: pb::ApplicationStatus as "application status" {
        Submitted = "submitted" => Submitted,
        Approved = "approved" => Approved,
        Rejected = "rejected" => Rejected,
    }
}

vocabulary! {
    pub enum UserStatus: pb::UserStatus as "user status" {
        Active = "active" => Active,
        Deactivated = "deactivated" => Deactivated,
    }
}

vocabulary! {
    pub enum ContentKind: pb::ContentKind as "content kind" {
        Deck = "deck" => Deck,
        Battlecard = "battlecard" => Battlecard,
        DemoScript = "demo_script" => DemoScript,
        Document = "document" => Document,
        Video = "video" => Video,
    }
}

vocabulary! {
    pub enum CertificationStatus: pb::CertificationStatus as "certification status" {
        Active = "active" => Active,
        Expired = "expired" => Expired,
    }
}

vocabulary! {
    pub enum TermsKind: pb::TermsKind as "terms kind" {
        PartnerAgreement = "partner_agreement" => PartnerAgreement,
        Disclosure = "disclosure" => Disclosure,
    }
}

// An item of the onboarding checklist.
vocabulary! {
    pub enum ChecklistItemKind: pb::ChecklistItemKind as "checklist item" {
        TermsAccepted = "terms_accepted" => TermsAccepted,
        FirstUserActive = "first_user_active" => FirstUserActive,
        RequiredCoursesPassed = "required_courses_passed" => RequiredCoursesPassed,
        FirstDealRegistered = "first_deal_registered" => FirstDealRegistered,
    }
}
