use prm_gateway::{Gateway, GatewaySettings};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `prm-gateway openapi` prints the OpenAPI document (see `make openapi`).
    match std::env::args().nth(1).as_deref() {
        None | Some("serve") => {}
        Some("openapi") => {
            println!("{}", prm_gateway::openapi_json());
            return Ok(());
        }
        // Reports the port, grace period and unread PRM_ variables (k8s checks).
        Some("check-config") => return prm_gateway::config::check_config(),
        Some(other) => {
            anyhow::bail!("unknown command {other:?}; use serve, openapi or check-config")
        }
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
