//! Attribution models: staff's own data, versioned and effective-dated.
//! A rebuild keeps them.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, Result};
use crate::domain::attribution::{NewModel, Weights};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ModelRow {
    pub id: Uuid,
    pub version: i32,
    pub name: String,
    pub sourced_bps: i32,
    pub influencer_bps: i32,
    pub direct_bps: i32,
    pub window_days: i32,
    pub effective_from: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub created_by_user_id: Option<Uuid>,
}

impl ModelRow {
    pub fn weights(&self) -> Weights {
        Weights {
            sourced_bps: self.sourced_bps,
            influencer_bps: self.influencer_bps,
            direct_bps: self.direct_bps,
            window_days: self.window_days,
        }
    }
}

prm_runtime::aggregate!(ModelRow: "attribution_model", partner = none);

macro_rules! model_columns {
    () => {
        "id, version, name, sourced_bps, influencer_bps, direct_bps, window_days, \
         effective_from, created_at, created_by_user_id"
    };
}

/// Stores the next version. Versions are serialised by a lock on the
/// table, so two concurrent creates get consecutive versions.
pub async fn insert_model(
    db: Db<'_>,
    m: &NewModel,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<ModelRow> {
    sqlx::query("LOCK TABLE attribution_models IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *db)
        .await?;
    sqlx::query_as(concat!(
        "INSERT INTO attribution_models (id, version, name, sourced_bps, influencer_bps,
                 direct_bps, window_days, effective_from, created_at, created_by_user_id)
         SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, $5, $6, $7, $8, $9
         FROM attribution_models
         RETURNING ",
        model_columns!()
    ))
    .bind(Uuid::now_v7())
    .bind(&m.name)
    .bind(m.weights.sourced_bps)
    .bind(m.weights.influencer_bps)
    .bind(m.weights.direct_bps)
    .bind(m.weights.window_days)
    .bind(m.effective_from)
    .bind(now)
    .bind(by)
    .fetch_one(db)
    .await
}

/// In the order they were created (ids are UUIDv7).
pub async fn list_models(db: Db<'_>, after: Uuid, limit: i64) -> Result<Vec<ModelRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        model_columns!(),
        " FROM attribution_models WHERE id > $1 ORDER BY id LIMIT $2"
    ))
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The model in force at `at`: the latest effective on or before it (the
/// highest version among equals); None for the built-in model.
pub async fn model_at(db: Db<'_>, at: DateTime<Utc>) -> Result<Option<ModelRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        model_columns!(),
        " FROM attribution_models WHERE effective_from <= $1
          ORDER BY effective_from DESC, version DESC LIMIT 1"
    ))
    .bind(at)
    .fetch_optional(db)
    .await
}
