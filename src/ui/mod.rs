//! Small generic components shared by the feature slices.

use crate::error::AppError;
use leptos::prelude::*;

mod picture;
pub use picture::{Picture, PictureImg};

/// Sets the HTTP status of the page being rendered on the server (no-op in the browser).
pub fn set_status(code: u16) {
    #[cfg(feature = "ssr")]
    if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = http::StatusCode::from_u16(code) {
            options.set_status(status);
        }
    }
    #[cfg(not(feature = "ssr"))]
    let _ = code;
}

/// A `<textarea>` holding `value`; give it its attributes with `attr:` (`attr:name=…`).
///
/// The renderer writes the text of a raw-text element such as `<textarea>` as it is, so
/// text containing `</textarea>` would end the element early on a server-rendered page
/// and the rest would be read as markup. On the server the value is escaped here, the one
/// place every textarea goes through; in the browser it is set as text, which needs none.
#[component]
pub fn TextArea(#[prop(into)] value: String) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let value = html_escape::encode_text(&value).into_owned();
    view! { <textarea>{value}</textarea> }
}

/// A field's error message, announced to screen readers, or nothing.
#[component]
pub fn FieldError(
    #[prop(into)] id: String,
    #[prop(into)] message: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        {move || {
            message
                .get()
                .map(|m| {
                    view! {
                        <p class="field-error" id=id.clone()>
                            {m}
                        </p>
                    }
                })
        }}
    }
}

/// The 404 page, with a real 404 status when rendered on the server.
#[component]
pub fn NotFound(#[prop(optional, into)] message: Option<String>) -> impl IntoView {
    set_status(404);
    view! {
        <section class="notice-page">
            <h1>"Page not found"</h1>
            <p>
                {message
                    .unwrap_or_else(|| {
                        "We couldn't find what you were looking for. It may have been sold or removed."
                            .into()
                    })}
            </p>
            <a class="button" href="/cars">
                "Browse cars for sale"
            </a>
        </section>
    }
}

/// A full-page message for an error a page cannot recover from.
#[component]
pub fn ErrorPage(error: AppError) -> impl IntoView {
    match error {
        AppError::NotFound(message) => view! { <NotFound message /> }.into_any(),
        other => {
            set_status(other.status());
            let title = match other {
                AppError::Forbidden(_) => "Not allowed",
                AppError::Unauthorized(_) => "Please log in",
                _ => "Something went wrong",
            };
            view! {
                <section class="notice-page">
                    <h1>{title}</h1>
                    <p>{other.to_string()}</p>
                    <a class="button" href="/cars">
                        "Back to the marketplace"
                    </a>
                </section>
            }
            .into_any()
        }
    }
}

/// A message shown above a form when the server refused it.
#[component]
pub fn FormAlert(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        {move || {
            message
                .get()
                .map(|m| {
                    view! {
                        <div class="alert" role="alert">
                            {m}
                        </div>
                    }
                })
        }}
    }
}
