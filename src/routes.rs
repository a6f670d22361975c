//! The composition root's router: connects storage, builds the [`AppState`], mounts each
//! feature's pages, form handlers and `/api` endpoints, and wraps them in the shared HTTP
//! middleware. A new feature's routes are added here.

use crate::{
    app::{shell, App},
    auth,
    cars::{self, db::NewCarQueue},
    config::{self, Config},
    db::{coalesce::Coalesced, Db},
    demo,
    http::{self, limits::RateLimiter, security, small_body_limit},
    media::{self, MediaStore},
    rest::{docs, json_refusals, method_not_allowed, TokenSecurity},
    state::{self, AppState},
};
use axum::{
    extract::DefaultBodyLimit,
    routing::{delete, get, post},
    Router,
};
use cars::rest::schema::OptionalPatchBody;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::sync::Arc;
use utoipa::OpenApi;

/// Starts the marketplace with `config` and serves it until Ctrl-C or SIGTERM.
pub async fn serve(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let options = http::leptos_options()?;
    let listen = http::Listen::new(options.site_addr, &config);
    let app = build(config, options).await?;
    http::serve(app, listen).await
}

/// Connects the database, runs migrations, seeds demo data if asked, and builds the router.
pub async fn build(
    config: Config,
    leptos_options: LeptosOptions,
) -> Result<Router, Box<dyn std::error::Error>> {
    let db = Db::connect(&config.database_url).await.map_err(|e| {
        format!(
            "cannot open the database at {}: {e}",
            config::redact_url(&config.database_url)
        )
    })?;
    let media = MediaStore::open(&config).await?;
    tracing::info!(
        database = db.engine_name(),
        photos = media.location(),
        "storage ready"
    );
    if config.demo_data {
        demo::seed_if_empty(&db, &media).await?;
    }

    let limiter = Arc::new(RateLimiter::default());
    let state = AppState::new(state::Shared {
        leptos_options: leptos_options.clone(),
        token_users: Coalesced::start(auth::db::TokenUsers(db.clone())),
        new_cars: NewCarQueue::start(&db),
        passwords: auth::passwords::Passwords::new(limiter.clone(), config.limits),
        db,
        config: Arc::new(config),
        media,
        decoding: media::Decoders::default(),
        limiter,
        list_cache: Default::default(),
    });
    // The search index reads the cars for sale in the background; until it is built, the
    // database counts the facets.
    tokio::spawn({
        let state = state.clone();
        async move {
            if let Err(error) = state.list_cache.index.build(&state.db).await {
                tracing::warn!(%error, "could not build the search index: the database answers");
            }
        }
    });
    // Photos stored before their sizes existed get them, in the background.
    tokio::spawn({
        let state = state.clone();
        async move {
            match cars::service::make_missing_sizes(&state).await {
                Ok(0) => {}
                Ok(made) => tracing::info!(made, "made the sizes of older photos"),
                Err(error) => tracing::warn!(%error, "could not make the sizes of older photos"),
            }
        }
    });
    // Room for a maximum-size photo plus the text fields; the photo's own cap is checked
    // while streaming.
    let upload_limit = DefaultBodyLimit::max(state.config.max_upload_bytes + 256 * 1024);

    // The forms that take several photos at once: up to a listing's worth.
    let many_photos = DefaultBodyLimit::max(
        cars::model::MAX_PHOTOS * state.config.max_upload_bytes + 1024 * 1024,
    );
    // Photos uploaded ahead by the forms' island, and not taken by a listing, go after a day.
    cars::service::start_upload_sweep(&state);
    let forms = Router::new()
        .route("/cars/{id}/edit", post(cars::forms::update_car))
        .route("/photo-uploads", post(cars::uploads::upload_photo))
        .layer(upload_limit)
        .merge(
            Router::new()
                .route("/sell", post(cars::forms::create_car))
                .route("/cars/{id}/photos", post(cars::forms::add_photos))
                .layer(many_photos),
        )
        .merge(
            Router::new()
                .route("/cars/{id}/photos/{photo}", post(cars::forms::change_photo))
                .layer(small_body_limit()),
        );

    // Pages and server functions take small bodies only (see `SMALL_BODY_LIMIT`).
    let pages = Router::new()
        .leptos_routes_with_context(
            &state,
            generate_route_list(App),
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
        .nest(
            "/api",
            api(&leptos_options, upload_limit, state.config.max_upload_bytes),
        )
        .route("/media/{name}", get(media::serve))
        .nest_service(
            &format!("/{}", leptos_options.site_pkg_dir),
            http::bundle(&leptos_options),
        )
        .route("/healthz", get(http::health::healthz))
        .route("/readyz", get(http::health::readyz))
        .merge(pages);
    let app = http::with_middleware(app, &state.db, &state.config, leptos_options.hash_files)
        .await?
        .with_state(state);
    Ok(app)
}

/// The `/api` routes. Only the routes that take a car (with its photo) accept a large
/// body; every other one is held to [`http::SMALL_BODY_LIMIT`], refused with 413 before
/// it is read.
fn api(
    options: &LeptosOptions,
    upload_limit: DefaultBodyLimit,
    max_upload_bytes: usize,
) -> Router<AppState> {
    use auth::rest as auth;
    use cars::rest as car;
    let uploads = Router::new()
        .route(
            "/cars/",
            get(car::list)
                .post(car::create)
                .fallback(method_not_allowed),
        )
        .route(
            "/cars/{id}/",
            get(car::retrieve)
                .put(car::replace)
                .patch(car::partial_update)
                .delete(car::destroy)
                .fallback(method_not_allowed),
        )
        .layer(upload_limit);
    // Several photos in one request: each is checked as it arrives (one at a time in
    // memory), so the whole body may hold as many as a listing takes.
    let photos = Router::new()
        .route(
            "/cars/{id}/photos/",
            post(car::add_photos)
                .patch(car::arrange_photos)
                .fallback(method_not_allowed),
        )
        .layer(DefaultBodyLimit::max(
            cars::model::MAX_PHOTOS * max_upload_bytes + 1024 * 1024,
        ));
    let small = Router::new()
        .route(
            "/cars/{id}/photos/{photo}/",
            delete(car::remove_photo)
                .patch(car::describe_photo)
                .fallback(method_not_allowed),
        )
        .route(
            "/cars/my_listings/",
            get(car::my_listings).fallback(method_not_allowed),
        )
        .route(
            "/cars/{id}/status/",
            post(car::set_status).fallback(method_not_allowed),
        )
        .route(
            "/auth/token/",
            post(auth::obtain_token)
                .delete(auth::revoke_token)
                .fallback(method_not_allowed),
        )
        .route("/auth/me/", get(auth::me).fallback(method_not_allowed))
        .route(
            "/towns/",
            get(crate::geo::rest::towns).fallback(method_not_allowed),
        )
        .route("/facets/", get(car::facets).fallback(method_not_allowed))
        .merge(docs(ApiDoc::openapi(), &stylesheet_link(options)))
        .layer(small_body_limit());
    uploads
        .merge(photos)
        .merge(small)
        .layer(axum::middleware::map_response(json_refusals))
}

/// The site's `<link rel="stylesheet">`, as the pages' shell renders it (with the
/// bundle's hashed file name in a release build).
fn stylesheet_link(options: &LeptosOptions) -> String {
    use leptos_meta::HashedStylesheet;
    Owner::new().with(|| view! { <HashedStylesheet options=options.clone() /> }.to_html())
}

/// The OpenAPI document of every feature's endpoints.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "AutoNexus API",
        description = "The used-car marketplace's REST API. It keeps the Django REST Framework \
            contract of the original Used Car Sales module: trailing slashes, JSON bodies, \
            `{\"detail\": ...}` errors and `{\"field\": [messages]}` validation errors. \
            Authenticate with `Authorization: Token <key>` (or the browser session)."
    ),
    paths(
        cars::rest::list,
        cars::rest::facets,
        cars::rest::create,
        cars::rest::my_listings,
        cars::rest::retrieve,
        cars::rest::replace,
        cars::rest::partial_update,
        cars::rest::destroy,
        cars::rest::set_status,
        cars::rest::add_photos,
        cars::rest::arrange_photos,
        cars::rest::remove_photo,
        cars::rest::describe_photo,
        auth::rest::obtain_token,
        auth::rest::revoke_token,
        auth::rest::me,
        crate::geo::rest::towns,
    ),
    modifiers(&TokenSecurity, &OptionalPatchBody),
    tags(
        (name = "cars", description = "Car listings"),
        (name = "auth", description = "API tokens and the current user"),
        (name = "places", description = "Towns, for a listing's place and distance searches")
    )
)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_is_openapi_3_1_and_lists_every_endpoint() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        for path in [
            "/api/cars/",
            "/api/cars/{id}/",
            "/api/cars/my_listings/",
            "/api/cars/{id}/status/",
            "/api/auth/token/",
            "/api/auth/me/",
            "/api/towns/",
            "/api/facets/",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} missing");
        }
        // Each write documents every answer it can give, the shared refusals included.
        let statuses = |path: &str, method: &str| -> Vec<String> {
            let responses = doc["paths"][path][method]["responses"].as_object().unwrap();
            responses.keys().cloned().collect()
        };
        assert_eq!(
            statuses("/api/cars/", "post"),
            ["201", "400", "401", "413", "415", "429", "503"]
        );
        for method in ["put", "patch"] {
            assert_eq!(
                statuses("/api/cars/{id}/", method),
                ["200", "400", "401", "403", "404", "413", "415", "429", "503"]
            );
        }
        assert_eq!(
            doc["paths"]["/api/cars/"]["post"]["responses"]["400"]["content"]["application/json"]
                ["schema"]["$ref"],
            "#/components/schemas/FieldErrorsBody"
        );
    }
}
