//! Accounts: register, log in, log out, and who is signed in.
#[cfg(feature = "ssr")]
pub mod db;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod passwords;
#[cfg(feature = "ssr")]
pub mod rest;
pub mod rpc;
