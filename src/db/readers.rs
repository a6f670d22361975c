//! SQLite read connections that stay out of the pool between queries.
//!
//! sqlx pings a connection each time it goes back to its pool: a spawned task and a round
//! trip to the connection's thread, as costly as a small query, after every query. That
//! ping is for a server connection that may have dropped, or a transaction left open by a
//! cancelled query. An embedded SQLite connection has no server, and reads run no
//! transactions, so [`Readers`] keeps the read connections it has taken and hands them
//! out again directly. A query cancelled half-way cannot leak into the next one: the
//! connection's thread runs commands in order, each with its own reply channel.
//!
//! A connection whose query failed with an I/O or driver error goes back to the pool
//! instead, where sqlx's ping closes it if it is broken; the next request takes a new one.

use sqlx::{pool::PoolConnection, Sqlite, SqliteConnection, SqlitePool};
use std::{
    ops::{Deref, DerefMut},
    sync::{Arc, Mutex},
};
use tokio::sync::{Semaphore, SemaphorePermit};

/// At most `limit` read connections, taken from `pool` the first time they are needed.
#[derive(Clone, Debug)]
pub struct Readers {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: SqlitePool,
    idle: Mutex<Vec<PoolConnection<Sqlite>>>,
    /// One permit per connection this set may hold, so a request waits here (in order)
    /// rather than taking more connections from the pool than it has.
    permits: Semaphore,
}

impl Readers {
    pub fn new(pool: SqlitePool, limit: usize) -> Self {
        Readers {
            inner: Arc::new(Inner {
                pool,
                idle: Mutex::new(Vec::with_capacity(limit)),
                permits: Semaphore::new(limit),
            }),
        }
    }

    /// A read connection for one query; it comes back here when the [`Reader`] is dropped.
    pub async fn get(&self) -> Result<Reader<'_>, sqlx::Error> {
        let permit = self
            .inner
            .permits
            .acquire()
            .await
            .expect("the readers' semaphore is never closed");
        let idle = self.inner.idle.lock().expect("not poisoned").pop();
        let connection = match idle {
            Some(connection) => connection,
            None => self.inner.pool.acquire().await?,
        };
        Ok(Reader {
            connection: Some(connection),
            readers: &self.inner,
            _permit: permit,
        })
    }

    /// How many connections wait, unused, for the next query.
    #[cfg(test)]
    pub fn idle(&self) -> usize {
        self.inner.idle.lock().expect("not poisoned").len()
    }
}

/// One read connection, lent for one query.
pub struct Reader<'a> {
    connection: Option<PoolConnection<Sqlite>>,
    readers: &'a Inner,
    _permit: SemaphorePermit<'a>,
}

impl Reader<'_> {
    /// Looks at how the query ended: a connection that failed below SQL (I/O, the
    /// connection's thread) goes back to the pool, which tests it, instead of being kept.
    pub fn check<T>(&mut self, result: &Result<T, sqlx::Error>) {
        if let Err(
            sqlx::Error::Io(_)
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolClosed,
        ) = result
        {
            // Dropped here, the pool pings it and closes it if it is broken.
            self.connection = None;
        }
    }
}

impl Deref for Reader<'_> {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        self.connection.as_ref().expect("lent until dropped")
    }
}

impl DerefMut for Reader<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.connection.as_mut().expect("lent until dropped")
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Some(connection) = self.connection.take() {
            self.readers
                .idle
                .lock()
                .expect("not poisoned")
                .push(connection);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Readers;
    use sqlx::sqlite::SqlitePoolOptions;

    async fn pool(max: u32) -> sqlx::SqlitePool {
        SqlitePoolOptions::new()
            .max_connections(max)
            .connect("sqlite::memory:")
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_connection_is_kept_and_lent_again_without_going_back_to_the_pool() {
        let pool = pool(4).await;
        let readers = Readers::new(pool.clone(), 2);
        let mut reader = readers.get().await.unwrap();
        let one: i64 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut *reader)
            .await
            .unwrap();
        assert_eq!(one, 1);
        drop(reader);
        assert_eq!(readers.idle(), 1);
        // The pool lent it and never had it back.
        assert_eq!(pool.size(), 1);
        assert_eq!(pool.num_idle(), 0);

        let _again = readers.get().await.unwrap();
        assert_eq!(readers.idle(), 0);
        assert_eq!(
            pool.size(),
            1,
            "the kept connection was lent, not a new one"
        );
    }

    #[tokio::test]
    async fn no_more_than_the_limit_are_lent_and_a_waiting_query_gets_the_next_one_back() {
        let readers = Readers::new(pool(8).await, 2);
        let first = readers.get().await.unwrap();
        let second = readers.get().await.unwrap();
        let third = readers.get();
        tokio::pin!(third);
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(50), &mut third)
                .await
                .is_err(),
            "a third reader was lent beyond the limit of 2"
        );
        drop(first);
        let mut third = third.await.unwrap();
        let two: i64 = sqlx::query_scalar("SELECT 2")
            .fetch_one(&mut *third)
            .await
            .unwrap();
        assert_eq!(two, 2);
        drop(second);
    }

    #[tokio::test]
    async fn a_connection_that_failed_below_sql_goes_back_to_the_pool() {
        let pool = pool(4).await;
        let readers = Readers::new(pool.clone(), 2);
        let mut reader = readers.get().await.unwrap();
        // A SQL error leaves the connection sound: it is kept.
        let bad = sqlx::query("SELECT * FROM no_such_table")
            .fetch_all(&mut *reader)
            .await;
        reader.check(&bad);
        drop(reader);
        assert_eq!(readers.idle(), 1);

        let mut reader = readers.get().await.unwrap();
        reader.check::<()>(&Err(sqlx::Error::WorkerCrashed));
        drop(reader);
        assert_eq!(readers.idle(), 0, "a broken connection was kept");
        // The pool gets it back (after its ping, on a spawned task).
        for _ in 0..100 {
            if pool.num_idle() == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(pool.num_idle(), 1);
    }
}
