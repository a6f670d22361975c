//! `GET /api/towns/?q=`: the towns a name could mean, for autocomplete and for the ids the
//! listings API takes (`town_id`, `near`).

use super::{gazetteer, Town};
use crate::error::AppError;
use crate::rest::{ApiError, ApiResult};
use axum::{
    extract::Query,
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The most towns one answer lists.
pub const MAX_TOWNS: usize = 10;

/// A town of the gazetteer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiTown {
    /// Its id (GeoNames'): what `town_id` and `near` take.
    pub id: i64,
    pub name: String,
    /// The state or region, which tells towns of the same name apart.
    pub region: String,
    /// "Springfield, Illinois".
    pub label: String,
    pub population: u32,
    /// Degrees.
    pub latitude: f64,
    pub longitude: f64,
}

impl From<&Town> for ApiTown {
    fn from(town: &Town) -> Self {
        ApiTown {
            id: town.id,
            name: town.name.to_owned(),
            region: town.region.to_owned(),
            label: town.label(),
            population: town.population,
            latitude: town.latitude,
            longitude: town.longitude,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TownParams {
    /// What was typed so far: the start of a town's name (or of a later word of it),
    /// optionally followed by a comma and the start of its region ("springfield, ill").
    q: Option<String>,
}

/// Towns by name
///
/// Up to 10 towns whose name starts with `q` (then those with a later word that does),
/// most populous first. An empty `q` lists none.
#[utoipa::path(
    get,
    path = "/api/towns/",
    tag = "places",
    params(TownParams),
    responses(
        (status = 200, description = "The towns, most populous first", body = Vec<ApiTown>),
        (status = 400, description = "The query string could not be read", body = crate::rest::Detail)
    )
)]
pub async fn towns(
    params: Result<Query<TownParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(params) = params.map_err(|_| {
        ApiError::App(AppError::BadRequest(
            "The query string could not be read; send q once.".into(),
        ))
    })?;
    let typed: String = params.q.unwrap_or_default().chars().take(100).collect();
    let found: Vec<ApiTown> = gazetteer()
        .search(&typed, MAX_TOWNS)
        .into_iter()
        .map(ApiTown::from)
        .collect();
    let mut response = Json(found).into_response();
    // The gazetteer changes only with a new release.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    Ok(response)
}
