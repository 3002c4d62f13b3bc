//! The reporting service over gRPC, against real PostgreSQL and NATS:
//! events published into the four streams as their producers would.

mod attribution;
mod helpers;
mod replay;
mod scorecards;
