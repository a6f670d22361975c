//! The database handle and its start-up: connect, tune, migrate.
//!
//! Queries live in each feature slice's `db.rs` and take a `&Db`; adding a
//! second engine changes this type, not the pages or server functions.

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::{str::FromStr, time::Duration};

#[derive(Clone, Debug)]
pub struct Db {
    /// Reads (and session-store traffic): several connections, WAL lets them run beside a write.
    pub pool: SqlitePool,
    /// Writes: one connection, so this process's writers queue in order instead of
    /// racing for SQLite's single write lock ("database is locked"). The busy timeout
    /// still covers another process (a second server, a backup) holding the lock.
    pub writer: SqlitePool,
}

impl Db {
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations").run(&writer).await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(Db { pool, writer })
    }
}
