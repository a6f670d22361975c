//! A seller's pages: sell, edit, delete, and my listings.

use super::*;

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
                                                <crate::cars::components::CarCard car />
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
