//! Passwords: hashing and checking them with argon2id, bounded in concurrency, and the
//! log-in attempt limits that guard the check.

use super::{db, model::User};
use crate::{
    config::Limits,
    db::Db,
    error::AppError,
    http::limits::{address_key, too_many, RateLimiter},
};
use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Hashes and checks passwords, and counts failed log-ins.
#[derive(Debug)]
pub struct Passwords {
    /// Bounds concurrent hashing (19 MiB each, one per core) so a log-in flood cannot
    /// exhaust memory.
    slots: Semaphore,
    limiter: Arc<RateLimiter>,
    limits: Limits,
}

/// How many passwords may be hashed at once: one per core, at most four. A hash keeps
/// one core busy for its whole time, so more at once only makes each slower, and each
/// holds 19 MiB while it runs.
fn hashing_slots() -> usize {
    std::thread::available_parallelism().map_or(1, |cores| cores.get().min(4))
}

/// A valid hash of a random password: verifying against it costs what a real check costs,
/// so an unknown username takes as long as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2R+XtrNUyRkbIW2nsgrIBSbqWW5LjNAdGUwQ2Tnty1A";

/// Who signed in, and whether they did so from a browser already known to the account.
#[derive(Debug)]
pub struct Authenticated {
    pub user: User,
    /// The request carried this account's device cookie (`remember_device` need not issue one).
    pub known_device: bool,
}

impl Passwords {
    pub fn new(limiter: Arc<RateLimiter>, limits: Limits) -> Self {
        Passwords {
            slots: Semaphore::new(hashing_slots()),
            limiter,
            limits,
        }
    }

    /// Hashes with argon2id (OWASP parameters), off the async runtime and bounded in concurrency.
    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        let _permit = self
            .slots
            .acquire()
            .await
            .map_err(|e| AppError::internal("waiting to hash a password", e))?;
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
        })
        .await
        .map_err(|e| AppError::internal("the password hashing task", e))?
        .map_err(|e| AppError::internal("hashing a password", e.to_string()))
    }

    async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, AppError> {
        let _permit = self
            .slots
            .acquire()
            .await
            .map_err(|e| AppError::internal("waiting to hash a password", e))?;
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
        .map_err(|e| AppError::internal("the password checking task", e))
    }

    /// The user with this username and password, or `None`. An unknown username
    /// costs the same argon2 verification as a wrong password (no enumeration by timing).
    ///
    /// Failed attempts are limited per client address (IPv6 by /64) and per account, the
    /// account counted by its id (however its name was spelled). Each attempt takes its
    /// place in both windows *before* the password is checked, so a burst of simultaneous
    /// guesses gets no more tries than the limit; a successful log-in gives its places back.
    /// Once a limit is reached the answer is `TooManyRequests` without checking the password.
    ///
    /// `device` is the browser's device cookie (OWASP's advice against lockout abuse): a
    /// browser that has signed in to this account before has a counter of its own, so the
    /// owner is not locked out by a stranger's failures; unknown clients share the
    /// account's counter.
    pub async fn authenticate(
        &self,
        db: &Db,
        client: std::net::IpAddr,
        device: Option<&str>,
        username: &str,
        password: String,
    ) -> Result<Option<Authenticated>, AppError> {
        let username = username.trim();
        if username.is_empty()
            || password.is_empty()
            || username.len() > 100
            || password.len() > super::model::MAX_PASSWORD * 4
        {
            return Ok(None);
        }
        let limits = self.limits;
        let address = format!("login-address:{}", address_key(client));
        self.limiter
            .take(&address, limits.login_failures_per_address)
            .map_err(|wait| too_many("Too many failed log-in attempts from your network.", wait))?;
        let mut account = None;
        let result: Result<Option<Authenticated>, AppError> = async {
            let (user, hash) = match db::find_credentials(db, username).await? {
                Some((user, hash)) => (Some(user), Some(hash)),
                None => (None, None),
            };
            let device_hash = device.filter(|d| db::is_token_shape(d)).map(db::token_hash);
            let known_device = match (&user, &device_hash) {
                (Some(user), Some(hash)) => db::is_known_device(db, user.id, hash).await?,
                _ => false,
            };
            let key = match (&user, device_hash) {
                (Some(_), Some(hash)) if known_device => format!("login-device:{hash}"),
                (Some(user), _) => format!("login-account:{}", user.id),
                (None, _) => format!("login-unknown:{}", username.to_lowercase()),
            };
            self.limiter
                .take(&key, limits.login_failures_per_account)
                .map_err(|wait| {
                    too_many("Too many failed log-in attempts for this account.", wait)
                })?;
            account = Some(key);
            let ok = self.verify(password, hash).await?;
            Ok(user
                .filter(|_| ok)
                .map(|user| Authenticated { user, known_device }))
        }
        .await;
        match &result {
            Ok(Some(_)) => {
                self.limiter.refund(&address);
                if let Some(account) = &account {
                    self.limiter.clear(account);
                }
            }
            Ok(None) => tracing::info!(%client, "failed log-in"),
            // Not a failed guess: the reservations are given back.
            Err(_) => {
                self.limiter.refund(&address);
                if let Some(account) = &account {
                    self.limiter.refund(account);
                }
            }
        }
        result
    }
}

/// Hashes a password synchronously (demo data seeding only).
pub fn hash_blocking(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .expect("argon2 hashing with default parameters cannot fail")
}
