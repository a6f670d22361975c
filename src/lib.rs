//! AutoNexus: a used-car marketplace. One crate, built twice: the server (`ssr`), which renders
//! every page as HTML, and the browser bundle (`hydrate`), which brings only the
//! `#[island]` components to life (Leptos islands).
//!
//! Layers point down. Features (`cars`, `auth`) use the shared parts below them; the
//! shared parts never name a feature. Only the composition root (`app`, `routes`,
//! `state`, `demo`, and `main.rs`) puts the features together.

// Deeply nested `view!` types need more than the default limit of 128.
#![recursion_limit = "512"]

// Composition root.
pub mod app;
#[cfg(feature = "ssr")]
pub mod demo;
#[cfg(feature = "ssr")]
pub mod routes;
#[cfg(feature = "ssr")]
pub mod state;

// Features.
pub mod auth;
pub mod cars;

// Shared infrastructure.
#[cfg(feature = "ssr")]
pub mod backup;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod db;
pub mod error;
#[cfg(feature = "ssr")]
pub mod geo;
#[cfg(feature = "ssr")]
pub mod http;
#[cfg(feature = "ssr")]
pub mod media;
#[cfg(feature = "ssr")]
pub mod memory;
#[cfg(feature = "ssr")]
pub mod rest;
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
