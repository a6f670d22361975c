//! AutoNexus: a used-car marketplace. One crate, built twice: the server (`ssr`)
//! and the browser bundle that hydrates its pages (`hydrate`).

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
    leptos::mount::hydrate_body(app::App);
}
