//! Server-only glue: configuration, state, database, sessions, routes, media.

pub mod backup;
pub mod car_forms;
pub mod coalesce;
pub mod compress;
pub mod config;
pub mod db;
pub mod demo;
pub mod group_commit;
pub mod health;
pub mod limits;
pub mod media;
pub mod memory;
pub mod readers;
pub mod rest;
pub mod security;
pub mod state;

use crate::app::{shell, App};
use axum::{
    extract::{DefaultBodyLimit, Path, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use config::Config;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use state::AppState;
use std::sync::Arc;
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    trace::TraceLayer,
};
use tower_sessions::{cookie::SameSite, ExpiredDeletion, Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// Connects the database, runs migrations, seeds demo data if asked, and builds the router.
pub async fn build(
    config: Config,
    leptos_options: LeptosOptions,
) -> Result<Router, Box<dyn std::error::Error>> {
    let db = db::Db::connect(&config.database_url).await.map_err(|e| {
        format!(
            "cannot open the database at {}: {e}",
            config::redact_url(&config.database_url)
        )
    })?;
    let media = media::MediaStore::open(&config).await?;
    tracing::info!(
        database = db.engine_name(),
        photos = media.location(),
        "storage ready"
    );
    if config.demo_data {
        demo::seed_if_empty(&db, &media).await?;
    }

    let max_upload = config.max_upload_bytes;
    let hsts = config
        .secure_cookies
        .then_some("max-age=63072000; includeSubDomains");
    let token_users = coalesce::Coalesced::start(crate::auth::db::TokenUsers(db.clone()));
    let state = AppState::new(state::Shared {
        leptos_options: leptos_options.clone(),
        db,
        config: Arc::new(config),
        media,
        hashing: Arc::new(tokio::sync::Semaphore::new(hashing_slots())),
        decoding: Arc::new(tokio::sync::Semaphore::new(media::DECODE_SLOTS)),
        limiter: Arc::new(limits::RateLimiter::default()),
        list_cache: Arc::default(),
        token_users,
    });
    let routes = generate_route_list(App);

    let forms = Router::new()
        .route("/sell", post(car_forms::create_car))
        .route("/cars/{id}/edit", post(car_forms::update_car))
        // Room for a maximum-size photo plus the text fields; the photo's own cap is checked while streaming.
        .layer(DefaultBodyLimit::max(max_upload + 256 * 1024));

    // Pages and server functions take small bodies only (see `SMALL_BODY_LIMIT`).
    let pages = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let state = state.clone();
                move || {
                    provide_context(state.clone());
                    security::provide_page_nonce();
                }
            },
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(
            {
                let state = state.clone();
                move || {
                    provide_context(state.clone());
                    security::provide_page_nonce();
                }
            },
            shell,
        ))
        .layer(small_body_limit());

    let app = Router::new()
        .merge(forms)
        .nest("/api", rest::router(&state))
        .route("/media/{name}", get(serve_media))
        // The built bundle, preferring the .br / .gz files `./dev.sh` writes at maximum
        // compression beside each asset (on-the-fly compression is faster but larger).
        .nest_service(
            &format!("/{}", leptos_options.site_pkg_dir),
            tower_http::services::ServeDir::new(
                std::path::Path::new(leptos_options.site_root.as_ref())
                    .join(leptos_options.site_pkg_dir.as_ref()),
            )
            .precompressed_br()
            .precompressed_gzip(),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(pages)
        .layer(axum::middleware::map_response(status_from_error_body))
        .layer(axum::middleware::from_fn_with_state(
            leptos_options.hash_files,
            asset_cache,
        ));
    // Inside the session layer: it keeps each form post's error in the visitor's session.
    let app = app.layer(axum::middleware::from_fn(security::own_form_errors));
    let app = with_sessions(app, &state.db, &state.config)
        .await?
        .layer(axum::middleware::from_fn(security::csrf_guard))
        .layer(axum::middleware::from_fn(security::content_security_policy))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(security::DEFAULT_POLICY),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            // Only over HTTPS (COOKIE_SECURE=1): telling a plain-HTTP dev server to be HTTPS-only
            // would lock a browser out of it.
            hsts.map(HeaderValue::from_static),
        ))
        // HTML, CSS, JS, WebAssembly and JSON go out compressed (the hydrate bundle shrinks to
        // about a third); photos are already compressed and are left alone. Pages and JSON
        // are compressed whole, zstd first (see `compress`); the rest as it streams.
        .layer(axum::middleware::from_fn(compress::compress_rendered))
        .layer(compress::streaming_layer())
        // A handler that takes this long is stuck; the client gets 408 rather than waiting forever.
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            std::time::Duration::from_secs(120),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        // Every request gets an id (or keeps the proxy's x-request-id); it is in each log line
        // of the request's span and in the response, so a user's report can be traced.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &axum::http::Request<_>| {
                    let id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path())
                })
                .on_request(())
                .on_response(
                    tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO),
                ),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state);
    Ok(app)
}

/// The largest request body of any route that is not an upload (log-in, registration,
/// server functions, API tokens and status changes): a few kB is plenty.
pub const SMALL_BODY_LIMIT: usize = 16 * 1024;

/// Refuses a larger body with 413: at once when its `Content-Length` says so, else as
/// soon as that much has streamed in.
pub fn small_body_limit() -> tower_http::limit::RequestBodyLimitLayer {
    tower_http::limit::RequestBodyLimitLayer::new(SMALL_BODY_LIMIT)
}

/// How many passwords may be hashed at once: one per core, at most four. A hash keeps
/// one core busy for its whole time, so more at once only makes each slower, and each
/// holds 19 MiB while it runs.
fn hashing_slots() -> usize {
    std::thread::available_parallelism().map_or(1, |cores| cores.get().min(4))
}

/// Server functions that fail before their body runs (malformed arguments) answer 500
/// by default; give them the status their `AppError` stands for (400 for bad input).
async fn status_from_error_body(response: Response) -> Response {
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            crate::error::AppError::Internal.to_string(),
        )
            .into_response();
    };
    if let Ok(error) = serde_json::from_slice::<crate::error::AppError>(&bytes) {
        parts.status =
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Built assets under /pkg/: a hashed name never changes content, so browsers keep it a
/// year without asking again; plain names (builds without hashing) must be revalidated.
async fn asset_cache(
    State(hashed): State<bool>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let is_asset = request.uri().path().starts_with("/pkg/");
    let mut response = next.run(request).await;
    if is_asset && response.status().is_success() {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(if hashed {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            }),
        );
    }
    response
}

/// Sessions live in the app's own database, whichever engine that is, so any app server
/// can serve any signed-in user.
async fn with_sessions<S: Clone + Send + Sync + 'static>(
    app: Router<S>,
    db: &db::Db,
    config: &Config,
) -> Result<Router<S>, Box<dyn std::error::Error>> {
    Ok(match db {
        db::Db::Sqlite { pool, .. } => {
            let store = SqliteStore::new(pool.clone()).with_table_name("sessions")?;
            store.migrate().await?;
            app.layer(session_layer(store, config))
        }
        db::Db::Postgres { pool } => {
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

/// Serves an uploaded photo with a content type fixed by its stored name.
async fn serve_media(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    if !media::is_media_name(&name) {
        return (StatusCode::NOT_FOUND, "No such photo.").into_response();
    }
    let mut read = state.media.get(&name).await;
    if read.is_none() {
        // Photos stored before thumbnails existed: the card gets the full photo instead.
        if let Some(original) = name.rsplit_once('.').and_then(|(stem, ext)| {
            stem.strip_suffix("-thumb")
                .map(|stem| format!("{stem}.{ext}"))
        }) {
            read = state.media.get(&original).await;
        }
    }
    match read {
        Some(bytes) => (
            [
                (header::CONTENT_TYPE, media::content_type(&name)),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "No such photo.").into_response(),
    }
}

/// After SIGTERM, in-flight requests get this long to finish.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// Starts the server and runs until Ctrl-C or SIGTERM, letting in-flight requests finish.
///
/// The accept loop is our own (not `axum::serve`) for three defences against clients
/// that hold connections without using them:
/// - HTTP/1.1 only, with hyper's header timer running from the moment a connection opens
///   and again whenever it waits for its next request: a client that sends nothing, sends
///   its headers a byte a minute, or keeps an idle connection, is closed after
///   `HEADER_TIMEOUT_SECS`. (HTTP/2 has no such timer in hyper, and browsers only speak it
///   over TLS, which the reverse proxy in front of us terminates.)
/// - At most `max_connections` open at once, below the process's open-file limit, so
///   `accept` never fails for lack of descriptors; past the cap new connections wait in
///   the kernel's listen queue and are taken as others close.
/// - The open-file limit raised to the hard limit the system allows.
pub async fn serve(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    use hyper_util::{
        rt::{TokioIo, TokioTimer},
        server::graceful::GracefulShutdown,
    };
    use tower::Service;

    let conf = get_configuration(None)?;
    let mut leptos_options = conf.leptos_options;
    // `cargo leptos build` hashes the bundle's file names (hash-files in Cargo.toml), tells
    // the compiler so, and writes the hashes beside the binary. A binary built by plain
    // cargo (the HTTP tests) or moved without its hash file serves the plain names.
    if option_env!("LEPTOS_HASH_FILES") == Some("true") {
        leptos_options.hash_files = true;
    }
    if leptos_options.hash_files {
        let hash_file = std::env::current_exe()?
            .parent()
            .map(|dir| dir.join(leptos_options.hash_file.as_ref()));
        if !hash_file.is_some_and(|file| file.exists()) {
            leptos_options.hash_files = false;
        }
    }
    let addr = leptos_options.site_addr;
    let header_timeout = std::time::Duration::from_secs(config.header_timeout_secs.unsigned_abs());
    let open_files = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    let max_connections = config
        .max_connections
        .unwrap_or_else(|| default_max_connections(open_files));
    let app = build(config, leptos_options).await?;
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr()?;
    tracing::info!(max_connections, open_files, "listening on http://{local}");
    // Tests read this line to learn the port when LEPTOS_SITE_ADDR ends in :0.
    println!("listening on http://{local}");

    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let slots = Arc::new(tokio::sync::Semaphore::new(max_connections));
    let mut warned_full: Option<std::time::Instant> = None;
    let graceful = GracefulShutdown::new();
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                if warned_full.is_none_or(|at| at.elapsed() > std::time::Duration::from_secs(60)) {
                    tracing::warn!(
                        max_connections,
                        "connection cap reached: new connections wait until others close"
                    );
                    warned_full = Some(std::time::Instant::now());
                }
                tokio::select! {
                    slot = slots.clone().acquire_owned() => slot?,
                    _ = &mut shutdown => break,
                }
            }
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        // The peer address for rate limits, as `ConnectInfo` (the router itself is shared, not rebuilt).
        let router = tower::Layer::layer(
            &axum::Extension(axum::extract::ConnectInfo(peer)),
            app.clone(),
        );
        let service = hyper::service::service_fn(move |request| router.clone().call(request));
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    tracing::info!("shutting down: finishing in-flight requests");
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("in-flight requests still running after {SHUTDOWN_GRACE:?}; exiting");
    }
    Ok(())
}

/// Connections allowed when `MAX_CONNECTIONS` is unset: three quarters of the open-file
/// limit, the rest left for the database, photo files and logs; at most 10,000.
fn default_max_connections(open_files: u64) -> usize {
    let sockets = open_files.saturating_sub(64) / 4 * 3;
    usize::try_from(sockets)
        .unwrap_or(usize::MAX)
        .clamp(16, 10_000)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
