//! All of the commissions service's SQL, one module per area. Handlers,
//! consumers and jobs call these inside their transactions; nothing else
//! touches the tables. Rows carry domain types, so a value the domain does
//! not know is an error when it is read, never a silent default.

mod clicks;
mod commissions;
mod conversions;
mod ledger;
mod links;
mod partners;
mod payouts;
mod plans;
mod postbacks;
mod programs;

pub use clicks::*;
pub use commissions::*;
pub use conversions::*;
pub use ledger::*;
pub use links::*;
pub use partners::*;
pub use payouts::*;
pub use plans::*;
pub use postbacks::*;
pub use programs::*;

type Db<'a> = &'a mut sqlx::PgConnection;
pub type Result<T> = std::result::Result<T, sqlx::Error>;
