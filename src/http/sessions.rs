//! Browser sessions, kept in the app's own database.

use crate::{config::Config, db::Db};
use axum::Router;
use tower_sessions::{cookie::SameSite, ExpiredDeletion, Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// Sessions live in the app's own database, whichever engine that is, so any app server
/// can serve any signed-in user.
pub async fn with_sessions<S: Clone + Send + Sync + 'static>(
    app: Router<S>,
    db: &Db,
    config: &Config,
) -> Result<Router<S>, Box<dyn std::error::Error>> {
    Ok(match db {
        Db::Sqlite { pool, .. } => {
            let store = SqliteStore::new(pool.clone()).with_table_name("sessions")?;
            store.migrate().await?;
            app.layer(session_layer(store, config))
        }
        Db::Postgres { pool } => {
            let store = PostgresStore::new(pool.clone())
                .with_schema_name("public")?
                .with_table_name("sessions")?;
            store.migrate().await?;
            app.layer(session_layer(store, config))
        }
    })
}

/// The session cookie and expiry rules, and a task that deletes expired sessions.
fn session_layer<S>(store: S, config: &Config) -> SessionManagerLayer<S>
where
    S: tower_sessions::SessionStore + ExpiredDeletion + Clone,
{
    // Expired sessions are removed periodically (hourly by default); the task ends with the process.
    tokio::spawn(
        store
            .clone()
            .continuously_delete_expired(tokio::time::Duration::from_secs(
                config.session_cleanup_secs.unsigned_abs(),
            )),
    );
    // Over HTTPS the cookie takes the `__Host-` prefix: browsers then accept it only
    // when Secure, for this exact host and path /, so a sibling subdomain cannot plant one.
    let cookie_name = if config.secure_cookies {
        "__Host-autonexus_session"
    } else {
        "autonexus_session"
    };
    SessionManagerLayer::new(store)
        .with_name(cookie_name)
        .with_path("/")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::seconds(config.session_idle_secs),
        ))
}
