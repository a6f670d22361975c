//! Account queries and password hashing.

use super::model::User;
use crate::{
    db::{
        bind_all,
        coalesce::{Coalesced, FoundKeys, Lookup},
        group_commit::BoxFuture,
        on_db, Db, Sql, Stamp,
    },
    error::AppError,
    http::security::to_hex,
};

/// Inserts a user; a taken username or e-mail is a `Conflict` naming the field.
pub async fn insert_user(
    db: &Db,
    username: &str,
    email: Option<&str>,
    password_hash: &str,
) -> Result<User, AppError> {
    let result = on_db!(db, write |pool| sqlx::query_scalar::<_, i64>(
        "INSERT INTO users (username, email, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id"
    )
    .bind(username)
    .bind(email)
    .bind(password_hash)
    .bind(Stamp::now())
    .fetch_one(pool)
    .await);
    match result {
        Ok(id) => Ok(User {
            id,
            username: username.to_owned(),
        }),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            // SQLite names the column ("UNIQUE constraint failed: users.email"),
            // PostgreSQL the constraint ("users_email_key").
            if error.message().contains("users.email")
                || error.constraint().is_some_and(|c| c.contains("email"))
            {
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
    Ok(on_db!(
        db,
        read | pool
            | sqlx::query_as::<_, (i64, String)>("SELECT id, username FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
    )?
    .map(|(id, username)| User { id, username }))
}

/// The user and their password hash, by case-insensitive username.
pub async fn find_credentials(db: &Db, username: &str) -> Result<Option<(User, String)>, AppError> {
    // The username column compares case-insensitively (NOCASE on both engines).
    Ok(on_db!(
        db,
        read | pool
            | sqlx::query_as::<_, (i64, String, String)>(
                "SELECT id, username, password_hash FROM users WHERE username = $1",
            )
            .bind(username)
            .fetch_optional(pool)
            .await
    )?
    .map(|(id, username, hash)| (User { id, username }, hash)))
}

/// True when `token_hash` is a device cookie issued to this user.
pub(super) async fn is_known_device(
    db: &Db,
    user_id: i64,
    token_hash: &str,
) -> Result<bool, AppError> {
    Ok(on_db!(
        db,
        read | pool
            | sqlx::query_scalar::<_, i64>(
                "SELECT user_id FROM known_devices WHERE token_hash = $1 AND user_id = $2",
            )
            .bind(token_hash)
            .bind(user_id)
            .fetch_optional(pool)
            .await
    )?
    .is_some())
}

/// Issues a device cookie for a browser that just signed in to `user_id`, and returns
/// its value (only its hash is stored).
pub async fn remember_device(db: &Db, user_id: i64) -> Result<String, AppError> {
    store_new_key(
        db,
        "INSERT INTO known_devices (user_id, token_hash, created_at) VALUES ($1, $2, $3)",
        user_id,
    )
    .await
}

/// Makes a random key for `user_id`, stores its hash with `insert` (binding the user id,
/// the hash and the time, in that order) and returns the key.
async fn store_new_key(db: &Db, insert: &'static str, user_id: i64) -> Result<String, AppError> {
    let key = random_key();
    on_db!(
        db,
        write
            | pool
            | sqlx::query(insert)
                .bind(user_id)
                .bind(token_hash(&key))
                .bind(Stamp::now())
                .execute(pool)
                .await
                .map(|_| ())
    )?;
    Ok(key)
}

/// 160 random bits as 40 lowercase hex characters (API tokens, device cookies).
fn random_key() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut bytes = [0u8; TOKEN_BYTES];
    OsRng.fill_bytes(&mut bytes);
    to_hex(&bytes)
}

/// API token keys: 40 lowercase hex characters (160 random bits), as DRF's are.
const TOKEN_BYTES: usize = 20;

pub(super) fn token_hash(key: &str) -> String {
    use sha2::{Digest, Sha256};
    to_hex(&Sha256::digest(key.as_bytes()))
}

pub(super) fn is_token_shape(key: &str) -> bool {
    key.len() == TOKEN_BYTES * 2 && key.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Issues a new API token for the user and returns its key (the only time it is seen).
pub async fn create_api_token(db: &Db, user_id: i64) -> Result<String, AppError> {
    store_new_key(
        db,
        "INSERT INTO api_tokens (user_id, token_hash, created_at) VALUES ($1, $2, $3)",
        user_id,
    )
    .await
}

/// The user a token key belongs to, or `None` for an unknown or malformed key.
pub async fn find_user_by_token(
    tokens: &Coalesced<TokenUsers>,
    key: &str,
) -> Result<Option<User>, AppError> {
    let key = key.to_ascii_lowercase();
    if !is_token_shape(&key) {
        return Ok(None);
    }
    tokens.get(token_hash(&key)).await
}

/// Finds the users behind API tokens by their hashes, for many requests with one query
/// (every API call looks its token up).
#[derive(Debug)]
pub struct TokenUsers(pub Db);

impl Lookup for TokenUsers {
    type Key = String;
    type Found = User;

    fn find<'a>(&'a self, hashes: &'a [String]) -> BoxFuture<'a, FoundKeys<String, User>> {
        Box::pin(async move {
            let mut sql = Sql::new(
                "SELECT t.token_hash, u.id, u.username FROM api_tokens t \
                 JOIN users u ON u.id = t.user_id WHERE t.token_hash IN (",
            );
            for (i, hash) in hashes.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(hash.as_str());
            }
            sql.push(")");
            let rows: Vec<(String, i64, String)> = on_db!(
                &self.0,
                read | pool
                    | bind_all!(sqlx::query_as(&sql.text), sql)
                        .fetch_all(pool)
                        .await
            )?;
            Ok(rows
                .into_iter()
                .map(|(hash, id, username)| (hash, User { id, username }))
                .collect())
        })
    }
}

/// Revokes one token; true if it existed.
pub async fn revoke_api_token(db: &Db, key: &str) -> Result<bool, AppError> {
    let key = key.to_ascii_lowercase();
    if !is_token_shape(&key) {
        return Ok(false);
    }
    let deleted = on_db!(
        db,
        write
            | pool
            | sqlx::query("DELETE FROM api_tokens WHERE token_hash = $1")
                .bind(token_hash(&key))
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
    )?;
    Ok(deleted > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hashes_are_sha256_hex() {
        // SHA-256 of "abc", a published test vector.
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(is_token_shape(&"a1".repeat(20)));
        assert!(!is_token_shape(&"a1".repeat(21)));
        assert!(!is_token_shape(&"zz".repeat(20)));
    }

    /// The real query, on SQLite: requests asking at once each get their own token's
    /// user, and a revoked token finds nobody from the next request on.
    #[tokio::test]
    async fn tokens_looked_up_together_each_find_their_user_until_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("tokens.db").display());
        let db = Db::connect(&url).await.unwrap();
        let ann = insert_user(&db, "ann", None, "x").await.unwrap();
        let bob = insert_user(&db, "bob", None, "x").await.unwrap();
        let ann_key = create_api_token(&db, ann.id).await.unwrap();
        let bob_key = create_api_token(&db, bob.id).await.unwrap();
        let tokens = Coalesced::start(TokenUsers(db.clone()));

        let unknown = "0".repeat(TOKEN_BYTES * 2);
        let asked = [
            ann_key.clone(),
            bob_key.clone(),
            unknown,
            ann_key.to_ascii_uppercase(),
            "not a token".to_owned(),
        ];
        let found = futures_util::future::join_all(
            (0..40).map(|i| find_user_by_token(&tokens, &asked[i % asked.len()])),
        )
        .await;
        for (i, user) in found.into_iter().enumerate() {
            let expected = match i % asked.len() {
                0 | 3 => Some(&ann),
                1 => Some(&bob),
                _ => None,
            };
            assert_eq!(user.unwrap().as_ref(), expected, "asked {}", asked[i % 5]);
        }

        assert!(revoke_api_token(&db, &ann_key).await.unwrap());
        assert_eq!(find_user_by_token(&tokens, &ann_key).await.unwrap(), None);
        assert_eq!(
            find_user_by_token(&tokens, &bob_key).await.unwrap(),
            Some(bob)
        );
    }
}
