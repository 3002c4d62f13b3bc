//! The process around a service: gRPC server bootstrap, readiness, the
//! outbox relay, event consumers, periodic jobs, and graceful shutdown.
//!
//! A service declares itself on a [`ServiceHost`] (see
//! [`crate::service::Service::declare`]): it wires its handlers with the
//! host's pool, outbox and clock, registers its consumers and jobs, and
//! returns its API, which [`ServiceHost::run_until_stopped`] serves. The server listens at once and
//! reports NotServing on `grpc.health.v1` until the database is reachable,
//! migrations are applied and NATS is connected; background work starts
//! only then.
//!
//! Shutdown runs in the order that lets no call fail. SIGTERM (or the
//! host's cancellation token) sets NotServing at once; the service keeps
//! serving for `grpc.drain_delay_ms`, while load balancers and clients see
//! NotServing and move away; then it stops accepting connections, sends
//! GOAWAY on the open ones and gives in-flight calls
//! `grpc.grace_period_secs`; last, in what is left of that grace period,
//! it flushes the outbox and stops its consumers and jobs.

use crate::throttle::FailureThrottle;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use sqlx::migrate::Migrator;
use sqlx::{PgConnection, PgPool};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
pub use tokio_util::sync::CancellationToken;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use uuid::Uuid;

use crate::Clock;
use crate::auth::ServiceAuth;
use crate::config::{RuntimeSettings, ServiceIdentity};
use crate::events::EventRoutes;
use crate::inbox::{ConsumerSpec, ConsumerStats, EventHandler, IdempotentConsumer};
use crate::nats::Subjects;
use crate::outbox::{Outbox, OutboxRelay, RelayStats};
use crate::service::GrpcApi;

/// The `grpc.health.v1` service name a liveness probe asks for. It is
/// SERVING for as long as the process runs; readiness uses the overall
/// status ("") instead.
pub const LIVENESS_SERVICE: &str = "prm.liveness";

/// Background work as the host runs it: given the pool, the outbox and the
/// service's clock.
type Job =
    Arc<dyn Fn(PgPool, Outbox, Clock) -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

/// See [`ServiceHost::handle`].
#[derive(Clone)]
pub struct HostHandle {
    pub addr: SocketAddr,
    pub shutdown: CancellationToken,
    pub relay: Arc<RelayStats>,
    /// Per source service: the counters of the consumer reading its stream.
    pub consumers: Vec<(&'static str, Arc<ConsumerStats>)>,
}

/// A unit of start-up work: one transaction, and the outbox to stage
/// events in. The host begins the transaction, and commits it when the
/// work succeeds (a failure rolls it back).
pub trait TxWork<E>:
    for<'a> Fn(&'a mut PgConnection, &'a Outbox) -> BoxFuture<'a, Result<(), E>> + Send + Sync + 'static
{
}

impl<F, E> TxWork<E> for F where
    F: for<'a> Fn(&'a mut PgConnection, &'a Outbox) -> BoxFuture<'a, Result<(), E>>
        + Send
        + Sync
        + 'static
{
}

/// A scheduled job's unit of work: as [`TxWork`], told the time of the
/// run by the service's clock.
pub trait JobWork<E>:
    for<'a> Fn(&'a mut PgConnection, &'a Outbox, DateTime<Utc>) -> BoxFuture<'a, Result<(), E>>
    + Send
    + Sync
    + 'static
{
}

impl<F, E> JobWork<E> for F where
    F: for<'a> Fn(&'a mut PgConnection, &'a Outbox, DateTime<Utc>) -> BoxFuture<'a, Result<(), E>>
        + Send
        + Sync
        + 'static
{
}

/// A job that runs `work` in one transaction and commits it.
fn transactional<E: Into<anyhow::Error> + 'static>(work: impl JobWork<E>) -> Job {
    let work = Arc::new(work);
    Arc::new(move |pool: PgPool, outbox: Outbox, clock: Clock| {
        let work = work.clone();
        Box::pin(async move {
            let mut tx = pool.begin().await?;
            work(&mut tx, &outbox, clock.now())
                .await
                .map_err(Into::into)?;
            tx.commit().await?;
            Ok(())
        })
    })
}

struct PeriodicJob {
    name: &'static str,
    every: Duration,
    job: Job,
}

pub struct ServiceHost {
    identity: ServiceIdentity,
    settings: RuntimeSettings,
    clock: Clock,
    pool: PgPool,
    client: async_nats::Client,
    subjects: Subjects,
    outbox: Outbox,
    listener: TcpListener,
    local_addr: SocketAddr,
    shutdown: CancellationToken,
    migrator: Migrator,
    consumers: Vec<IdempotentConsumer>,
    consumer_stats: Vec<(&'static str, Arc<ConsumerStats>)>,
    jobs: Vec<PeriodicJob>,
    ready_hooks: Vec<Job>,
    relay: OutboxRelay,
    /// Counts callers' wrong service credentials per address.
    auth_throttle: Arc<FailureThrottle>,
}

impl ServiceHost {
    /// Binds the gRPC listener and prepares (without waiting for) the
    /// database pool and the NATS connection. Rules, jobs, events and
    /// the outbox read the time from `clock`.
    pub async fn build(
        identity: ServiceIdentity,
        settings: RuntimeSettings,
        migrator: Migrator,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        crate::error::set_error_domain(identity.name);
        let addr = format!("{}:{}", settings.grpc.host, settings.grpc.port);
        let listener = TcpListener::bind(&addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
        let local_addr = listener.local_addr()?;
        let pool = crate::db::lazy_pool(&settings.database)?;
        let client =
            crate::nats::connect(&settings.nats, &format!("prm-{}", identity.name)).await?;
        let subjects = Subjects::new(settings.nats.namespace.clone());
        let outbox = Outbox::new(identity.name, subjects.clone(), clock.clone());
        let relay = OutboxRelay::new(
            pool.clone(),
            client.clone(),
            subjects.clone(),
            identity.name,
            settings.nats.clone(),
            settings.outbox.clone(),
        );
        let retention = Duration::from_secs(settings.outbox.retention_hours.max(1) * 3600);
        let janitor: Job = Arc::new(move |pool: PgPool, _, _| {
            Box::pin(async move {
                let outbox = crate::outbox::purge_published(&pool, retention).await?;
                let keys = crate::idempotency::purge_expired(&pool, retention).await?;
                tracing::debug!(
                    outbox,
                    keys,
                    "purged expired outbox rows and idempotency keys"
                );
                Ok(())
            })
        });
        let jobs = vec![PeriodicJob {
            name: "prm.janitor",
            every: Duration::from_secs(3600),
            job: janitor,
        }];
        let auth_throttle = Arc::new(FailureThrottle::new(
            settings.auth.failure_burst,
            Duration::from_secs(settings.auth.failure_window_secs),
        ));
        Ok(Self {
            auth_throttle,
            identity,
            settings,
            clock,
            pool,
            client,
            subjects,
            outbox,
            listener,
            local_addr,
            shutdown: CancellationToken::new(),
            migrator,
            consumers: Vec::new(),
            consumer_stats: Vec::new(),
            jobs,
            ready_hooks: Vec::new(),
            relay,
        })
    }

    /// The service's name (`onboarding`, `mdf`, ...).
    pub fn service_name(&self) -> &'static str {
        self.identity.name
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// The time the service's rules read (moved by tests).
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn nats(&self) -> &async_nats::Client {
        &self.client
    }

    pub fn subjects(&self) -> &Subjects {
        &self.subjects
    }

    pub fn settings(&self) -> &RuntimeSettings {
        &self.settings
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Cancelling this token shuts the service down, as SIGTERM does.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// The interceptor that checks the service credential and reads the principal.
    pub fn service_auth(&self) -> ServiceAuth {
        ServiceAuth::new(
            self.settings.auth.service_token.clone(),
            self.auth_throttle.clone(),
        )
        .for_service(self.identity.name)
    }

    pub fn relay_stats(&self) -> Arc<RelayStats> {
        self.relay.stats()
    }

    /// Consumes the events of `source`'s stream (those whose
    /// `<entity>.<verb>` matches `filter`, e.g. "deal.*"; the whole stream
    /// for `None`) with a durable consumer named after this service, once
    /// the service is ready. `routes` applies each event type it names, in
    /// the inbox transaction; the others are acknowledged untouched. One
    /// filter per consumer: NATS 2.9 ignores lists of them.
    pub fn consume(
        &mut self,
        source: &'static str,
        filter: Option<&'static str>,
        routes: EventRoutes,
    ) -> Arc<ConsumerStats> {
        let spec = ConsumerSpec {
            consumer: self.identity.name,
            source,
            filter,
        };
        let handler = routes.into_handler(self.outbox.clone(), self.clock.clone());
        self.add_consumer(spec, Arc::new(handler))
    }

    /// Consumes another service's events with a handler of its own (most
    /// services declare [`EventRoutes`] with [`ServiceHost::consume`]).
    pub fn add_consumer(
        &mut self,
        spec: ConsumerSpec,
        handler: Arc<dyn EventHandler>,
    ) -> Arc<ConsumerStats> {
        let consumer = IdempotentConsumer::new(
            self.pool.clone(),
            self.client.clone(),
            self.subjects.clone(),
            spec,
            handler,
            &self.settings.nats,
        );
        let stats = consumer.stats();
        self.consumer_stats.push((consumer.source(), stats.clone()));
        self.consumers.push(consumer);
        stats
    }

    /// What a caller outside the host needs to watch and stop it (tests,
    /// in-process embedding): its address, its shutdown token and its
    /// counters.
    pub fn handle(&self) -> HostHandle {
        HostHandle {
            addr: self.local_addr,
            shutdown: self.shutdown.clone(),
            relay: self.relay.stats(),
            consumers: self.consumer_stats.clone(),
        }
    }

    /// Runs `work` every `period` once the service is ready, on one replica
    /// at a time (an advisory lock named after the job), in one transaction
    /// that commits when the work succeeds, with the time of the run on the
    /// service's clock:
    ///
    /// ```ignore
    /// host.every("onboarding.certification_expiry", period, |tx, outbox, now| {
    ///     Box::pin(jobs::expire_certifications(tx, outbox, now))
    /// });
    /// ```
    pub fn every<E: Into<anyhow::Error> + 'static>(
        &mut self,
        name: &'static str,
        period: Duration,
        work: impl JobWork<E>,
    ) {
        self.jobs.push(PeriodicJob {
            name,
            every: period,
            job: transactional(work),
        });
    }

    /// Every `period`, runs `work` once for each id that `select` returns,
    /// each in its own transaction, on one replica at a time. One item's
    /// failure is logged with its id and rolled back; the others go on.
    /// Both are told the time on the service's clock (`work`, when its
    /// item's turn comes).
    pub fn every_each<E, F, S>(
        &mut self,
        name: &'static str,
        period: Duration,
        select: S,
        work: impl for<'a> Fn(
            &'a mut PgConnection,
            &'a Outbox,
            Uuid,
            DateTime<Utc>,
        ) -> BoxFuture<'a, Result<(), E>>
        + Send
        + Sync
        + 'static,
    ) where
        E: Into<anyhow::Error> + 'static,
        F: Into<anyhow::Error> + 'static,
        S: for<'a> Fn(&'a mut PgConnection, DateTime<Utc>) -> BoxFuture<'a, Result<Vec<Uuid>, F>>
            + Send
            + Sync
            + 'static,
    {
        let select = Arc::new(select);
        let work = Arc::new(work);
        let job: Job = Arc::new(move |pool, outbox, clock| {
            let (select, work) = (select.clone(), work.clone());
            Box::pin(async move {
                let ids = {
                    let mut conn = pool.acquire().await?;
                    select(&mut conn, clock.now()).await.map_err(Into::into)?
                };
                let mut failed = 0usize;
                for id in &ids {
                    let result = async {
                        let mut tx = pool.begin().await?;
                        work(&mut tx, &outbox, *id, clock.now())
                            .await
                            .map_err(Into::into)?;
                        tx.commit().await?;
                        anyhow::Ok(())
                    };
                    if let Err(e) = result.await {
                        failed += 1;
                        tracing::warn!(job = name, item = %id, error = format!("{e:#}"), "job failed for one item");
                    }
                }
                tracing::debug!(job = name, items = ids.len(), failed, "job ran");
                Ok(())
            })
        });
        self.jobs.push(PeriodicJob {
            name,
            every: period,
            job,
        });
    }

    /// Runs `work` once the database is migrated, before the service
    /// reports Serving (e.g. installing a bootstrap credential), in one
    /// transaction. A failure is retried like any other readiness step;
    /// once it has succeeded it does not run again in this process.
    pub fn on_ready<E: Into<anyhow::Error> + 'static>(&mut self, work: impl TxWork<E>) {
        let work = Arc::new(work);
        self.ready_hooks
            .push(transactional(move |tx, outbox, _| work(tx, outbox)));
    }

    /// Serves `api` (plus health and reflection) until shutdown; its
    /// services' health is reported under their names.
    pub async fn run_until_stopped(self, api: GrpcApi) -> anyhow::Result<()> {
        let GrpcApi {
            routes,
            names: service_names,
        } = api;
        let Self {
            identity,
            settings,
            pool,
            client,
            listener,
            local_addr,
            shutdown,
            migrator,
            consumers,
            jobs,
            ready_hooks,
            relay,
            outbox,
            clock,
            ..
        } = self;
        let (reporter, health_service) = tonic_health::server::health_reporter();
        let mut names: Vec<&str> = vec![""];
        names.extend_from_slice(&service_names);
        set_health(&reporter, &names, ServingStatus::NotServing).await;
        // Liveness is only "the process answers": a database or NATS outage
        // makes the service unready, never a restart loop.
        reporter
            .set_service_status(LIVENESS_SERVICE, ServingStatus::Serving)
            .await;

        let reflection_v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(prm_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()?;
        let reflection_v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(prm_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()?;

        let grpc = &settings.grpc;
        // The three steps of shutdown after `shutdown` (NotServing, drain):
        // the listener closes, then background work stops.
        let stop_accepting = CancellationToken::new();
        let stop_background = CancellationToken::new();
        let server = Server::builder()
            .timeout(Duration::from_millis(grpc.request_timeout_ms))
            .load_shed(true)
            // A connection past its age gets GOAWAY and closes once its
            // calls are done. No `max_connection_age_grace`: in tonic 0.14.9
            // setting it skips the GOAWAY altogether and cuts the connection
            // at age + grace, failing whatever is in flight on it
            // (`connection_timeout_future` in tonic's server/mod.rs).
            .max_connection_age(Duration::from_secs(grpc.max_connection_age_secs.max(1)))
            .http2_keepalive_interval(Some(Duration::from_secs(30)))
            .trace_fn(crate::telemetry::grpc_request_span)
            .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
                grpc.concurrency_limit.max(1),
            ))
            .add_routes(routes)
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .serve_with_incoming_shutdown(
                // Every accepted connection without Nagle: a response whose
                // trailers go out in a second write would otherwise wait for
                // the peer's delayed ACK, 40 ms. (The builder's `tcp_nodelay`
                // applies only to listeners tonic binds itself.)
                TcpIncoming::from(listener).with_nodelay(Some(true)),
                stop_accepting.clone().cancelled_owned(),
            );
        tracing::info!(service = identity.name, addr = %local_addr, "gRPC listening");

        let mut background = JoinSet::new();
        background.spawn(readiness(
            identity,
            pool.clone(),
            outbox,
            clock,
            client.clone(),
            migrator,
            reporter.clone(),
            names.clone(),
            shutdown.clone(),
            stop_background.clone(),
            relay,
            consumers,
            jobs,
            ready_hooks,
        ));

        let grace = Duration::from_secs(grpc.grace_period_secs);
        let drain_delay = Duration::from_millis(grpc.drain_delay_ms);
        let mut server = tokio::spawn(server);
        let mut served = tokio::select! {
            r = &mut server => Some(r),
            _ = shutdown.cancelled() => None,
        };
        // 1. NotServing at once, so health checks see it while we serve.
        shutdown.cancel();
        set_health(&reporter, &names, ServingStatus::NotServing).await;
        // 2. Keep serving while load balancers and clients move away.
        if served.is_none() && !drain_delay.is_zero() {
            tracing::info!(
                service = identity.name,
                drain_delay_ms = grpc.drain_delay_ms,
                "shutting down: NOT_SERVING, still serving for the drain delay"
            );
            tokio::select! {
                r = &mut server => served = Some(r),
                _ = tokio::time::sleep(drain_delay) => {}
            }
        }
        // 3. Close the listener, send GOAWAY, let in-flight calls finish.
        stop_accepting.cancel();
        let deadline = tokio::time::Instant::now() + grace;
        let server_result = match served {
            Some(r) => r,
            None => match tokio::time::timeout_at(deadline, &mut server).await {
                Ok(r) => r,
                Err(_) => {
                    tracing::warn!(
                        grace_secs = grace.as_secs(),
                        "in-flight calls outlived the grace period; closing"
                    );
                    server.abort();
                    Ok(Ok(()))
                }
            },
        };
        // 4. Background work (outbox flush, consumers, jobs) stops, in what
        // is left of the grace period.
        stop_background.cancel();
        if tokio::time::timeout_at(deadline, async {
            while background.join_next().await.is_some() {}
        })
        .await
        .is_err()
        {
            tracing::warn!("background tasks outlived the grace period; aborting them");
            background.abort_all();
        }
        pool.close().await;
        tracing::info!(service = identity.name, "stopped");
        match server_result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(anyhow::anyhow!("gRPC server failed: {e}")),
            Err(e) if e.is_cancelled() => Ok(()),
            Err(e) => Err(anyhow::anyhow!("gRPC server task failed: {e}")),
        }
    }
}

async fn set_health(reporter: &HealthReporter, names: &[&str], status: ServingStatus) {
    for name in names {
        reporter.set_service_status(*name, status).await;
    }
}

/// Waits for the database, migrations and NATS; reports Serving; starts the
/// background work; then keeps the health status in step with dependencies.
#[allow(clippy::too_many_arguments)]
async fn readiness(
    identity: ServiceIdentity,
    pool: PgPool,
    outbox: Outbox,
    clock: Clock,
    client: async_nats::Client,
    migrator: Migrator,
    reporter: HealthReporter,
    names: Vec<&'static str>,
    draining: CancellationToken,
    stop: CancellationToken,
    relay: OutboxRelay,
    consumers: Vec<IdempotentConsumer>,
    jobs: Vec<PeriodicJob>,
    ready_hooks: Vec<Job>,
) {
    let mut backoff = Duration::from_millis(100);
    // Hooks that have run stay done: a retry (NATS not up yet) does not
    // repeat them.
    let mut pending_hooks = ready_hooks;
    loop {
        let step = async {
            crate::db::migrate(&pool, &migrator).await?;
            while let Some(hook) = pending_hooks.first() {
                hook(pool.clone(), outbox.clone(), clock.clone()).await?;
                pending_hooks.remove(0);
            }
            if !crate::nats::is_connected(&client) {
                anyhow::bail!("NATS is not connected yet");
            }
            anyhow::Ok(())
        };
        match step.await {
            Ok(()) => break,
            Err(e) => tracing::warn!(
                service = identity.name,
                error = format!("{e:#}"),
                "not ready yet"
            ),
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = draining.cancelled() => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
    set_health(&reporter, &names, ServingStatus::Serving).await;
    tracing::info!(
        service = identity.name,
        "ready: database migrated, NATS connected"
    );

    let mut tasks = JoinSet::new();
    // Background work runs through the drain delay and in-flight calls,
    // and stops only after them: the outbox flushes what they staged.
    tasks.spawn(relay.run(stop.clone()));
    for c in consumers {
        tasks.spawn(c.run(stop.clone()));
    }
    for job in jobs {
        tasks.spawn(run_periodic(
            pool.clone(),
            outbox.clone(),
            clock.clone(),
            job,
            stop.clone(),
        ));
    }

    // Follow the dependencies: NotServing while either is unreachable.
    let mut serving = true;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = draining.cancelled() => break,
        }
        let healthy = crate::nats::is_connected(&client) && crate::db::ping(&pool).await;
        if healthy != serving && !draining.is_cancelled() {
            serving = healthy;
            let status = if healthy {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            tracing::warn!(
                service = identity.name,
                healthy,
                "dependency health changed"
            );
            set_health(&reporter, &names, status).await;
        }
    }
    while tasks.join_next().await.is_some() {}
}

async fn run_periodic(
    pool: PgPool,
    outbox: Outbox,
    clock: Clock,
    job: PeriodicJob,
    shutdown: CancellationToken,
) {
    let mut interval = tokio::time::interval(job.every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = shutdown.cancelled() => return,
        }
        let run = (job.job)(pool.clone(), outbox.clone(), clock.clone());
        if let Err(e) = crate::db::run_exclusive(&pool, job.name, || run).await {
            // `{:#}` keeps the chain of sources: what failed, and why.
            tracing::warn!(
                job = job.name,
                error = format!("{e:#}"),
                "periodic job failed"
            );
        }
    }
}

/// Cancels `token` on SIGTERM or Ctrl-C.
pub fn cancel_on_signal(token: CancellationToken) {
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => tracing::info!("interrupted; shutting down"),
            _ = term => tracing::info!("SIGTERM; shutting down"),
        }
        token.cancel();
    });
}
