//! All of the reporting service's SQL, one module per area: the
//! projections the event handlers write, the attribution models and
//! credit shares, the figures queries, and the rebuild.

mod credits;
mod figures;
mod models;
mod projections;
mod rebuild;

pub use credits::*;
pub use figures::*;
pub use models::*;
pub use projections::*;
pub use rebuild::*;

type Db<'a> = &'a mut sqlx::PgConnection;
pub type Result<T> = std::result::Result<T, sqlx::Error>;
