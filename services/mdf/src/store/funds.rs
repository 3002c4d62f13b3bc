//! Funds and their ledger. An entry is the only way money moves: the
//! trigger `fund_entries_apply` adds it to the fund's per-kind sums (and an
//! allocation or accrual to its budget's) in the same statement, and the
//! CHECKs there refuse an entry that would overdraw either.

use chrono::{DateTime, NaiveDate, Utc};
use prm_runtime::Money;
use uuid::Uuid;

use super::{Db, Result, from_json};
use crate::domain::fund::{FundKind, FundRules};
use crate::domain::ledger::{AccrualTiers, Balance, EntryKind};

/// The CHECK that keeps a fund's available balance from going below zero.
pub const FUND_AVAILABLE_NONNEGATIVE: &str = "funds_available_nonnegative";

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FundRow {
    pub id: Uuid,
    pub budget_id: Uuid,
    pub partner_id: Uuid,
    pub kind: FundKind,
    pub currency: String,
    pub reimbursement_rate_bps: i32,
    /// JSON of [`AccrualTiers`]; read with [`FundRow::tiers`].
    pub accrual_tiers: String,
    pub accrual_grace_days: i32,
    pub expires_at: Option<DateTime<Utc>>,
    pub won_revenue_minor: i64,
    pub allocated_minor: i64,
    pub accrued_minor: i64,
    pub reserved_minor: i64,
    pub released_minor: i64,
    pub reimbursed_minor: i64,
    pub expired_minor: i64,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

impl FundRow {
    pub fn balance(&self) -> Balance {
        Balance {
            allocated: self.allocated_minor,
            accrued: self.accrued_minor,
            reserved: self.reserved_minor,
            released: self.released_minor,
            reimbursed: self.reimbursed_minor,
            expired: self.expired_minor,
        }
    }

    pub fn money(&self, amount_minor: i64) -> Money {
        Money::new(amount_minor, self.currency.clone())
    }

    pub fn tiers(&self) -> Result<AccrualTiers> {
        from_json("accrual_tiers", &self.accrual_tiers)
    }

    pub fn rules(&self) -> Result<FundRules> {
        Ok(FundRules {
            kind: self.kind,
            reimbursement_rate_bps: self.reimbursement_rate_bps,
            accrual_tiers: self.tiers()?,
            accrual_grace_days: self.accrual_grace_days,
        })
    }
}

prm_runtime::aggregate!(FundRow: "mdf_fund", partner = partner_id);

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EntryRow {
    pub id: Uuid,
    pub fund_id: Uuid,
    pub kind: EntryKind,
    pub amount_minor: i64,
    pub request_id: Option<Uuid>,
    pub claim_id: Option<Uuid>,
    pub deal_registration_id: Option<Uuid>,
    pub actor_user_id: Option<Uuid>,
    pub note: String,
    pub at: DateTime<Utc>,
}

/// One ledger entry to write.
#[derive(Clone, Debug)]
pub struct Entry<'a> {
    pub kind: EntryKind,
    pub amount_minor: i64,
    pub request_id: Option<Uuid>,
    pub claim_id: Option<Uuid>,
    pub deal_registration_id: Option<Uuid>,
    pub actor_user_id: Option<Uuid>,
    pub note: &'a str,
}

impl<'a> Entry<'a> {
    pub fn new(kind: EntryKind, amount_minor: i64) -> Self {
        Self {
            kind,
            amount_minor,
            request_id: None,
            claim_id: None,
            deal_registration_id: None,
            actor_user_id: None,
            note: "",
        }
    }

    pub fn request(mut self, id: Uuid) -> Self {
        self.request_id = Some(id);
        self
    }

    pub fn claim(mut self, id: Uuid) -> Self {
        self.claim_id = Some(id);
        self
    }

    pub fn deal(mut self, id: Uuid) -> Self {
        self.deal_registration_id = Some(id);
        self
    }

    pub fn by(mut self, user: Option<Uuid>) -> Self {
        self.actor_user_id = user;
        self
    }

    pub fn note(mut self, note: &'a str) -> Self {
        self.note = note;
        self
    }
}

/// Creates the partner's fund in the budget, or returns `None` when it
/// already exists (created concurrently, say).
pub async fn insert_fund(
    db: Db<'_>,
    budget_id: Uuid,
    partner_id: Uuid,
    currency: &str,
    rules: &FundRules,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Option<FundRow>> {
    let tiers = serde_json::to_string(&rules.accrual_tiers)
        .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query_as(
        "INSERT INTO funds (id, budget_id, partner_id, kind, currency, reimbursement_rate_bps,
                            accrual_tiers, accrual_grace_days, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (budget_id, partner_id) DO NOTHING RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(budget_id)
    .bind(partner_id)
    .bind(rules.kind)
    .bind(currency)
    .bind(rules.reimbursement_rate_bps)
    .bind(tiers)
    .bind(rules.accrual_grace_days)
    .bind(expires_at)
    .bind(now)
    .fetch_optional(db)
    .await
}

pub async fn fund(db: Db<'_>, id: Uuid) -> Result<Option<FundRow>> {
    sqlx::query_as("SELECT * FROM funds WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// A partner's fund in a budget, locked.
pub async fn fund_in_budget_for_update(
    db: Db<'_>,
    budget_id: Uuid,
    partner_id: Uuid,
) -> Result<Option<FundRow>> {
    sqlx::query_as("SELECT * FROM funds WHERE budget_id = $1 AND partner_id = $2 FOR UPDATE")
        .bind(budget_id)
        .bind(partner_id)
        .fetch_optional(db)
        .await
}

pub async fn list_funds(
    db: Db<'_>,
    partner: Option<Uuid>,
    budget: Option<Uuid>,
    after: Uuid,
    limit: i64,
) -> Result<Vec<FundRow>> {
    sqlx::query_as(
        "SELECT * FROM funds
         WHERE ($1::uuid IS NULL OR partner_id = $1) AND ($2::uuid IS NULL OR budget_id = $2)
           AND id > $3
         ORDER BY id LIMIT $4",
    )
    .bind(partner)
    .bind(budget)
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The partner's accrual funds in `currency` whose budget's period covers
/// `day`, locked, with their budgets' ids.
pub async fn accrual_funds_for_update(
    db: Db<'_>,
    partner_id: Uuid,
    day: NaiveDate,
    currency: &str,
) -> Result<Vec<FundRow>> {
    sqlx::query_as(
        "SELECT f.* FROM funds f JOIN budgets b ON b.id = f.budget_id
         WHERE f.partner_id = $1 AND f.kind = 'accrual' AND f.currency = $3
           AND b.starts_on <= $2 AND $2 <= b.ends_on
         ORDER BY f.id FOR UPDATE OF f",
    )
    .bind(partner_id)
    .bind(day)
    .bind(currency)
    .fetch_all(db)
    .await
}

/// Counts a won deal towards a fund; false when it already was.
pub async fn count_won_deal(
    db: Db<'_>,
    fund_id: Uuid,
    deal_id: Uuid,
    amount_minor: i64,
    accrued_minor: i64,
    won_at: DateTime<Utc>,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO fund_won_deals (fund_id, deal_registration_id, amount_minor, accrued_minor, won_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(fund_id)
    .bind(deal_id)
    .bind(amount_minor)
    .bind(accrued_minor)
    .bind(won_at)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Accrual funds past their expiry with money still available (sweep).
pub async fn funds_past_expiry(db: Db<'_>, now: DateTime<Utc>) -> Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT id FROM funds
         WHERE kind = 'accrual' AND expires_at <= $1
           AND allocated_minor + accrued_minor - reserved_minor + released_minor - expired_minor > 0
         ORDER BY expires_at LIMIT 1000",
    )
    .bind(now)
    .fetch_all(db)
    .await
}

pub async fn fund_for_update(db: Db<'_>, id: Uuid) -> Result<Option<FundRow>> {
    sqlx::query_as("SELECT * FROM funds WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn add_won_revenue(db: Db<'_>, fund_id: Uuid, amount_minor: i64) -> Result<()> {
    sqlx::query("UPDATE funds SET won_revenue_minor = won_revenue_minor + $2 WHERE id = $1")
        .bind(fund_id)
        .bind(amount_minor)
        .execute(db)
        .await
        .map(drop)
}

/// Writes one entry: the trigger moves the fund's balance, taking the
/// fund's row lock until the transaction ends, so handlers append their
/// entries last. Fails with [`FUND_AVAILABLE_NONNEGATIVE`] (or the budget's
/// CHECK) when the entry would overdraw.
pub async fn append_entry(
    db: Db<'_>,
    fund_id: Uuid,
    entry: &Entry<'_>,
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO fund_entries (id, fund_id, kind, amount_minor, request_id, claim_id,
                                   deal_registration_id, actor_user_id, note, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(Uuid::now_v7())
    .bind(fund_id)
    .bind(entry.kind)
    .bind(entry.amount_minor)
    .bind(entry.request_id)
    .bind(entry.claim_id)
    .bind(entry.deal_registration_id)
    .bind(entry.actor_user_id)
    .bind(entry.note)
    .bind(at)
    .execute(db)
    .await
    .map(drop)
}

/// As [`append_entry`], returning the fund as it is after the entry.
pub async fn write_entry(
    db: Db<'_>,
    fund_id: Uuid,
    entry: &Entry<'_>,
    at: DateTime<Utc>,
) -> Result<FundRow> {
    append_entry(&mut *db, fund_id, entry, at).await?;
    sqlx::query_as("SELECT * FROM funds WHERE id = $1")
        .bind(fund_id)
        .fetch_one(db)
        .await
}

pub async fn entries(db: Db<'_>, fund_id: Uuid, after: Uuid, limit: i64) -> Result<Vec<EntryRow>> {
    sqlx::query_as("SELECT * FROM fund_entries WHERE fund_id = $1 AND id > $2 ORDER BY id LIMIT $3")
        .bind(fund_id)
        .bind(after)
        .bind(limit)
        .fetch_all(db)
        .await
}

/// The fund's balance recomputed from its entries alone (what the stored
/// sums must always equal).
pub async fn balance_from_entries(db: Db<'_>, fund_id: Uuid) -> Result<Balance> {
    let sums: Vec<(EntryKind, i64)> = sqlx::query_as(
        "SELECT kind, SUM(amount_minor)::bigint FROM fund_entries WHERE fund_id = $1 GROUP BY kind",
    )
    .bind(fund_id)
    .fetch_all(db)
    .await?;
    Ok(Balance::of_entries(sums))
}
