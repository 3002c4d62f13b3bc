//! Deal registration over gRPC, on real PostgreSQL and NATS, with a real
//! onboarding service beside it (partners come from there).

mod helpers;
mod isolation;
mod onboarding_reaction;
mod registrations;
mod sweep;
mod workflow;
