use clap::Parser;
use prm_onboarding::config::{IDENTITY, OnboardingSettings};
use prm_onboarding::{Application, Settings, app::migrator};
use prm_runtime::cli::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::CheckConfig = cli.command() {
        return prm_runtime::cli::check_service_config::<OnboardingSettings>(IDENTITY);
    }
    let settings = Settings::load()?;
    let telemetry = prm_runtime::telemetry::init(IDENTITY.name, &settings.runtime.telemetry)?;
    let result = match cli.command() {
        Command::Serve => {
            let app = Application::build(settings).await?;
            prm_runtime::host::cancel_on_signal(app.shutdown_token());
            app.run_until_stopped().await
        }
        Command::Migrate => prm_runtime::cli::migrate(&settings.runtime, &migrator()).await,
        Command::Healthcheck => prm_runtime::cli::healthcheck(&settings.runtime).await,
        Command::CheckConfig => unreachable!("handled above"),
    };
    if let Err(e) = &result {
        tracing::error!(error = %e, "onboarding exited with an error");
    }
    telemetry.shutdown();
    result
}
