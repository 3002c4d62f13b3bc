//! MDF's scheduled work, the sweep, on one replica at a time
//! (`ServiceHost::every_each`), one transaction per item under its row
//! lock, so two sweeps never act twice: the unspent balance of accrual
//! funds expires after the period (plus grace), and approved requests whose
//! claim deadline passed with no claim in play lapse, releasing their
//! reservations. `now` is the service clock's.

use std::time::Duration;

use chrono::{DateTime, Utc};
use prm_proto::events as ev;
use prm_runtime::wire::timestamp;
use prm_runtime::{Outbox, ServiceHost};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::config::MdfSettings;

use crate::domain::fund::FundKind;
use crate::domain::ledger::EntryKind;
use crate::domain::request::{MdfRequestStatus, deadline_passed};
use crate::operations;
use crate::store::{self, Entry};

/// Registers the sweep on `host`.
pub fn schedule(host: &mut ServiceHost, settings: &MdfSettings) {
    let every = Duration::from_secs(settings.sweep_interval_secs.max(1));
    host.every_each(
        "mdf.fund_expiry",
        every,
        |conn, now| Box::pin(funds_to_expire(conn, now)),
        |tx, outbox, id, now| {
            Box::pin(async move { expire_fund(tx, outbox, id, now).await.map(drop) })
        },
    );
    host.every_each(
        "mdf.request_lapse",
        every,
        |conn, now| Box::pin(requests_to_lapse(conn, now)),
        |tx, outbox, id, now| {
            Box::pin(async move { lapse_request(tx, outbox, id, now).await.map(drop) })
        },
    );
}

/// What one sweep step did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Swept {
    /// This much of the fund expired.
    FundExpired { fund_id: Uuid, expired_minor: i64 },
    /// The request lapsed, releasing this much.
    RequestLapsed {
        request_id: Uuid,
        released_minor: i64,
    },
    /// Nothing to do any more (another sweep, or a change since selection).
    Nothing,
}

pub async fn funds_to_expire(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    store::funds_past_expiry(conn, now).await
}

pub async fn expire_fund(
    tx: &mut PgConnection,
    outbox: &Outbox,
    id: Uuid,
    now: DateTime<Utc>,
) -> anyhow::Result<Swept> {
    let Some(fund) = store::fund_for_update(tx, id).await? else {
        return Ok(Swept::Nothing);
    };
    let available = fund.balance().available();
    if fund.kind != FundKind::Accrual || fund.expires_at.is_none_or(|e| e > now) || available <= 0 {
        return Ok(Swept::Nothing);
    }
    let fund = store::write_entry(
        tx,
        fund.id,
        &Entry::new(EntryKind::Expired, available).note("accrued funds expired"),
        now,
    )
    .await?;
    outbox
        .stage_for(
            tx,
            "funds.expired",
            &fund,
            &ev::MdfFundsExpired {
                fund_id: fund.id.to_string(),
                partner_id: fund.partner_id.to_string(),
                expired: Some(fund.money(available).to_proto()),
                expired_at: Some(timestamp(now)),
            },
        )
        .await?;
    Ok(Swept::FundExpired {
        fund_id: fund.id,
        expired_minor: available,
    })
}

pub async fn requests_to_lapse(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    store::requests_past_deadline(conn, now.date_naive()).await
}

pub async fn lapse_request(
    tx: &mut PgConnection,
    outbox: &Outbox,
    id: Uuid,
    now: DateTime<Utc>,
) -> anyhow::Result<Swept> {
    let Some(row) = store::request_for_update(tx, id).await? else {
        return Ok(Swept::Nothing);
    };
    if row.status != MdfRequestStatus::Approved
        || !deadline_passed(row.claim_deadline, now)
        || store::open_claim_on(tx, row.id).await?
    {
        return Ok(Swept::Nothing);
    }
    let released = row.approved_minor.unwrap_or(0);
    let row = operations::close_request(
        tx,
        outbox,
        row,
        MdfRequestStatus::Lapsed,
        "request.lapsed",
        "the claim deadline passed without a claim",
        None,
        now,
    )
    .await?;
    Ok(Swept::RequestLapsed {
        request_id: row.id,
        released_minor: released,
    })
}
