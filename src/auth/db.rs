//! Account queries and password hashing.

use super::model::User;
use crate::{cars::db::timestamp, error::AppError, server::db::Db, server::state::AppState};
use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};

/// Inserts a user; a taken username or e-mail is a `Conflict` naming the field.
pub async fn insert_user(
    db: &Db,
    username: &str,
    email: Option<&str>,
    password_hash: &str,
) -> Result<User, AppError> {
    let result = sqlx::query_scalar::<_, i64>("INSERT INTO users (username, email, password_hash, created_at) VALUES (?, ?, ?, ?) RETURNING id")
        .bind(username)
        .bind(email)
        .bind(password_hash)
        .bind(timestamp(chrono::Utc::now()))
        .fetch_one(&db.pool)
        .await;
    match result {
        Ok(id) => Ok(User {
            id,
            username: username.to_owned(),
        }),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            // SQLite names the column in its message: "UNIQUE constraint failed: users.email".
            if error.message().contains("users.email") {
                Err(AppError::field(
                    "email",
                    "An account with that e-mail address already exists.",
                ))
            } else {
                Err(AppError::field(
                    "username",
                    "That username is taken. Please choose another.",
                ))
            }
        }
        Err(error) => Err(error.into()),
    }
}

pub async fn find_user_by_id(db: &Db, id: i64) -> Result<Option<User>, AppError> {
    Ok(
        sqlx::query_as::<_, (i64, String)>("SELECT id, username FROM users WHERE id = ?")
            .bind(id)
            .fetch_optional(&db.pool)
            .await?
            .map(|(id, username)| User { id, username }),
    )
}

/// The user and their password hash, by case-insensitive username.
pub async fn find_credentials(db: &Db, username: &str) -> Result<Option<(User, String)>, AppError> {
    Ok(sqlx::query_as::<_, (i64, String, String)>(
        "SELECT id, username, password_hash FROM users WHERE username = ?",
    )
    .bind(username)
    .fetch_optional(&db.pool)
    .await?
    .map(|(id, username, hash)| (User { id, username }, hash)))
}

/// Hashes with argon2id (OWASP parameters), off the async runtime and bounded in concurrency.
pub async fn hash_password(state: &AppState, password: String) -> Result<String, AppError> {
    let _permit = state
        .hashing
        .acquire()
        .await
        .map_err(|_| AppError::Internal)?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(|_| AppError::Internal)?
    .map_err(|error| {
        tracing::error!(%error, "password hashing failed");
        AppError::Internal
    })
}

/// A valid hash of a random password: verifying against it costs what a real check costs,
/// so an unknown username takes as long as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2R+XtrNUyRkbIW2nsgrIBSbqWW5LjNAdGUwQ2Tnty1A";

pub async fn verify_password(
    state: &AppState,
    password: String,
    hash: Option<String>,
) -> Result<bool, AppError> {
    let _permit = state
        .hashing
        .acquire()
        .await
        .map_err(|_| AppError::Internal)?;
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let ok = PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        known && ok
    })
    .await
    .map_err(|_| AppError::Internal)
}

/// Hashes a password synchronously (demo data seeding only).
pub fn hash_password_blocking(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .expect("argon2 hashing with default parameters cannot fail")
}
