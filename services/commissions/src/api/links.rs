//! Tracking links, and the gateway's redirect traffic: resolving a code
//! and handing over batches of clicks.

use chrono::DurationRound;
use prm_proto::commissions::*;
use prm_proto::events as ev;
use prm_runtime::wire::{from_timestamp, timestamp};
use prm_runtime::{
    ApiError, CallContext, FieldErrors, Idempotency, Page, begin_or_replay, validate,
};
use uuid::Uuid;

use super::{Commissions, convert, ensure_gateway_call};
use crate::domain::access::ACT_FOR_PARTNER;
use crate::domain::bots::is_bot;
use crate::domain::link::{LinkStatus, destination, plausible_code};
use crate::domain::settings::sha256_hex;
use crate::store::{self, NewClick};

/// The most clicks one batch may carry.
pub const MAX_CLICK_BATCH: usize = 5_000;

/// At most `n` characters of `s`, without control characters (which
/// PostgreSQL text cannot hold, in the case of NUL, and which nothing
/// downstream wants).
fn clip(s: &str, n: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(n).collect()
}

impl Commissions {
    pub(super) async fn create_link(
        &self,
        ctx: CallContext,
        req: CreateLinkRequest,
    ) -> Result<CreateLinkResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let mut errs = FieldErrors::new();
        let requested = errs.check("partner_id", validate::optional_uuid(&req.partner_id));
        let url = errs.check("destination_url", validate::url(&req.destination_url));
        let (requested, url) = errs.finish_with(|| Some((requested?, url?)))?;
        let partner_id = match (principal.partner_id, requested) {
            (Some(own), None) => own,
            (_, Some(p)) => {
                principal.ensure_partner_access(p, "partner")?;
                p
            }
            (None, None) => return Err(ApiError::invalid("partner_id", "is required for staff")),
        };
        if principal.partner_id.is_none() {
            principal.require_any_role(ACT_FOR_PARTNER)?;
        }
        let idem = Idempotency::new(&ctx, "CreateLink", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let partner = store::partner(&mut tx, partner_id)
            .await?
            .ok_or(ApiError::not_found("partner"))?;
        partner.status.ensure_active(partner_id)?;
        let allowed = store::settings(&mut tx, partner.program_id)
            .await?
            .map(|s| s.allowed_domains)
            .unwrap_or_default();
        let url =
            destination(&url, &allowed).map_err(|e| ApiError::invalid("destination_url", e))?;
        let now = self.clock.now();
        let row = store::insert_link(&mut tx, partner.program_id, partner_id, &url, now).await?;
        self.outbox
            .stage_for(
                &mut tx,
                "link.created",
                &row,
                &ev::TrackingLinkCreated {
                    link_id: row.id.to_string(),
                    code: row.code.clone(),
                    partner_id: row.partner_id.to_string(),
                    program_id: row.program_id.to_string(),
                    destination_url: row.destination_url.clone(),
                    created_at: Some(timestamp(now)),
                },
            )
            .await?;
        let resp = CreateLinkResponse {
            link: Some(convert::link(&row)),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn list_links(
        &self,
        ctx: CallContext,
        req: ListLinksRequest,
    ) -> Result<ListLinksResponse, ApiError> {
        let principal = ctx.principal()?;
        let mut errs = FieldErrors::new();
        let requested = errs.check("partner_id", validate::optional_uuid(&req.partner_id));
        let requested = errs.finish_with(|| requested)?;
        let partner = principal.partner_scope(requested)?;
        let filter = partner.map(|p| p.to_string()).unwrap_or_default();
        let page = Page::parse(req.page_size, &req.page_token, &[&filter])?;
        let mut conn = self.db.acquire().await?;
        let mut rows =
            store::list_links(&mut conn, partner, page.after_or_nil(), page.fetch_limit()).await?;
        let next_page_token = page.finish(&mut rows, |r| r.id);
        Ok(ListLinksResponse {
            links: rows.iter().map(convert::link).collect(),
            next_page_token,
        })
    }

    pub(super) async fn disable_link(
        &self,
        ctx: CallContext,
        req: DisableLinkRequest,
    ) -> Result<DisableLinkResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let id = validate::uuid(&req.link_id).map_err(|e| ApiError::invalid("link_id", e))?;
        let idem = Idempotency::new(&ctx, "DisableLink", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let row = store::link_for_update(&mut tx, id)
            .await?
            .ok_or(ApiError::not_found("link"))?;
        principal.ensure_partner_access(row.partner_id, "link")?;
        if principal.partner_id.is_none() {
            principal.require_any_role(ACT_FOR_PARTNER)?;
        }
        let row = if row.status == LinkStatus::Disabled {
            row
        } else {
            let row = store::disable_link(&mut tx, id).await?;
            self.outbox
                .stage_for(
                    &mut tx,
                    "link.disabled",
                    &row,
                    &ev::TrackingLinkDisabled {
                        link_id: row.id.to_string(),
                        code: row.code.clone(),
                        partner_id: row.partner_id.to_string(),
                        disabled_at: Some(timestamp(self.clock.now())),
                    },
                )
                .await?;
            row
        };
        let resp = DisableLinkResponse {
            link: Some(convert::link(&row)),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn resolve_link(
        &self,
        ctx: CallContext,
        req: ResolveLinkRequest,
    ) -> Result<ResolveLinkResponse, ApiError> {
        ensure_gateway_call(&ctx)?;
        if !plausible_code(&req.code) {
            return Ok(ResolveLinkResponse { link: None });
        }
        let mut conn = self.db.acquire().await?;
        let row = store::active_link_by_code(&mut conn, &req.code).await?;
        Ok(ResolveLinkResponse {
            link: row.as_ref().map(convert::link),
        })
    }

    pub(super) async fn record_clicks(
        &self,
        ctx: CallContext,
        req: RecordClicksRequest,
    ) -> Result<RecordClicksResponse, ApiError> {
        ensure_gateway_call(&ctx)?;
        if req.clicks.len() > MAX_CLICK_BATCH {
            return Err(ApiError::invalid(
                "clicks",
                format!("at most {MAX_CLICK_BATCH} clicks per batch"),
            ));
        }
        let mut errs = FieldErrors::new();
        let mut parsed = Vec::with_capacity(req.clicks.len());
        for (i, c) in req.clicks.iter().enumerate() {
            let id = errs.check(
                &format!("clicks[{i}].click_id"),
                validate::uuid(&c.click_id),
            );
            let link = errs.check(&format!("clicks[{i}].link_id"), validate::uuid(&c.link_id));
            let at = from_timestamp(c.clicked_at.as_ref());
            if at.is_none() {
                errs.add(format!("clicks[{i}].clicked_at"), "is required");
            }
            if let (Some(id), Some(link), Some(at)) = (id, link, at) {
                parsed.push((id, link, at, c));
            }
        }
        errs.finish()?;
        let mut tx = self.db.begin().await?;
        let mut link_ids: Vec<Uuid> = parsed.iter().map(|p| p.1).collect();
        link_ids.sort_unstable();
        link_ids.dedup();
        let links: std::collections::HashMap<Uuid, store::LinkRow> =
            store::links_by_id(&mut tx, &link_ids)
                .await?
                .into_iter()
                .map(|l| (l.id, l))
                .collect();
        // A batch repeats user agents and sources: each is judged once.
        let mut bots: std::collections::HashMap<String, bool> = std::collections::HashMap::new();
        let mut sources: std::collections::HashMap<(String, String), String> =
            std::collections::HashMap::new();
        let clicks: Vec<NewClick> = parsed
            .into_iter()
            .filter_map(|(id, link_id, at, c)| {
                let link = links.get(&link_id)?;
                let ua = clip(&c.user_agent, 512);
                let ip_hash = clip(&c.ip_hash, 128);
                let mut subs: [String; 5] = Default::default();
                for (slot, s) in subs.iter_mut().zip(&c.sub_ids) {
                    *slot = clip(s, 255);
                }
                Some(NewClick {
                    id,
                    link_id,
                    program_id: link.program_id,
                    partner_id: link.partner_id,
                    clicked_at: at,
                    hour: at.duration_trunc(chrono::Duration::hours(1)).unwrap_or(at),
                    source_hash: sources
                        .entry((ip_hash.clone(), ua.clone()))
                        .or_insert_with(|| sha256_hex(format!("{ip_hash}\n{ua}").as_bytes()))
                        .clone(),
                    bot: *bots.entry(ua.clone()).or_insert_with(|| is_bot(&ua)),
                    ip_hash,
                    user_agent: ua,
                    referrer: clip(&c.referrer, 2048),
                    sub_ids: subs,
                })
            })
            .collect();
        let recorded = store::record_clicks(&mut tx, &clicks).await?;
        tx.commit().await?;
        Ok(RecordClicksResponse {
            recorded: recorded.recorded as i32,
            counted: recorded.counted as i32,
        })
    }
}
