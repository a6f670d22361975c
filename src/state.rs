//! What every handler and server function is given: the shared infrastructure and each
//! feature's own long-lived parts. Part of the composition root (with `routes`, `app` and
//! `demo`): the one place besides them that names the features.

use crate::{
    auth::{db::TokenUsers, passwords::Passwords},
    cars::db::{ListCache, NewCarQueue},
    config::Config,
    db::{coalesce::Coalesced, Db},
    http::limits::RateLimiter,
    media::MediaStore,
};
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use std::sync::Arc;

/// Everything a request handler or server function needs, passed in (never global).
/// Every request clones it, so it is one shared allocation: a clone is one count.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What an [`AppState`] holds.
#[derive(Debug)]
pub struct Shared {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub config: Arc<Config>,
    pub media: MediaStore,
    /// Photo decoding's turns (`media::Decoders`): uploads together stay within one
    /// memory budget.
    pub decoding: crate::media::Decoders,
    /// Counters behind the rate limits in `config.limits`.
    pub limiter: Arc<RateLimiter>,
    /// Password hashing and the log-in attempt limits.
    pub passwords: Passwords,
    /// Recent marketplace and API list answers, checked against the data's version.
    pub list_cache: ListCache,
    /// Where new listings go (batched on SQLite).
    pub new_cars: NewCarQueue,
    /// The users behind API tokens, looked up many requests to a query.
    pub token_users: Coalesced<TokenUsers>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for Db {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}

impl FromRef<AppState> for MediaStore {
    fn from_ref(state: &AppState) -> Self {
        state.media.clone()
    }
}

/// The calling client's address inside a server function (for rate limits).
pub fn request_ip(state: &AppState) -> std::net::IpAddr {
    crate::http::limits::server_fn_client_ip(state.config.trust_proxy)
}

/// The state inside a server function.
pub fn app_state() -> Result<AppState, crate::error::AppError> {
    leptos::prelude::use_context::<AppState>()
        .ok_or_else(|| crate::error::AppError::internal("finding the app state", "not in context"))
}
