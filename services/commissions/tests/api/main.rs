//! The commissions service over gRPC, against real PostgreSQL and NATS.

mod attribution_plans;
mod clicks;
mod deals;
mod directory;
mod helpers;
mod isolation;
mod ledger;
mod payouts;
mod plans;
mod postbacks;
