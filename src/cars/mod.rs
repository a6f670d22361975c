//! Car listings: the marketplace, details, selling and managing listings.
pub mod components;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod forms;
pub mod gallery;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod rest;
pub mod rpc;
#[cfg(feature = "ssr")]
pub mod service;
pub mod specs_view;
pub mod uploader;
#[cfg(feature = "ssr")]
pub mod uploads;
