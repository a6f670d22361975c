//! Car components: cards, the grid, owner actions and the sell / edit form.

use super::{
    model::{format_distance, format_mileage, format_price, CarSummary, Condition, Status},
    rpc::{CarFormState, SetCarStatus},
};
use crate::ui::{FieldError, PictureImg, TextArea};
use leptos::prelude::*;

/// One listing in a grid. The whole card is a single link.
#[component]
pub fn CarCard(car: CarSummary, #[prop(optional)] eager: bool) -> impl IntoView {
    let title = car.title();
    let href = format!("/cars/{}", car.id);
    let alt = format!("{title}, side view");
    let status = (car.status != Status::Available).then(|| {
        view! { <span class=format!("badge badge-{}", car.status.as_str())>{car.status.label()}</span> }
    });
    view! {
        <a class="car-card" href=href>
            <div class="car-photo">
                {match (car.picture.clone(), car.image.clone()) {
                    (Some(picture), _) => {
                        view! {
                            <PictureImg
                                picture
                                alt=alt
                                sizes="(min-width: 64rem) 18rem, (min-width: 40rem) 45vw, 100vw"
                                eager=eager
                            />
                        }
                            .into_any()
                    }
                    (None, Some(src)) => {
                        view! {
                            <img
                                src=src
                                alt=alt
                                width="640"
                                height="400"
                                loading=if eager { "eager" } else { "lazy" }
                                fetchpriority=if eager { "high" } else { "auto" }
                                decoding="async"
                            />
                        }
                            .into_any()
                    }
                    (None, None) => view! { <PhotoPlaceholder /> }.into_any(),
                }} {status}
                {(car.photo_count > 1)
                    .then(|| {
                        let count = car.photo_count;
                        view! { <span class="photo-count">{format!("{count} photos")}</span> }
                    })}
            </div>
            <div class="car-body">
                <h3 class="car-title">{title}</h3>
                <p class="car-price">{format_price(car.price_cents)}</p>
                <ul class="chips" aria-label="Key facts">
                    <li>{format_mileage(car.mileage_km)}</li>
                    <li>{car.condition.label()}</li>
                    <li>{car.year}</li>
                </ul>
                {car
                    .town
                    .clone()
                    .map(|town| {
                        view! {
                            <p class="car-place">
                                <span>{town.label}</span>
                                {car
                                    .distance_km
                                    .map(|km| {
                                        view! {
                                            <span class="car-distance">{format_distance(km)}</span>
                                        }
                                    })}
                            </p>
                        }
                    })}
            </div>
        </a>
    }
}

#[component]
pub fn PhotoPlaceholder() -> impl IntoView {
    view! {
        <div class="photo-placeholder" role="img" aria-label="No photo yet">
            <svg viewBox="0 0 64 40" aria-hidden="true">
                <path d="M8 28h48v-6l-8-2-6-8H22l-7 8-7 2z" fill="currentColor" opacity=".35" />
                <circle cx="18" cy="29" r="5" fill="currentColor" opacity=".5" />
                <circle cx="46" cy="29" r="5" fill="currentColor" opacity=".5" />
            </svg>
            <span>"No photo yet"</span>
        </div>
    }
}

/// A grid of car cards.
#[component]
pub fn CarList(cars: Vec<CarSummary>) -> impl IntoView {
    view! {
        <ul class="car-grid">
            {cars
                .into_iter()
                .enumerate()
                .map(|(i, car)| {
                    view! {
                        <li>
                            <CarCard car eager=i < 4 />
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// The owner's buttons for a listing: status changes, edit and delete.
#[component]
pub fn OwnerActions(id: i64, status: Status, action: ServerAction<SetCarStatus>) -> impl IntoView {
    let others = Status::ALL.into_iter().filter(move |s| *s != status);
    view! {
        <div class="owner-actions" role="group" aria-label="Manage this listing">
            <a class="button button-outline" href=format!("/cars/{id}/edit")>
                "Edit"
            </a>
            {others
                .map(|target| {
                    let label = match target {
                        Status::Available => "Mark as available",
                        Status::Pending => "Mark as pending",
                        Status::Sold => "Mark as sold",
                    };
                    view! {
                        <ActionForm action attr:class="inline-form">
                            <input type="hidden" name="id" value=id />
                            <input type="hidden" name="status" value=target.as_str() />
                            <button type="submit" class="button button-outline">
                                {label}
                            </button>
                        </ActionForm>
                    }
                })
                .collect_view()}
            <form method="get" action=format!("/cars/{id}/delete") class="inline-form">
                <button type="submit" class="button button-danger">
                    "Delete listing"
                </button>
            </form>
        </div>
    }
}

/// The sell / edit form. It posts as multipart (so the photo upload works
/// without JavaScript); with JavaScript the same validation runs first in the browser.
/// The one island of the app: its props travel to the browser as JSON.
#[island]
pub fn SellCarForm(
    state: CarFormState,
    #[prop(into)] action: String,
    #[prop(into)] submit_label: String,
    /// The specification's fields, rendered on the server (see `specs_view`).
    children: Children,
) -> impl IntoView {
    let CarFormState {
        form,
        errors: initial_errors,
        current_year,
        photo_url,
        title,
        uploads,
        ..
    } = state;
    let uploads = super::uploader::Uploads::new(uploads);
    // Only an existing listing has a title here.
    let creating = title.is_none();
    let errors = RwSignal::new(initial_errors);
    let submitting = RwSignal::new(false);
    let preview = RwSignal::new(photo_url.clone());
    let error_for =
        move |name: &'static str| Signal::derive(move || errors.with(|e| e.get(name).cloned()));
    let invalid =
        move |name: &'static str| move || errors.with(|e| e.contains_key(name)).then_some("true");

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(form_el) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
            else {
                return;
            };
            let Ok(data) = web_sys::FormData::new_with_form(&form_el) else {
                return;
            };
            let mut values = super::model::CarForm::default();
            for name in [
                "make",
                "model",
                "year",
                "price",
                "mileage",
                "condition",
                "description",
                "image_url",
            ] {
                values.set(name, data.get(name).as_string().unwrap_or_default());
            }
            let mut found = crate::error::FieldErrors::new();
            values.validate_listing(current_year, &mut found);
            // Every chosen photo within the size the server takes, each named when it is not.
            let files = document()
                .get_element_by_id("car-photo")
                .and_then(|el| el.dyn_into::<web_sys::HtmlInputElement>().ok())
                .and_then(|input| input.files());
            if let Some(files) = files {
                let too_large: Vec<String> = (0..files.length())
                    .filter_map(|i| files.get(i))
                    .filter(|file| file.size() > (super::model::MAX_PHOTO_MB * 1024 * 1024) as f64)
                    .map(|file| {
                        format!(
                            "{}: the photo must be at most {} MB.",
                            file.name(),
                            super::model::MAX_PHOTO_MB
                        )
                    })
                    .collect();
                if files.length() as usize > super::model::MAX_PHOTOS {
                    found.insert(
                        "photo".into(),
                        format!(
                            "A listing has at most {} photos: choose {} or fewer.",
                            super::model::MAX_PHOTOS,
                            super::model::MAX_PHOTOS
                        ),
                    );
                } else if !too_large.is_empty() {
                    found.insert("photo".into(), too_large.join(" "));
                }
            }
            // A photo that could not be uploaded is not left behind unnoticed.
            let failures = uploads.failures();
            if !failures.is_empty() {
                found.insert("photo".into(), super::uploader::not_uploaded(&failures));
            }
            if !found.is_empty() {
                ev.prevent_default();
                let first = found.keys().next().cloned();
                errors.set(found);
                if let Some(first) = first {
                    if let Some(el) = document().get_element_by_id(&format!("car-{first}")) {
                        if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
                            let _ = el.focus();
                        }
                    }
                }
                return;
            }
            if submitting.get_untracked() {
                // A second click while the first upload is under way.
                ev.prevent_default();
                return;
            }
            errors.set(crate::error::FieldErrors::new());
            submitting.set(true);
            if uploads.busy() > 0 {
                // Held until the photos are up; then it goes by itself.
                ev.prevent_default();
                uploads.send_when_done();
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, current_year);
    };

    let on_photo = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(input) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            else {
                return;
            };
            if creating {
                // Each photo uploads now; the form will send only their ids.
                if let Some(files) = input.files() {
                    let left_out = uploads.add_files(&files, super::model::MAX_PHOTOS);
                    errors.update(|errors| match left_out {
                        Some(message) => {
                            errors.insert("photo".into(), message);
                        }
                        None => {
                            errors.remove("photo");
                        }
                    });
                }
                input.set_value("");
                return;
            }
            if let Some(file) = input.files().and_then(|files| files.get(0)) {
                if let Ok(url) = web_sys::Url::create_object_url_with_blob(&file) {
                    preview.set(Some(url));
                }
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };

    let form_ref = NodeRef::<leptos::html::Form>::new();
    uploads.when_done(move |failures| {
        submitting.set(false);
        if !failures.is_empty() {
            errors.update(|errors| {
                errors.insert("photo".into(), super::uploader::not_uploaded(&failures));
            });
        } else {
            super::uploader::send_form(form_ref);
        }
    });

    let summary = move || {
        let count = errors.with(|e| e.len());
        (count > 0).then(|| {
            view! {
                <div class="alert" role="alert">
                    <p>
                        <strong>
                            {if count == 1 {
                                "Please correct 1 field:".to_owned()
                            } else {
                                format!("Please correct {count} fields:")
                            }}
                        </strong>
                    </p>
                    <ul>
                        {move || {
                            errors
                                .get()
                                .into_iter()
                                .map(|(field, message)| {
                                    view! {
                                        <li>
                                            <a href=format!("#car-{field}")>{message}</a>
                                        </li>
                                    }
                                })
                                .collect_view()
                        }}
                    </ul>
                </div>
            }
        })
    };

    let condition = Condition::parse(&form.condition).unwrap_or_default();
    view! {
        <form
            class="car-form stack"
            method="post"
            enctype="multipart/form-data"
            action=action
            node_ref=form_ref
            on:submit=on_submit
            novalidate
        >
            {summary}
            <div class="field-row">
                <div class="field">
                    <label for="car-make">"Make"</label>
                    <input
                        id="car-make"
                        name="make"
                        type="text"
                        required
                        maxlength="100"
                        autocomplete="off"
                        list="known-makes"
                        value=form.make
                        placeholder="e.g. Toyota"
                        aria-invalid=invalid("make")
                        aria-describedby="car-make-error"
                    />
                    <FieldError id="car-make-error" message=error_for("make") />
                </div>
                <div class="field">
                    <label for="car-model">"Model"</label>
                    <input
                        id="car-model"
                        name="model"
                        type="text"
                        required
                        maxlength="100"
                        autocomplete="off"
                        list="known-models"
                        value=form.model
                        placeholder="e.g. Corolla"
                        aria-invalid=invalid("model")
                        aria-describedby="car-model-error"
                    />
                    <FieldError id="car-model-error" message=error_for("model") />
                </div>
            </div>
            <div class="field-row">
                <div class="field">
                    <label for="car-year">"Year"</label>
                    <input
                        id="car-year"
                        name="year"
                        type="text"
                        inputmode="numeric"
                        required
                        maxlength="4"
                        value=form.year
                        placeholder=current_year.to_string()
                        aria-invalid=invalid("year")
                        aria-describedby="car-year-hint car-year-error"
                    />
                    <p class="hint" id="car-year-hint">
                        {format!("Model year, 1886 to {}", current_year + 1)}
                    </p>
                    <FieldError id="car-year-error" message=error_for("year") />
                </div>
                <div class="field">
                    <label for="car-price">"Price"</label>
                    <div class="input-prefix">
                        <span aria-hidden="true">"$"</span>
                        <input
                            id="car-price"
                            name="price"
                            type="text"
                            inputmode="decimal"
                            required
                            maxlength="20"
                            value=form.price
                            placeholder="15999"
                            aria-invalid=invalid("price")
                            aria-describedby="car-price-hint car-price-error"
                        />
                    </div>
                    <p class="hint" id="car-price-hint">
                        "In US dollars; cents are optional"
                    </p>
                    <FieldError id="car-price-error" message=error_for("price") />
                </div>
            </div>
            <div class="field-row">
                <div class="field">
                    <label for="car-mileage">"Mileage (km)"</label>
                    <input
                        id="car-mileage"
                        name="mileage"
                        type="text"
                        inputmode="numeric"
                        required
                        maxlength="12"
                        value=form.mileage
                        placeholder="84000"
                        aria-invalid=invalid("mileage")
                        aria-describedby="car-mileage-hint car-mileage-error"
                    />
                    <p class="hint" id="car-mileage-hint">
                        "Mileage in kilometres"
                    </p>
                    <FieldError id="car-mileage-error" message=error_for("mileage") />
                </div>
                <div class="field">
                    <label for="car-condition">"Condition"</label>
                    <select
                        id="car-condition"
                        name="condition"
                        aria-invalid=invalid("condition")
                        aria-describedby="car-condition-error"
                    >
                        {Condition::ALL
                            .into_iter()
                            .map(|c| {
                                view! {
                                    <option value=c.as_str() selected=c == condition>
                                        {c.label()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                    <FieldError id="car-condition-error" message=error_for("condition") />
                </div>
            </div>
            {children()}
            <div class="field">
                <label for="car-description">"Description"</label>
                <TextArea
                    value=form.description
                    attr:id="car-description"
                    attr:name="description"
                    attr:rows="6"
                    attr:maxlength="5000"
                    attr:aria-invalid=invalid("description")
                    attr:aria-describedby="car-description-hint car-description-error"
                />
                <p class="hint" id="car-description-hint">
                    "History, extras, anything a buyer should know (up to 5,000 characters)"
                </p>
                <FieldError id="car-description-error" message=error_for("description") />
            </div>
            <div class="field">
                <label for="car-photo">"Photo"</label>
                // Selling: several photos at once, the first the cover. Editing: this field
                // replaces the cover; the photos section below the form adds and arranges.
                <input
                    id="car-photo"
                    name="photo"
                    type="file"
                    accept="image/jpeg,image/png,image/webp"
                    multiple=creating
                    on:change=on_photo
                    aria-invalid=invalid("photo")
                    aria-describedby="car-photo-hint car-photo-error"
                />
                <p class="hint" id="car-photo-hint">
                    {if creating {
                        format!(
                            "JPEG, PNG or WebP, up to {} MB each. Choose up to {} photos at once; the first is the cover.",
                            super::model::MAX_PHOTO_MB,
                            super::model::MAX_PHOTOS,
                        )
                    } else {
                        format!("JPEG, PNG or WebP, up to {} MB", super::model::MAX_PHOTO_MB)
                    }}
                    {photo_url
                        .is_some()
                        .then_some(". Choose a file only to replace the cover photo.")}
                </p>
                <FieldError id="car-photo-error" message=error_for("photo") />
                {creating.then(|| view! { <super::uploader::UploadList uploads /> })}
                {move || {
                    preview
                        .get()
                        .map(|src| {
                            view! {
                                <img
                                    class="photo-preview"
                                    src=src
                                    alt="Preview of the chosen photo"
                                />
                            }
                        })
                }}
            </div>
            <div class="field">
                <label for="car-image_url">"Image URL"</label>
                <input
                    id="car-image_url"
                    name="image_url"
                    type="url"
                    maxlength="2000"
                    value=form.image_url
                    placeholder="https://…"
                    aria-invalid=invalid("image_url")
                    aria-describedby="car-image_url-hint car-image_url-error"
                />
                <p class="hint" id="car-image_url-hint">
                    "Optional: a link to a photo hosted elsewhere, used when no photo is uploaded"
                </p>
                <FieldError id="car-image_url-error" message=error_for("image_url") />
            </div>
            <button
                type="submit"
                class="button button-primary button-large"
                aria-disabled=move || submitting.get().then_some("true")
            >
                {move || {
                    if submitting.get() { "Saving…".to_owned() } else { submit_label.clone() }
                }}
            </button>
        </form>
    }
}
