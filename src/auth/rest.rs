//! `/api/auth/`: API tokens (DRF's `obtain_auth_token`, plus revocation) and the current user.

use super::{db, model::User};
use crate::{
    error::{AppError, FieldErrors},
    rest::{
        json_schema, token_from_headers, ApiError, ApiForm, ApiResult, Detail, FieldErrorsBody,
        TRIMMED,
    },
    state::AppState,
};
use axum::{
    extract::{ConnectInfo, FromRequestParts, Request, State},
    http::{request::Parts, StatusCode},
    Json,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::net::SocketAddr;
use tower_sessions::Session;
use utoipa::{
    openapi::{schema::Schema, RefOr},
    PartialSchema, ToSchema,
};

/// The caller, if any: `Authorization: Token <key>` first, else the browser session.
pub struct MaybeUser(pub Option<User>);

/// A caller who must be signed in (401 otherwise).
pub struct ApiUser(pub User);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        if let Some(key) = token_from_headers(&parts.headers)? {
            return match db::find_user_by_token(&state.token_users, &key).await? {
                Some(user) => Ok(MaybeUser(Some(user))),
                None => Err(ApiError::NotAuthenticated("Invalid token.".into())),
            };
        }
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, why)| AppError::internal("reading the session", why))?;
        // Cross-site cookie writes never get here: `security::csrf_guard` refuses them first.
        let user = super::rpc::session::user_from_session(state, &session).await?;
        Ok(MaybeUser(user))
    }
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        match MaybeUser::from_request_parts(parts, state).await?.0 {
            Some(user) => Ok(ApiUser(user)),
            None => Err(ApiError::NotAuthenticated(
                "Authentication credentials were not provided. Send Authorization: Token <key>."
                    .into(),
            )),
        }
    }
}

/// Username and password, each with something other than white space.
pub struct TokenRequest;

impl PartialSchema for TokenRequest {
    fn schema() -> RefOr<Schema> {
        let filled = json!({ "type": "string", "pattern": format!("[^{TRIMMED}]") });
        json_schema(json!({
            "type": "object",
            "required": ["username", "password"],
            "properties": { "username": filled, "password": filled },
        }))
        .into()
    }
}

impl ToSchema for TokenRequest {}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// Send it as `Authorization: Token <token>`. It is shown only once: only its hash is stored.
    pub token: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub id: i64,
    pub username: String,
}

/// Get an API token
///
/// Each call issues a new token; revoke one with DELETE.
#[utoipa::path(
    post,
    path = "/api/auth/token/",
    tag = "auth",
    request_body(content(
        (TokenRequest = "application/json"),
        (TokenRequest = "application/x-www-form-urlencoded")
    )),
    responses(
        (status = 200, description = "A new token", body = TokenResponse),
        (status = 400, description = "Missing fields, or the credentials do not match an account", body = FieldErrorsBody),
        (status = 413, description = "Body too large", body = Detail),
        (status = 415, description = "Unsupported content type", body = Detail),
        (status = 429, description = "Too many failed log-ins for this account or address", body = Detail)
    )
)]
pub async fn obtain_token(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> ApiResult<Json<TokenResponse>> {
    let client =
        crate::http::limits::client_ip(Some(peer), request.headers(), state.config.trust_proxy);
    let input = ApiForm::read(request, None).await?;
    let mut errors = FieldErrors::new();
    let username = input.text("username", &mut errors);
    let password = input.text("password", &mut errors);
    let (Some(username), Some(password)) = (username, password) else {
        return Err(AppError::Validation(errors).into());
    };
    // API clients carry no device cookie: they count against the account's limit.
    let user = state
        .passwords
        .authenticate(&state.db, client, None, &username, password)
        .await?
        .ok_or_else(|| ApiError::NonField("Unable to log in with provided credentials.".into()))?
        .user;
    let token = db::create_api_token(&state.db, user.id).await?;
    tracing::info!(user_id = user.id, "API token issued");
    Ok(Json(TokenResponse { token }))
}

/// Revoke the token this request is authenticated with
#[utoipa::path(
    delete,
    path = "/api/auth/token/",
    tag = "auth",
    security(("token" = [])),
    responses(
        (status = 204, description = "Revoked: the token no longer works"),
        (status = 401, description = "No valid token in the Authorization header", body = Detail)
    )
)]
pub async fn revoke_token(
    State(state): State<AppState>,
    request: Request,
) -> ApiResult<StatusCode> {
    let missing = || {
        ApiError::NotAuthenticated("Send the token to revoke as Authorization: Token <key>.".into())
    };
    let key = token_from_headers(request.headers())?.ok_or_else(missing)?;
    if db::revoke_api_token(&state.db, &key).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotAuthenticated("Invalid token.".into()))
    }
}

/// The signed-in user
#[utoipa::path(
    get,
    path = "/api/auth/me/",
    tag = "auth",
    security(("token" = [])),
    responses(
        (status = 200, description = "Who the caller is", body = Me),
        (status = 401, description = "Not signed in", body = Detail)
    )
)]
pub async fn me(ApiUser(user): ApiUser) -> Json<Me> {
    Json(Me {
        id: user.id,
        username: user.username,
    })
}
