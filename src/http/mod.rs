//! HTTP plumbing every feature shares: the accept loop and graceful shutdown, the
//! middleware each request passes through (request ids and logs, security headers, CSRF,
//! sessions, compression, timeouts), body limits, built assets and health checks.

pub mod compress;
pub mod health;
pub mod limits;
pub mod multipart;
pub mod security;
pub mod sessions;

use crate::{config::Config, db::Db};
use axum::{
    extract::State,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Router,
};
use leptos::prelude::LeptosOptions;
use std::{net::SocketAddr, sync::Arc, time::Duration};
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    trace::TraceLayer,
};

/// Leptos' settings (site address, bundle folder) from Cargo.toml and the environment.
pub fn leptos_options() -> Result<LeptosOptions, Box<dyn std::error::Error>> {
    let mut options = leptos::prelude::get_configuration(None)?.leptos_options;
    // `cargo leptos build` hashes the bundle's file names (hash-files in Cargo.toml), tells
    // the compiler so, and writes the hashes beside the binary. A binary built by plain
    // cargo (the HTTP tests) or moved without its hash file serves the plain names.
    if option_env!("LEPTOS_HASH_FILES") == Some("true") {
        options.hash_files = true;
    }
    if options.hash_files {
        let hash_file = std::env::current_exe()?
            .parent()
            .map(|dir| dir.join(options.hash_file.as_ref()));
        if !hash_file.is_some_and(|file| file.exists()) {
            options.hash_files = false;
        }
    }
    Ok(options)
}

/// The built bundle under `/pkg/`, preferring the .br / .gz files `./dev.sh` writes at
/// maximum compression beside each asset (on-the-fly compression is faster but larger).
pub fn bundle(options: &LeptosOptions) -> tower_http::services::ServeDir {
    tower_http::services::ServeDir::new(
        std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref()),
    )
    .precompressed_br()
    .precompressed_gzip()
}

/// Wraps the app's routes in the middleware every request passes through.
pub async fn with_middleware<S: Clone + Send + Sync + 'static>(
    app: Router<S>,
    db: &Db,
    config: &Config,
    hashed_assets: bool,
) -> Result<Router<S>, Box<dyn std::error::Error>> {
    let hsts = config
        .secure_cookies
        .then_some("max-age=63072000; includeSubDomains");
    let app = app
        .layer(axum::middleware::map_response(status_from_error_body))
        .layer(axum::middleware::from_fn_with_state(
            hashed_assets,
            asset_cache,
        ))
        // Inside the session layer: it keeps each form post's error in the visitor's session.
        .layer(axum::middleware::from_fn(security::own_form_errors));
    let app = sessions::with_sessions(app, db, config)
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
            Duration::from_secs(120),
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
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid));
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

/// Server functions that fail before their body runs (malformed arguments) answer 500
/// by default; give them the status their `AppError` stands for (400 for bad input).
async fn status_from_error_body(response: Response) -> Response {
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(bytes) => bytes,
        Err(error) => {
            let error =
                crate::error::AppError::internal("reading a server function's answer", error);
            return (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response();
        }
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

/// Where and how the server accepts connections.
#[derive(Clone, Copy, Debug)]
pub struct Listen {
    pub addr: SocketAddr,
    /// A connection that sends no complete request headers for this long is closed.
    pub header_timeout: Duration,
    /// Open connections at most; `None`: from the open-file limit.
    pub max_connections: Option<usize>,
}

impl Listen {
    pub fn new(addr: SocketAddr, config: &Config) -> Self {
        Listen {
            addr,
            header_timeout: Duration::from_secs(config.header_timeout_secs.unsigned_abs()),
            max_connections: config.max_connections,
        }
    }
}

/// After SIGTERM, in-flight requests get this long to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

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
pub async fn serve(app: Router, listen: Listen) -> Result<(), Box<dyn std::error::Error>> {
    use hyper_util::{
        rt::{TokioIo, TokioTimer},
        server::graceful::GracefulShutdown,
    };
    use tower::Service;

    let Listen {
        addr,
        header_timeout,
        max_connections,
    } = listen;
    let open_files = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    let max_connections = max_connections.unwrap_or_else(|| default_max_connections(open_files));
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
                if warned_full.is_none_or(|at| at.elapsed() > Duration::from_secs(60)) {
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
                    tokio::time::sleep(Duration::from_millis(50)).await;
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
