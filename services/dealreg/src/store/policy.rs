//! The deal registration policy: one row, or the defaults while staff have
//! not set one.

use uuid::Uuid;

use super::{Db, Result};
use crate::domain::policy::{Policy, SlaBreachPolicy};

#[derive(sqlx::FromRow)]
struct PolicyRow {
    approval_sla_business_hours: i32,
    on_sla_breach: SlaBreachPolicy,
    protection_days: i32,
    extension_days: i32,
    max_extensions: i32,
    expiring_notice_days: i32,
}

pub async fn policy(db: Db<'_>) -> Result<Policy> {
    let row: Option<PolicyRow> = sqlx::query_as(
        "SELECT approval_sla_business_hours, on_sla_breach, protection_days, extension_days,
                max_extensions, expiring_notice_days FROM policy",
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map_or_else(Policy::default, |r| Policy {
        approval_sla_business_hours: i64::from(r.approval_sla_business_hours),
        on_sla_breach: r.on_sla_breach,
        protection_days: i64::from(r.protection_days),
        extension_days: i64::from(r.extension_days),
        max_extensions: r.max_extensions,
        expiring_notice_days: i64::from(r.expiring_notice_days),
    }))
}

pub async fn save_policy(db: Db<'_>, p: &Policy, by: Uuid) -> Result<()> {
    sqlx::query(
        "INSERT INTO policy (id, approval_sla_business_hours, on_sla_breach, protection_days,
            extension_days, max_extensions, expiring_notice_days, updated_by)
         VALUES (true, $1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET approval_sla_business_hours = $1, on_sla_breach = $2,
            protection_days = $3, extension_days = $4, max_extensions = $5,
            expiring_notice_days = $6, updated_by = $7, updated_at = now()",
    )
    .bind(p.approval_sla_business_hours as i32)
    .bind(p.on_sla_breach)
    .bind(p.protection_days as i32)
    .bind(p.extension_days as i32)
    .bind(p.max_extensions)
    .bind(p.expiring_notice_days as i32)
    .bind(by)
    .execute(db)
    .await?;
    Ok(())
}
