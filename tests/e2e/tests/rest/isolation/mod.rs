//! Two partners, every route: a partner never reaches another partner's
//! data (404), never performs staff actions (403), and lists show only its
//! own. The route table is checked against the OpenAPI document, so a new
//! route cannot skip this test.
//!
//! As data: `routes.rs` is the table, one line per route with what A gets
//! when it aims the route at B; `world.rs` seeds the two partners and B's
//! rows, and fills in each route's path parameters and body; `checks.rs`
//! walks the table and checks the own-only routes; `audit.rs` checks the
//! audit log over the same routes.

mod audit;
mod checks;
mod routes;
mod world;
