//! Car listings: the marketplace, details, selling and managing listings.
pub mod api;
pub mod components;
#[cfg(feature = "ssr")]
pub mod db;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod rest;
#[cfg(feature = "ssr")]
pub mod service;
