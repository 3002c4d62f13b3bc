//! The MDF service over gRPC, against real PostgreSQL and NATS.

mod accrual;
mod claims;
mod funds;
mod helpers;
mod isolation;
mod ledger;
mod partners;
mod requests;
mod sweep;
