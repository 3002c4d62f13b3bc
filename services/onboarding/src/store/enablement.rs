//! The library, courses, attempts and certifications. Which of them a
//! partner sees is the domain's rule (`domain::enablement::Viewer`); the
//! store lists them all, in id order, for the handlers to filter.

use chrono::{DateTime, Utc};
use prm_runtime::PartnerType;
use uuid::Uuid;

use super::{Db, Result};
use crate::domain::enablement::{ContentKind, Visibility};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ContentRow {
    pub id: Uuid,
    pub title: String,
    pub kind: ContentKind,
    pub url: String,
    pub min_tier_rank: i32,
    pub partner_types: Vec<PartnerType>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CourseRow {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub pass_mark_percent: i32,
    pub certification_valid_days: i32,
    pub required_for_onboarding: bool,
    pub min_tier_rank: i32,
    pub partner_types: Vec<PartnerType>,
    pub created_at: DateTime<Utc>,
}

fn visibility(min_tier_rank: i32, partner_types: &[PartnerType]) -> Visibility {
    Visibility {
        min_tier_rank,
        partner_types: partner_types.to_vec(),
    }
}

impl ContentRow {
    pub fn visibility(&self) -> Visibility {
        visibility(self.min_tier_rank, &self.partner_types)
    }
}

impl CourseRow {
    pub fn visibility(&self) -> Visibility {
        visibility(self.min_tier_rank, &self.partner_types)
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AttemptRow {
    pub id: Uuid,
    pub course_id: Uuid,
    pub user_id: Uuid,
    pub partner_id: Uuid,
    pub score_percent: i32,
    pub passed: bool,
    pub attempted_at: DateTime<Utc>,
}

/// An attempt is recorded once and never changes: its only version is 1.
impl prm_runtime::Aggregate for AttemptRow {
    const TYPE: &'static str = "course_attempt";
    fn aggregate_id(&self) -> Uuid {
        self.id
    }
    fn aggregate_version(&self) -> i64 {
        1
    }
    fn partner_id(&self) -> Option<Uuid> {
        Some(self.partner_id)
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CertificationRow {
    pub id: Uuid,
    pub course_id: Uuid,
    pub user_id: Uuid,
    pub partner_id: Uuid,
    pub earned_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub renewals: i32,
    pub version: i64,
}

prm_runtime::aggregate!(CertificationRow: "certification", partner = partner_id);

pub async fn insert_content(
    db: Db<'_>,
    title: &str,
    kind: ContentKind,
    url: &str,
    visibility: &Visibility,
) -> Result<ContentRow> {
    sqlx::query_as(
        "INSERT INTO content (id, title, kind, url, min_tier_rank, partner_types) VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(title)
    .bind(kind)
    .bind(url)
    .bind(visibility.min_tier_rank)
    .bind(&visibility.partner_types)
    .fetch_one(db)
    .await
}

/// Library items after `after`, in id order.
pub async fn list_content(db: Db<'_>, after: Uuid, limit: i64) -> Result<Vec<ContentRow>> {
    sqlx::query_as("SELECT * FROM content WHERE id > $1 ORDER BY id LIMIT $2")
        .bind(after)
        .bind(limit)
        .fetch_all(db)
        .await
}

pub struct NewCourse<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub pass_mark_percent: i32,
    pub certification_valid_days: i32,
    pub required_for_onboarding: bool,
    pub visibility: &'a Visibility,
}

pub async fn insert_course(db: Db<'_>, c: NewCourse<'_>) -> Result<CourseRow> {
    sqlx::query_as(
        "INSERT INTO courses (id, title, description, pass_mark_percent, certification_valid_days,
                              required_for_onboarding, min_tier_rank, partner_types)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(c.title)
    .bind(c.description)
    .bind(c.pass_mark_percent)
    .bind(c.certification_valid_days)
    .bind(c.required_for_onboarding)
    .bind(c.visibility.min_tier_rank)
    .bind(&c.visibility.partner_types)
    .fetch_one(db)
    .await
}

pub async fn course(db: Db<'_>, id: Uuid) -> Result<Option<CourseRow>> {
    sqlx::query_as("SELECT * FROM courses WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Courses after `after`, in id order.
pub async fn list_courses(db: Db<'_>, after: Uuid, limit: i64) -> Result<Vec<CourseRow>> {
    sqlx::query_as("SELECT * FROM courses WHERE id > $1 ORDER BY id LIMIT $2")
        .bind(after)
        .bind(limit)
        .fetch_all(db)
        .await
}

/// Every course required for onboarding, and whether someone of the
/// partner has passed it.
pub async fn required_courses(db: Db<'_>, partner_id: Uuid) -> Result<Vec<(Visibility, bool)>> {
    let rows: Vec<(i32, Vec<PartnerType>, bool)> = sqlx::query_as(
        "SELECT c.min_tier_rank, c.partner_types,
                EXISTS (SELECT 1 FROM course_attempts a
                        WHERE a.course_id = c.id AND a.partner_id = $1 AND a.passed)
         FROM courses c WHERE c.required_for_onboarding",
    )
    .bind(partner_id)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(rank, types, passed)| (visibility(rank, &types), passed))
        .collect())
}

pub async fn insert_attempt(
    db: Db<'_>,
    course_id: Uuid,
    user_id: Uuid,
    partner_id: Uuid,
    score: i32,
    passed: bool,
) -> Result<AttemptRow> {
    sqlx::query_as(
        "INSERT INTO course_attempts (id, course_id, user_id, partner_id, score_percent, passed)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(course_id)
    .bind(user_id)
    .bind(partner_id)
    .bind(score)
    .bind(passed)
    .fetch_one(db)
    .await
}

const CERT_COLUMNS: &str =
    "id, course_id, user_id, partner_id, earned_at, expires_at, renewals, version";

/// Earns or renews the certification of a user for a course. Returns the
/// row and whether it was a renewal.
pub async fn upsert_certification(
    db: Db<'_>,
    course_id: Uuid,
    user_id: Uuid,
    partner_id: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(CertificationRow, bool)> {
    let row: CertificationRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO certifications (id, course_id, user_id, partner_id, earned_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (course_id, user_id) DO UPDATE
           SET earned_at = EXCLUDED.earned_at, expires_at = EXCLUDED.expires_at,
               renewals = certifications.renewals + 1, expired_announced_at = NULL,
               version = certifications.version + 1
         RETURNING {CERT_COLUMNS}"
    )))
    .bind(Uuid::now_v7())
    .bind(course_id)
    .bind(user_id)
    .bind(partner_id)
    .bind(now)
    .bind(expires_at)
    .fetch_one(db)
    .await?;
    let renewal = row.renewals > 0;
    Ok((row, renewal))
}

pub async fn list_certifications(
    db: Db<'_>,
    partner_id: Option<Uuid>,
    user_id: Option<Uuid>,
    include_expired: bool,
    now: DateTime<Utc>,
    after: Uuid,
    limit: i64,
) -> Result<Vec<CertificationRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CERT_COLUMNS} FROM certifications
         WHERE id > $1 AND ($2::uuid IS NULL OR partner_id = $2) AND ($3::uuid IS NULL OR user_id = $3)
           AND ($4 OR expires_at > $5)
         ORDER BY id LIMIT $6"
    )))
    .bind(after)
    .bind(partner_id)
    .bind(user_id)
    .bind(include_expired)
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Certifications that have expired and not yet been announced; marks them
/// (bumping their version).
pub async fn take_expired_certifications(
    db: Db<'_>,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<CertificationRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE certifications SET expired_announced_at = $1, version = version + 1
         WHERE id IN (SELECT id FROM certifications
                      WHERE expires_at <= $1 AND expired_announced_at IS NULL
                      ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING {CERT_COLUMNS}"
    )))
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await
}
