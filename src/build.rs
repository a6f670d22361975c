//! Build script (see `build` in Cargo.toml): `sqlx::migrate!` embeds `migrations/` into the
//! binary, so a new or changed migration must rebuild the crate. Without this, cargo
//! reuses a binary that lacks the migration until some Rust file changes.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
