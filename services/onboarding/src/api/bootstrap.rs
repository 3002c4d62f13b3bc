//! The bootstrap admin key: how the first admin credential of a fresh
//! deployment comes to exist (`PRM_BOOTSTRAP_ADMIN_KEY`).

use prm_runtime::Role;
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgConnection;

use crate::domain::credentials;
use crate::store;

const BOOTSTRAP_ADMIN_EMAIL: &str = "bootstrap-admin@prm.invalid";

/// Makes `key` (from `PRM_BOOTSTRAP_ADMIN_KEY`) the API key of a local
/// vendor admin, replacing any earlier bootstrap key, in the caller's
/// transaction. Safe to run on every start and on several replicas at once.
pub async fn ensure_bootstrap_admin(
    tx: &mut PgConnection,
    key: &SecretString,
) -> anyhow::Result<()> {
    let secret = key.expose_secret();
    if secret.len() < credentials::MIN_BOOTSTRAP_KEY_LEN || !credentials::looks_like_key(secret) {
        anyhow::bail!(
            "PRM_BOOTSTRAP_ADMIN_KEY must be at least {} printable characters without spaces",
            credentials::MIN_BOOTSTRAP_KEY_LEN
        );
    }
    let hash = credentials::hash(secret);
    store::lock_bootstrap(tx).await?;
    if store::bootstrap_key_hash(tx).await?.as_deref() == Some(hash.as_slice()) {
        return Ok(());
    }
    let user = match store::user_by_email(tx, BOOTSTRAP_ADMIN_EMAIL).await? {
        Some(u) => u,
        None => {
            store::insert_user(
                tx,
                None,
                BOOTSTRAP_ADMIN_EMAIL,
                "Bootstrap admin",
                &[Role::Admin],
            )
            .await?
        }
    };
    store::retire_bootstrap_keys(tx, &hash).await?;
    store::insert_api_key(
        tx,
        &user,
        "bootstrap admin key",
        &credentials::display_prefix(secret),
        &hash,
        true,
        &store::NewKeyLimits::unrestricted(),
    )
    .await?;
    tracing::info!(user_id = %user.id, "bootstrap admin key installed from PRM_BOOTSTRAP_ADMIN_KEY");
    Ok(())
}
