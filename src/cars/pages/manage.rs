//! A seller's pages: sell, edit, delete, and my listings.

use super::*;
use crate::cars::{
    gallery::label_name,
    model::{PhotoLabel, MAX_CAPTION, MAX_PHOTOS},
    place_view::{KnownModels, TownField},
    rpc::known_models,
    rpc::{ManagedPhoto, PhotosMessage},
    specs_view::SpecsFields,
};

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

/// The make and model suggestions (datalists the form's fields name).
#[component]
fn Suggestions() -> impl IntoView {
    let models = Resource::new(|| (), |_| known_models());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                view! { <KnownModels models=models.await.unwrap_or_default() /> }
            })}
        </Suspense>
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
                                <SellCarForm
                                    state=state.clone()
                                    action="/sell"
                                    submit_label="List my car"
                                >
                                    <TownField
                                        town=state.form.town.clone()
                                        errors=state.errors.clone()
                                    />
                                    <Suggestions />
                                    <SpecsFields form=state.form.specs errors=state.errors />
                                </SellCarForm>
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
                    Ok(mut state) => {
                        let id = id.get_untracked().unwrap_or_default();
                        let title = state.title.clone().unwrap_or_default();
                        let photos = std::mem::take(&mut state.photos);
                        let message = state.photos_message.take();
                        // The photos are managed outside the form (and its island's props).
                        view! {
                            <section class="form-page">
                                <nav class="breadcrumbs" aria-label="Breadcrumb">
                                    <a href=format!("/cars/{id}")>{title.clone()}</a>
                                    <span aria-hidden="true">" / "</span>
                                    <span>"Edit"</span>
                                </nav>
                                <h1>{format!("Edit {title}")}</h1>
                                <SellCarForm
                                    state=state.clone()
                                    action=format!("/cars/{id}/edit")
                                    submit_label="Save changes"
                                >
                                    <TownField
                                        town=state.form.town.clone()
                                        errors=state.errors.clone()
                                    />
                                    <Suggestions />
                                    <SpecsFields form=state.form.specs errors=state.errors />
                                </SellCarForm>
                                <PhotoManager id photos message />
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

/// A listing's photos on its edit page: each with its own form (what it shows, a caption,
/// Move up / Move down / Make cover / Remove), and a form to add several at once. Plain
/// forms: they work without JavaScript.
#[component]
fn PhotoManager(
    id: i64,
    photos: Vec<ManagedPhoto>,
    message: Option<PhotosMessage>,
) -> impl IntoView {
    let count = photos.len();
    let room = MAX_PHOTOS.saturating_sub(count);
    let message = message.map(|message| {
        view! {
            <p class=if message.error { "alert" } else { "notice" } role="status">
                {message.text}
            </p>
        }
    });
    let items = photos
        .into_iter()
        .enumerate()
        .map(|(at, photo)| {
            let pid = photo.id;
            let position = at + 1;
            let heading = format!("photo-{pid}-heading");
            let labelled_by = heading.clone();
            let label_id = format!("photo-{pid}-label");
            let caption_id = format!("photo-{pid}-caption");
            let chosen = photo.label;
            view! {
                <li class="managed-photo" id=format!("photo-{pid}") data-photo=pid>
                    <img
                        src=photo.thumbnail
                        alt=format!("Photo {position}")
                        width="160"
                        height="120"
                        loading="lazy"
                    />
                    <form
                        method="post"
                        action=format!("/cars/{id}/photos/{pid}")
                        class="photo-form"
                        aria-labelledby=labelled_by
                    >
                        <p class="photo-form-title" id=heading>
                            <strong>{format!("Photo {position} of {count}")}</strong>
                            {(position == 1).then(|| view! { <span class="badge">"Cover"</span> })}
                        </p>
                        <div class="field-row compact">
                            <div class="field">
                                <label for=label_id.clone()>"What it shows"</label>
                                <select id=label_id name="label">
                                    <option value="" selected=chosen.is_none()>
                                        "Not said"
                                    </option>
                                    {PhotoLabel::ALL
                                        .into_iter()
                                        .map(|label| {
                                            view! {
                                                <option value=label.as_str() selected=chosen == Some(label)>
                                                    {label_name(label)}
                                                </option>
                                            }
                                        })
                                        .collect_view()}
                                </select>
                            </div>
                            <div class="field">
                                <label for=caption_id.clone()>"Caption"</label>
                                <input
                                    id=caption_id
                                    name="caption"
                                    type="text"
                                    maxlength=MAX_CAPTION
                                    value=photo.caption
                                    placeholder="e.g. scratch on the rear bumper"
                                />
                            </div>
                        </div>
                        <div class="photo-buttons">
                            <button
                                type="submit"
                                name="action"
                                value="save"
                                class="button button-outline"
                            >
                                "Save"
                            </button>
                            <button
                                type="submit"
                                name="action"
                                value="up"
                                class="button button-outline"
                                disabled=position == 1
                            >
                                "Move up"
                            </button>
                            <button
                                type="submit"
                                name="action"
                                value="down"
                                class="button button-outline"
                                disabled=position == count
                            >
                                "Move down"
                            </button>
                            <button
                                type="submit"
                                name="action"
                                value="cover"
                                class="button button-outline"
                                disabled=position == 1
                            >
                                "Make cover"
                            </button>
                            <button
                                type="submit"
                                name="action"
                                value="remove"
                                class="button button-danger"
                            >
                                "Remove"
                            </button>
                        </div>
                    </form>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="car-form photo-manager" id="photos" aria-labelledby="photos-heading">
            <h2 id="photos-heading">"Photos"</h2>
            <p class="hint">
                {format!(
                    "The first photo is the cover, shown on cards. A listing has at most {MAX_PHOTOS} photos; this one has {count}.",
                )}
            </p>
            {message}
            {(count > 0)
                .then(|| {
                    view! {
                        <crate::cars::uploader::PhotoOrder car_id=id>
                            <ol class="managed-photos">{items}</ol>
                        </crate::cars::uploader::PhotoOrder>
                    }
                })}
            {(room > 0).then(|| view! { <crate::cars::uploader::AddPhotosForm car_id=id room /> })}
        </section>
    }
}
