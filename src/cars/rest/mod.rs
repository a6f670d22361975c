//! `/api/cars/`: the listings REST API, with the original module's DRF contract.
//! Same validation (`CarForm`), queries (`db`) and ownership rules (`service`) as the pages;
//! `schema` says in the OpenAPI document what that validation accepts.

pub mod schema;

use schema::{
    CarPatch, CarPatchForm, CarPatchMultipart, CarWrite, CarWriteForm, CarWriteMultipart,
    StatusChange, WriteRefusals,
};

use super::{
    db,
    model::{
        page_count, Car, CarFilters, CarForm, Condition, OrderTerm, Status, MAX_PAGE, MAX_RESULTS,
        PAGE_SIZE,
    },
    service,
};
use crate::{
    auth::rest::{ApiUser, MaybeUser},
    error::{AppError, FieldErrors},
    rest::{base_url, ApiError, ApiForm, ApiResult, Detail, FieldErrorsBody, FileField, Scalar},
    state::AppState,
};
use axum::{
    extract::{OriginalUri, Path, Query, Request, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Largest `page_size` a client may ask for.
pub const MAX_PAGE_SIZE: u32 = 100;

/// The seller, as the original serializer nested it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SellerDetails {
    pub id: i64,
    pub username: String,
}

/// A car listing, with the field names and formats of the original DRF serializer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiCar {
    pub id: i64,
    /// The seller's user id.
    pub seller: i64,
    pub seller_details: SellerDetails,
    pub make: String,
    pub model: String,
    pub year: i32,
    /// Dollars as a decimal string with 2 places, as DRF's DecimalField renders it.
    #[schema(example = "15999.00")]
    pub price: String,
    /// Kilometres.
    pub mileage: i64,
    pub condition: Condition,
    pub description: String,
    /// Absolute URL of the uploaded photo, or null.
    pub primary_image: Option<String>,
    pub image_url: Option<String>,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ApiCar {
    fn new(car: Car, base: &str) -> Self {
        ApiCar {
            id: car.id,
            seller: car.seller_id,
            seller_details: SellerDetails {
                id: car.seller_id,
                username: car.seller_username,
            },
            make: car.make,
            model: car.model,
            year: car.year,
            price: decimal_price(car.price_cents),
            mileage: car.mileage_km,
            condition: car.condition,
            description: car.description,
            primary_image: car.photo_url.map(|path| format!("{base}{path}")),
            image_url: car.image_url,
            status: car.status,
            created_at: car.created_at,
            updated_at: car.updated_at,
        }
    }
}

/// Integer cents as DRF renders a 2-place DecimalField: "15999.00".
pub fn decimal_price(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// DRF's PageNumberPagination envelope.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CarListPage {
    /// Matching cars, counted up to 10,000 (a larger count reads 10,000; pages stop there).
    pub count: i64,
    /// Absolute URL of the next page, or null.
    pub next: Option<String>,
    /// Absolute URL of the previous page, or null.
    pub previous: Option<String>,
    pub results: Vec<ApiCar>,
}

/// Query parameters of the list. Values are read as text and checked by the same
/// filter parser as the marketplace page, so a bad number is a 400 naming its field.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Words that must all appear in the make, model or description (case-insensitive).
    search: Option<String>,
    /// Comma-separated: `price`, `year`, `created_at`, each optionally prefixed with `-`
    /// (descending). Unknown names are ignored. Default `-created_at`.
    ordering: Option<String>,
    /// Lowest price in dollars (inclusive).
    #[param(schema_with = schema::price_filter)]
    min_price: Option<String>,
    /// Highest price in dollars (inclusive).
    #[param(schema_with = schema::price_filter)]
    max_price: Option<String>,
    /// Oldest model year (inclusive).
    #[param(schema_with = schema::year_filter)]
    min_year: Option<String>,
    /// Newest model year (inclusive).
    #[param(schema_with = schema::year_filter)]
    max_year: Option<String>,
    /// Exact make, case-insensitive.
    make: Option<String>,
    /// `new` or `used`.
    #[param(schema_with = schema::condition_filter)]
    condition: Option<String>,
    /// Highest mileage in km.
    #[param(schema_with = schema::mileage_filter)]
    max_mileage: Option<String>,
    /// 1-based page number; a page past the end is a 404.
    #[param(schema_with = schema::page_param)]
    page: Option<String>,
    /// Cars per page: default 24, at most 100; a value that is not a whole number from 1
    /// means the default (as DRF's `page_size_query_param`).
    page_size: Option<String>,
}

/// `scheme://host` for this request's absolute URLs.
fn api_base(state: &AppState, headers: &HeaderMap) -> String {
    base_url(&state.config, state.leptos_options.site_addr, headers)
}

fn not_found() -> ApiError {
    ApiError::App(AppError::NotFound("Not found.".into()))
}

fn parse_id(raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(not_found)
}

/// The car as the API shows it, freshly read (after a write).
async fn load(state: &AppState, headers: &HeaderMap, id: i64) -> ApiResult<ApiCar> {
    let car = db::find_car_by_id(&state.db, id)
        .await?
        .ok_or_else(not_found)?;
    Ok(ApiCar::new(car, &api_base(state, headers)))
}

/// The list URL at another page, keeping every other query parameter (DRF's
/// `replace_query_param`; page 1 drops the parameter, as DRF's `previous` link does).
fn page_link(base: &str, path: &str, query: Option<&str>, page: u32) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if key != "page" {
            out.append_pair(&key, &value);
        }
    }
    if page > 1 {
        out.append_pair("page", &page.to_string());
    }
    let query = out.finish();
    if query.is_empty() {
        format!("{base}{path}")
    } else {
        format!("{base}{path}?{query}")
    }
}

/// List available cars
///
/// Only cars with status `available`, filtered, searched, ordered and paginated.
#[utoipa::path(
    get,
    path = "/api/cars/",
    tag = "cars",
    params(ListParams),
    security((), ("token" = [])),
    responses(
        (status = 200, description = "One page of cars", body = CarListPage),
        (status = 400, description = "A malformed filter, named: {\"min_price\": [\"...\"]}", body = FieldErrorsBody),
        (status = 401, description = "A token was sent and is not valid", body = Detail),
        (status = 404, description = "Invalid page: past the last page, or not a number", body = Detail)
    )
)]
pub async fn list(
    State(state): State<AppState>,
    // As DRF: a token that is sent must be valid, even where none is needed.
    _caller: MaybeUser,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<CarListPage>> {
    let Query(params) = params.map_err(|_| {
        ApiError::App(AppError::BadRequest(
            "The query string could not be read; send each parameter once.".into(),
        ))
    })?;
    let (filters, problems) = CarFilters::from_query(|key| match key {
        "q" => params.search.clone(),
        "min_price" => params.min_price.clone(),
        "max_price" => params.max_price.clone(),
        "min_year" => params.min_year.clone(),
        "max_year" => params.max_year.clone(),
        "make" => params.make.clone(),
        "condition" => params.condition.clone(),
        "max_mileage" => params.max_mileage.clone(),
        _ => None,
    });
    if !problems.is_empty() {
        return Err(AppError::Validation(problems).into());
    }
    let page = match params.page.as_deref().map(str::trim) {
        None | Some("") => 1,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|p| (1..=MAX_PAGE).contains(p))
            .ok_or_else(|| ApiError::App(AppError::NotFound("Invalid page.".into())))?,
    };
    // As DRF's page_size_query_param: an unusable size falls back to the default.
    let page_size = params
        .page_size
        .as_deref()
        .and_then(|raw| raw.trim().parse::<u32>().ok())
        .filter(|size| *size > 0)
        .map_or(PAGE_SIZE, |size| size.min(MAX_PAGE_SIZE));
    let order = OrderTerm::parse_list(params.ordering.as_deref().unwrap_or_default());
    let window = db::Window {
        order: &order,
        page,
        page_size,
    };
    let (cars, count) =
        db::list_available_cars_full(&state.db, &state.list_cache, &filters, window).await?;
    // Counted up to MAX_RESULTS: past that, `count` says MAX_RESULTS and pages stop there.
    let count = count.min(MAX_RESULTS);
    let pages = page_count(count, page_size);
    if page > pages {
        return Err(AppError::NotFound("Invalid page.".into()).into());
    }
    let base = api_base(&state, &headers);
    let link = |p| page_link(&base, uri.path(), uri.query(), p);
    Ok(Json(CarListPage {
        count,
        next: (page < pages).then(|| link(page + 1)),
        previous: (page > 1).then(|| link(page - 1)),
        results: cars
            .into_iter()
            .map(|car| ApiCar::new(car, &base))
            .collect(),
    }))
}

/// Reads a create/update body into `base` (fields not sent keep their value there)
/// and validates it with the pages' rules. Errors name the fields, DRF style.
async fn read_car(
    request: Request,
    state: &AppState,
    uploader: &crate::auth::model::User,
    base: CarForm,
) -> ApiResult<(super::model::CarDraft, Option<crate::media::CheckedPhoto>)> {
    let photo = FileField {
        name: "primary_image",
        max_bytes: state.config.max_upload_bytes,
    };
    let input = ApiForm::read(request, Some(photo)).await?;
    let mut form = base;
    let mut type_errors = FieldErrors::new();
    for name in CarForm::FIELDS {
        match input.get(name) {
            Some(Scalar::Text(text)) => form.set(name, text.clone()),
            Some(Scalar::Null) => form.set(name, String::new()),
            Some(Scalar::Invalid) => {
                let message = match name {
                    "year" | "mileage" => "A valid integer is required.",
                    "price" => "A valid number is required.",
                    _ => "Not a valid string.",
                };
                type_errors.insert(name.into(), message.into());
            }
            None => {}
        }
    }
    match super::forms::validate(state, uploader, &form, input.file, photo.name).await {
        Ok(valid) if type_errors.is_empty() => Ok(valid),
        Ok(_) => Err(AppError::Validation(type_errors).into()),
        Err(AppError::Validation(mut errors)) => {
            errors.extend(type_errors);
            Err(AppError::Validation(errors).into())
        }
        Err(other) => Err(other.into()),
    }
}

/// Create a listing
///
/// The caller becomes the seller; the new car is `available`.
#[utoipa::path(
    post,
    path = "/api/cars/",
    tag = "cars",
    request_body(
        description = "The car. Send the photo as `primary_image` in a multipart body.",
        content(
            (CarWrite = "application/json"),
            (CarWriteMultipart = "multipart/form-data"),
            (CarWriteForm = "application/x-www-form-urlencoded")
        )
    ),
    security(("token" = [])),
    responses(
        (status = 201, description = "Created", body = ApiCar),
        WriteRefusals
    )
)]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    request: Request,
) -> ApiResult<Response> {
    let base = api_base(&state, request.headers());
    // The hourly listing limit is known before the body is read and its photo decoded.
    service::check_listing_limit(&state, &user)?;
    let (draft, photo) = read_car(request, &state, &user, CarForm::default()).await?;
    let car = service::create_listing(&state, &user, &draft, photo.as_ref()).await?;
    Ok((StatusCode::CREATED, Json(ApiCar::new(car, &base))).into_response())
}

/// The caller's listings
///
/// Every listing of the caller, whatever its status, newest first (not paginated, as the original).
#[utoipa::path(
    get,
    path = "/api/cars/my_listings/",
    tag = "cars",
    security(("token" = [])),
    responses(
        (status = 200, description = "The caller's cars", body = Vec<ApiCar>),
        (status = 401, description = "Not signed in", body = Detail)
    )
)]
pub async fn my_listings(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<ApiCar>>> {
    let base = api_base(&state, &headers);
    let cars = db::list_full_cars_by_seller(&state.db, user.id).await?;
    Ok(Json(
        cars.into_iter()
            .map(|car| ApiCar::new(car, &base))
            .collect(),
    ))
}

/// One car
///
/// An available car; its seller also sees it when pending or sold. Others get 404.
#[utoipa::path(
    get,
    path = "/api/cars/{id}/",
    tag = "cars",
    params(("id" = i64, Path, description = "The car's id")),
    security((), ("token" = [])),
    responses(
        (status = 200, description = "The car", body = ApiCar),
        (status = 401, description = "A token was sent and is not valid", body = Detail),
        (status = 404, description = "Unknown, or not available and not the caller's", body = Detail)
    )
)]
pub async fn retrieve(
    State(state): State<AppState>,
    Path(id): Path<String>,
    MaybeUser(viewer): MaybeUser,
    headers: HeaderMap,
) -> ApiResult<Json<ApiCar>> {
    let id = parse_id(&id)?;
    let car = db::find_car_by_id(&state.db, id)
        .await?
        .ok_or_else(not_found)?;
    let is_owner = viewer.is_some_and(|u| u.id == car.seller_id);
    if car.status != Status::Available && !is_owner {
        return Err(not_found());
    }
    Ok(Json(ApiCar::new(car, &api_base(&state, &headers))))
}

/// Checks ownership, then applies the body over `base(car)` and stores it.
async fn update(
    state: AppState,
    user: crate::auth::model::User,
    id: String,
    request: Request,
    base: fn(&Car) -> CarForm,
) -> ApiResult<Json<ApiCar>> {
    let id = parse_id(&id)?;
    let headers = request.headers().clone();
    // Permission before the body, as DRF: 404 unknown, 403 not the seller.
    service::owned_car(&state, user.id, id).await?;
    let car = db::find_car_by_id(&state.db, id)
        .await?
        .ok_or_else(not_found)?;
    let (draft, photo) = read_car(request, &state, &user, base(&car)).await?;
    service::update_listing(&state, id, &draft, photo.as_ref()).await?;
    Ok(Json(load(&state, &headers, id).await?))
}

/// Replace a listing (owner only)
///
/// Every required field must be sent; optional fields not sent keep their value.
#[utoipa::path(
    put,
    path = "/api/cars/{id}/",
    tag = "cars",
    params(("id" = i64, Path, description = "The car's id")),
    request_body(content(
        (CarWrite = "application/json"),
        (CarWriteMultipart = "multipart/form-data"),
        (CarWriteForm = "application/x-www-form-urlencoded")
    )),
    security(("token" = [])),
    responses(
        (status = 200, description = "Updated", body = ApiCar),
        (status = 403, description = "Not the seller", body = Detail),
        (status = 404, description = "Unknown car", body = Detail),
        WriteRefusals
    )
)]
pub async fn replace(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    request: Request,
) -> ApiResult<Json<ApiCar>> {
    update(state, user, id, request, |car| {
        let mut form = CarForm::from_car(car);
        for name in CarForm::REQUIRED {
            form.set(name, String::new());
        }
        form
    })
    .await
}

/// Change some fields of a listing (owner only)
///
/// Only the fields sent change.
#[utoipa::path(
    patch,
    path = "/api/cars/{id}/",
    tag = "cars",
    params(("id" = i64, Path, description = "The car's id")),
    request_body(content(
        (CarPatch = "application/json"),
        (CarPatchMultipart = "multipart/form-data"),
        (CarPatchForm = "application/x-www-form-urlencoded")
    )),
    security(("token" = [])),
    responses(
        (status = 200, description = "Updated", body = ApiCar),
        (status = 403, description = "Not the seller", body = Detail),
        (status = 404, description = "Unknown car", body = Detail),
        WriteRefusals
    )
)]
pub async fn partial_update(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    request: Request,
) -> ApiResult<Json<ApiCar>> {
    update(state, user, id, request, CarForm::from_car).await
}

/// Delete a listing (owner only)
#[utoipa::path(
    delete,
    path = "/api/cars/{id}/",
    tag = "cars",
    params(("id" = i64, Path, description = "The car's id")),
    security(("token" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not the seller", body = Detail),
        (status = 404, description = "Unknown car", body = Detail)
    )
)]
pub async fn destroy(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = parse_id(&id)?;
    service::owned_car(&state, user.id, id).await?;
    service::delete_listing(&state, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mark a listing available, pending or sold (owner only)
#[utoipa::path(
    post,
    path = "/api/cars/{id}/status/",
    tag = "cars",
    params(("id" = i64, Path, description = "The car's id")),
    request_body(content(
        (StatusChange = "application/json"),
        (StatusChange = "application/x-www-form-urlencoded")
    )),
    security(("token" = [])),
    responses(
        (status = 200, description = "The car with its new status", body = ApiCar),
        (status = 400, description = "Not a known status", body = FieldErrorsBody),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not the seller", body = Detail),
        (status = 404, description = "Unknown car", body = Detail),
        (status = 413, description = "Body too large", body = Detail),
        (status = 415, description = "Unsupported content type", body = Detail)
    )
)]
pub async fn set_status(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    request: Request,
) -> ApiResult<Json<ApiCar>> {
    let id = parse_id(&id)?;
    let headers = request.headers().clone();
    service::owned_car(&state, user.id, id).await?;
    let input = ApiForm::read(request, None).await?;
    let status = match input.get("status") {
        Some(Scalar::Text(text)) => Status::parse(text),
        _ => None,
    }
    .ok_or_else(|| AppError::field("status", "Choose one of: available, pending, sold."))?;
    service::change_status(&state, id, status).await?;
    Ok(Json(load(&state, &headers, id).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_render_as_drf_decimals() {
        assert_eq!(decimal_price(1_599_900), "15999.00");
        assert_eq!(decimal_price(1_599_905), "15999.05");
        assert_eq!(decimal_price(1), "0.01");
    }

    #[test]
    fn page_links_keep_other_parameters() {
        let base = "http://h";
        assert_eq!(
            page_link(
                base,
                "/api/cars/",
                Some("search=audi&page=3&ordering=-price"),
                4
            ),
            "http://h/api/cars/?search=audi&ordering=-price&page=4"
        );
        assert_eq!(
            page_link(base, "/api/cars/", Some("page=2"), 1),
            "http://h/api/cars/"
        );
    }
}
