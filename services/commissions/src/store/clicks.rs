//! Clicks, written in batches, and what attribution reads of them.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, Result};
use crate::domain::attribution::ClickFacts;

/// A click ready to store (its link known, its source and bot flag
/// computed).
#[derive(Clone, Debug)]
pub struct NewClick {
    pub id: Uuid,
    pub link_id: Uuid,
    pub program_id: Uuid,
    pub partner_id: Uuid,
    pub clicked_at: DateTime<Utc>,
    pub hour: DateTime<Utc>,
    pub ip_hash: String,
    pub user_agent: String,
    pub referrer: String,
    pub sub_ids: [String; 5],
    pub source_hash: String,
    pub bot: bool,
}

/// What a batch stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recorded {
    pub recorded: i64,
    pub counted: i64,
}

/// Stores a batch of clicks in one transaction. Clicks already stored (a
/// retried batch) are skipped. A click is counted when it is not a bot's
/// and is the first of its source on its link in its hour; the hourly
/// counts per link are kept beside.
pub async fn record_clicks(db: Db<'_>, clicks: &[NewClick]) -> Result<Recorded> {
    if clicks.is_empty() {
        return Ok(Recorded::default());
    }
    // The first click of each (link, source, hour) not seen before.
    let mut keys = HashSet::new();
    let humans: Vec<&NewClick> = clicks
        .iter()
        .filter(|c| !c.bot && keys.insert((c.link_id, c.source_hash.clone(), c.hour)))
        .collect();
    let new_keys: Vec<(Uuid, String, DateTime<Utc>)> = sqlx::query_as(
        "INSERT INTO click_sources (link_id, source_hash, hour)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[])
         ON CONFLICT DO NOTHING RETURNING link_id, source_hash, hour",
    )
    .bind(humans.iter().map(|c| c.link_id).collect::<Vec<_>>())
    .bind(
        humans
            .iter()
            .map(|c| c.source_hash.clone())
            .collect::<Vec<_>>(),
    )
    .bind(humans.iter().map(|c| c.hour).collect::<Vec<_>>())
    .fetch_all(&mut *db)
    .await?;
    let mut new_keys: HashSet<(Uuid, String, DateTime<Utc>)> = new_keys.into_iter().collect();
    let counted: Vec<bool> = clicks
        .iter()
        .map(|c| !c.bot && new_keys.remove(&(c.link_id, c.source_hash.clone(), c.hour)))
        .collect();
    let col = |f: fn(&NewClick) -> String| clicks.iter().map(f).collect::<Vec<String>>();
    let stored: Vec<(Uuid, DateTime<Utc>, bool)> = sqlx::query_as(
        "INSERT INTO clicks (id, link_id, program_id, partner_id, clicked_at, ip_hash, user_agent,
             referrer, sub1, sub2, sub3, sub4, sub5, source_hash, bot, counted)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::timestamptz[],
             $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
             $13::text[], $14::text[], $15::bool[], $16::bool[])
         ON CONFLICT (id) DO NOTHING
         RETURNING link_id, date_trunc('hour', clicked_at, 'UTC'), counted",
    )
    .bind(clicks.iter().map(|c| c.id).collect::<Vec<_>>())
    .bind(clicks.iter().map(|c| c.link_id).collect::<Vec<_>>())
    .bind(clicks.iter().map(|c| c.program_id).collect::<Vec<_>>())
    .bind(clicks.iter().map(|c| c.partner_id).collect::<Vec<_>>())
    .bind(clicks.iter().map(|c| c.clicked_at).collect::<Vec<_>>())
    .bind(col(|c| c.ip_hash.clone()))
    .bind(col(|c| c.user_agent.clone()))
    .bind(col(|c| c.referrer.clone()))
    .bind(col(|c| c.sub_ids[0].clone()))
    .bind(col(|c| c.sub_ids[1].clone()))
    .bind(col(|c| c.sub_ids[2].clone()))
    .bind(col(|c| c.sub_ids[3].clone()))
    .bind(col(|c| c.sub_ids[4].clone()))
    .bind(col(|c| c.source_hash.clone()))
    .bind(clicks.iter().map(|c| c.bot).collect::<Vec<_>>())
    .bind(&counted)
    .fetch_all(&mut *db)
    .await?;
    let mut hours: std::collections::BTreeMap<(Uuid, DateTime<Utc>), (i64, i64)> =
        std::collections::BTreeMap::new();
    for (link, hour, counted) in &stored {
        let e = hours.entry((*link, *hour)).or_default();
        e.0 += 1;
        e.1 += i64::from(*counted);
    }
    sqlx::query(
        "INSERT INTO click_hours (link_id, hour, clicks, counted)
         SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::bigint[], $4::bigint[])
         ON CONFLICT (link_id, hour) DO UPDATE
             SET clicks = click_hours.clicks + excluded.clicks,
                 counted = click_hours.counted + excluded.counted,
                 published = false",
    )
    .bind(hours.keys().map(|k| k.0).collect::<Vec<_>>())
    .bind(hours.keys().map(|k| k.1).collect::<Vec<_>>())
    .bind(hours.values().map(|v| v.0).collect::<Vec<_>>())
    .bind(hours.values().map(|v| v.1).collect::<Vec<_>>())
    .execute(&mut *db)
    .await?;
    Ok(Recorded {
        recorded: stored.len() as i64,
        counted: stored.iter().filter(|s| s.2).count() as i64,
    })
}

/// A click with what attribution needs; and its program and source.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ClickRow {
    pub click_id: Uuid,
    pub link_id: Uuid,
    pub partner_id: Uuid,
    pub program_id: Uuid,
    pub source_hash: String,
    pub clicked_at: DateTime<Utc>,
    pub bot: bool,
}

impl ClickRow {
    /// The click for attribution, with its source's clicks in its hour.
    pub fn facts(&self, source_clicks_in_hour: i64) -> ClickFacts {
        ClickFacts {
            click_id: self.click_id,
            link_id: self.link_id,
            partner_id: self.partner_id,
            clicked_at: self.clicked_at,
            bot: self.bot,
            source_clicks_in_hour,
        }
    }
}

/// The click `$1`, then (if the model would credit it instead) the same
/// source's latest human click in the program between `$2` and `$3` (the
/// attribution window of a conversion).
///
/// The rival is found per click (`LATERAL … ORDER BY … LIMIT 1` on
/// `clicks_source`), so it is one bounded index read whatever the
/// statistics say about the source: a source that flooded the table must
/// not turn every postback into a scan of it. A bot's source has no human
/// clicks (the source includes the User-Agent), so a bot is not looked
/// past.
pub const CLICK_AND_LATEST_RIVAL: &str = "
    SELECT c.id AS click_id, c.link_id, c.partner_id, c.program_id, c.source_hash, c.clicked_at, c.bot
    FROM clicks c WHERE c.id = $1
    UNION ALL
    SELECT r.* FROM clicks c CROSS JOIN LATERAL (
        SELECT x.id, x.link_id, x.partner_id, x.program_id, x.source_hash, x.clicked_at, x.bot
        FROM clicks x
        WHERE x.program_id = c.program_id AND x.source_hash = c.source_hash
          AND x.clicked_at >= $2 AND x.clicked_at <= $3 AND NOT x.bot AND x.id <> c.id
        ORDER BY x.clicked_at DESC, x.id DESC LIMIT 1) r
    WHERE c.id = $1 AND NOT c.bot";

/// As [`CLICK_AND_LATEST_RIVAL`], with the source's earliest human click.
pub const CLICK_AND_EARLIEST_RIVAL: &str = "
    SELECT c.id AS click_id, c.link_id, c.partner_id, c.program_id, c.source_hash, c.clicked_at, c.bot
    FROM clicks c WHERE c.id = $1
    UNION ALL
    SELECT r.* FROM clicks c CROSS JOIN LATERAL (
        SELECT x.id, x.link_id, x.partner_id, x.program_id, x.source_hash, x.clicked_at, x.bot
        FROM clicks x
        WHERE x.program_id = c.program_id AND x.source_hash = c.source_hash
          AND x.clicked_at >= $2 AND x.clicked_at <= $3 AND NOT x.bot AND x.id <> c.id
        ORDER BY x.clicked_at, x.id LIMIT 1) r
    WHERE c.id = $1 AND NOT c.bot";

/// The clicks of source `$2` in program `$1` in the hour of `$3`, counted
/// up to `$4`: an ordered index range read that stops at the cap, so a
/// flood is never counted to its end on every postback.
pub const SOURCE_CLICKS_IN_HOUR: &str = "
    SELECT count(*) FROM (
        SELECT 1 FROM clicks
        WHERE program_id = $1 AND source_hash = $2
          AND clicked_at >= date_trunc('hour', $3::timestamptz, 'UTC')
          AND clicked_at < date_trunc('hour', $3::timestamptz, 'UTC') + interval '1 hour'
        ORDER BY clicked_at
        LIMIT $4) c";

/// The click `id`, then (if the model would credit it instead) the same
/// source's latest (`latest`) or earliest human click in the program
/// between `from` and `to`: see [`CLICK_AND_LATEST_RIVAL`].
pub async fn click_and_rival(
    db: Db<'_>,
    id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    latest: bool,
) -> Result<Vec<ClickRow>> {
    let sql = if latest {
        CLICK_AND_LATEST_RIVAL
    } else {
        CLICK_AND_EARLIEST_RIVAL
    };
    sqlx::query_as(sql)
        .bind(id)
        .bind(from)
        .bind(to)
        .fetch_all(db)
        .await
}

/// The clicks of the click's source in the program in its hour, counted
/// up to `cap` (see [`SOURCE_CLICKS_IN_HOUR`]).
pub async fn source_clicks_in_hour(db: Db<'_>, click: &ClickRow, cap: i64) -> Result<i64> {
    sqlx::query_scalar(SOURCE_CLICKS_IN_HOUR)
        .bind(click.program_id)
        .bind(&click.source_hash)
        .bind(click.clicked_at)
        .bind(cap)
        .fetch_one(db)
        .await
}

/// An hour of a link's clicks, to publish.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ClickHourRow {
    pub link_id: Uuid,
    pub partner_id: Uuid,
    pub program_id: Uuid,
    pub hour: DateTime<Utc>,
    pub clicks: i64,
    pub counted: i64,
}

/// Finished hours not yet published, locked, at most `limit`.
pub async fn finished_click_hours_for_update(
    db: Db<'_>,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<ClickHourRow>> {
    sqlx::query_as(
        "SELECT h.link_id, l.partner_id, l.program_id, h.hour, h.clicks, h.counted
         FROM click_hours h JOIN links l ON l.id = h.link_id
         WHERE NOT h.published AND h.hour + interval '1 hour' <= $1
         ORDER BY h.hour, h.link_id LIMIT $2
         FOR UPDATE OF h SKIP LOCKED",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(db)
    .await
}

pub async fn mark_click_hour_published(db: Db<'_>, link: Uuid, hour: DateTime<Utc>) -> Result<()> {
    sqlx::query("UPDATE click_hours SET published = true WHERE link_id = $1 AND hour = $2")
        .bind(link)
        .bind(hour)
        .execute(db)
        .await?;
    Ok(())
}
