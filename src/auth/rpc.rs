//! Account server functions: thin wrappers over validation and queries.

use super::model::User;
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub mod session {
    //! Reading and writing the signed-in user in the tower-sessions session.
    use super::User;
    use crate::{error::AppError, state::AppState};
    use tower_sessions::Session;

    const USER_ID: &str = "user_id";
    /// Unix time of sign-in, in milliseconds.
    const SIGNED_IN_AT: &str = "signed_in_at_ms";

    pub async fn current_session() -> Result<Session, AppError> {
        leptos_axum::extract::<Session>()
            .await
            .map_err(|e| AppError::internal("finding the session layer", e.to_string()))
    }

    pub async fn user_from_session(
        state: &AppState,
        session: &Session,
    ) -> Result<Option<User>, AppError> {
        let Some(id) = session
            .get::<i64>(USER_ID)
            .await
            .map_err(|e| AppError::internal("reading the session", e))?
        else {
            return Ok(None);
        };
        // Absolute expiry: however active, a sign-in ends after the configured maximum age.
        let signed_in_at = session
            .get::<i64>(SIGNED_IN_AT)
            .await
            .map_err(|e| AppError::internal("reading the session", e))?
            .unwrap_or(0);
        if chrono::Utc::now().timestamp_millis() - signed_in_at
            > state.config.session_max_age_secs * 1000
        {
            session
                .flush()
                .await
                .map_err(|e| AppError::internal("ending an expired session", e))?;
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

    /// The device cookie (see `auth::db::authenticate`): `__Host-` prefixed over HTTPS,
    /// like the session cookie.
    fn device_cookie_name(state: &AppState) -> &'static str {
        if state.config.secure_cookies {
            "__Host-autonexus_device"
        } else {
            "autonexus_device"
        }
    }

    /// How long a browser stays known to an account after its last sign-in.
    const DEVICE_COOKIE_DAYS: i64 = 365;

    /// This request's device cookie, if it sent one.
    pub fn device_cookie(state: &AppState) -> Option<String> {
        let parts = leptos::prelude::use_context::<http::request::Parts>()?;
        let name = device_cookie_name(state);
        parts
            .headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(tower_sessions::cookie::Cookie::split_parse)
            .filter_map(Result::ok)
            .find(|cookie| cookie.name() == name)
            .map(|cookie| cookie.value().to_owned())
    }

    /// Sends the browser its device cookie for the account it signed in to.
    pub fn set_device_cookie(state: &AppState, value: String) {
        use tower_sessions::cookie::{time::Duration, Cookie, SameSite};
        let cookie = Cookie::build((device_cookie_name(state), value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(state.config.secure_cookies)
            .max_age(Duration::days(DEVICE_COOKIE_DAYS))
            .build();
        if let (Some(response), Ok(header)) = (
            leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
            http::HeaderValue::from_str(&cookie.to_string()),
        ) {
            response.append_header(http::header::SET_COOKIE, header);
        }
    }

    /// Starts a signed-in session under a fresh id (no session fixation).
    pub async fn log_in(session: &Session, user: &User) -> Result<(), AppError> {
        session
            .cycle_id()
            .await
            .map_err(|e| AppError::internal("renewing the session id", e))?;
        session
            .insert(SIGNED_IN_AT, chrono::Utc::now().timestamp_millis())
            .await
            .map_err(|e| AppError::internal("writing the session", e))?;
        session
            .insert(USER_ID, user.id)
            .await
            .map_err(|e| AppError::internal("writing the session", e))
    }
}

#[server(prefix = "/rpc", endpoint = "auth/current_user")]
pub async fn current_user() -> Result<Option<User>, AppError> {
    let state = crate::state::app_state()?;
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
            let state = crate::state::app_state()?;
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
            let client = crate::state::request_ip(&state);
            state
                .limiter
                .take(
                    &format!("register:{}", crate::http::limits::address_key(client)),
                    state.config.limits.registrations_per_address,
                )
                .map_err(|wait| {
                    crate::http::limits::too_many("Too many new accounts from your network.", wait)
                })?;
            let hash = state.passwords.hash(password).await?;
            let user = db::insert_user(&state.db, &username, email.as_deref(), &hash).await?;
            tracing::info!(user_id = user.id, "registered");
            session::set_device_cookie(&state, db::remember_device(&state.db, user.id).await?);
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
            let state = crate::state::app_state()?;
            let wrong = || {
                AppError::Unauthorized(
                    "That username and password don't match an account. Please try again.".into(),
                )
            };
            let client = crate::state::request_ip(&state);
            let device = session::device_cookie(&state);
            let signed_in = state
                .passwords
                .authenticate(&state.db, client, device.as_deref(), &username, password)
                .await?
                .ok_or_else(wrong)?;
            let user = signed_in.user;
            if !signed_in.known_device {
                session::set_device_cookie(&state, db::remember_device(&state.db, user.id).await?);
            }
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
    session
        .flush()
        .await
        .map_err(|e| AppError::internal("logging out", e))?;
    leptos_axum::redirect("/");
    Ok(())
}
