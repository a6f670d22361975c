//! The car's town on the sell / edit form, rendered on the server as a child of the
//! form's island (like the specification). Without JavaScript, a name several towns share
//! comes back with those towns to choose from (search, then choose).

use super::{model::town_choices, specs_view::error_line};
use crate::error::FieldErrors;
use leptos::prelude::*;

/// A town's text field. With JavaScript, the browser offers the towns that match what is
/// typed (a `datalist` filled from `GET /api/towns/`, so choosing works by keyboard, touch
/// and screen reader as the browser's own); choosing one fills in its full name, which the
/// server reads as exactly that town. Without JavaScript it is a plain text field.
///
/// It asks the REST endpoint with a plain request rather than through a server function:
/// no other island calls one, and the server-function client would add about 16 kB
/// (brotli) to the bundle, more than its budget has room for.
#[island]
pub fn TownInput(
    id: String,
    name: String,
    value: String,
    /// Empty for none.
    placeholder: String,
    /// The ids of its hint and error (empty for none).
    described_by: String,
    invalid: bool,
) -> impl IntoView {
    let suggestions = RwSignal::new(Vec::<String>::new());
    // Answers can arrive out of order: only the latest question's answer is shown.
    let asked = StoredValue::new(0u32);
    let list = format!("{id}-towns");
    let on_input = move |ev: leptos::ev::Event| {
        let typed = event_target_value(&ev);
        let turn = asked.get_value() + 1;
        asked.set_value(turn);
        if typed.trim().chars().count() < 2 {
            suggestions.set(Vec::new());
        } else {
            #[cfg(feature = "hydrate")]
            ask_towns(&typed, move |found| {
                if asked.get_value() == turn {
                    suggestions.set(found);
                }
            });
        }
    };
    view! {
        <input
            id=id
            name=name
            type="text"
            value=value
            maxlength="100"
            autocomplete="off"
            list=list.clone()
            placeholder=(!placeholder.is_empty()).then_some(placeholder)
            aria-invalid=invalid.then_some("true")
            aria-describedby=(!described_by.is_empty()).then_some(described_by)
            on:input=on_input
        />
        <datalist id=list>
            {move || {
                suggestions
                    .get()
                    .into_iter()
                    .map(|label| view! { <option value=label></option> })
                    .collect_view()
            }}
        </datalist>
    }
}

#[component]
pub fn TownField(town: String, errors: FieldErrors) -> impl IntoView {
    let choices = if errors.contains_key("town") {
        town_choices(&town)
    } else {
        Vec::new()
    };
    view! {
        <fieldset class="place stack">
            <legend>"Location"</legend>
            <div class="field">
                <label for="car-town">"Town"</label>
                <TownInput
                    id="car-town".to_owned()
                    name="town".to_owned()
                    value=town
                    placeholder=String::new()
                    described_by="car-town-hint car-town-error".to_owned()
                    invalid=errors.contains_key("town")
                />
                <p class="hint" id="car-town-hint">
                    "Where buyers can see the car, for example “Springfield, Illinois”. Buyers searching nearby find it."
                </p>
                {error_line(&errors, "town")}
            </div>
            {(!choices.is_empty())
                .then(|| {
                    view! {
                        <fieldset class="town-choices">
                            <legend>"Which one?"</legend>
                            {choices
                                .into_iter()
                                .enumerate()
                                .map(|(at, place)| {
                                    let id = format!("car-town-{at}");
                                    view! {
                                        <div class="checkbox">
                                            <input
                                                type="radio"
                                                id=id.clone()
                                                name="town_id"
                                                value=place.town_id.to_string()
                                            />
                                            <label for=id>{place.label}</label>
                                        </div>
                                    }
                                })
                                .collect_view()}
                        </fieldset>
                    }
                })}
        </fieldset>
    }
}

/// Asks `GET /api/towns/?q=` for the towns `typed` could start, and hands their labels to
/// `answer` (none when the request fails: the field still works as plain text).
#[cfg(feature = "hydrate")]
fn ask_towns(typed: &str, answer: impl FnOnce(Vec<String>) + 'static) {
    use wasm_bindgen::{closure::Closure, JsCast};
    use web_sys::js_sys::{encode_uri_component, Array, Reflect, JSON};
    let Ok(xhr) = web_sys::XmlHttpRequest::new() else {
        return;
    };
    let url = format!("/api/towns/?q={}", encode_uri_component(typed));
    if xhr.open("GET", &url).is_err() {
        return;
    }
    let _ = xhr.set_request_header("Accept", "application/json");
    let answered = xhr.clone();
    let on_end = Closure::once_into_js(move || {
        if answered.status() != Ok(200) {
            return;
        }
        let body = answered.response_text().ok().flatten().unwrap_or_default();
        let labels = JSON::parse(&body)
            .ok()
            .map(|json| {
                Array::from(&json)
                    .iter()
                    .filter_map(|town| Reflect::get(&town, &"label".into()).ok()?.as_string())
                    .collect()
            })
            .unwrap_or_default();
        answer(labels);
    });
    xhr.set_onloadend(Some(on_end.unchecked_ref()));
    let _ = xhr.send();
}

/// The sell and edit forms' suggestions for the make and model, from the cars for sale
/// (rendered on the server; the browser offers them as the seller types, and anything
/// else may still be typed).
#[component]
pub fn KnownModels(models: Vec<(String, String)>) -> impl IntoView {
    let mut makes: Vec<String> = Vec::new();
    for (make, _) in &models {
        if !makes.iter().any(|m| m.eq_ignore_ascii_case(make)) {
            makes.push(make.clone());
        }
    }
    view! {
        <datalist id="known-makes">
            {makes.into_iter().map(|make| view! { <option value=make></option> }).collect_view()}
        </datalist>
        <datalist id="known-models">
            {models
                .into_iter()
                .map(|(make, model)| {
                    let label = format!("{make} {model}");
                    view! { <option value=model label=label></option> }
                })
                .collect_view()}
        </datalist>
    }
}
