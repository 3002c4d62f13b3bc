//! All of onboarding's SQL. Handlers call these inside their transactions;
//! nothing else touches the tables.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::tiering::{TierMetrics, TierRule};

type Db<'a> = &'a mut PgConnection;
pub type Result<T> = std::result::Result<T, sqlx::Error>;

// ------------------------------------------------------------------ rows

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ProgramRow {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub currency: String,
    pub tier_window_days: i32,
    pub demotion_grace_days: i32,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TierRow {
    pub id: Uuid,
    pub program_id: Uuid,
    pub name: String,
    pub rank: i32,
    pub min_revenue_won_minor: i64,
    pub min_certified_people: i32,
    pub min_deals_won: i32,
    pub created_at: DateTime<Utc>,
}

impl TierRow {
    pub fn rule(&self) -> TierRule {
        TierRule {
            id: self.id,
            name: self.name.clone(),
            rank: self.rank,
            min_revenue_minor: self.min_revenue_won_minor,
            min_certified_people: self.min_certified_people,
            min_deals_won: self.min_deals_won,
        }
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ApplicationRow {
    pub id: Uuid,
    pub company_name: String,
    pub domain: String,
    pub country: String,
    pub partner_type: String,
    pub contact_name: String,
    pub contact_email: String,
    pub status: String,
    pub rejection_reason: String,
    pub partner_id: Option<Uuid>,
    pub submitted_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<Uuid>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PartnerRow {
    pub id: Uuid,
    pub application_id: Uuid,
    pub company_name: String,
    pub domain: String,
    pub country: String,
    pub partner_type: String,
    pub program_id: Uuid,
    pub tier_id: Uuid,
    pub tier_name: String,
    pub tier_rank: i32,
    pub status: String,
    pub status_reason: String,
    pub approved_at: DateTime<Utc>,
    pub demotion_due_at: Option<DateTime<Utc>>,
    pub first_deal_at: Option<DateTime<Utc>>,
    pub onboarding_completed_at: Option<DateTime<Utc>>,
    pub version: i64,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub partner_id: Option<Uuid>,
    pub email: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub partner_id: Option<Uuid>,
    pub name: String,
    pub display_prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TermsRow {
    pub id: Uuid,
    pub kind: String,
    pub version: String,
    pub title: String,
    pub body: String,
    pub published_at: DateTime<Utc>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AcceptanceRow {
    pub partner_id: Uuid,
    pub terms_id: Uuid,
    pub kind: String,
    pub version: String,
    pub accepted_by: Uuid,
    pub accepted_at: DateTime<Utc>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ContentRow {
    pub id: Uuid,
    pub title: String,
    pub kind: String,
    pub url: String,
    pub min_tier_rank: i32,
    pub partner_types: Vec<String>,
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
    pub partner_types: Vec<String>,
    pub created_at: DateTime<Utc>,
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

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CertificationRow {
    pub id: Uuid,
    pub course_id: Uuid,
    pub user_id: Uuid,
    pub partner_id: Uuid,
    pub earned_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub renewals: i32,
}

// -------------------------------------------------------------- programs

pub struct NewProgram<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub currency: &'a str,
    pub tier_window_days: i32,
    pub demotion_grace_days: i32,
}

pub async fn insert_program(db: Db<'_>, p: NewProgram<'_>) -> Result<ProgramRow> {
    sqlx::query_as(
        "INSERT INTO programs (id, name, description, currency, tier_window_days, demotion_grace_days)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(p.name)
    .bind(p.description)
    .bind(p.currency)
    .bind(p.tier_window_days)
    .bind(p.demotion_grace_days)
    .fetch_one(db)
    .await
}

pub async fn program(db: Db<'_>, id: Uuid) -> Result<Option<ProgramRow>> {
    sqlx::query_as("SELECT * FROM programs WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn list_programs(
    db: Db<'_>,
    only: Option<Uuid>,
    after: Uuid,
    limit: i64,
) -> Result<Vec<ProgramRow>> {
    sqlx::query_as(
        "SELECT * FROM programs WHERE id > $1 AND ($2::uuid IS NULL OR id = $2) ORDER BY id LIMIT $3",
    )
    .bind(after)
    .bind(only)
    .bind(limit)
    .fetch_all(db)
    .await
}

// ----------------------------------------------------------------- tiers

pub async fn insert_tier(
    db: Db<'_>,
    program_id: Uuid,
    name: &str,
    rank: i32,
    m: TierMetrics,
) -> Result<TierRow> {
    sqlx::query_as(
        "INSERT INTO tiers (id, program_id, name, rank, min_revenue_won_minor, min_certified_people, min_deals_won)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(program_id)
    .bind(name)
    .bind(rank)
    .bind(m.revenue_minor)
    .bind(m.certified_people)
    .bind(m.deals_won)
    .fetch_one(db)
    .await
}

pub async fn update_tier_requirements(
    db: Db<'_>,
    id: Uuid,
    m: TierMetrics,
) -> Result<Option<TierRow>> {
    sqlx::query_as(
        "UPDATE tiers SET min_revenue_won_minor = $2, min_certified_people = $3, min_deals_won = $4,
                updated_at = now()
         WHERE id = $1 RETURNING *",
    )
    .bind(id)
    .bind(m.revenue_minor)
    .bind(m.certified_people)
    .bind(m.deals_won)
    .fetch_optional(db)
    .await
}

pub async fn tier(db: Db<'_>, id: Uuid) -> Result<Option<TierRow>> {
    sqlx::query_as("SELECT * FROM tiers WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Tiers ordered by program, then rank.
pub async fn tiers(db: Db<'_>, program_id: Option<Uuid>) -> Result<Vec<TierRow>> {
    sqlx::query_as(
        "SELECT * FROM tiers WHERE ($1::uuid IS NULL OR program_id = $1) ORDER BY program_id, rank",
    )
    .bind(program_id)
    .fetch_all(db)
    .await
}

// ---------------------------------------------------------- applications

pub async fn insert_application(
    db: Db<'_>,
    a: &crate::domain::application::NewApplication,
) -> Result<ApplicationRow> {
    sqlx::query_as(
        "INSERT INTO applications (id, company_name, domain, country, partner_type, contact_name, contact_email)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(&a.company_name)
    .bind(&a.domain)
    .bind(&a.country)
    .bind(a.partner_type.as_str())
    .bind(&a.contact_name)
    .bind(&a.contact_email)
    .fetch_one(db)
    .await
}

pub async fn application(db: Db<'_>, id: Uuid) -> Result<Option<ApplicationRow>> {
    sqlx::query_as("SELECT * FROM applications WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Locks the application for a decision, so concurrent decisions serialise.
pub async fn application_for_update(db: Db<'_>, id: Uuid) -> Result<Option<ApplicationRow>> {
    sqlx::query_as("SELECT * FROM applications WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn list_applications(
    db: Db<'_>,
    status: Option<&str>,
    after: Uuid,
    limit: i64,
) -> Result<Vec<ApplicationRow>> {
    sqlx::query_as(
        "SELECT * FROM applications WHERE id > $1 AND ($2::text IS NULL OR status = $2) ORDER BY id LIMIT $3",
    )
    .bind(after)
    .bind(status)
    .bind(limit)
    .fetch_all(db)
    .await
}

pub async fn decide_application(
    db: Db<'_>,
    id: Uuid,
    status: &str,
    reason: &str,
    partner_id: Option<Uuid>,
    decided_by: Uuid,
) -> Result<ApplicationRow> {
    sqlx::query_as(
        "UPDATE applications SET status = $2, rejection_reason = $3, partner_id = $4,
                decided_at = now(), decided_by = $5
         WHERE id = $1 RETURNING *",
    )
    .bind(id)
    .bind(status)
    .bind(reason)
    .bind(partner_id)
    .bind(decided_by)
    .fetch_one(db)
    .await
}

// -------------------------------------------------------------- partners

const PARTNER_SELECT: &str = "SELECT p.id, p.application_id, p.company_name, p.domain, p.country, p.partner_type,
        p.program_id, p.tier_id, t.name AS tier_name, t.rank AS tier_rank, p.status, p.status_reason,
        p.approved_at, p.demotion_due_at, p.first_deal_at, p.onboarding_completed_at, p.version
     FROM partners p JOIN tiers t ON t.id = p.tier_id";

pub async fn insert_partner(
    db: Db<'_>,
    app: &ApplicationRow,
    program_id: Uuid,
    tier_id: Uuid,
) -> Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO partners (id, application_id, company_name, domain, country, partner_type,
                               program_id, tier_id, approved_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())",
    )
    .bind(id)
    .bind(app.id)
    .bind(&app.company_name)
    .bind(&app.domain)
    .bind(&app.country)
    .bind(&app.partner_type)
    .bind(program_id)
    .bind(tier_id)
    .execute(db)
    .await?;
    Ok(id)
}

pub async fn partner(db: Db<'_>, id: Uuid) -> Result<Option<PartnerRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{PARTNER_SELECT} WHERE p.id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Locks the partner row for a state change.
pub async fn lock_partner(db: Db<'_>, id: Uuid) -> Result<bool> {
    Ok(
        sqlx::query("SELECT 1 FROM partners WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(db)
            .await?
            .is_some(),
    )
}

pub async fn list_partners(
    db: Db<'_>,
    only: Option<Uuid>,
    status: Option<&str>,
    program_id: Option<Uuid>,
    after: Uuid,
    limit: i64,
) -> Result<Vec<PartnerRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{PARTNER_SELECT} WHERE p.id > $1 AND ($2::uuid IS NULL OR p.id = $2)
            AND ($3::text IS NULL OR p.status = $3) AND ($4::uuid IS NULL OR p.program_id = $4)
         ORDER BY p.id LIMIT $5"
    )))
    .bind(after)
    .bind(only)
    .bind(status)
    .bind(program_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

pub async fn active_partner_ids(db: Db<'_>) -> Result<Vec<Uuid>> {
    sqlx::query_scalar("SELECT id FROM partners WHERE status = 'active' ORDER BY id")
        .fetch_all(db)
        .await
}

/// Sets status and reason, bumping the version.
pub async fn set_partner_status(db: Db<'_>, id: Uuid, status: &str, reason: &str) -> Result<i64> {
    sqlx::query_scalar(
        "UPDATE partners SET status = $2, status_reason = $3, version = version + 1 WHERE id = $1 RETURNING version",
    )
    .bind(id)
    .bind(status)
    .bind(reason)
    .fetch_one(db)
    .await
}

/// Sets tier and pending demotion, bumping the version.
pub async fn set_partner_tier(
    db: Db<'_>,
    id: Uuid,
    tier_id: Uuid,
    demotion_due_at: Option<DateTime<Utc>>,
) -> Result<i64> {
    sqlx::query_scalar(
        "UPDATE partners SET tier_id = $2, demotion_due_at = $3, version = version + 1 WHERE id = $1 RETURNING version",
    )
    .bind(id)
    .bind(tier_id)
    .bind(demotion_due_at)
    .fetch_one(db)
    .await
}

pub async fn set_first_deal(db: Db<'_>, id: Uuid, at: DateTime<Utc>) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE partners SET first_deal_at = $2 WHERE id = $1 AND first_deal_at IS NULL",
    )
    .bind(id)
    .bind(at)
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

pub async fn set_onboarding_completed(db: Db<'_>, id: Uuid, at: DateTime<Utc>) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE partners SET onboarding_completed_at = $2 WHERE id = $1 AND onboarding_completed_at IS NULL",
    )
    .bind(id)
    .bind(at)
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

// ---------------------------------------------------------------- users

pub async fn insert_user(
    db: Db<'_>,
    partner_id: Option<Uuid>,
    email: &str,
    display_name: &str,
    roles: &[String],
) -> Result<UserRow> {
    sqlx::query_as(
        "INSERT INTO users (id, partner_id, email, display_name, roles) VALUES ($1, $2, $3, $4, $5)
         RETURNING id, partner_id, email, display_name, roles, status, created_at",
    )
    .bind(Uuid::now_v7())
    .bind(partner_id)
    .bind(email)
    .bind(display_name)
    .bind(roles)
    .fetch_one(db)
    .await
}

pub async fn user(db: Db<'_>, id: Uuid) -> Result<Option<UserRow>> {
    sqlx::query_as("SELECT id, partner_id, email, display_name, roles, status, created_at FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn user_by_email(db: Db<'_>, email: &str) -> Result<Option<UserRow>> {
    sqlx::query_as(
        "SELECT id, partner_id, email, display_name, roles, status, created_at FROM users WHERE lower(email) = lower($1)",
    )
    .bind(email)
    .fetch_optional(db)
    .await
}

/// Users of a partner, or staff when `partner_id` is `None`.
pub async fn list_users(
    db: Db<'_>,
    partner_id: Option<Uuid>,
    after: Uuid,
    limit: i64,
) -> Result<Vec<UserRow>> {
    sqlx::query_as(
        "SELECT id, partner_id, email, display_name, roles, status, created_at FROM users
         WHERE id > $1 AND partner_id IS NOT DISTINCT FROM $2 ORDER BY id LIMIT $3",
    )
    .bind(after)
    .bind(partner_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

pub async fn deactivate_user(db: Db<'_>, id: Uuid) -> Result<UserRow> {
    sqlx::query_as(
        "UPDATE users SET status = 'deactivated', deactivated_at = now() WHERE id = $1
         RETURNING id, partner_id, email, display_name, roles, status, created_at",
    )
    .bind(id)
    .fetch_one(db)
    .await
}

// -------------------------------------------------------------- API keys

const API_KEY_COLUMNS: &str =
    "id, user_id, partner_id, name, display_prefix, created_at, last_used_at, revoked_at";

pub async fn insert_api_key(
    db: Db<'_>,
    user: &UserRow,
    name: &str,
    display_prefix: &str,
    secret_hash: &[u8],
    is_bootstrap: bool,
) -> Result<ApiKeyRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO api_keys (id, user_id, partner_id, name, display_prefix, secret_hash, is_bootstrap)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {API_KEY_COLUMNS}"
    )))
    .bind(Uuid::now_v7())
    .bind(user.id)
    .bind(user.partner_id)
    .bind(name)
    .bind(display_prefix)
    .bind(secret_hash)
    .bind(is_bootstrap)
    .fetch_one(db)
    .await
}

pub async fn api_key(db: Db<'_>, id: Uuid) -> Result<Option<ApiKeyRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await
}

pub async fn list_api_keys(
    db: Db<'_>,
    user_id: Option<Uuid>,
    partner_id: Option<Uuid>,
    after: Uuid,
    limit: i64,
) -> Result<Vec<ApiKeyRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {API_KEY_COLUMNS} FROM api_keys
         WHERE id > $1 AND ($2::uuid IS NULL OR user_id = $2) AND ($3::uuid IS NULL OR partner_id = $3)
         ORDER BY id LIMIT $4"
    )))
    .bind(after)
    .bind(user_id)
    .bind(partner_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

pub async fn revoke_api_key(db: Db<'_>, id: Uuid) -> Result<ApiKeyRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING {API_KEY_COLUMNS}"
    )))
    .bind(id)
    .fetch_one(db)
    .await
}

/// Revokes every live key of a user (on deactivation).
pub async fn revoke_user_keys(db: Db<'_>, user_id: Uuid) -> Result<Vec<ApiKeyRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE api_keys SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL RETURNING {API_KEY_COLUMNS}"
    )))
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// What an API key authenticates as, if it is live.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Credential {
    pub api_key_id: Uuid,
    pub last_used_at: Option<DateTime<Utc>>,
    pub user_id: Uuid,
    pub partner_id: Option<Uuid>,
    pub partner_status: Option<String>,
}

pub async fn credential_by_hash(db: Db<'_>, hash: &[u8]) -> Result<Option<Credential>> {
    sqlx::query_as(
        "SELECT k.id AS api_key_id, k.last_used_at, u.id AS user_id, u.partner_id, p.status AS partner_status
         FROM api_keys k
         JOIN users u ON u.id = k.user_id
         LEFT JOIN partners p ON p.id = u.partner_id
         WHERE k.secret_hash = $1 AND k.revoked_at IS NULL AND u.status = 'active'",
    )
    .bind(hash)
    .fetch_optional(db)
    .await
}

/// Records use at most once a minute per key, to keep authentication cheap.
pub async fn touch_api_key(db: Db<'_>, id: Uuid) -> Result<()> {
    sqlx::query(
        "UPDATE api_keys SET last_used_at = now()
         WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
    )
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn bootstrap_key_hash(db: Db<'_>) -> Result<Option<(Uuid, Vec<u8>)>> {
    sqlx::query_as("SELECT id, secret_hash FROM api_keys WHERE is_bootstrap AND revoked_at IS NULL")
        .fetch_optional(db)
        .await
}

// ----------------------------------------------------------------- terms

pub async fn insert_terms(
    db: Db<'_>,
    kind: &str,
    version: &str,
    title: &str,
    body: &str,
) -> Result<TermsRow> {
    sqlx::query_as(
        "INSERT INTO terms (id, kind, version, title, body) VALUES ($1, $2, $3, $4, $5) RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(kind)
    .bind(version)
    .bind(title)
    .bind(body)
    .fetch_one(db)
    .await
}

pub async fn list_terms(db: Db<'_>, kind: Option<&str>) -> Result<Vec<TermsRow>> {
    sqlx::query_as(
        "SELECT * FROM terms WHERE ($1::text IS NULL OR kind = $1) ORDER BY kind, published_at, id",
    )
    .bind(kind)
    .fetch_all(db)
    .await
}

pub async fn terms_by_version(db: Db<'_>, kind: &str, version: &str) -> Result<Option<TermsRow>> {
    sqlx::query_as("SELECT * FROM terms WHERE kind = $1 AND version = $2")
        .bind(kind)
        .bind(version)
        .fetch_optional(db)
        .await
}

/// The latest published version of a kind.
pub async fn latest_terms(db: Db<'_>, kind: &str) -> Result<Option<TermsRow>> {
    sqlx::query_as(
        "SELECT * FROM terms WHERE kind = $1 ORDER BY published_at DESC, id DESC LIMIT 1",
    )
    .bind(kind)
    .fetch_optional(db)
    .await
}

pub async fn insert_acceptance(
    db: Db<'_>,
    partner_id: Uuid,
    terms_id: Uuid,
    user_id: Uuid,
) -> Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO terms_acceptances (partner_id, terms_id, accepted_by) VALUES ($1, $2, $3)
         ON CONFLICT (partner_id, terms_id) DO NOTHING",
    )
    .bind(partner_id)
    .bind(terms_id)
    .bind(user_id)
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

pub async fn acceptance(
    db: Db<'_>,
    partner_id: Uuid,
    terms_id: Uuid,
) -> Result<Option<AcceptanceRow>> {
    sqlx::query_as(
        "SELECT a.partner_id, a.terms_id, t.kind, t.version, a.accepted_by, a.accepted_at
         FROM terms_acceptances a JOIN terms t ON t.id = a.terms_id
         WHERE a.partner_id = $1 AND a.terms_id = $2",
    )
    .bind(partner_id)
    .bind(terms_id)
    .fetch_optional(db)
    .await
}

// ------------------------------------------------------------- checklist

/// Marks an item done; returns false if it already was.
pub async fn complete_checklist_item(
    db: Db<'_>,
    partner_id: Uuid,
    item: &str,
    at: DateTime<Utc>,
) -> Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO checklist_items (partner_id, item, completed_at) VALUES ($1, $2, $3)
         ON CONFLICT (partner_id, item) DO NOTHING",
    )
    .bind(partner_id)
    .bind(item)
    .bind(at)
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

pub async fn checklist_items(db: Db<'_>, partner_id: Uuid) -> Result<Vec<(String, DateTime<Utc>)>> {
    sqlx::query_as("SELECT item, completed_at FROM checklist_items WHERE partner_id = $1")
        .bind(partner_id)
        .fetch_all(db)
        .await
}

// ----------------------------------------------------------------- deals

/// Records a deal outcome once (per deal and outcome).
pub async fn record_deal(
    db: Db<'_>,
    deal_id: Uuid,
    outcome: &str,
    partner_id: Uuid,
    amount: Option<(i64, &str)>,
    at: DateTime<Utc>,
) -> Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO partner_deals (deal_registration_id, outcome, partner_id, amount_minor, currency, occurred_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(deal_id)
    .bind(outcome)
    .bind(partner_id)
    .bind(amount.map(|a| a.0))
    .bind(amount.map(|a| a.1))
    .bind(at)
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// Revenue won (in `currency` only; no conversion), deals won and
/// certified people of a partner since `since`.
pub async fn tier_metrics(
    db: Db<'_>,
    partner_id: Uuid,
    currency: &str,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<TierMetrics> {
    let (revenue, deals, certified): (i64, i64, i64) = sqlx::query_as(
        "SELECT
            coalesce((SELECT sum(amount_minor) FROM partner_deals
                      WHERE partner_id = $1 AND outcome = 'won' AND currency = $2
                        AND occurred_at > $3 AND occurred_at <= $4), 0)::bigint,
            (SELECT count(*) FROM partner_deals
             WHERE partner_id = $1 AND outcome = 'won' AND occurred_at > $3 AND occurred_at <= $4),
            (SELECT count(DISTINCT user_id) FROM certifications
             WHERE partner_id = $1 AND expires_at > $4)",
    )
    .bind(partner_id)
    .bind(currency)
    .bind(since)
    .bind(now)
    .fetch_one(db)
    .await?;
    Ok(TierMetrics {
        revenue_minor: revenue,
        deals_won: i32::try_from(deals).unwrap_or(i32::MAX),
        certified_people: i32::try_from(certified).unwrap_or(i32::MAX),
    })
}

// ------------------------------------------------------------ enablement

pub async fn insert_content(
    db: Db<'_>,
    title: &str,
    kind: &str,
    url: &str,
    min_tier_rank: i32,
    partner_types: &[String],
) -> Result<ContentRow> {
    sqlx::query_as(
        "INSERT INTO content (id, title, kind, url, min_tier_rank, partner_types) VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(title)
    .bind(kind)
    .bind(url)
    .bind(min_tier_rank)
    .bind(partner_types)
    .fetch_one(db)
    .await
}

/// Library visibility: `$2` is the viewer's tier rank and `$3` its partner
/// type; a NULL rank (staff) sees everything.
const VISIBLE_TO_VIEWER: &str = "($2::int IS NULL OR (min_tier_rank <= $2
    AND (cardinality(partner_types) = 0 OR $3 = ANY(partner_types))))";

/// Content visible to a tier rank and partner type (`None`: everything).
pub async fn list_content(
    db: Db<'_>,
    viewer: Option<(i32, &str)>,
    after: Uuid,
    limit: i64,
) -> Result<Vec<ContentRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT * FROM content WHERE id > $1 AND {VISIBLE_TO_VIEWER} ORDER BY id LIMIT $4"
    )))
    .bind(after)
    .bind(viewer.map(|v| v.0))
    .bind(viewer.map(|v| v.1))
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
    pub min_tier_rank: i32,
    pub partner_types: &'a [String],
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
    .bind(c.min_tier_rank)
    .bind(c.partner_types)
    .fetch_one(db)
    .await
}

pub async fn course(db: Db<'_>, id: Uuid) -> Result<Option<CourseRow>> {
    sqlx::query_as("SELECT * FROM courses WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn list_courses(
    db: Db<'_>,
    viewer: Option<(i32, &str)>,
    after: Uuid,
    limit: i64,
) -> Result<Vec<CourseRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT * FROM courses WHERE id > $1 AND {VISIBLE_TO_VIEWER} ORDER BY id LIMIT $4"
    )))
    .bind(after)
    .bind(viewer.map(|v| v.0))
    .bind(viewer.map(|v| v.1))
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Required courses visible to the partner that nobody of it has passed yet.
pub async fn required_courses_outstanding(
    db: Db<'_>,
    partner_id: Uuid,
    tier_rank: i32,
    partner_type: &str,
) -> Result<i64> {
    sqlx::query_scalar(
        "SELECT count(*) FROM courses c
         WHERE c.required_for_onboarding
           AND c.min_tier_rank <= $2 AND (cardinality(c.partner_types) = 0 OR $3 = ANY(c.partner_types))
           AND NOT EXISTS (SELECT 1 FROM course_attempts a WHERE a.course_id = c.id AND a.partner_id = $1 AND a.passed)",
    )
    .bind(partner_id)
    .bind(tier_rank)
    .bind(partner_type)
    .fetch_one(db)
    .await
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

const CERT_COLUMNS: &str = "id, course_id, user_id, partner_id, earned_at, expires_at, renewals";

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
               renewals = certifications.renewals + 1, expired_announced_at = NULL
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

/// Certifications that have expired and not yet been announced; marks them.
pub async fn take_expired_certifications(
    db: Db<'_>,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<CertificationRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE certifications SET expired_announced_at = $1
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
