//! Car pages: the marketplace, a listing's details, selling, editing, deleting, my listings.

use super::{
    components::{CarList, OwnerActions, PhotoPlaceholder, SellCarForm},
    model::{
        format_mileage, format_price, group_thousands, CarFilters, CarPage, Condition, Sort,
        MAX_RESULTS,
    },
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
fn login_redirect() -> impl IntoView {
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

fn page_error(error: AppError) -> AnyView {
    match error {
        AppError::Unauthorized(_) => login_redirect().into_any(),
        other => view! { <ErrorPage error=other /> }.into_any(),
    }
}

fn route_id() -> Memo<Option<i64>> {
    let params = use_params_map();
    Memo::new(move |_| {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .filter(|id| *id > 0)
    })
}

#[component]
pub fn UsedCarsPage() -> impl IntoView {
    let query = use_query_map();
    let parsed = Memo::new(move |_| {
        let q = query.read();
        CarFilters::from_query(|key| q.get(key))
    });
    // The page's cars and the Make filter's choices come in one answer.
    let results = Resource::new(move || parsed.get().0, list_cars);

    view! {
        <Title text="Buy Used Cars" />
        <div class="page-head">
            <h1>"Buy Used Cars"</h1>
            <p class="muted">"Every car here is for sale now, listed by its owner."</p>
        </div>
        <div class="market">
            <aside class="filters-column">
                <input type="checkbox" id="show-filters" class="filters-toggle" />
                <label for="show-filters" class="button button-outline filters-button">
                    "Filters"
                </label>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let makes = results.await.map(|page| page.makes).unwrap_or_default();
                        let filters = parsed.get().0;
                        view! { <FilterForm filters makes /> }
                    })}
                </Transition>
            </aside>
            <section class="results" aria-labelledby="results-heading">
                {move || {
                    let problems = parsed.get().1;
                    (!problems.is_empty())
                        .then(|| {
                            view! {
                                <div class="alert" role="alert">
                                    <p>"Some filters were ignored:"</p>
                                    <ul>
                                        {problems
                                            .into_values()
                                            .map(|p| view! { <li>{p}</li> })
                                            .collect_view()}
                                    </ul>
                                </div>
                            }
                        })
                }}
                <Transition fallback=|| {
                    view! { <p class="muted">"Loading cars…"</p> }
                }>
                    {move || Suspend::new(async move {
                        let filters = parsed.get().0;
                        match results.await {
                            Ok(page) => view! { <Results page filters /> }.into_any(),
                            Err(error) => {
                                view! {
                                    <FormAlert message=Signal::derive(move || Some(
                                        error.to_string(),
                                    )) />
                                }
                                    .into_any()
                            }
                        }
                    })}
                </Transition>
            </section>
        </div>
    }
}

#[component]
fn FilterForm(filters: CarFilters, makes: Vec<String>) -> impl IntoView {
    let price = |v: Option<i64>| v.map(super::model::format_price_input).unwrap_or_default();
    let num = |v: Option<i32>| v.map(|v| v.to_string()).unwrap_or_default();
    let selected_make = filters.make.clone().unwrap_or_default();
    view! {
        <Form
            method="GET"
            action="/cars"
            attr:id="filters"
            attr:class="filter-panel stack"
            attr:aria-label="Filter cars"
        >
            <div class="field">
                <label for="f-q">"Search"</label>
                <input
                    id="f-q"
                    type="search"
                    name="q"
                    value=filters.q.clone().unwrap_or_default()
                    placeholder="Make, model or keyword"
                    maxlength="100"
                />
            </div>
            <div class="field-row compact">
                <div class="field">
                    <label for="f-min-price">"Min price"</label>
                    <input
                        id="f-min-price"
                        name="min_price"
                        type="text"
                        inputmode="decimal"
                        value=price(filters.min_price_cents)
                        placeholder="Any"
                    />
                </div>
                <div class="field">
                    <label for="f-max-price">"Max price"</label>
                    <input
                        id="f-max-price"
                        name="max_price"
                        type="text"
                        inputmode="decimal"
                        value=price(filters.max_price_cents)
                        placeholder="Any"
                    />
                </div>
            </div>
            <div class="field-row compact">
                <div class="field">
                    <label for="f-min-year">"Min year"</label>
                    <input
                        id="f-min-year"
                        name="min_year"
                        type="text"
                        inputmode="numeric"
                        maxlength="4"
                        value=num(filters.min_year)
                        placeholder="Any"
                    />
                </div>
                <div class="field">
                    <label for="f-max-year">"Max year"</label>
                    <input
                        id="f-max-year"
                        name="max_year"
                        type="text"
                        inputmode="numeric"
                        maxlength="4"
                        value=num(filters.max_year)
                        placeholder="Any"
                    />
                </div>
            </div>
            <div class="field">
                <label for="f-make">"Make"</label>
                <select id="f-make" name="make">
                    <option value="">"Any make"</option>
                    {makes
                        .into_iter()
                        .map(|make| {
                            let selected = make.eq_ignore_ascii_case(&selected_make);
                            view! {
                                <option value=make.clone() selected=selected>
                                    {make.clone()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-condition">"Condition"</label>
                <select id="f-condition" name="condition">
                    <option value="">"New or used"</option>
                    {Condition::ALL
                        .into_iter()
                        .map(|c| {
                            view! {
                                <option value=c.as_str() selected=filters.condition == Some(c)>
                                    {c.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-max-mileage">"Max mileage"</label>
                <input
                    id="f-max-mileage"
                    name="max_mileage"
                    type="text"
                    inputmode="numeric"
                    value=filters.max_mileage_km.map(|v| v.to_string()).unwrap_or_default()
                    placeholder="Any (km)"
                />
            </div>
            <div class="field">
                <label for="f-sort">"Sort by"</label>
                <select id="f-sort" name="sort">
                    {Sort::ALL
                        .into_iter()
                        .map(|s| {
                            view! {
                                <option value=s.as_str() selected=filters.sort == s>
                                    {s.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <button type="submit" class="button button-primary button-block">
                "Apply filters"
            </button>
            <a class="clear-link" href="/cars">
                "Clear filters"
            </a>
        </Form>
    }
}

#[component]
fn Results(page: CarPage, filters: CarFilters) -> impl IntoView {
    let count = page.total;
    let heading = match count {
        _ if page.is_capped() => format!("More than {} cars", group_thousands(MAX_RESULTS)),
        1 => "1 car".to_owned(),
        n => format!("{} cars", group_thousands(n)),
    };
    let chips = active_chips(&filters);
    let body = if page.cars.is_empty() {
        view! {
            <div class="empty-state">
                <h2>
                    {if filters.is_filtered() {
                        "No cars match your filters"
                    } else {
                        "No cars for sale yet"
                    }}
                </h2>
                <p class="muted">
                    {if filters.is_filtered() {
                        "Try widening the price or year range, or clear the filters to see every car."
                    } else {
                        "Be the first: list your car in a couple of minutes."
                    }}
                </p>
                {if filters.is_filtered() {
                    view! {
                        <a class="button button-primary" href="/cars">
                            "Clear filters"
                        </a>
                    }
                        .into_any()
                } else {
                    view! {
                        <a class="button button-primary" href="/sell">
                            "Sell your car"
                        </a>
                    }
                        .into_any()
                }}
            </div>
        }
            .into_any()
    } else {
        view! {
            <CarList cars=page.cars.clone() />
            <Pagination page=page.page pages=page.page_count() filters=filters.clone() />
        }
        .into_any()
    };
    view! {
        <div class="results-head">
            <h2 id="results-heading" class="results-count" aria-live="polite">
                {heading}
            </h2>
            <p class="muted sort-note">
                {format!("Sorted by {}", filters.sort.label().to_lowercase())}
            </p>
        </div>
        {page
            .is_capped()
            .then(|| {
                view! {
                    <p class="muted capped-note">
                        {format!(
                            "Showing the first {} in this order. Search or filter to find the rest.",
                            group_thousands(MAX_RESULTS),
                        )}
                    </p>
                }
            })}
        {(!chips.is_empty())
            .then(|| {
                view! {
                    <ul class="active-filters" aria-label="Active filters">
                        {chips
                            .into_iter()
                            .map(|(label, href)| {
                                let name = format!("Remove filter: {label}");
                                view! {
                                    <li>
                                        <a class="chip-remove" href=href aria-label=name>
                                            {label}
                                            <span aria-hidden="true">" ×"</span>
                                        </a>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
            })}
        {body}
    }
}

/// Each active filter with the link that removes it.
fn active_chips(filters: &CarFilters) -> Vec<(String, String)> {
    let mut chips = Vec::new();
    let without = |change: &dyn Fn(&mut CarFilters)| {
        let mut f = filters.clone();
        change(&mut f);
        let q = f.to_query(1);
        if q.is_empty() {
            "/cars".to_owned()
        } else {
            format!("/cars?{q}")
        }
    };
    if let Some(q) = &filters.q {
        chips.push((format!("“{q}”"), without(&|f| f.q = None)));
    }
    if let Some(v) = filters.min_price_cents {
        chips.push((
            format!("From {}", format_price(v)),
            without(&|f| f.min_price_cents = None),
        ));
    }
    if let Some(v) = filters.max_price_cents {
        chips.push((
            format!("Up to {}", format_price(v)),
            without(&|f| f.max_price_cents = None),
        ));
    }
    if let Some(v) = filters.min_year {
        chips.push((format!("{v} or newer"), without(&|f| f.min_year = None)));
    }
    if let Some(v) = filters.max_year {
        chips.push((format!("{v} or older"), without(&|f| f.max_year = None)));
    }
    if let Some(v) = &filters.make {
        chips.push((v.clone(), without(&|f| f.make = None)));
    }
    if let Some(v) = filters.condition {
        chips.push((v.label().to_owned(), without(&|f| f.condition = None)));
    }
    if let Some(v) = filters.max_mileage_km {
        chips.push((
            format!("Under {}", format_mileage(v)),
            without(&|f| f.max_mileage_km = None),
        ));
    }
    chips
}

#[component]
fn Pagination(page: u32, pages: u32, filters: CarFilters) -> impl IntoView {
    if pages <= 1 {
        return ().into_any();
    }
    let href = move |p: u32| {
        let q = filters.to_query(p);
        if q.is_empty() {
            "/cars".to_owned()
        } else {
            format!("/cars?{q}")
        }
    };
    // First, last, and two either side of the current page.
    let mut shown: Vec<u32> = (1..=pages)
        .filter(|p| *p == 1 || *p == pages || p.abs_diff(page) <= 2)
        .collect();
    shown.dedup();
    let mut items = Vec::new();
    let mut last = 0;
    for p in shown {
        if p > last + 1 {
            items.push(
                view! {
                    <li class="gap" aria-hidden="true">
                        "…"
                    </li>
                }
                .into_any(),
            );
        }
        let current = p == page;
        items.push(
            view! {
                <li>
                    <a
                        href=href(p)
                        aria-current=current.then_some("page")
                        aria-label=format!("Page {p}")
                        class:current=current
                    >
                        {p}
                    </a>
                </li>
            }
            .into_any(),
        );
        last = p;
    }
    view! {
        <nav class="pagination" aria-label="Pages">
            {(page > 1)
                .then(|| {
                    view! {
                        <a class="button button-outline" rel="prev" href=href(page - 1)>
                            "Previous"
                        </a>
                    }
                })}
            <ul>{items}</ul>
            {(page < pages)
                .then(|| {
                    view! {
                        <a class="button button-outline" rel="next" href=href(page + 1)>
                            "Next"
                        </a>
                    }
                })}
        </nav>
    }
    .into_any()
}

#[component]
pub fn CarDetailsPage() -> impl IntoView {
    let id = route_id();
    let set_status = ServerAction::<SetCarStatus>::new();
    let car = Resource::new(
        move || (id.get(), set_status.version().get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_car(id).await,
                None => Err(AppError::NotFound(
                    "This listing does not exist or has been removed.".into(),
                )),
            }
        },
    );
    let action_error = Signal::derive(move || match set_status.value().get() {
        Some(Err(error)) => Some(error.to_string()),
        _ => None,
    });
    view! {
        <Transition fallback=|| {
            view! { <p class="muted">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                match car.await {
                    Err(error) => page_error(error),
                    Ok(view) => {
                        let car = view.car;
                        let title = car.title();
                        let alt = format!("{title}, side view");
                        let listed = car.created_at.format("%-d %B %Y").to_string();
                        let updated = car.updated_at.format("%-d %B %Y").to_string();
                        let description = car.description.clone();
                        view! {
                            <Title text=title.clone() />
                            <nav class="breadcrumbs" aria-label="Breadcrumb">
                                <a href="/cars">"Buy Used Cars"</a>
                                <span aria-hidden="true">" / "</span>
                                <span>{title.clone()}</span>
                            </nav>
                            <article class="details">
                                <div class="details-photo">
                                    {match car.image() {
                                        Some(src) => {
                                            // The largest thing on the page: fetched ahead of the app's bundle.
                                            view! {
                                                <img
                                                    src=src
                                                    alt=alt
                                                    width="640"
                                                    height="400"
                                                    fetchpriority="high"
                                                />
                                            }
                                                .into_any()
                                        }
                                        None => view! { <PhotoPlaceholder /> }.into_any(),
                                    }}
                                </div>
                                <div class="details-info">
                                    <h1>{title.clone()}</h1>
                                    <p class="details-price">{format_price(car.price_cents)}</p>
                                    {(car.status != super::model::Status::Available)
                                        .then(|| {
                                            view! {
                                                <p class=format!(
                                                    "badge badge-{}",
                                                    car.status.as_str(),
                                                )>{car.status.label()}</p>
                                            }
                                        })}
                                    <table class="facts">
                                        <caption class="visually-hidden">"Key facts"</caption>
                                        <tbody>
                                            <tr>
                                                <th scope="row">"Year"</th>
                                                <td>{car.year}</td>
                                            </tr>
                                            <tr>
                                                <th scope="row">"Mileage"</th>
                                                <td>{format_mileage(car.mileage_km)}</td>
                                            </tr>
                                            <tr>
                                                <th scope="row">"Condition"</th>
                                                <td>{car.condition.label()}</td>
                                            </tr>
                                            <tr>
                                                <th scope="row">"Status"</th>
                                                <td>{car.status.label()}</td>
                                            </tr>
                                            <tr>
                                                <th scope="row">"Listed"</th>
                                                <td>
                                                    <time datetime=car.created_at.to_rfc3339()>{listed}</time>
                                                </td>
                                            </tr>
                                            <tr>
                                                <th scope="row">"Last updated"</th>
                                                <td>
                                                    <time datetime=car.updated_at.to_rfc3339()>{updated}</time>
                                                </td>
                                            </tr>
                                            <tr>
                                                <th scope="row">"Seller"</th>
                                                <td class="seller">{car.seller_username.clone()}</td>
                                            </tr>
                                        </tbody>
                                    </table>
                                    {view
                                        .is_owner
                                        .then(|| {
                                            view! {
                                                <section class="owner-box" aria-labelledby="owner-heading">
                                                    <h2 id="owner-heading">"Your listing"</h2>
                                                    <FormAlert message=action_error />
                                                    <OwnerActions
                                                        id=car.id
                                                        status=car.status
                                                        action=set_status
                                                    />
                                                </section>
                                            }
                                        })}
                                </div>
                                <section
                                    class="details-description"
                                    aria-labelledby="description-heading"
                                >
                                    <h2 id="description-heading">"Description"</h2>
                                    {if description.is_empty() {
                                        view! {
                                            <p class="muted">
                                                "The seller has not added a description."
                                            </p>
                                        }
                                            .into_any()
                                    } else {
                                        view! { <p class="description">{description}</p> }
                                            .into_any()
                                    }}
                                </section>
                            </article>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
pub fn DeleteCarPage() -> impl IntoView {
    let id = route_id();
    let delete = ServerAction::<DeleteCar>::new();
    let car = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => get_car(id).await,
                None => Err(AppError::NotFound(
                    "This listing does not exist or has been removed.".into(),
                )),
            }
        },
    );
    let error = Signal::derive(move || match delete.value().get() {
        Some(Err(error)) => Some(error.to_string()),
        _ => None,
    });
    view! {
        <Title text="Delete listing" />
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match car.await {
                    Err(error) => page_error(error),
                    Ok(view) if !view.is_owner => {
                        view! {
                            <ErrorPage error=AppError::Forbidden(
                                "Only the seller can delete this listing.".into(),
                            ) />
                        }
                            .into_any()
                    }
                    Ok(view) => {
                        let car = view.car;
                        view! {
                            <section class="auth-card">
                                <h1>"Delete this listing?"</h1>
                                <p>
                                    {format!(
                                        "“{}” will be removed from AutoNexus for good, with its photo. This cannot be undone.",
                                        car.title(),
                                    )}
                                </p>
                                <FormAlert message=error />
                                <ActionForm action=delete attr:class="stack">
                                    <input type="hidden" name="id" value=car.id />
                                    <button type="submit" class="button button-danger button-block">
                                        "Yes, delete listing"
                                    </button>
                                </ActionForm>
                                <a
                                    class="button button-quiet button-block"
                                    href=format!("/cars/{}", car.id)
                                >
                                    "Cancel, keep it"
                                </a>
                            </section>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
pub fn SellCarPage() -> impl IntoView {
    let state = Resource::new(|| (), |_| load_car_form(None));
    view! {
        <Title text="Sell Your Car" />
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match state.await {
                    Err(error) => page_error(error),
                    Ok(state) => {
                        view! {
                            <section class="form-page">
                                <h1>"Sell Your Car"</h1>
                                <p class="muted">
                                    "Tell buyers about your car. Listings go live straight away and you can edit them at any time."
                                </p>
                                <SellCarForm state action="/sell" submit_label="List my car" />
                            </section>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
pub fn EditCarPage() -> impl IntoView {
    let id = route_id();
    let state = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => load_car_form(Some(id)).await,
                None => Err(AppError::NotFound(
                    "This listing does not exist or has been removed.".into(),
                )),
            }
        },
    );
    view! {
        <Title text="Edit listing" />
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match state.await {
                    Err(error) => page_error(error),
                    Ok(state) => {
                        let id = id.get_untracked().unwrap_or_default();
                        let title = state.title.clone().unwrap_or_default();
                        view! {
                            <section class="form-page">
                                <nav class="breadcrumbs" aria-label="Breadcrumb">
                                    <a href=format!("/cars/{id}")>{title.clone()}</a>
                                    <span aria-hidden="true">" / "</span>
                                    <span>"Edit"</span>
                                </nav>
                                <h1>{format!("Edit {title}")}</h1>
                                <SellCarForm
                                    state
                                    action=format!("/cars/{id}/edit")
                                    submit_label="Save changes"
                                />
                            </section>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
pub fn MyListingsPage() -> impl IntoView {
    let set_status = ServerAction::<SetCarStatus>::new();
    let cars = Resource::new(move || set_status.version().get(), |_| list_my_cars());
    let error = Signal::derive(move || match set_status.value().get() {
        Some(Err(error)) => Some(error.to_string()),
        _ => None,
    });
    view! {
        <Title text="My listings" />
        <div class="page-head">
            <h1>"My listings"</h1>
            <a class="button button-primary" href="/sell">
                "List another car"
            </a>
        </div>
        <FormAlert message=error />
        <Transition fallback=|| {
            view! { <p class="muted">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                match cars.await {
                    Err(error) => page_error(error),
                    Ok(cars) if cars.is_empty() => {
                        view! {
                            <div class="empty-state">
                                <h2>"You have no listings yet"</h2>
                                <p class="muted">
                                    "List your car and it will show up here, whatever its status."
                                </p>
                                <a class="button button-primary" href="/sell">
                                    "Sell your car"
                                </a>
                            </div>
                        }
                            .into_any()
                    }
                    Ok(cars) => {
                        view! {
                            <p class="muted">
                                {format!(
                                    "{} listing{}",
                                    cars.len(),
                                    if cars.len() == 1 { "" } else { "s" },
                                )}
                            </p>
                            <ul class="my-listings">
                                {cars
                                    .into_iter()
                                    .map(|car| {
                                        let (id, status) = (car.id, car.status);
                                        view! {
                                            <li class="my-listing">
                                                <super::components::CarCard car />
                                                <OwnerActions id status action=set_status />
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}
