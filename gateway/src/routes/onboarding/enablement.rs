use prm_proto::onboarding as pb;

use crate::dto::*;
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::forward::{Call, Reply, created, ok, one};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Add to the enablement library (staff: admin, partner manager, marketing).
#[utoipa::path(post, path = "/v1/content", tag = "enablement", security(("api_key" = ["content.write"])),
    request_body = NewContent,
    responses((status = 201, description = "Created", body = Content)))]
pub async fn create_content(call: Call, JsonBody(b): JsonBody<NewContent>) -> Reply<Content> {
    let req = pb::CreateContentRequest {
        title: b.title.into(),
        kind: b.kind.to_proto(),
        url: b.url.into(),
        visibility: b.visibility.as_ref().map(Visibility::to_proto),
    };
    let r = call.send(req).await?;
    created(one(r.content)?)
}

/// The library as the caller's partner sees it (by tier and partner type).
#[utoipa::path(get, path = "/v1/content", tag = "enablement", security(("api_key" = ["content.read"])),
    params(PageQuery, LibraryQuery),
    responses((status = 200, description = "OK", body = ContentList)))]
pub async fn list_content(
    call: Call,
    QueryParams(page): QueryParams<PageQuery>,
    QueryParams(q): QueryParams<LibraryQuery>,
) -> Reply<ContentList> {
    let req = pb::ListContentRequest {
        page_size: page.page_size.unwrap_or_default(),
        page_token: page.page_token.unwrap_or_default(),
        partner_id: q.partner_id.unwrap_or_default().into(),
    };
    let r = call.send(req).await?;
    ok(List::of(&r.content, r.next_page_token))
}

/// Create a course (staff).
#[utoipa::path(post, path = "/v1/courses", tag = "enablement", security(("api_key" = ["courses.write"])),
    request_body = NewCourse,
    responses((status = 201, description = "Created", body = Course)))]
pub async fn create_course(call: Call, JsonBody(b): JsonBody<NewCourse>) -> Reply<Course> {
    let req = pb::CreateCourseRequest {
        title: b.title.into(),
        description: b.description.into(),
        pass_mark_percent: b.pass_mark_percent.into(),
        certification_valid_days: b.certification_valid_days.into(),
        required_for_onboarding: b.required_for_onboarding,
        visibility: b.visibility.as_ref().map(Visibility::to_proto),
    };
    let r = call.send(req).await?;
    created(one(r.course)?)
}

/// Courses the caller's partner can take.
#[utoipa::path(get, path = "/v1/courses", tag = "enablement", security(("api_key" = ["courses.read"])),
    params(PageQuery, LibraryQuery),
    responses((status = 200, description = "OK", body = CourseList)))]
pub async fn list_courses(
    call: Call,
    QueryParams(page): QueryParams<PageQuery>,
    QueryParams(q): QueryParams<LibraryQuery>,
) -> Reply<CourseList> {
    let req = pb::ListCoursesRequest {
        page_size: page.page_size.unwrap_or_default(),
        page_token: page.page_token.unwrap_or_default(),
        partner_id: q.partner_id.unwrap_or_default().into(),
    };
    let r = call.send(req).await?;
    ok(List::of(&r.courses, r.next_page_token))
}

/// Record an attempt at a course; a pass earns or renews the certification.
#[utoipa::path(post, path = "/v1/courses/{id}/attempts", tag = "enablement", security(("api_key" = ["course_attempts.write"])),
    params(("id" = Uuid, Path, description = "Course id")),
    request_body = NewAttempt,
    responses((status = 201, description = "Created", body = AttemptResult)))]
pub async fn record_attempt(
    call: Call,
    PathId(id): PathId,
    JsonBody(b): JsonBody<NewAttempt>,
) -> Reply<AttemptResult> {
    let req = pb::RecordCourseAttemptRequest {
        course_id: id,
        user_id: b.user_id.unwrap_or_default().into(),
        score_percent: b.score_percent.into(),
    };
    let r = call.send(req).await?;
    created(AttemptResult::from(&r))
}

/// Certifications: a partner's own, or any for staff.
#[utoipa::path(get, path = "/v1/certifications", tag = "enablement", security(("api_key" = ["certifications.read"])),
    params(PageQuery, CertificationQuery),
    responses((status = 200, description = "OK", body = CertificationList)))]
pub async fn list_certifications(
    call: Call,
    QueryParams(page): QueryParams<PageQuery>,
    QueryParams(q): QueryParams<CertificationQuery>,
) -> Reply<CertificationList> {
    let req = pb::ListCertificationsRequest {
        page_size: page.page_size.unwrap_or_default(),
        page_token: page.page_token.unwrap_or_default(),
        partner_id: q.partner_id.unwrap_or_default().into(),
        user_id: q.user_id.unwrap_or_default().into(),
        include_expired: q.include_expired.unwrap_or_default(),
    };
    let r = call.send(req).await?;
    ok(List::of(&r.certifications, r.next_page_token))
}

// ------------------------------------------------------------ JSON shapes

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Visibility {
    /// Lowest tier rank that sees it; 0 is everyone.
    #[serde(default)]
    pub min_tier_rank: Count,
    /// Empty: every partner type.
    #[serde(default)]
    pub partner_types: Vec<PartnerType>,
}

impl Visibility {
    pub fn to_proto(&self) -> pb::Visibility {
        pb::Visibility {
            min_tier_rank: self.min_tier_rank.into(),
            partner_types: self.partner_types.iter().map(|t| t.to_proto()).collect(),
        }
    }
    fn from_proto(v: &pb::Visibility) -> Self {
        Self {
            min_tier_rank: Count(v.min_tier_rank),
            partner_types: v
                .partner_types
                .iter()
                .filter_map(|t| PartnerType::from_proto(*t).ok())
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
            kind: ContentKind::from_proto(c.kind).ok(),
            url: c.url.clone(),
            visibility: c.visibility.as_ref().map(Visibility::from_proto),
            created_at: time(&c.created_at),
        }
    }
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContent {
    pub title: Title,
    pub kind: ContentKind,
    pub url: WebUrl,
    pub visibility: Option<Visibility>,
}

pub type ContentList = List<Content>;

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LibraryQuery {
    /// Staff: show what this partner sees.
    #[param(inline)]
    pub partner_id: Option<Id>,
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
    pub title: Title,
    #[serde(default)]
    pub description: CourseDescription,
    pub pass_mark_percent: PassMarkPercent,
    pub certification_valid_days: CertificationValidDays,
    #[serde(default)]
    pub required_for_onboarding: bool,
    pub visibility: Option<Visibility>,
}

pub type CourseList = List<Course>;

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAttempt {
    pub score_percent: ScorePercent,
    /// Defaults to the calling partner user; staff name one.
    pub user_id: Option<Id>,
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
            status: CertificationStatus::from_proto(c.status).ok(),
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
    #[param(inline)]
    pub partner_id: Option<Id>,
    #[param(inline)]
    pub user_id: Option<Id>,
    /// Include expired certifications.
    pub include_expired: Option<bool>,
}

pub type CertificationList = List<Certification>;
