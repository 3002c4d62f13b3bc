//! The runtime every PRM service shares, written once: layered config,
//! telemetry, the PostgreSQL pool and migrations, NATS JetStream, the
//! transactional outbox and its relay, idempotent consumers, the
//! idempotency-key store, service credentials and principals, the gRPC
//! server bootstrap with health and reflection, and graceful shutdown.
//!
//! A service owns only its domain, its SQL and its gRPC handlers, and
//! declares the rest ([`Service`]): what it serves, the events it consumes
//! ([`EventRoutes`]) and the work it schedules. Everything that would
//! otherwise be copied into every service lives here.

pub mod audit;
pub mod auth;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod events;
pub mod fields;
pub mod grpc;
pub mod host;
pub mod idempotency;
pub mod inbox;
pub mod nats;
pub mod outbox;
pub mod paging;
pub mod scopes;
pub mod service;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod throttle;
pub mod validate;
pub mod vocabulary;
pub mod wire;

pub use auth::{CallContext, Principal, Role};
pub use clock::Clock;
pub use db::OnConstraint;
pub use error::{ApiError, FieldErrors, IllegalTransition};
pub use events::{Delivery, EventRoutes, PartnerStatusChanged};
pub use host::ServiceHost;
pub use idempotency::{Begun, Idempotency, Tx};
pub use outbox::{Aggregate, EventMeta, Outbox};
pub use paging::Page;
pub use scopes::Scopes;
pub use service::{Application, GrpcApi, Service};
pub use vocabulary::{ConversionKind, Money, PartnerStatus, PartnerType};

/// What the runtime's macros expand to; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use async_trait::async_trait;
    pub use serde;
    pub use sqlx;
    pub use tonic;
    pub use uuid::Uuid;
}
