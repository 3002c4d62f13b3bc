//! All of deal registration's SQL, one module per area, mirroring `api/`.
//! Handlers and the sweeps call these inside their transactions; nothing
//! else touches the tables. Rows carry domain types, so a value the domain
//! does not know is an error when it is read, never a silent default.

mod direct_accounts;
mod policy;
mod registrations;

pub use direct_accounts::*;
pub use policy::*;
pub use registrations::*;

type Db<'a> = &'a mut sqlx::PgConnection;
pub type Result<T> = std::result::Result<T, sqlx::Error>;
