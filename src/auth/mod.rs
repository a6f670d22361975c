//! Accounts: register, log in, log out, and who is signed in.
pub mod api;
#[cfg(feature = "ssr")]
pub mod db;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod rest;
