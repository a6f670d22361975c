//! Account server functions: thin wrappers over validation and queries.

use super::model::User;
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub mod session {
    //! Reading and writing the signed-in user in the tower-sessions session.
    use super::User;
    use crate::{error::AppError, server::state::AppState};
    use tower_sessions::Session;

    const USER_ID: &str = "user_id";
    /// Unix time of sign-in, in milliseconds.
    const SIGNED_IN_AT: &str = "signed_in_at_ms";

    pub async fn current_session() -> Result<Session, AppError> {
        leptos_axum::extract::<Session>().await.map_err(|error| {
            tracing::error!(%error, "session layer missing");
            AppError::Internal
        })
    }

    pub async fn user_from_session(
        state: &AppState,
        session: &Session,
    ) -> Result<Option<User>, AppError> {
        let Some(id) = session
            .get::<i64>(USER_ID)
            .await
            .map_err(|_| AppError::Internal)?
        else {
            return Ok(None);
        };
        // Absolute expiry: however active, a sign-in ends after the configured maximum age.
        let signed_in_at = session
            .get::<i64>(SIGNED_IN_AT)
            .await
            .map_err(|_| AppError::Internal)?
            .unwrap_or(0);
        if chrono::Utc::now().timestamp_millis() - signed_in_at
            > state.config.session_max_age_secs * 1000
        {
            session.flush().await.map_err(|_| AppError::Internal)?;
            return Ok(None);
        }
        super::super::db::find_user_by_id(&state.db, id).await
    }

    /// The signed-in user, or `Unauthorized`.
    pub async fn require_user(state: &AppState) -> Result<User, AppError> {
        let session = current_session().await?;
        user_from_session(state, &session)
            .await?
            .ok_or_else(AppError::login_required)
    }

    /// Starts a signed-in session under a fresh id (no session fixation).
    pub async fn log_in(session: &Session, user: &User) -> Result<(), AppError> {
        session.cycle_id().await.map_err(|_| AppError::Internal)?;
        session
            .insert(SIGNED_IN_AT, chrono::Utc::now().timestamp_millis())
            .await
            .map_err(|_| AppError::Internal)?;
        session
            .insert(USER_ID, user.id)
            .await
            .map_err(|_| AppError::Internal)
    }
}

#[server(prefix = "/rpc", endpoint = "auth/current_user")]
pub async fn current_user() -> Result<Option<User>, AppError> {
    let state = crate::server::state::app_state()?;
    let session = session::current_session().await?;
    session::user_from_session(&state, &session).await
}

#[server(prefix = "/rpc", endpoint = "auth/register")]
pub async fn register(
    username: String,
    email: Option<String>,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use super::{db, model};
    crate::error::with_status(
        async move {
            let state = crate::server::state::app_state()?;
            let mut errors = crate::error::FieldErrors::new();
            let username = model::parse_username(&username)
                .map_err(|e| errors.insert("username".into(), e))
                .ok();
            let email = model::parse_email(email.as_deref().unwrap_or_default())
                .map_err(|e| errors.insert("email".into(), e))
                .ok();
            let password = model::parse_password(&password)
                .map_err(|e| errors.insert("password".into(), e))
                .ok();
            let (Some(username), Some(email), Some(password)) = (username, email, password) else {
                return Err(AppError::Validation(errors));
            };
            // Counted before hashing: each attempt that gets this far costs an argon2 hash.
            let client = crate::server::state::request_ip(&state);
            state
                .limiter
                .take(
                    &format!("register:{client}"),
                    state.config.limits.registrations_per_address,
                )
                .map_err(|wait| {
                    crate::server::limits::too_many(
                        "Too many new accounts from your network.",
                        wait,
                    )
                })?;
            let hash = db::hash_password(&state, password).await?;
            let user = db::insert_user(&state.db, &username, email.as_deref(), &hash).await?;
            tracing::info!(user_id = user.id, "registered");
            session::log_in(&session::current_session().await?, &user).await?;
            leptos_axum::redirect(&model::safe_next(next.as_deref()));
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "auth/login")]
pub async fn login(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use super::{db, model};
    crate::error::with_status(
        async move {
            let state = crate::server::state::app_state()?;
            let wrong = || {
                AppError::Unauthorized(
                    "That username and password don't match an account. Please try again.".into(),
                )
            };
            let client = crate::server::state::request_ip(&state);
            let user = db::authenticate(&state, client, &username, password)
                .await?
                .ok_or_else(wrong)?;
            session::log_in(&session::current_session().await?, &user).await?;
            tracing::info!(user_id = user.id, "logged in");
            leptos_axum::redirect(&model::safe_next(next.as_deref()));
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "auth/logout")]
pub async fn logout() -> Result<(), AppError> {
    let session = session::current_session().await?;
    session.flush().await.map_err(|_| AppError::Internal)?;
    leptos_axum::redirect("/");
    Ok(())
}
