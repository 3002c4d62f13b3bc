//! Keyset pagination shared by every List method (`page_size`,
//! `page_token`, `next_page_token`). Ids are UUIDv7, so ordering by id is
//! ordering by creation, and "after this id" stays correct while rows are
//! inserted concurrently.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use prm_proto::common::PageCursor;
use prost::Message;
use uuid::Uuid;

use crate::error::ApiError;

pub const DEFAULT_PAGE_SIZE: i32 = 50;
pub const MAX_PAGE_SIZE: i32 = 500;

/// A decoded page request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    /// Rows to return.
    pub size: i64,
    /// Return rows with ids greater than this.
    pub after: Option<Uuid>,
    filter_hash: u64,
}

impl Page {
    /// Validates `page_size` (0 takes the default; above the maximum is
    /// clamped, as AIP-158 recommends) and `page_token`, which must come
    /// from the same query (same `filters`).
    pub fn parse(page_size: i32, page_token: &str, filters: &[&str]) -> Result<Page, ApiError> {
        if page_size < 0 {
            return Err(ApiError::invalid("page_size", "must not be negative"));
        }
        let size = if page_size == 0 {
            DEFAULT_PAGE_SIZE
        } else {
            page_size.min(MAX_PAGE_SIZE)
        };
        let filter_hash = hash_filters(filters);
        let after = if page_token.is_empty() {
            None
        } else {
            let bad = || ApiError::invalid("page_token", "is not a token this list returned");
            let bytes = URL_SAFE_NO_PAD.decode(page_token).map_err(|_| bad())?;
            let cursor = PageCursor::decode(bytes.as_slice()).map_err(|_| bad())?;
            if cursor.filter_hash != filter_hash {
                return Err(ApiError::invalid(
                    "page_token",
                    "belongs to a list with other filters",
                ));
            }
            Some(Uuid::parse_str(&cursor.after_id).map_err(|_| bad())?)
        };
        Ok(Page {
            size: i64::from(size),
            after,
            filter_hash,
        })
    }

    /// How many rows to fetch: one more than the page, to know if another follows.
    pub fn fetch_limit(&self) -> i64 {
        self.size + 1
    }

    /// The lowest id to list after (the nil UUID when starting).
    pub fn after_or_nil(&self) -> Uuid {
        self.after.unwrap_or(Uuid::nil())
    }

    /// Trims `rows` (fetched with [`Page::fetch_limit`]) to the page and
    /// returns the `next_page_token` ("" on the last page).
    pub fn finish<T>(&self, rows: &mut Vec<T>, id_of: impl Fn(&T) -> Uuid) -> String {
        if rows.len() as i64 <= self.size {
            return String::new();
        }
        rows.truncate(self.size as usize);
        match rows.last() {
            Some(last) => self.token_after(id_of(last)),
            None => String::new(),
        }
    }

    /// A `next_page_token` that continues after `id`. For a list that
    /// filters rows after reading them and stops reading early: its page
    /// may be short, and the next one continues where reading stopped.
    pub fn token_after(&self, id: Uuid) -> String {
        let cursor = PageCursor {
            after_id: id.to_string(),
            filter_hash: self.filter_hash,
        };
        URL_SAFE_NO_PAD.encode(cursor.encode_to_vec())
    }
}

fn hash_filters(filters: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for f in filters {
        for b in f.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_through_in_order() {
        let ids: Vec<Uuid> = (0..5).map(|_| Uuid::now_v7()).collect();
        let p = Page::parse(2, "", &["active"]).expect("first page");
        let mut rows: Vec<Uuid> = ids.iter().copied().take(p.fetch_limit() as usize).collect();
        let token = p.finish(&mut rows, |u| *u);
        assert_eq!(rows, ids[..2]);
        let p2 = Page::parse(2, &token, &["active"]).expect("second page");
        assert_eq!(p2.after, Some(ids[1]));
        // A token is bound to its filters.
        assert!(Page::parse(2, &token, &["suspended"]).is_err());
        assert!(Page::parse(2, "garbage!", &[]).is_err());
        assert!(Page::parse(-1, "", &[]).is_err());
        assert_eq!(
            Page::parse(10_000, "", &[]).expect("clamped").size,
            i64::from(MAX_PAGE_SIZE)
        );
    }

    #[test]
    fn a_token_can_continue_after_any_id() {
        let p = Page::parse(3, "", &["viewer"]).expect("page");
        let id = Uuid::now_v7();
        let next = Page::parse(3, &p.token_after(id), &["viewer"]).expect("continues");
        assert_eq!(next.after, Some(id));
    }

    #[test]
    fn last_page_has_no_token() {
        let p = Page::parse(3, "", &[]).expect("page");
        let mut rows = vec![Uuid::now_v7(), Uuid::now_v7()];
        assert_eq!(p.finish(&mut rows, |u| *u), "");
        assert_eq!(rows.len(), 2);
    }
}
