//! Group commit for SQLite: writes that arrive while a transaction is being written share
//! the next one. A commit writes every page the write changed (the table, each index, the
//! full-text segment, the counts row) to the WAL, so a listing alone in its transaction pays
//! for all of them, while listings sharing a transaction pay for most of those pages once.
//!
//! Each queued write is one SQL statement. When one breaks a constraint, SQLite undoes
//! that statement alone and the transaction goes on (its ABORT rule), so that caller gets
//! its own error and the others still commit; any other failure abandons the whole
//! transaction and every caller in it hears so. A caller hears "done" only once the
//! transaction holding its write has committed. When writes arrive one at a time, each is
//! still its own transaction at once: nothing waits for company.

use sqlx::{error::ErrorKind, Connection, SqliteConnection, SqlitePool};
use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};
use tokio::sync::{mpsc, oneshot};

/// A write's future, borrowing the transaction's connection for `'c`.
pub type BoxFuture<'c, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'c>>;

/// The most writes one transaction takes: enough to share the commit under load, few
/// enough that the first of them is not kept waiting long.
const MAX_BATCH: usize = 64;

/// The queue in front of the SQLite writer connection.
#[derive(Clone)]
pub struct WriteQueue {
    writes: mpsc::Sender<Box<dyn QueuedWrite>>,
    commits: Arc<AtomicU64>,
}

impl std::fmt::Debug for WriteQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteQueue")
            .field("commits", &self.commits.load(Ordering::Relaxed))
            .finish()
    }
}

impl WriteQueue {
    /// Starts the task that writes the queue through `writer` (one connection). The
    /// task ends when the last handle to the queue is dropped.
    pub fn start(writer: SqlitePool) -> Self {
        let (writes, queue) = mpsc::channel(4 * MAX_BATCH);
        let commits = Arc::new(AtomicU64::new(0));
        tokio::spawn(write_queue(writer, queue, commits.clone()));
        WriteQueue { writes, commits }
    }

    /// Runs `write`, a single SQL statement, in the next transaction and returns its result
    /// once that has committed. (A write of several statements could be half undone when
    /// one of them breaks a constraint. A savepoint per write would prevent that, but cost
    /// about a quarter of the API's create throughput: 3,600 against 4,600–4,800 req/s.)
    pub async fn write<T, F>(&self, write: F) -> Result<T, sqlx::Error>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, sqlx::Error>>
            + Send
            + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            write: Some(write),
            result: None,
            reply,
        };
        self.writes
            .send(Box::new(pending))
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        answer.await.map_err(|_| sqlx::Error::PoolClosed)?
    }

    /// Transactions committed so far (each holding one or more writes).
    #[cfg(test)]
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }
}

/// A write waiting in the queue, of whatever result type its caller expects.
trait QueuedWrite: Send {
    /// Runs the write, keeping its result until the commit.
    fn run<'c>(&'c mut self, conn: &'c mut SqliteConnection) -> BoxFuture<'c, Ran>;
    /// Answers the caller: its own result if its transaction committed, else why not.
    fn settle(self: Box<Self>, commit: Result<(), &sqlx::Error>);
}

/// How a queued write went, as far as its transaction is concerned.
enum Ran {
    Done,
    /// It broke a constraint: SQLite undid this statement only, the transaction goes on.
    Refused,
    /// Anything else: the transaction's state is not known, so it is abandoned.
    Failed,
}

struct Pending<T, F> {
    write: Option<F>,
    result: Option<Result<T, sqlx::Error>>,
    reply: oneshot::Sender<Result<T, sqlx::Error>>,
}

impl<T, F> QueuedWrite for Pending<T, F>
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, sqlx::Error>>
        + Send
        + 'static,
{
    fn run<'c>(&'c mut self, conn: &'c mut SqliteConnection) -> BoxFuture<'c, Ran> {
        Box::pin(async move {
            let Some(write) = self.write.take() else {
                return Ran::Failed;
            };
            let result = write(conn).await;
            let ran = match &result {
                Ok(_) => Ran::Done,
                Err(sqlx::Error::Database(error))
                    if matches!(
                        error.kind(),
                        ErrorKind::UniqueViolation
                            | ErrorKind::ForeignKeyViolation
                            | ErrorKind::NotNullViolation
                            | ErrorKind::CheckViolation
                    ) =>
                {
                    Ran::Refused
                }
                Err(_) => Ran::Failed,
            };
            self.result = Some(result);
            ran
        })
    }

    fn settle(self: Box<Self>, commit: Result<(), &sqlx::Error>) {
        let answer = match (self.result, commit) {
            // A write that failed was rolled back alone: its own error says why.
            (Some(Err(error)), _) => Err(error),
            (Some(Ok(value)), Ok(())) => Ok(value),
            // The transaction as a whole did not commit (logged once, where it failed).
            (_, Err(error)) => Err(sqlx::Error::Protocol(format!(
                "the write's transaction did not commit: {error}"
            ))),
            (None, Ok(())) => Err(sqlx::Error::Protocol("the write did not run".into())),
        };
        // A caller that gave up waiting no longer needs the answer.
        let _ = self.reply.send(answer);
    }
}

async fn write_queue(
    writer: SqlitePool,
    mut queue: mpsc::Receiver<Box<dyn QueuedWrite>>,
    commits: Arc<AtomicU64>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    // Everything queued while the last transaction was written goes into the next.
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let outcome = write_batch(&writer, &mut batch).await;
        if let Err(error) = &outcome {
            tracing::error!(%error, writes = batch.len(), "a group commit failed");
        } else {
            commits.fetch_add(1, Ordering::Relaxed);
        }
        for write in batch.drain(..) {
            write.settle(outcome.as_ref().map(|_| ()));
        }
    }
}

/// One transaction for the whole batch.
async fn write_batch(
    writer: &SqlitePool,
    batch: &mut [Box<dyn QueuedWrite>],
) -> Result<(), sqlx::Error> {
    let mut conn = writer.acquire().await?;
    let outcome = write_all(&mut conn, batch).await;
    if outcome.is_err() {
        // After a failure the connection's transaction state is not known: the pool
        // opens a fresh one for the next batch.
        let _ = conn.close().await;
    }
    outcome
}

async fn write_all(
    conn: &mut SqliteConnection,
    batch: &mut [Box<dyn QueuedWrite>],
) -> Result<(), sqlx::Error> {
    let mut transaction = conn.begin().await?;
    for write in batch.iter_mut() {
        match write.run(&mut transaction).await {
            Ran::Done | Ran::Refused => {}
            Ran::Failed => {
                return Err(sqlx::Error::Protocol(
                    "a write in the same transaction failed, so none of them was stored".into(),
                ))
            }
        }
    }
    transaction.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::SqlitePoolOptions;

    async fn queue(dir: &tempfile::TempDir) -> (WriteQueue, SqlitePool) {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.path().join("t.db"))
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (n INTEGER NOT NULL CHECK (n >= 0))")
            .execute(&pool)
            .await
            .unwrap();
        (WriteQueue::start(pool.clone()), pool)
    }

    fn insert(
        queue: &WriteQueue,
        n: i64,
    ) -> impl std::future::Future<Output = Result<i64, sqlx::Error>> + '_ {
        queue.write(move |conn| {
            Box::pin(async move {
                sqlx::query_scalar("INSERT INTO t (n) VALUES ($1) RETURNING n")
                    .bind(n)
                    .fetch_one(conn)
                    .await
            })
        })
    }

    #[tokio::test]
    async fn writes_that_arrive_together_share_one_commit_and_fail_alone() {
        let dir = tempfile::tempdir().unwrap();
        let (queue, pool) = queue(&dir).await;
        // Forty writes at once, one of them breaking the table's rule.
        let writes = (0..40).map(|i| if i == 17 { -1 } else { i });
        let results = futures_util::future::join_all(writes.map(|n| insert(&queue, n))).await;
        for (i, result) in results.iter().enumerate() {
            if i == 17 {
                assert!(result.is_err(), "the bad write answers with its error");
            } else {
                assert_eq!(result.as_ref().unwrap(), &(i as i64));
            }
        }
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(stored, 39, "every good write is stored, the bad one is not");
        assert!(
            queue.commits() < 40,
            "{} commits for 40 writes",
            queue.commits()
        );
        // A write on its own is committed at once.
        assert_eq!(insert(&queue, 99).await.unwrap(), 99);
    }

    #[tokio::test]
    async fn a_write_that_fails_for_another_reason_abandons_its_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let (queue, pool) = queue(&dir).await;
        let broken = queue.write(|conn| {
            Box::pin(async move {
                sqlx::query("INSERT INTO missing (n) VALUES (1)")
                    .execute(conn)
                    .await
                    .map(|_| ())
            })
        });
        let (first, broken, last) = tokio::join!(insert(&queue, 1), broken, insert(&queue, 2));
        assert!(broken.is_err());
        // Nobody is told "stored" for a transaction that was not committed.
        assert!(first.is_err() && last.is_err());
        let count = || async {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM t")
                .fetch_one(&pool)
                .await
                .unwrap()
        };
        assert_eq!(count().await, 0);
        // The queue goes on, on a fresh connection.
        assert_eq!(insert(&queue, 3).await.unwrap(), 3);
        assert_eq!(count().await, 1);
    }
}
