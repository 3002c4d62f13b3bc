//! The commissions service over gRPC, against real PostgreSQL and NATS.

mod clicks;
mod helpers;
mod isolation;
mod ledger;
mod plans;
mod postbacks;
