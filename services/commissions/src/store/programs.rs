//! Programs' commission settings.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, Result};
use crate::domain::settings::{AttributionModel, NewSettings, Thresholds};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SettingsRow {
    pub program_id: Uuid,
    pub allowed_domains: Vec<String>,
    pub attribution_model: AttributionModel,
    pub attribution_window_days: i32,
    pub min_seconds_to_convert: i32,
    pub max_clicks_per_source_hour: i32,
    pub min_payout_minor: i64,
    pub postback_token_sha256: Option<String>,
    pub postback_secret: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl SettingsRow {
    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            attribution_model: self.attribution_model,
            window_days: self.attribution_window_days,
            min_seconds_to_convert: self.min_seconds_to_convert,
            max_clicks_per_source_hour: self.max_clicks_per_source_hour,
        }
    }
}

pub async fn put_settings(
    db: Db<'_>,
    program: Uuid,
    s: &NewSettings,
    now: DateTime<Utc>,
) -> Result<SettingsRow> {
    sqlx::query_as(
        "INSERT INTO program_settings (program_id, allowed_domains, attribution_model,
             attribution_window_days, min_seconds_to_convert, max_clicks_per_source_hour,
             min_payout_minor, postback_token_sha256, postback_secret, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (program_id) DO UPDATE SET allowed_domains = $2, attribution_model = $3,
             attribution_window_days = $4, min_seconds_to_convert = $5,
             max_clicks_per_source_hour = $6, min_payout_minor = $7,
             postback_token_sha256 = coalesce($8, program_settings.postback_token_sha256),
             postback_secret = coalesce($9, program_settings.postback_secret),
             updated_at = $10, version = program_settings.version + 1
         RETURNING *",
    )
    .bind(program)
    .bind(&s.allowed_domains)
    .bind(s.thresholds.attribution_model)
    .bind(s.thresholds.window_days)
    .bind(s.thresholds.min_seconds_to_convert)
    .bind(s.thresholds.max_clicks_per_source_hour)
    .bind(s.min_payout_minor)
    .bind(&s.token_sha256)
    .bind(&s.secret)
    .bind(now)
    .fetch_one(db)
    .await
}

pub async fn settings(db: Db<'_>, program: Uuid) -> Result<Option<SettingsRow>> {
    sqlx::query_as("SELECT * FROM program_settings WHERE program_id = $1")
        .bind(program)
        .fetch_optional(db)
        .await
}
