//! Credit shares of won deals, recomputed whole from the deal, the model
//! in force when it was won and the influencing conversions, whenever one
//! of them arrives.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{DayMoney, Db, Result};
use crate::domain::attribution::{self, Influence, MAX_WINDOW_DAYS, ShareRole, Weights, WonDeal};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct WonDealRow {
    pub deal_id: Uuid,
    pub partner_id: Uuid,
    pub customer_domain: Option<String>,
    pub registered_at: Option<DateTime<Utc>>,
    pub won_at: DateTime<Utc>,
    pub won_minor: i64,
    pub won_currency: String,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CreditRow {
    pub role: ShareRole,
    pub partner_id: Option<Uuid>,
    pub weight_bps: i32,
    pub amount_minor: i64,
    pub currency: String,
    pub reason: String,
    pub won_at: DateTime<Utc>,
    pub model_id: Option<Uuid>,
    pub model_version: i32,
}

pub async fn won_deal(db: Db<'_>, deal: Uuid) -> Result<Option<WonDealRow>> {
    sqlx::query_as(
        "SELECT deal_id, partner_id, customer_domain, registered_at, won_at, won_minor, won_currency
         FROM deals WHERE deal_id = $1 AND won_at IS NOT NULL AND won_minor IS NOT NULL",
    )
    .bind(deal)
    .fetch_optional(db)
    .await
}

/// Computes and stores the deal's shares (replacing earlier ones).
pub async fn credit_deal(db: Db<'_>, deal: Uuid) -> Result<()> {
    let Some(row) = won_deal(&mut *db, deal).await? else {
        return Ok(());
    };
    let model = super::model_at(&mut *db, row.won_at).await?;
    let weights = model.as_ref().map_or(Weights::BUILT_IN, |m| m.weights());
    let domain = row.customer_domain.clone().unwrap_or_default();
    let registered_at = row.registered_at.unwrap_or(row.won_at);
    let candidates: Vec<(Uuid, DateTime<Utc>)> = if domain.is_empty() {
        Vec::new()
    } else {
        sqlx::query_as(
            "SELECT partner_id, MIN(occurred_at) FROM domain_conversions
             WHERE customer_domain = $1 AND occurred_at BETWEEN $2 AND $3
             GROUP BY partner_id",
        )
        .bind(&domain)
        .bind(registered_at - weights.window())
        .bind(registered_at)
        .fetch_all(&mut *db)
        .await?
    };
    let candidates: Vec<Influence> = candidates
        .into_iter()
        .map(|(partner_id, first_at)| Influence {
            partner_id,
            first_at,
        })
        .collect();
    let won = WonDeal {
        partner_id: row.partner_id,
        customer_domain: domain,
        amount_minor: row.won_minor,
        registered_at,
    };
    let chosen = attribution::influencers(&won, &weights, &candidates);
    let shares = attribution::credit(&won, &weights, &chosen);
    // The rollups hold the credited revenue: take the old shares out of
    // them, and put the new ones in.
    let old: Vec<(Uuid, i64, String, DateTime<Utc>)> = sqlx::query_as(
        "DELETE FROM deal_credits WHERE deal_id = $1
         RETURNING partner_id, amount_minor, currency, won_at",
    )
    .bind(deal)
    .fetch_all(&mut *db)
    .await?
    .into_iter()
    .filter_map(|(p, a, c, w): (Option<Uuid>, i64, String, DateTime<Utc>)| p.map(|p| (p, a, c, w)))
    .collect();
    for (partner, amount, currency, won_at) in old {
        let m = DayMoney {
            credited_revenue: -amount,
            ..Default::default()
        };
        super::add_day_money(&mut *db, partner, won_at.date_naive(), &currency, &m).await?;
    }
    for (position, s) in shares.iter().enumerate() {
        sqlx::query(
            "INSERT INTO deal_credits (deal_id, position, role, partner_id, weight_bps,
                     amount_minor, currency, reason, won_at, model_id, model_version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(deal)
        .bind(position as i32)
        .bind(s.role)
        .bind(s.partner_id)
        .bind(s.weight_bps)
        .bind(s.amount_minor)
        .bind(&row.won_currency)
        .bind(&s.reason)
        .bind(row.won_at)
        .bind(model.as_ref().map(|m| m.id))
        .bind(model.as_ref().map_or(0, |m| m.version))
        .execute(&mut *db)
        .await?;
        if let Some(partner) = s.partner_id {
            let m = DayMoney {
                credited_revenue: s.amount_minor,
                ..Default::default()
            };
            super::add_day_money(
                &mut *db,
                partner,
                row.won_at.date_naive(),
                &row.won_currency,
                &m,
            )
            .await?;
        }
    }
    Ok(())
}

/// Won deals a conversion for `domain` at `at` may influence: registered
/// within the longest window after it.
pub async fn won_deals_influenced_by(
    db: Db<'_>,
    domain: &str,
    at: DateTime<Utc>,
) -> Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT deal_id FROM deals
         WHERE customer_domain = $1 AND registered_at BETWEEN $2 AND $3 AND won_at IS NOT NULL",
    )
    .bind(domain)
    .bind(at)
    .bind(at + Duration::days(i64::from(MAX_WINDOW_DAYS)))
    .fetch_all(db)
    .await
}

/// Deals won at or after `from` (a new model may apply to them).
pub async fn deals_won_since(db: Db<'_>, from: DateTime<Utc>) -> Result<Vec<Uuid>> {
    sqlx::query_scalar("SELECT deal_id FROM deals WHERE won_at >= $1")
        .bind(from)
        .fetch_all(db)
        .await
}

/// The deal's shares, in order; empty when it is not won (or unknown).
pub async fn deal_credits(db: Db<'_>, deal: Uuid) -> Result<Vec<CreditRow>> {
    sqlx::query_as(
        "SELECT role, partner_id, weight_bps, amount_minor, currency, reason, won_at, model_id,
                model_version
         FROM deal_credits WHERE deal_id = $1 ORDER BY position",
    )
    .bind(deal)
    .fetch_all(db)
    .await
}
