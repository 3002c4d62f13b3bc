//! The runtime around the service: health, reflection, shutdown, config.

use std::time::{Duration, Instant};

use tonic_health::pb::health_check_response::ServingStatus;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

use crate::helpers::*;

#[tokio::test]
async fn health_and_reflection_describe_the_service() {
    let mut app = spawn_app().await;
    assert_eq!(app.health("").await, ServingStatus::Serving as i32);
    assert_eq!(
        app.health("prm.onboarding.v1.OnboardingService").await,
        ServingStatus::Serving as i32
    );

    let mut reflection = ServerReflectionClient::new(app.channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = reflection
        .server_reflection_info(futures::stream::iter(vec![request]))
        .await
        .expect("reflection")
        .into_inner();
    let response = stream.message().await.expect("message").expect("response");
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection response");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"prm.onboarding.v1.OnboardingService".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_string()),
        "{names:?}"
    );

    // Shutdown is prompt and clean.
    let started = Instant::now();
    app.stop().await.expect("clean exit");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn not_serving_until_the_database_is_reachable() {
    // A database that does not exist yet: the server listens but reports NOT_SERVING.
    let mut db = prm_runtime::testing::fresh_database().await;
    let real = db.clone();
    db.url = db.url.replace(&db.name, &format!("{}_later", db.name));
    db.name = format!("{}_later", db.name);
    let app = spawn(Spawn {
        db: Some(db.clone()),
        no_wait: true,
        ..Default::default()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.health("").await, ServingStatus::NotServing as i32);
    // Create it: the service migrates and becomes ready by itself.
    let admin = std::env::var(prm_runtime::testing::DATABASE_URL_ENV).expect("env");
    let pool = sqlx::PgPool::connect(&admin).await.expect("admin");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE \"{}\"",
        db.name
    )))
    .execute(&pool)
    .await
    .expect("create");
    app.wait_serving().await;
    let _ = real;
}
