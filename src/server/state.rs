use super::{config::Config, db::Db, media::MediaStore};
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use std::sync::Arc;
use tokio::sync::Semaphore;

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
    /// Bounds concurrent password hashing (19 MiB each, one per core) so a login flood cannot
    /// exhaust memory.
    pub hashing: Arc<Semaphore>,
    /// Bounds concurrent photo decoding (`media::DECODE_SLOTS`), so uploads together
    /// cannot take more memory than that many photo pipelines.
    pub decoding: Arc<Semaphore>,
    /// Counters behind the rate limits in `config.limits`.
    pub limiter: Arc<super::limits::RateLimiter>,
    /// Recent marketplace and API list answers, checked against the data's version.
    pub list_cache: Arc<crate::cars::db::ListCache>,
    /// The users behind API tokens, looked up many requests to a query.
    pub token_users: super::coalesce::Coalesced<crate::auth::db::TokenUsers>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The calling client's address inside a server function (for rate limits).
pub fn request_ip(state: &AppState) -> std::net::IpAddr {
    // The accept loop puts the peer address in the request's extensions as `ConnectInfo`.
    let parts = leptos::prelude::use_context::<http::request::Parts>();
    let peer = parts.as_ref().and_then(|parts| {
        parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0)
    });
    let headers = parts.map(|parts| parts.headers).unwrap_or_default();
    super::limits::client_ip(peer, &headers, state.config.trust_proxy)
}

/// The state inside a server function.
pub fn app_state() -> Result<AppState, crate::error::AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from context");
        crate::error::AppError::Internal
    })
}
