//! The one error type that server functions and form handlers return.
//!
//! It carries only what the UI can act on. An internal failure keeps its cause (for
//! `Error::source`), logged once where it happens, inside the request's span (so with its
//! request id); what leaves the server is a generic sentence.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, sync::Arc};

/// Field name -> a sentence saying what is wrong with it.
pub type FieldErrors = BTreeMap<String, String>;

/// What `Retry-After` says when the server is momentarily too busy (503).
pub const RETRY_AFTER_SECS: u64 = 5;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("Please correct the highlighted fields.")]
    Validation(FieldErrors),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadRequest(String),
    /// Rate limited; the message says when to try again, `retry_after` in seconds.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    /// Too busy for this right now (503); the client may try again in `RETRY_AFTER_SECS`.
    #[error("{0}")]
    Unavailable(String),
    /// Our fault; made with [`AppError::internal`], which logs the cause.
    #[error("Something went wrong on our side. Please try again in a moment.")]
    Internal(#[source] Cause),
}

/// Why an internal error happened: kept on the server, never serialised (the browser
/// gets an empty one), and not compared (two internal errors are equal).
#[derive(Clone, Debug, Default)]
pub struct Cause(Option<Arc<dyn std::error::Error + Send + Sync>>);

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(cause) => cause.fmt(f),
            None => f.write_str("cause not sent to this side"),
        }
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.as_ref()?.source()
    }
}

impl PartialEq for Cause {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Cause {}

impl Serialize for Cause {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_unit()
    }
}

impl<'de> Deserialize<'de> for Cause {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <()>::deserialize(deserializer).map(|()| Cause::default())
    }
}

impl AppError {
    /// An internal failure during `what` (e.g. "storing a photo"): `cause` is logged now,
    /// once, and kept as the error's source; the user sees only the generic sentence.
    pub fn internal(
        what: &'static str,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        let cause: Arc<dyn std::error::Error + Send + Sync> = Arc::from(cause.into());
        #[cfg(feature = "ssr")]
        tracing::error!(error = %cause, "{what} failed");
        #[cfg(not(feature = "ssr"))]
        let _ = what;
        AppError::Internal(Cause(Some(cause)))
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.insert(field.to_owned(), message.into());
        AppError::Validation(errors)
    }

    pub fn login_required() -> Self {
        AppError::Unauthorized("Please log in to do that.".into())
    }

    pub fn not_found() -> Self {
        AppError::NotFound("We couldn't find that page.".into())
    }

    /// The HTTP status that matches this error.
    pub fn status(&self) -> u16 {
        match self {
            AppError::NotFound(_) => 404,
            AppError::Unauthorized(_) => 401,
            AppError::Forbidden(_) => 403,
            AppError::Validation(_) => 422,
            AppError::Conflict(_) => 409,
            AppError::BadRequest(_) => 400,
            AppError::TooManyRequests { .. } => 429,
            AppError::Unavailable(_) => 503,
            AppError::Internal(_) => 500,
        }
    }

    /// Seconds a client should wait before trying again (`Retry-After`), for errors that pass.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::Unavailable(_) => Some(RETRY_AFTER_SECS),
            AppError::TooManyRequests { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    pub fn field_errors(&self) -> Option<&FieldErrors> {
        match self {
            AppError::Validation(errors) => Some(errors),
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Malformed arguments are the client's fault, not ours.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::Deserialization(_) => {
                AppError::BadRequest(
                    "The request was malformed. Please check the form and try again.".into(),
                )
            }
            ServerFnErrorErr::MissingArg(name) => {
                AppError::BadRequest(format!("Missing field: {name}."))
            }
            other => AppError::internal("a server function", other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::AppError;

    impl From<sqlx::Error> for AppError {
        fn from(error: sqlx::Error) -> Self {
            match &error {
                sqlx::Error::RowNotFound => AppError::not_found(),
                sqlx::Error::Database(db) if db.is_unique_violation() => {
                    AppError::Conflict("That already exists.".into())
                }
                _ => AppError::internal("a database query", error),
            }
        }
    }

    impl axum::response::IntoResponse for AppError {
        fn into_response(self) -> axum::response::Response {
            let status = axum::http::StatusCode::from_u16(self.status())
                .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
            let retry_after = self.retry_after();
            let mut response = (status, self.to_string()).into_response();
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, seconds.into());
            }
            response
        }
    }
}

/// Sets the HTTP status of the current server-function response to match the error.
///
/// A plain HTML form post (no JavaScript) is left alone: Leptos answers it with a
/// redirect back to the form, carrying the error in the URL, and a 4xx there would
/// stop the browser from following it.
#[cfg(feature = "ssr")]
pub fn with_status<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(error) = &result {
        use leptos::prelude::use_context;
        let is_plain_form = use_context::<http::request::Parts>()
            .and_then(|parts| {
                parts
                    .headers
                    .get(http::header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| v.contains("text/html"))
            })
            .unwrap_or(false);
        if !is_plain_form {
            if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
                options.set_status(
                    http::StatusCode::from_u16(error.status())
                        .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR),
                );
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_keeps_its_cause_on_the_server_and_sends_none() {
        let io = std::io::Error::other("disk on fire");
        let error = AppError::internal("writing a test file", io);
        let source = std::error::Error::source(&error).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("disk on fire"));
        assert_eq!(
            error.to_string(),
            "Something went wrong on our side. Please try again in a moment."
        );
        let sent = serde_json::to_string(&error).unwrap();
        assert!(!sent.contains("fire"), "{sent}");
        let received: AppError = serde_json::from_str(&sent).unwrap();
        assert_eq!(received, error);
        assert_eq!(received.status(), 500);
    }
}
