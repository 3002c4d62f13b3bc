use prm_reporting::config::{IDENTITY, ReportingSettings};
use prm_reporting::{Application, app::migrator};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    prm_runtime::cli::service_main::<ReportingSettings, _, _>(
        IDENTITY,
        migrator(),
        |settings| async {
            let app = Application::build(settings).await?;
            prm_runtime::host::cancel_on_signal(app.shutdown_token());
            app.run_until_stopped().await
        },
    )
    .await
}
