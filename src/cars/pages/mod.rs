//! Car pages: the marketplace, a listing's details, selling, editing, deleting, my listings.

mod details;
mod manage;
mod marketplace;

pub use details::*;
pub use manage::*;
pub use marketplace::*;

use super::{
    components::{CarList, OwnerActions, PhotoPlaceholder, SellCarForm},
    model::{
        format_mileage, format_power, format_price, group_thousands, town_choices, BodyType,
        CarFilters, CarPage, Colour, Condition, Drive, EquipmentItem, Facets, Fuel, Near, Place,
        Sort, SpecFilters, Transmission, DEFAULT_RADIUS_KM, MAX_RESULTS, RADII_KM,
    },
    place_view::TownInput,
    rpc::{get_car, list_cars, list_my_cars, load_car_form, DeleteCar, SetCarStatus},
};
use crate::{
    auth::pages::urlencode,
    error::AppError,
    ui::{ErrorPage, FormAlert},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::{Form, Redirect},
    hooks::{use_location, use_params_map, use_query_map},
};

/// "/login?next=<this page>", for pages that need a signed-in user.
pub(super) fn login_redirect() -> impl IntoView {
    let location = use_location();
    let path = location.pathname.get_untracked();
    let search = location.search.get_untracked();
    let here = if search.is_empty() {
        path
    } else {
        format!("{path}?{}", search.trim_start_matches('?'))
    };
    view! { <Redirect path=format!("/login?next={}", urlencode(&here)) /> }
}

pub(super) fn page_error(error: AppError) -> AnyView {
    match error {
        AppError::Unauthorized(_) => login_redirect().into_any(),
        other => view! { <ErrorPage error=other /> }.into_any(),
    }
}

pub(super) fn route_id() -> Memo<Option<i64>> {
    let params = use_params_map();
    Memo::new(move |_| {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .filter(|id| *id > 0)
    })
}
