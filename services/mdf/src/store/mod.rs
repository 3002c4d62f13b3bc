//! All of MDF's SQL, one module per area, mirroring `api/`. Handlers,
//! consumers and sweeps call these inside their transactions; nothing else
//! touches the tables. Rows carry domain types, so a value the domain does
//! not know is an error when it is read, never a silent default.

mod budgets;
mod campaigns;
mod claims;
mod funds;
mod partners;
mod requests;

pub use budgets::*;
pub use campaigns::*;
pub use claims::*;
pub use funds::*;
pub use partners::*;
pub use requests::*;

type Db<'a> = &'a mut sqlx::PgConnection;
pub type Result<T> = std::result::Result<T, sqlx::Error>;

/// A JSON column the domain gave us, read back: a value it cannot read is
/// a decoding error, as for any other column.
fn from_json<T: serde::de::DeserializeOwned>(column: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: Box::new(e),
    })
}
