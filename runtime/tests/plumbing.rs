//! The per-service plumbing the runtime owns, against real PostgreSQL and
//! NATS: idempotent transactions, constraint mapping, transactional jobs,
//! and the test harness itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use prm_proto::common::Money;
use prm_runtime::config::ServiceIdentity;
use prm_runtime::testing::{RunningService, SpawnOptions, TestEnv, eventually};
use prm_runtime::{
    ApiError, CallContext, Clock, GrpcApi, Idempotency, OnConstraint, ServiceHost, begin_or_replay,
};
use sqlx::migrate::Migrator;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

const IDENTITY: ServiceIdentity = ServiceIdentity {
    name: "ledgertest",
    default_grpc_port: 0,
};

fn migrator() -> Migrator {
    sqlx::migrate!("./tests/migrations")
}

async fn pool(env: &TestEnv) -> PgPool {
    let pool = PgPool::connect(&env.db.url).await.expect("test database");
    prm_runtime::db::migrate(&pool, &migrator())
        .await
        .expect("migrations");
    pool
}

async fn insert(db: &mut PgConnection, label: &str, code: Option<&str>) -> sqlx::Result<Uuid> {
    sqlx::query_scalar("INSERT INTO entries (id, label, code) VALUES ($1, $2, $3) RETURNING id")
        .bind(Uuid::now_v7())
        .bind(label)
        .bind(code)
        .fetch_one(db)
        .await
}

async fn count(pool: &PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .expect("count")
}

/// A mutating "handler" as a service writes one.
async fn record(pool: &PgPool, ctx: &CallContext, req: Money) -> Result<Money, ApiError> {
    let idem = Idempotency::new(ctx, "Record", &req);
    let mut tx = begin_or_replay!(pool, idem);
    insert(
        &mut tx,
        &format!("{} {}", req.amount_minor, req.currency),
        None,
    )
    .await
    .on_constraint("entries_label_key", || {
        ApiError::already_exists("ENTRY_EXISTS", "that entry exists")
    })?;
    idem.commit(tx, &req).await?;
    Ok(req)
}

#[tokio::test]
async fn a_retried_call_replays_its_response_and_changes_nothing() {
    let env = TestEnv::new(SpawnOptions::default()).await;
    let pool = pool(&env).await;
    let ctx = CallContext {
        principal: None,
        idempotency_key: Some("key-1".into()),
        ..CallContext::default()
    };
    let req = Money {
        amount_minor: 100,
        currency: "EUR".into(),
    };
    assert_eq!(record(&pool, &ctx, req.clone()).await.expect("first"), req);
    assert_eq!(record(&pool, &ctx, req.clone()).await.expect("replay"), req);
    assert_eq!(count(&pool, "SELECT count(*) FROM entries").await, 1);

    let other = Money {
        amount_minor: 200,
        ..req.clone()
    };
    let err = record(&pool, &ctx, other).await.expect_err("key reused");
    assert_eq!(err.reason(), "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(count(&pool, "SELECT count(*) FROM entries").await, 1);

    // Without a key the same body is a new effect, refused by the constraint
    // as a domain error; nothing is stored half-way.
    let err = record(&pool, &CallContext::default(), req)
        .await
        .expect_err("duplicate");
    assert_eq!(err.reason(), "ENTRY_EXISTS");
    assert_eq!(count(&pool, "SELECT count(*) FROM entries").await, 1);
}

#[tokio::test]
async fn constraint_errors_chain_and_others_pass_through() {
    let env = TestEnv::new(SpawnOptions::default()).await;
    let pool = pool(&env).await;
    let mut conn = pool.acquire().await.expect("connection");
    insert(&mut conn, "a", Some("x")).await.expect("first");
    let mapped = |label: &'static str, code: &'static str| {
        let pool = pool.clone();
        async move {
            let mut conn = pool.acquire().await.expect("connection");
            insert(&mut conn, label, Some(code))
                .await
                .on_constraint("entries_label_key", || {
                    ApiError::already_exists("LABEL_TAKEN", "label")
                })
                .on_constraint("entries_code_key", || {
                    ApiError::already_exists("CODE_TAKEN", "code")
                })
        }
    };
    assert_eq!(
        mapped("a", "y").await.expect_err("label").reason(),
        "LABEL_TAKEN"
    );
    assert_eq!(
        mapped("b", "x").await.expect_err("code").reason(),
        "CODE_TAKEN"
    );
    assert!(mapped("b", "y").await.is_ok());
    // An error that is no constraint violation stays what it was.
    let other = sqlx::query("SELECT * FROM no_such_table")
        .execute(&mut *conn)
        .await
        .map(drop)
        .on_constraint("entries_label_key", || {
            ApiError::already_exists("LABEL_TAKEN", "label")
        });
    assert!(matches!(other, Err(ApiError::Internal(_))));
}

#[tokio::test]
async fn jobs_own_their_transactions_and_one_failing_item_spares_the_others() {
    let env = TestEnv::new(SpawnOptions::default()).await;
    let mut settings = env.runtime_settings(IDENTITY);
    settings.grpc.grace_period_secs = 2;
    let mut host = ServiceHost::build(IDENTITY, settings, migrator(), Clock::system())
        .await
        .expect("host");
    host.on_ready(|tx, _| Box::pin(async move { insert(tx, "ready", None).await.map(drop) }));
    // Each run inserts, then fails: nothing of a failed run may remain.
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    host.every(
        "test.failing",
        Duration::from_millis(50),
        move |tx, _, _| {
            let counted = counted.clone();
            Box::pin(async move {
                let n = counted.fetch_add(1, Ordering::SeqCst);
                insert(tx, &format!("failed run {n}"), None).await?;
                anyhow::bail!("run {n} failed after writing")
            })
        },
    );
    host.every_each(
        "test.each",
        Duration::from_millis(50),
        |conn, _| {
            Box::pin(async move {
                sqlx::query_scalar("SELECT id FROM entries WHERE label = 'ready'")
                    .fetch_all(conn)
                    .await
                    .map(|ids: Vec<Uuid>| {
                        // The ready row, and an id whose work always fails.
                        ids.into_iter().chain([Uuid::nil()]).collect()
                    })
            })
        },
        |tx, _, id, _| {
            Box::pin(async move {
                insert(tx, &format!("each {id}"), None).await?;
                if id.is_nil() {
                    anyhow::bail!("this item always fails");
                }
                Ok(())
            })
        },
    );
    let env_copy = env.clone();
    let handle = host.handle();
    let mut service =
        RunningService::start(env_copy, handle, host.run_until_stopped(GrpcApi::none()));
    service.wait_serving().await;
    let pool = PgPool::connect(&env.db.url).await.expect("pool");
    let done = eventually(Duration::from_secs(20), || {
        let pool = pool.clone();
        let runs = runs.clone();
        async move {
            let each: i64 =
                sqlx::query_scalar("SELECT count(*) FROM entries WHERE label LIKE 'each %'")
                    .fetch_one(&pool)
                    .await
                    .ok()?;
            (each >= 1 && runs.load(Ordering::SeqCst) >= 2).then_some(())
        }
    })
    .await;
    service.stop().await.expect("stops cleanly");
    assert!(done.is_some(), "the jobs ran");
    assert_eq!(
        count(&pool, "SELECT count(*) FROM entries WHERE label = 'ready'").await,
        1,
        "the ready hook committed once"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM entries WHERE label LIKE 'failed run %'"
        )
        .await,
        0,
        "failed runs rolled back"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM entries WHERE label = 'each 00000000-0000-0000-0000-000000000000'"
        )
        .await,
        0,
        "the failing item rolled back"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM entries WHERE label LIKE 'each %'"
        )
        .await,
        1,
        "the other item committed (once: the label is unique, later runs fail on it)"
    );
}

/// SIGTERM's order, as a client sees it through `grpc.health.v1`: the
/// service reports NOT_SERVING while it still accepts connections and
/// answers calls, and closes its port only after the drain delay.
#[tokio::test]
async fn not_serving_is_visible_before_the_port_closes() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

    let env = TestEnv::new(SpawnOptions::default()).await;
    let mut settings = env.runtime_settings(IDENTITY);
    settings.grpc.drain_delay_ms = 1_500;
    let host = ServiceHost::build(IDENTITY, settings, migrator(), Clock::system())
        .await
        .expect("host");
    let handle = host.handle();
    let addr = handle.addr;
    let mut service = RunningService::start(env, handle, host.run_until_stopped(GrpcApi::none()));
    service.wait_serving().await;
    let mut watch = HealthClient::new(service.channel())
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("watch")
        .into_inner();
    let first = watch.message().await.expect("stream").expect("status");
    assert_eq!(first.status, ServingStatus::Serving as i32);

    service.shutdown.cancel();
    let next = watch.message().await.expect("stream").expect("status");
    assert_eq!(next.status, ServingStatus::NotServing as i32);
    // NOT_SERVING is out, and the port still takes new connections and
    // answers on them.
    let fresh = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("the port is still open after NOT_SERVING");
    let status = HealthClient::new(fresh)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("answered while draining")
        .into_inner()
        .status;
    assert_eq!(status, ServingStatus::NotServing as i32);
    // Then the port closes.
    let closed = eventually(Duration::from_secs(10), || async move {
        tokio::net::TcpStream::connect(addr).await.err().map(|_| ())
    })
    .await;
    assert!(closed.is_some(), "the port never closed");
    // The open watch is an in-flight call: ending it lets the service stop
    // before its grace period is out.
    drop(watch);
    service.stop().await.expect("clean stop");
}
