//! The database handle and its start-up: pick the engine from the URL, connect, tune, migrate.
//!
//! Queries live in each feature slice's `db.rs`, take a `&Db` and are written once: both
//! engines accept `$1`-style placeholders, and [`on_db!`](crate::db::on_db) expands
//! one query into an arm per engine, each on its native driver. What the engines do
//! differently lives here and in the two migration folders: time columns ([`Stamp`]) and
//! text search ([`Db::search_filter`], [`Db::search_rank`]).

pub mod coalesce;
pub mod group_commit;
pub mod readers;

use chrono::{DateTime, SubsecRound, Utc};
use sqlx::{
    encode::IsNull,
    error::BoxDynError,
    postgres::{PgArgumentBuffer, PgPool, PgPoolOptions, PgTypeInfo},
    sqlite::{
        SqliteArgumentValue, SqliteConnectOptions, SqliteJournalMode, SqlitePool,
        SqlitePoolOptions, SqliteSynchronous, SqliteTypeInfo,
    },
    Encode, Postgres, Sqlite, Type,
};
use std::{str::FromStr, time::Duration};

/// SQLite read connections for queries; the pool keeps two more for the session store.
const READERS: usize = 8;

#[derive(Clone, Debug)]
pub enum Db {
    /// The embedded default: one file, one machine.
    Sqlite {
        /// Session-store traffic, and the connections `readers` holds. WAL lets reads run
        /// beside a write.
        pool: SqlitePool,
        /// Reads: connections taken from `pool` and kept between queries.
        readers: readers::Readers,
        /// Writes: one connection, so this process's writers queue in order instead of
        /// racing for SQLite's single write lock ("database is locked"). The busy timeout
        /// still covers another process (a second server, a backup) holding the lock.
        /// Rows that many requests add at once can share its transactions through a
        /// [`WriteQueue`](crate::db::group_commit::WriteQueue).
        writer: SqlitePool,
    },
    /// A shared server that several app servers use at once; it orders concurrent writes itself.
    Postgres { pool: PgPool },
}

/// Runs a query on whichever engine this process started with. The body is written
/// once and compiled once per engine, with `$pool` bound to that engine's pool (for a
/// SQLite read, to a connection lent by [`Readers`](crate::db::readers::Readers)):
/// `on_db!(db, read |pool| ...)` for reads, `on_db!(db, write |pool| ...)` for writes.
macro_rules! on_db {
    ($db:expr, read |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite { readers, .. } => match readers.get().await {
                Ok(mut reader) => {
                    let $pool = &mut *reader;
                    let result = $body;
                    reader.check(&result);
                    result
                }
                Err(error) => Err(error),
            },
            $crate::db::Db::Postgres { pool: $pool } => $body,
        }
    };
    ($db:expr, write |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite { writer: $pool, .. } => $body,
            $crate::db::Db::Postgres { pool: $pool } => $body,
        }
    };
}
pub(crate) use on_db;

/// Is this a PostgreSQL URL (`postgres://` or `postgresql://`)?
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl Db {
    /// Opens the engine the URL names and brings its schema up to date.
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        if is_postgres_url(url) {
            Self::connect_postgres(url).await
        } else {
            Self::connect_sqlite(url).await
        }
    }

    async fn connect_sqlite(url: &str) -> Result<Self, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // A checkpoint copies the WAL's pages back into the database file. At the
            // default 1,000 pages a stream of new listings checkpointed very often, writing
            // the same hot index pages each time; at 10,000 it happens a tenth as often.
            .pragma("wal_autocheckpoint", "10000");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(READERS as u32 + 2)
            // No ping before handing out a connection: an embedded connection has no
            // server that could have dropped it, and the ping is a round trip to its
            // thread on every request. (sqlx pings it when it comes back, which is why
            // the read connections stay with `Readers` instead.)
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        Ok(Db::Sqlite {
            readers: readers::Readers::new(pool.clone(), READERS),
            pool,
            writer,
        })
    }

    async fn connect_postgres(url: &str) -> Result<Self, sqlx::Error> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        // The migrator holds an advisory lock, so app servers starting together migrate once.
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Db::Postgres { pool })
    }

    /// How a write transaction begins. On SQLite `BEGIN IMMEDIATE` takes the write lock
    /// at once: a transaction begun plainly takes it only at its first write, and if it
    /// read before that and another connection (the session store's) committed in
    /// between, SQLite cannot let it wait and fails it as "database is locked". On
    /// PostgreSQL the transactions lock the rows they change (`FOR UPDATE`).
    pub fn begin_write(&self) -> &'static str {
        match self {
            Db::Sqlite { .. } => "BEGIN IMMEDIATE",
            Db::Postgres { .. } => "BEGIN",
        }
    }

    pub fn engine_name(&self) -> &'static str {
        match self {
            Db::Sqlite { .. } => "sqlite",
            Db::Postgres { .. } => "postgres",
        }
    }
}

/// A query assembled at run time (filters, order), numbered `$1`, `$2`, … for both engines.
#[derive(Debug, Default)]
pub struct Sql {
    pub text: String,
    pub args: Vec<Arg>,
}

/// A value bound to a [`Sql`] query.
#[derive(Debug)]
pub enum Arg {
    Int(i64),
    Real(f64),
    Text(String),
}

impl Sql {
    pub fn new(text: impl Into<String>) -> Self {
        Sql {
            text: text.into(),
            args: Vec::new(),
        }
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    pub fn bind(&mut self, value: impl Into<Arg>) -> &mut Self {
        self.args.push(value.into());
        self.text.push('$');
        self.text.push_str(&self.args.len().to_string());
        self
    }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

impl From<i32> for Arg {
    fn from(v: i32) -> Self {
        Arg::Int(v.into())
    }
}

impl From<f64> for Arg {
    fn from(v: f64) -> Self {
        Arg::Real(v)
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_owned())
    }
}

/// Binds a [`Sql`]'s arguments, in order, to a query made from its text.
macro_rules! bind_all {
    ($query:expr, $sql:expr) => {{
        let mut query = $query;
        for arg in &$sql.args {
            query = match arg {
                $crate::db::Arg::Int(v) => query.bind(*v),
                $crate::db::Arg::Real(v) => query.bind(*v),
                $crate::db::Arg::Text(v) => query.bind(v.as_str()),
            };
        }
        query
    }};
}
pub(crate) use bind_all;

/// Fixed-width UTC timestamps, so text order is time order (SQLite keeps times as text).
pub fn timestamp_text(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// A UTC time as each engine stores it: `timestamptz` on PostgreSQL, fixed-width
/// RFC 3339 text on SQLite. Rows read times back as `DateTime<Utc>` on both.
#[derive(Clone, Copy, Debug)]
pub struct Stamp(pub DateTime<Utc>);

impl Stamp {
    /// Now, to the microsecond: what both engines keep, so a time written and one read
    /// back are the same.
    pub fn now() -> Self {
        Stamp(Utc::now().trunc_subsecs(6))
    }
}

impl Type<Sqlite> for Stamp {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}

impl<'q> Encode<'q, Sqlite> for Stamp {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, Sqlite>>::encode(timestamp_text(self.0), buf)
    }
}

impl Type<Postgres> for Stamp {
    fn type_info() -> PgTypeInfo {
        <DateTime<Utc> as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for Stamp {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <DateTime<Utc> as Encode<'_, Postgres>>::encode_by_ref(&self.0, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_times_are_fixed_width_utc_text() {
        let at = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(timestamp_text(at), "2026-01-02T03:04:05.000000Z");
    }

    #[test]
    fn the_engine_comes_from_the_url() {
        assert!(is_postgres_url("postgres://u@h/db"));
        assert!(is_postgres_url("postgresql://u@h/db"));
        assert!(!is_postgres_url("sqlite://autonexus.db"));
    }

    /// `.cargo/config.toml` builds SQLite without its process-wide locks; a build that lost
    /// that setting (another build tool, a changed crate) would quietly serialize the readers.
    #[tokio::test]
    async fn sqlite_is_built_without_process_wide_locks() {
        let pool = SqlitePool::connect("sqlite::memory:").await.unwrap();
        let options: Vec<String> = sqlx::query_scalar("PRAGMA compile_options")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "{options:?}"
        );
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
    }
}
