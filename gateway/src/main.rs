use prm_gateway::{Gateway, GatewaySettings};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `prm-gateway openapi` prints the OpenAPI document (see `make openapi`).
    if std::env::args().nth(1).as_deref() == Some("openapi") {
        println!("{}", prm_gateway::openapi_json());
        return Ok(());
    }
    let settings = GatewaySettings::load()?;
    let telemetry = prm_runtime::telemetry::init("gateway", &settings.telemetry)?;
    let gateway = Gateway::build(settings).await?;
    prm_runtime::host::cancel_on_signal(gateway.shutdown_token());
    let result = gateway.run_until_stopped().await;
    if let Err(e) = &result {
        tracing::error!(error = %e, "gateway exited with an error");
    }
    telemetry.shutdown();
    result
}
