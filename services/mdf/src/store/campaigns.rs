//! Deal registrations that carry a campaign code, as MDF hears of them
//! from deal registration's events, for ROI.

use uuid::Uuid;

use super::{Db, Result};

/// A registration carrying `campaign_code` was submitted. Redelivery
/// changes nothing.
pub async fn record_campaign_deal(
    db: Db<'_>,
    deal_id: Uuid,
    partner_id: Uuid,
    campaign_code: &str,
    currency: &str,
    estimated_minor: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO campaign_deals (deal_registration_id, partner_id, campaign_code, status,
                                     currency, estimated_minor)
         VALUES ($1, $2, $3, 'open', $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(deal_id)
    .bind(partner_id)
    .bind(campaign_code)
    .bind(currency)
    .bind(estimated_minor)
    .execute(db)
    .await
    .map(drop)
}

/// The deal was won for `won_minor` (recorded even when its registration
/// event was never seen, since the won event carries the code).
pub async fn campaign_deal_won(
    db: Db<'_>,
    deal_id: Uuid,
    partner_id: Uuid,
    campaign_code: &str,
    currency: &str,
    won_minor: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO campaign_deals (deal_registration_id, partner_id, campaign_code, status,
                                     currency, estimated_minor, won_minor)
         VALUES ($1, $2, $3, 'won', $4, $5, $5)
         ON CONFLICT (deal_registration_id) DO UPDATE SET status = 'won', won_minor = $5",
    )
    .bind(deal_id)
    .bind(partner_id)
    .bind(campaign_code)
    .bind(currency)
    .bind(won_minor)
    .execute(db)
    .await
    .map(drop)
}

/// The deal left the pipeline without being won (rejected, lost, expired).
pub async fn campaign_deal_closed(db: Db<'_>, deal_id: Uuid) -> Result<()> {
    sqlx::query(
        "UPDATE campaign_deals SET status = 'closed' WHERE deal_registration_id = $1 AND status = 'open'",
    )
    .bind(deal_id)
    .execute(db)
    .await
    .map(drop)
}

/// Sums over a partner's registrations carrying a campaign code.
#[derive(Clone, Debug, Default, sqlx::FromRow)]
pub struct CampaignTotals {
    pub registrations: i64,
    pub open_pipeline: i64,
    pub won_deals: i64,
    pub won_revenue: i64,
    pub other_currency: i64,
}

pub async fn campaign_totals(
    db: Db<'_>,
    partner_id: Uuid,
    campaign_code: &str,
    currency: &str,
) -> Result<CampaignTotals> {
    sqlx::query_as(
        "SELECT COUNT(*) FILTER (WHERE currency = $3) AS registrations,
                COALESCE(SUM(estimated_minor) FILTER (WHERE currency = $3 AND status = 'open'), 0)::bigint
                    AS open_pipeline,
                COUNT(*) FILTER (WHERE currency = $3 AND status = 'won') AS won_deals,
                COALESCE(SUM(won_minor) FILTER (WHERE currency = $3 AND status = 'won'), 0)::bigint
                    AS won_revenue,
                COUNT(*) FILTER (WHERE currency <> $3) AS other_currency
         FROM campaign_deals WHERE partner_id = $1 AND campaign_code = $2",
    )
    .bind(partner_id)
    .bind(campaign_code)
    .bind(currency)
    .fetch_one(db)
    .await
}
