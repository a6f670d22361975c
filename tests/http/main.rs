//! HTTP tests against the real server binary, on a random port, each with its own fresh
//! database and photo store (SQLite and a directory, or PostgreSQL and S3: see `common`).
//! One test binary, a module per area; shared helpers live in `common`.

mod api;
mod common;
mod pages;
mod reliability;
mod scale_out;
mod security;
