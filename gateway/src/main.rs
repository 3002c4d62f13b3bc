use prm_gateway::{Gateway, GatewaySettings};

// The gateway allocates a little for every request it serves (headers,
// spans, bodies); under load glibc's malloc was a fifth of its CPU time
// (perf, `make bench` redirects). mimalloc's thread-local free lists are
// cheaper.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The gateway's commands.
#[derive(Debug, Clone, clap::Subcommand)]
enum Command {
    /// Serve the REST API (the default).
    Serve,
    /// Print the OpenAPI document (see `make openapi`).
    Openapi,
    /// Report, as JSON, the port and grace period the environment resolves
    /// to and any PRM_ variable the gateway does not read (k8s checks).
    CheckConfig,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match prm_runtime::cli::parse(Command::Serve) {
        Command::Serve => {}
        Command::Openapi => {
            println!("{}", prm_gateway::openapi_json());
            return Ok(());
        }
        Command::CheckConfig => {
            return prm_gateway::config::check_config(&prm_gateway::routes::upstreams());
        }
    }
    let settings = GatewaySettings::load()?;
    let telemetry = prm_runtime::telemetry::init("gateway", &settings.telemetry)?;
    let gateway = Gateway::build(settings).await?;
    prm_runtime::host::cancel_on_signal(gateway.shutdown_token());
    let result = gateway.run_until_stopped().await;
    if let Err(e) = &result {
        tracing::error!(error = format!("{e:#}"), "gateway exited with an error");
    }
    telemetry.shutdown();
    result
}
