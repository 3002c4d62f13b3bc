//! All of onboarding's SQL, one module per area, mirroring `api/`.
//! Handlers, the consumer and the jobs call these inside their
//! transactions; nothing else touches the tables. Rows carry domain types
//! (statuses, kinds, roles), so a value the domain does not know is an
//! error when it is read, never a silent default.

mod applications;
mod checklist;
mod enablement;
mod identity;
mod partners;
mod programs;
mod terms;

pub use applications::*;
pub use checklist::*;
pub use enablement::*;
pub use identity::*;
pub use partners::*;
pub use programs::*;
pub use terms::*;

type Db<'a> = &'a mut sqlx::PgConnection;
pub type Result<T> = std::result::Result<T, sqlx::Error>;
