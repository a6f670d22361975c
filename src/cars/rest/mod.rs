//! `/api/cars/`: the listings REST API, with the original module's DRF contract.
//! Same validation (`CarForm`), queries (`db`) and ownership rules (`service`) as the pages;
//! `schema` says in the OpenAPI document what that validation accepts.

pub mod schema;

use schema::{
    CarPatch, CarPatchForm, CarPatchMultipart, CarWrite, CarWriteForm, CarWriteMultipart,
    PhotoArrangement, PhotoDescription, PhotoDescriptionForm, PhotoUpload, StatusChange,
    WriteRefusals,
};

use super::{
    db,
    forms::{read_photo_form, PhotoForm, PhotoFormError},
    model::{
        distance_between, horsepower, page_count, parse_caption, BodyType, Car, CarFilters,
        CarForm, Colour, Condition, Drive, EquipmentItem, Fuel, OrderTerm, Photo, PhotoLabel,
        SpecFilters, Specs, SpecsForm, Status, Transmission, MAX_PAGE, MAX_RESULTS, PAGE_SIZE,
    },
    service,
};
use crate::{
    auth::rest::{ApiUser, MaybeUser},
    error::{AppError, FieldErrors},
    http::multipart::ReadError,
    rest::{
        base_url, media_type, read_json, too_large_file, ApiError, ApiForm, ApiResult, Detail,
        FieldErrorsBody, FileField, Scalar,
    },
    state::AppState,
};
use axum::{
    extract::{FromRequest, Multipart, OriginalUri, Path, Query, Request, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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
    /// The listing's photos in order: the first is the cover (`primary_image`).
    pub photos: Vec<ApiPhoto>,
    #[serde(flatten)]
    pub specs: ApiSpecs,
    /// The car's town: its id in the gazetteer (see `GET /api/towns/`), or null. Writes
    /// name the town by this id (null removes it).
    pub town_id: Option<i64>,
    /// The town's name and region ("Springfield, Illinois"); read-only.
    pub town: Option<String>,
    /// In a list with `near`: the distance from that town in km, to a tenth; else null.
    pub distance_km: Option<f64>,
}

/// A listing's specification; null where the seller has not given it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiSpecs {
    pub body_type: Option<BodyType>,
    pub fuel: Option<Fuel>,
    pub transmission: Option<Transmission>,
    pub drive: Option<Drive>,
    /// Exterior colour.
    pub colour: Option<Colour>,
    /// Power in kilowatts.
    pub power_kw: Option<i32>,
    /// The same power in metric horsepower, rounded.
    pub power_hp: Option<i32>,
    /// Engine size in cubic centimetres (none for electric cars).
    pub engine_cc: Option<i32>,
    /// Battery capacity in kWh, to a tenth (electric and plug-in hybrid cars).
    pub battery_kwh: Option<f64>,
    pub doors: Option<i32>,
    pub seats: Option<i32>,
    pub previous_owners: Option<i32>,
    /// Month of first registration, `YYYY-MM`.
    #[schema(example = "2019-04")]
    pub first_registration: Option<String>,
    /// Equipment items, in catalogue order.
    pub equipment: Vec<EquipmentItem>,
}

impl From<Specs> for ApiSpecs {
    fn from(specs: Specs) -> Self {
        ApiSpecs {
            body_type: specs.body_type,
            fuel: specs.fuel,
            transmission: specs.transmission,
            drive: specs.drive,
            colour: specs.colour,
            power_kw: specs.power_kw,
            power_hp: specs.power_kw.map(horsepower),
            engine_cc: specs.engine_cc,
            battery_kwh: specs.battery_wh.map(|wh| f64::from(wh / 100) / 10.0),
            doors: specs.doors,
            seats: specs.seats,
            previous_owners: specs.previous_owners,
            first_registration: specs.first_registration.map(|month| month.to_string()),
            equipment: specs.equipment.items().collect(),
        }
    }
}

/// One of a listing's photos.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiPhoto {
    pub id: i64,
    /// 1 is the cover.
    pub position: i64,
    /// Absolute URL of the photo (at most 2560 pixels on its longest side).
    pub url: String,
    /// Absolute URL of a copy 640 pixels wide (the photo itself when it is not wider).
    pub thumbnail_url: String,
    /// The photo's width and height in pixels, upright; null while its sizes are being
    /// made (photos stored before sizes existed) or when they cannot be.
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub label: Option<PhotoLabel>,
    pub caption: String,
}

impl ApiPhoto {
    fn new(photo: Photo, base: &str) -> Self {
        ApiPhoto {
            id: photo.id,
            position: photo.position,
            url: format!("{base}{}", db::media_url(&photo.name)),
            thumbnail_url: format!(
                "{base}{}",
                crate::media::picture(&photo.name, photo.width, photo.height, db::media_url).src
            ),
            width: (photo.width > 0).then_some(photo.width),
            height: (photo.height > 0).then_some(photo.height),
            label: photo.label,
            caption: photo.caption,
        }
    }
}

impl ApiCar {
    fn new(car: Car, base: &str, photos: Vec<Photo>) -> Self {
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
            photos: photos
                .into_iter()
                .map(|photo| ApiPhoto::new(photo, base))
                .collect(),
            specs: car.specs.into(),
            town_id: car.town.as_ref().map(|town| town.town_id),
            town: car.town.map(|town| town.label),
            distance_km: None,
        }
    }
}

/// The cars as the API shows them, with their photos: read in one query, and only for
/// cars that have a photo (a car's cover is set exactly when it has photos).
async fn api_cars(state: &AppState, base: &str, cars: Vec<Car>) -> ApiResult<Vec<ApiCar>> {
    let with_photos: Vec<i64> = cars
        .iter()
        .filter(|car| car.photo_url.is_some())
        .map(|car| car.id)
        .collect();
    let mut photos = db::photos_of(&state.db, &with_photos).await?;
    Ok(cars
        .into_iter()
        .map(|car| {
            let own = photos.remove(&car.id).unwrap_or_default();
            ApiCar::new(car, base, own)
        })
        .collect())
}

async fn api_car(state: &AppState, base: &str, car: Car) -> ApiResult<ApiCar> {
    let mut cars = api_cars(state, base, vec![car]).await?;
    Ok(cars.remove(0))
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
    /// The list's order (documented in `PageParams`).
    #[param(ignore)]
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
    /// Lowest mileage in km (inclusive).
    #[param(schema_with = schema::mileage_filter)]
    min_mileage: Option<String>,
    /// Highest mileage in km (inclusive).
    #[param(schema_with = schema::mileage_filter)]
    max_mileage: Option<String>,
    /// The list's page (documented in `PageParams`).
    #[param(ignore)]
    page: Option<String>,
    /// The list's page size (documented in `PageParams`).
    #[param(ignore)]
    page_size: Option<String>,
    /// Lowest power in kW (inclusive).
    #[param(schema_with = schema::power_filter)]
    min_power_kw: Option<String>,
    /// Highest power in kW (inclusive).
    #[param(schema_with = schema::power_filter)]
    max_power_kw: Option<String>,
    /// Cars within `radius_km` of this town: its id (from `GET /api/towns/`), or a name
    /// only one town has. Cars whose seller named no town are left out.
    near: Option<String>,
    /// With `near`: 10, 25, 50, 100, 200 or 500 km (default 50).
    #[param(schema_with = schema::radius_filter)]
    radius_km: Option<String>,
}

/// The list's order and pages, read into `ListParams` with the filters; a separate set here
/// because the facet counts (`GET /api/facets/`) take the filters alone.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PageParams {
    /// Comma-separated: `price`, `year`, `created_at`, `power_kw` (unknown power last),
    /// `distance` (from the `near` town; newest first without one), each optionally
    /// prefixed with `-` (descending). Unknown names are ignored. Default `-created_at`.
    ordering: Option<String>,
    /// 1-based page number; a page past the end is a 404.
    #[param(schema_with = schema::page_param)]
    page: Option<String>,
    /// Cars per page: default 24, at most 100; a value that is not a whole number from 1
    /// means the default (as DRF's `page_size_query_param`).
    page_size: Option<String>,
}

/// The list filters on the specification: each parameter repeated once per choice
/// (`body_type=suv&body_type=estate`). Read from the query string itself (see `list`);
/// this says what they are in the OpenAPI document.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SpecListParams {
    /// Body types: cars of any of them.
    #[param(schema_with = schema::body_type_filter, explode, style = Form)]
    body_type: Option<Vec<String>>,
    /// Fuels: cars running on any of them.
    #[param(schema_with = schema::fuel_filter, explode, style = Form)]
    fuel: Option<Vec<String>>,
    /// Gearboxes: cars with any of them.
    #[param(schema_with = schema::transmission_filter, explode, style = Form)]
    transmission: Option<Vec<String>>,
    /// Driven wheels: cars with any of them.
    #[param(schema_with = schema::drive_filter, explode, style = Form)]
    drive: Option<Vec<String>>,
    /// Exterior colours: cars of any of them.
    #[param(schema_with = schema::colour_filter, explode, style = Form)]
    colour: Option<Vec<String>>,
    /// Equipment: cars with all of it.
    #[param(schema_with = schema::equipment_filter, explode, style = Form)]
    equipment: Option<Vec<String>>,
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
    api_car(state, &api_base(state, headers), car).await
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

/// The list's query parameters and the filters they make (400 naming a bad one).
fn read_filters(
    uri: &axum::http::Uri,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<(ListParams, CarFilters)> {
    let Query(params) = params.map_err(|_| {
        ApiError::App(AppError::BadRequest(
            "The query string could not be read; send each parameter once.".into(),
        ))
    })?;
    // The list filters repeat their name, which `ListParams` cannot hold: they are read
    // from the query string itself.
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let (filters, problems) = CarFilters::from_query_all(|key| {
        let one = match key {
            "q" => params.search.clone(),
            "min_price" => params.min_price.clone(),
            "max_price" => params.max_price.clone(),
            "min_year" => params.min_year.clone(),
            "max_year" => params.max_year.clone(),
            "make" => params.make.clone(),
            "condition" => params.condition.clone(),
            "min_mileage" => params.min_mileage.clone(),
            "max_mileage" => params.max_mileage.clone(),
            "min_power_kw" => params.min_power_kw.clone(),
            "max_power_kw" => params.max_power_kw.clone(),
            "near" => params.near.clone(),
            "radius_km" => params.radius_km.clone(),
            list if SpecFilters::LISTS.contains(&list) => {
                return pairs
                    .iter()
                    .filter(|(name, _)| name == list)
                    .map(|(_, value)| value.clone())
                    .collect();
            }
            _ => None,
        };
        one.into_iter().collect()
    });
    if !problems.is_empty() {
        return Err(AppError::Validation(problems).into());
    }
    Ok((params, filters))
}

/// List available cars
///
/// Only cars with status `available`, filtered, searched, ordered and paginated.
#[utoipa::path(
    get,
    path = "/api/cars/",
    tag = "cars",
    params(ListParams, PageParams, SpecListParams),
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
    let (params, filters) = read_filters(&uri, params)?;
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
    let mut results = api_cars(&state, &base, cars).await?;
    if let Some(near) = filters.near {
        for car in &mut results {
            car.distance_km = car
                .town_id
                .and_then(|town| distance_between(town, near.town_id))
                .map(|km| (km * 10.0).round() / 10.0);
        }
    }
    Ok(Json(CarListPage {
        count,
        next: (page < pages).then(|| link(page + 1)),
        previous: (page > 1).then(|| link(page - 1)),
        results,
    }))
}

/// Facet counts: how many cars each choice of the list filters would leave.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiFacets {
    /// Cars matching every filter, counted up to 10,000 (as the list's `count`).
    pub count: i64,
    /// For each body type: the cars matching every other filter with that body type.
    pub body_type: BTreeMap<BodyType, i64>,
    pub fuel: BTreeMap<Fuel, i64>,
    pub transmission: BTreeMap<Transmission, i64>,
    pub drive: BTreeMap<Drive, i64>,
    pub colour: BTreeMap<Colour, i64>,
    /// For each item: the cars matching every filter (the chosen equipment included) that
    /// also have it.
    pub equipment: BTreeMap<EquipmentItem, i64>,
}

/// Facet counts
///
/// For the same filters as the list: how many available cars each choice would leave.
/// A list where any choice will do (`body_type`, `fuel`, `transmission`, `drive`,
/// `colour`) is counted without its own choices; the equipment (all of it) with them.
/// Every choice is listed, 0 included.
#[utoipa::path(
    get,
    path = "/api/facets/",
    tag = "cars",
    params(ListParams, SpecListParams),
    security((), ("token" = [])),
    responses(
        (status = 200, description = "The counts", body = ApiFacets),
        (status = 400, description = "A malformed filter, named: {\"min_price\": [\"...\"]}", body = FieldErrorsBody),
        (status = 401, description = "A token was sent and is not valid", body = Detail)
    )
)]
pub async fn facets(
    State(state): State<AppState>,
    _caller: MaybeUser,
    OriginalUri(uri): OriginalUri,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<ApiFacets>> {
    let (_, filters) = read_filters(&uri, params)?;
    let order = [OrderTerm::NEWEST];
    let window = db::Window {
        order: &order,
        page: 1,
        page_size: 1,
    };
    let (_, count) =
        db::list_available_cars_full(&state.db, &state.list_cache, &filters, window).await?;
    let counts = db::facet_counts(&state.db, &state.list_cache, &filters).await?;
    Ok(Json(ApiFacets {
        count: count.min(MAX_RESULTS),
        body_type: counts.body_types.into_iter().collect(),
        fuel: counts.fuels.into_iter().collect(),
        transmission: counts.transmissions.into_iter().collect(),
        drive: counts.drives.into_iter().collect(),
        colour: counts.colours.into_iter().collect(),
        equipment: counts.equipment.into_iter().collect(),
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
    let scalars = SpecsForm::FIELDS
        .into_iter()
        .filter(|name| *name != "equipment");
    for name in CarForm::FIELDS.into_iter().chain(scalars) {
        match input.get(name) {
            Some(Scalar::Text(text)) => form.set(name, text.clone()),
            Some(Scalar::Null) => form.set(name, String::new()),
            Some(Scalar::Invalid | Scalar::List(_)) => {
                let message = match name {
                    "year" | "mileage" | "power_kw" | "engine_cc" | "doors" | "seats"
                    | "previous_owners" => "A valid integer is required.",
                    "price" | "battery_kwh" => "A valid number is required.",
                    _ => "Not a valid string.",
                };
                type_errors.insert(name.into(), message.into());
            }
            None => {}
        }
    }
    // The town, by id: when sent, it replaces the listing's (null or "" removes it).
    match input.get("town_id") {
        Some(Scalar::Text(id)) => {
            form.town.clear();
            form.town_id = id.clone();
        }
        Some(Scalar::Null) => {
            form.town.clear();
            form.town_id.clear();
        }
        Some(Scalar::Invalid | Scalar::List(_)) => {
            type_errors.insert("town_id".into(), "A valid integer is required.".into());
        }
        None => {}
    }
    // The equipment, when sent, replaces the listing's: a JSON list, or the name repeated
    // in a form (an empty value, or null, sends none).
    let equipment = input.all("equipment");
    if !equipment.is_empty() {
        form.specs.equipment.clear();
        for value in equipment {
            match value {
                Scalar::Text(_) if input.json => {
                    type_errors.insert(
                        "equipment".into(),
                        "Expected a list of equipment ids.".into(),
                    );
                }
                Scalar::Text(id) if id.trim().is_empty() => {}
                Scalar::Text(id) => form.set("equipment", id.clone()),
                Scalar::List(ids) => {
                    for id in ids {
                        form.set("equipment", id.clone());
                    }
                }
                Scalar::Null => {}
                Scalar::Invalid => {
                    type_errors.insert(
                        "equipment".into(),
                        "Expected a list of equipment ids.".into(),
                    );
                }
            }
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
    let stored = service::store_photos(&state, photo.as_slice()).await?;
    let car = service::create_listing(&state, &user, &draft, &stored).await?;
    let car = api_car(&state, &base, car).await?;
    Ok((StatusCode::CREATED, Json(car)).into_response())
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
    Ok(Json(api_cars(&state, &base, cars).await?))
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
    Ok(Json(
        api_car(&state, &api_base(&state, &headers), car).await?,
    ))
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

/// Add photos to a listing (owner only)
///
/// One or more files in `photos` fields of a multipart body (JPEG, PNG or WebP, each at
/// most 15 MB), added after the listing's last photo; a listing has at most 20. Every file
/// is checked before any is kept: one that is refused (named in the answer) keeps none.
#[utoipa::path(
    post,
    path = "/api/cars/{id}/photos/",
    tag = "cars",
    params(("id" = i64, Path, description = "The car's id")),
    request_body(content((PhotoUpload = "multipart/form-data"))),
    security(("token" = [])),
    responses(
        (status = 201, description = "The car with its photos", body = ApiCar),
        (status = 403, description = "Not the seller", body = Detail),
        (status = 404, description = "Unknown car", body = Detail),
        (status = 409, description = "The listing has no room for that many photos", body = Detail),
        WriteRefusals
    )
)]
pub async fn add_photos(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    request: Request,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let headers = request.headers().clone();
    service::owned_car(&state, user.id, id).await?;
    let (content_type, essence) = media_type(&headers);
    if essence != "multipart/form-data" {
        return Err(ApiError::UnsupportedMediaType(content_type));
    }
    let malformed = || {
        ApiError::App(AppError::BadRequest(
            "Multipart form parse error: the body could not be read.".into(),
        ))
    };
    let multipart = Multipart::from_request(request, &())
        .await
        .map_err(|_| malformed())?;
    // Known before anything is decoded: how many more this listing takes.
    let had = db::photos_of(&state.db, &[id])
        .await?
        .remove(&id)
        .map_or(0, |photos| photos.len());
    let limit = state.config.max_upload_bytes;
    let PhotoForm {
        photos: stored,
        problems,
        ..
    } = read_photo_form(&state, &user, multipart, "photos", had)
        .await
        .map_err(|error| match error {
            PhotoFormError::Read(ReadError::TooLarge(name)) => too_large_file(name, limit),
            PhotoFormError::Read(ReadError::Malformed) => malformed(),
            PhotoFormError::App(error) => error.into(),
        })?;
    if !problems.is_empty() {
        // The batch is kept whole or not at all.
        service::discard_stored(&state, &stored).await;
        return Err(AppError::field("photos", problems.join(" ")).into());
    }
    if stored.is_empty() {
        return Err(AppError::field(
            "photos",
            "Choose at least one photo (JPEG, PNG or WebP), sent in a `photos` field.",
        )
        .into());
    }
    service::add_photos(&state, id, &stored).await?;
    Ok((StatusCode::CREATED, Json(load(&state, &headers, id).await?)).into_response())
}

/// Put a listing's photos in order, or choose its cover (owner only)
///
/// `order` lists every photo of the listing once, by id; `cover` is moved first. Either may
/// be left out; a body with neither changes nothing.
#[utoipa::path(
    patch,
    path = "/api/cars/{id}/photos/",
    tag = "cars",
    params(("id" = i64, Path, description = "The car's id")),
    request_body(content((PhotoArrangement = "application/json"))),
    security(("token" = [])),
    responses(
        (status = 200, description = "The car with its photos in their new order", body = ApiCar),
        (status = 400, description = "Not a list of ids, or not an id", body = FieldErrorsBody),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not the seller", body = Detail),
        (status = 404, description = "Unknown car", body = Detail),
        (status = 409, description = "The ids are not exactly this listing's photos", body = Detail),
        (status = 413, description = "Body too large", body = Detail),
        (status = 415, description = "Unsupported content type", body = Detail)
    )
)]
pub async fn arrange_photos(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    request: Request,
) -> ApiResult<Json<ApiCar>> {
    let id = parse_id(&id)?;
    let headers = request.headers().clone();
    service::owned_car(&state, user.id, id).await?;
    let body = read_json(request).await?;
    // An id as JSON Schema reads an integer (7 or 7.0), or as text ("7").
    let id_of = |value: &serde_json::Value| match value {
        serde_json::Value::Number(number) => number.as_i64().or_else(|| {
            number
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                .map(|f| f as i64)
        }),
        serde_json::Value::String(text) => text.trim().parse().ok(),
        _ => None,
    };
    let order = match body.get("order") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Array(items)) => Some(
            items
                .iter()
                .map(id_of)
                .collect::<Option<Vec<i64>>>()
                .ok_or_else(|| AppError::field("order", "A list of photo ids is required."))?,
        ),
        Some(_) => return Err(AppError::field("order", "A list of photo ids is required.").into()),
    };
    let cover = match body.get("cover") {
        None | Some(serde_json::Value::Null) => None,
        Some(value) => {
            Some(id_of(value).ok_or_else(|| AppError::field("cover", "A photo id is required."))?)
        }
    };
    if order.is_some() || cover.is_some() {
        db::arrange_photos(&state.db, id, order.as_deref(), cover).await?;
        tracing::info!(car_id = id, "photos arranged");
    }
    Ok(Json(load(&state, &headers, id).await?))
}

/// Remove one of a listing's photos (owner only)
///
/// The photos after it move up; when the cover goes, the next photo is the cover.
#[utoipa::path(
    delete,
    path = "/api/cars/{id}/photos/{photo}/",
    tag = "cars",
    params(
        ("id" = i64, Path, description = "The car's id"),
        ("photo" = i64, Path, description = "The photo's id")
    ),
    security(("token" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not the seller", body = Detail),
        (status = 404, description = "Unknown car, or not one of its photos", body = Detail)
    )
)]
pub async fn remove_photo(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, photo)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (id, photo) = (parse_id(&id)?, parse_id(&photo)?);
    service::owned_car(&state, user.id, id).await?;
    service::remove_photo(&state, id, photo).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Say what a photo shows (owner only)
///
/// `label` (exterior, interior, engine, wheels, documents or damage; empty for none) and a
/// one-line `caption` of at most 120 characters ("scratch on rear bumper"). Fields not sent
/// keep their value.
#[utoipa::path(
    patch,
    path = "/api/cars/{id}/photos/{photo}/",
    tag = "cars",
    params(
        ("id" = i64, Path, description = "The car's id"),
        ("photo" = i64, Path, description = "The photo's id")
    ),
    request_body(content(
        (PhotoDescription = "application/json"),
        (PhotoDescriptionForm = "application/x-www-form-urlencoded")
    )),
    security(("token" = [])),
    responses(
        (status = 200, description = "The photo", body = ApiPhoto),
        (status = 400, description = "An unknown label, or a caption too long", body = FieldErrorsBody),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not the seller", body = Detail),
        (status = 404, description = "Unknown car, or not one of its photos", body = Detail),
        (status = 413, description = "Body too large", body = Detail),
        (status = 415, description = "Unsupported content type", body = Detail)
    )
)]
pub async fn describe_photo(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, photo)): Path<(String, String)>,
    request: Request,
) -> ApiResult<Json<ApiPhoto>> {
    let (id, photo) = (parse_id(&id)?, parse_id(&photo)?);
    let base = api_base(&state, request.headers());
    service::owned_car(&state, user.id, id).await?;
    let current = db::photos_of(&state.db, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default()
        .into_iter()
        .find(|p| p.id == photo)
        .ok_or_else(not_found)?;
    let input = ApiForm::read(request, None).await?;
    let mut errors = FieldErrors::new();
    let label = match input.get("label") {
        None => current.label,
        Some(Scalar::Null) => None,
        Some(Scalar::Text(text)) if text.trim().is_empty() => None,
        Some(Scalar::Text(text)) => PhotoLabel::parse(text).or_else(|| {
            errors.insert(
                "label".into(),
                "Choose one of: exterior, interior, engine, wheels, documents, damage.".into(),
            );
            None
        }),
        Some(Scalar::Invalid | Scalar::List(_)) => {
            errors.insert("label".into(), "Not a valid string.".into());
            None
        }
    };
    let caption = match input.get("caption") {
        None => current.caption,
        Some(Scalar::Null) => String::new(),
        Some(Scalar::Text(text)) => parse_caption(text).unwrap_or_else(|message| {
            errors.insert("caption".into(), message);
            String::new()
        }),
        Some(Scalar::Invalid | Scalar::List(_)) => {
            errors.insert("caption".into(), "Not a valid string.".into());
            String::new()
        }
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors).into());
    }
    let described = db::describe_photo(&state.db, id, photo, label, &caption).await?;
    Ok(Json(ApiPhoto::new(described, &base)))
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
