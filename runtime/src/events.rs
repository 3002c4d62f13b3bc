//! Typed event routing: a consumer names, once per event type, the
//! function that applies it. The routes decode each payload once, into
//! its type, and are the list of types the consumer applies: every other
//! event of the stream is acknowledged without a transaction.
//!
//! ```ignore
//! pub fn deal_events() -> EventRoutes {
//!     EventRoutes::new()
//!         .on(deal_won)   // async fn deal_won(tx: &mut PgConnection, e: DealWon, on: Delivery<'_>)
//!         .on(deal_lost)
//! }
//! host.consume("dealreg", Some("deal.*"), deal_events());
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use prost::{Message, Name};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::PartnerStatus;
use crate::inbox::{EventHandler, ReceivedEvent};
use crate::wire::from_timestamp;
use crate::{Clock, Outbox};

/// What an event handler is given beside its decoded payload: the event
/// as delivered, the service's outbox (to stage what follows from it in
/// the same transaction) and its clock.
#[derive(Clone, Copy)]
pub struct Delivery<'a> {
    pub event: &'a ReceivedEvent,
    pub outbox: &'a Outbox,
    pub clock: &'a Clock,
}

impl Delivery<'_> {
    /// Now, on the service's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// When it happened: the payload's own time `t` where it carries one,
    /// else when the event was published, else now.
    pub fn at(&self, t: Option<&prost_types::Timestamp>) -> DateTime<Utc> {
        from_timestamp(t)
            .or_else(|| from_timestamp(self.event.envelope.occurred_at.as_ref()))
            .unwrap_or_else(|| self.now())
    }

    /// The version of the aggregate the event is about, after the change.
    pub fn version(&self) -> i64 {
        self.event.envelope.aggregate_version
    }

    pub fn event_id(&self) -> Uuid {
        self.event.event_id
    }
}

/// A function that applies events of type `M`: usually an `async fn`
/// `(tx: &mut PgConnection, event: M, on: Delivery<'_>) -> anyhow::Result<()>`.
pub trait Apply<'a, M>: Send + Sync + 'static {
    type Applied: Future<Output = anyhow::Result<()>> + Send + 'a;
    fn apply(&self, tx: &'a mut PgConnection, event: M, on: Delivery<'a>) -> Self::Applied;
}

impl<'a, M, F, Fut> Apply<'a, M> for F
where
    F: Fn(&'a mut PgConnection, M, Delivery<'a>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'a,
{
    type Applied = Fut;
    fn apply(&self, tx: &'a mut PgConnection, event: M, on: Delivery<'a>) -> Fut {
        self(tx, event, on)
    }
}

type Route = Box<
    dyn for<'a> Fn(&'a mut PgConnection, Delivery<'a>) -> BoxFuture<'a, anyhow::Result<()>>
        + Send
        + Sync,
>;

/// The id an event's payload carries in `value` (its `what`, for the
/// error that dead-letters a malformed event).
pub fn payload_id(what: &str, value: &str) -> anyhow::Result<Uuid> {
    crate::validate::uuid(value).map_err(|m| anyhow::anyhow!("{what} {m}"))
}

/// As [`payload_id`], for an id the payload may leave empty.
pub fn optional_payload_id(what: &str, value: &str) -> anyhow::Result<Option<Uuid>> {
    crate::validate::optional_uuid(value).map_err(|m| anyhow::anyhow!("{what} {m}"))
}

/// A partner's status, as onboarding's `partner.suspended`,
/// `partner.reactivated` and `partner.terminated` announce it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartnerStatusChanged {
    /// As the event carries it (a UUID).
    pub partner_id: String,
    pub status: PartnerStatus,
}

impl PartnerStatusChanged {
    fn new(partner_id: String, status: PartnerStatus) -> Self {
        Self { partner_id, status }
    }
}

/// The event types a consumer applies, each with its function.
#[derive(Default)]
pub struct EventRoutes {
    routes: HashMap<String, Route>,
}

impl EventRoutes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies events of type `M` with `apply`. Panics if `M` already has
    /// a route: one type, one effect.
    pub fn on<M, F>(self, apply: F) -> Self
    where
        M: Message + Name + Default + Send + 'static,
        F: for<'a> Apply<'a, M>,
    {
        self.on_as(|event: M| event, Arc::new(apply))
    }

    /// Applies events of type `M` as a `T` (`into` says how) with
    /// `apply`, which several event types that mean one thing to the
    /// consumer share. Panics if `M` already has a route.
    pub fn on_as<M, T, F>(mut self, into: fn(M) -> T, apply: Arc<F>) -> Self
    where
        M: Message + Name + Default + Send + 'static,
        T: 'static,
        F: for<'a> Apply<'a, T>,
    {
        let route: Route = Box::new(move |tx, on| match on.event.decode::<M>() {
            Ok(event) => Box::pin(apply.apply(tx, into(event), on)),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        });
        let name = M::full_name();
        assert!(
            self.routes.insert(name.clone(), route).is_none(),
            "{name} is routed twice"
        );
        self
    }

    /// Applies onboarding's changes of a partner's status (suspended,
    /// reactivated, terminated) with one `apply`, told the partner and its
    /// status now: what every service that keeps partners' status from
    /// onboarding's events needs.
    pub fn on_partner_status<F>(self, apply: F) -> Self
    where
        F: for<'a> Apply<'a, PartnerStatusChanged>,
    {
        use prm_proto::events::{PartnerReactivated, PartnerSuspended, PartnerTerminated};
        let apply = Arc::new(apply);
        self.on_as(
            |e: PartnerSuspended| PartnerStatusChanged::new(e.partner_id, PartnerStatus::Suspended),
            apply.clone(),
        )
        .on_as(
            |e: PartnerReactivated| PartnerStatusChanged::new(e.partner_id, PartnerStatus::Active),
            apply.clone(),
        )
        .on_as(
            |e: PartnerTerminated| {
                PartnerStatusChanged::new(e.partner_id, PartnerStatus::Terminated)
            },
            apply,
        )
    }

    /// The event types routed (`EventEnvelope.type`).
    pub fn types(&self) -> impl Iterator<Item = &str> {
        self.routes.keys().map(String::as_str)
    }

    /// The routes as a consumer's handler, staging in `outbox` and reading
    /// `clock`.
    pub fn into_handler(self, outbox: Outbox, clock: Clock) -> RoutedEvents {
        RoutedEvents {
            routes: self,
            outbox,
            clock,
        }
    }
}

/// [`EventRoutes`] as an [`EventHandler`].
pub struct RoutedEvents {
    routes: EventRoutes,
    outbox: Outbox,
    clock: Clock,
}

#[async_trait::async_trait]
impl EventHandler for RoutedEvents {
    fn wants(&self, event_type: &str) -> bool {
        self.routes.routes.contains_key(event_type)
    }

    async fn handle(&self, tx: &mut PgConnection, event: &ReceivedEvent) -> anyhow::Result<()> {
        let Some(route) = self.routes.routes.get(&event.envelope.r#type) else {
            return Ok(());
        };
        let on = Delivery {
            event,
            outbox: &self.outbox,
            clock: &self.clock,
        };
        route(tx, on).await
    }
}
