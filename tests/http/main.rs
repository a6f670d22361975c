//! HTTP tests against the real server binary, on a random port, each with its own fresh
//! database and photo store (SQLite and a directory, or PostgreSQL and S3: see `common`).
//! One test binary, a file per area:
//!
//! - `marketplace`: browsing, search, filters, sorting and pagination, the make filter, demo data
//! - `selling`: the sell and edit forms, status changes and deletion, ownership, bad input, photos
//! - `photos`: a listing's photos on its pages: several at once, the edit page's photo forms,
//!   the gallery
//! - `specs`: a listing's specification on the forms, the details page and the API
//! - `places`: a listing's town, "near <town> within N km", distances, the towns API
//! - `uploads`: photos uploaded ahead (the forms' island), taken by a form, swept after a day
//! - `accounts`: registering, logging in and out, session expiry and restarts
//! - `api_cars`: the REST API's cars (DRF contract, permission matrix, routing and schema)
//! - `api_auth`: the REST API's tokens, and browser sessions on the API
//! - `fuzz`: random requests to the API and the server functions
//! - `security`: CSRF, cookies, CSP and headers, escaping, brute-force and rate limits, DoS
//!   defences, the production configuration check
//! - `operations`: compression, health and readiness, request ids, JSON logs, backups
//! - `reliability`: concurrent writers, kill -9, SIGTERM, memory after logins, racing photo edits
//! - `scale_out`: two app servers sharing one database and photo store
//! - `common`: the harness (`Server`, `TestData`, `Storage`) and the shared helpers
//!   (`common::requests`, `common::bodies`, `common::fuzz`)

mod accounts;
mod api_auth;
mod api_cars;
mod common;
mod fuzz;
mod marketplace;
mod operations;
mod photos;
mod places;
mod reliability;
mod scale_out;
mod security;
mod selling;
mod specs;
mod uploads;
