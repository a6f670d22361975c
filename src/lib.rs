//! AutoNexus: a used-car marketplace. One crate, built twice: the server (`ssr`), which renders
//! every page as HTML, and the browser bundle (`hydrate`), which brings only the
//! `#[island]` components to life (Leptos islands).

// Deeply nested `view!` types need more than the default limit of 128.
#![recursion_limit = "512"]

pub mod app;
pub mod auth;
pub mod cars;
pub mod error;
#[cfg(feature = "ssr")]
pub mod server;
pub mod ui;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    // Lets tests (and curious people) know the page's islands are interactive.
    if let Some(root) = leptos::prelude::document().document_element() {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}
