//! The ledger: entries are only ever inserted (a trigger refuses the
//! rest), and balances are sums over them.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, Result};
use crate::domain::ledger::EntryDeltas;
use crate::domain::ledger::{Balance, EntryKind};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EntryRow {
    pub id: Uuid,
    pub partner_id: Uuid,
    pub currency: String,
    pub kind: EntryKind,
    pub pending_delta: i64,
    pub available_delta: i64,
    pub commission_id: Option<Uuid>,
    pub payout_id: Option<Uuid>,
    pub note: String,
    pub created_at: DateTime<Utc>,
}

pub struct NewEntry<'a> {
    pub partner_id: Uuid,
    pub currency: &'a str,
    pub kind: EntryKind,
    pub amount_minor: i64,
    /// For reversals: whether the money had been approved.
    pub after_approval: bool,
    pub commission_id: Option<Uuid>,
    pub payout_id: Option<Uuid>,
    pub note: &'a str,
}

pub async fn append_entry(db: Db<'_>, e: &NewEntry<'_>, now: DateTime<Utc>) -> Result<EntryRow> {
    let d = e.kind.deltas(e.amount_minor, e.after_approval);
    sqlx::query_as(
        "INSERT INTO ledger_entries (id, partner_id, currency, kind, pending_delta,
             available_delta, commission_id, payout_id, note, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(e.partner_id)
    .bind(e.currency)
    .bind(e.kind)
    .bind(d.pending)
    .bind(d.available)
    .bind(e.commission_id)
    .bind(e.payout_id)
    .bind(e.note)
    .bind(now)
    .fetch_one(db)
    .await
}

/// A partner's balances per currency, summed from its entries.
pub async fn balances(db: Db<'_>, partner: Uuid) -> Result<Vec<(String, Balance)>> {
    let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT currency, coalesce(sum(pending_delta), 0)::bigint,
             coalesce(sum(available_delta), 0)::bigint,
             coalesce(-sum(available_delta) FILTER (WHERE kind IN ('paid_out', 'payout_returned')), 0)::bigint
         FROM ledger_entries WHERE partner_id = $1 GROUP BY currency ORDER BY currency",
    )
    .bind(partner)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(currency, pending, available, paid)| {
            (
                currency,
                Balance {
                    pending,
                    available,
                    paid,
                },
            )
        })
        .collect())
}

pub async fn list_entries(
    db: Db<'_>,
    partner: Uuid,
    after: Uuid,
    limit: i64,
) -> Result<Vec<EntryRow>> {
    sqlx::query_as(
        "SELECT * FROM ledger_entries WHERE partner_id = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(partner)
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await
}
