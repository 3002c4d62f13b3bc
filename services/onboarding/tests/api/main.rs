//! gRPC-level tests of the onboarding service against real PostgreSQL and
//! NATS (`make test` provides both). Each test spawns the service on a free
//! port with a fresh database and its own NATS namespace.

mod applications;
mod enablement;
mod events;
mod helpers;
mod identity;
mod partners;
mod platform;
mod terms;
mod tiering;
