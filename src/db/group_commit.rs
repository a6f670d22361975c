//! Group commit for SQLite: rows that many requests add at once (new listings) share
//! transactions and statements. A commit writes every page the insert changed (the table,
//! each index, the full-text segment, the counts row) to the WAL, so a row alone in its
//! transaction pays for all of them, while rows sharing one pay for most of those pages
//! once. And the rows that arrived together go in as one multi-row `INSERT`: each
//! statement is a round trip to the connection's worker thread, which on a busy machine
//! costs more than SQLite's own work for a row. For the same reason the writer
//! connection is kept from one transaction to the next while rows keep coming.
//!
//! The shared statement runs without BEGIN and COMMIT around it: one statement is a
//! transaction of its own, and each of those is a round trip to the thread. When it
//! breaks a constraint SQLite undoes it whole; the rows are then added one at a time in
//! one transaction, so only the caller whose row was refused gets the error (SQLite
//! undoes only the statement that failed, its ABORT rule). Any other failure abandons
//! the whole transaction and every caller in it hears so. A caller hears "done" only
//! once the transaction holding its row has committed. A row that arrives alone is still
//! committed at once: nothing waits for company.

use sqlx::{
    error::ErrorKind, pool::PoolConnection, Connection, Sqlite, SqliteConnection, SqlitePool,
};
use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};
use tokio::sync::{mpsc, oneshot};

/// A boxed future that borrows for `'c` (a write's connection, a lookup's keys).
pub type BoxFuture<'c, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'c>>;

/// The most rows one transaction takes: enough to share the commit under load, few
/// enough that the first of them is not kept waiting long.
const MAX_BATCH: usize = 64;

/// A kind of row that the queue adds many at a time.
pub trait Rows: Send + Sync + 'static {
    type Row: Send + Sync + 'static;
    /// What the caller learns once its row is stored (its id, say).
    type Added: Send + 'static;

    /// Adds `rows` with one statement, and returns what each row's caller learns, in the
    /// order of `rows`. Outside a transaction the statement commits on its own, so it
    /// must answer for every row it added.
    fn add<'c>(
        conn: &'c mut SqliteConnection,
        rows: &'c [Self::Row],
    ) -> BoxFuture<'c, Result<Vec<Self::Added>, sqlx::Error>>;
}

/// The queue in front of the SQLite writer connection, for one kind of row.
pub struct WriteQueue<R: Rows> {
    rows: mpsc::Sender<Queued<R>>,
    stats: Arc<Stats>,
}

/// What the queue has done so far (for `Debug` and the tests).
#[derive(Debug, Default)]
struct Stats {
    /// Transactions committed, each holding one or more rows.
    commits: AtomicU64,
    /// Times the writer connection was taken from the pool.
    takes: AtomicU64,
}

impl<R: Rows> Clone for WriteQueue<R> {
    fn clone(&self) -> Self {
        WriteQueue {
            rows: self.rows.clone(),
            stats: self.stats.clone(),
        }
    }
}

impl<R: Rows> std::fmt::Debug for WriteQueue<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteQueue")
            .field("stats", &self.stats)
            .finish()
    }
}

/// What a caller gets back: its row and what adding it gave, once committed.
type Answer<R> = Result<(<R as Rows>::Row, <R as Rows>::Added), sqlx::Error>;

/// A row waiting in the queue, and where its caller waits for the answer.
struct Queued<R: Rows> {
    row: R::Row,
    reply: oneshot::Sender<Answer<R>>,
}

impl<R: Rows> WriteQueue<R> {
    /// Starts the task that writes the queue through `writer` (one connection). The
    /// task ends when the last handle to the queue is dropped.
    pub fn start(writer: SqlitePool) -> Self {
        let (rows, queue) = mpsc::channel(4 * MAX_BATCH);
        let stats = Arc::new(Stats::default());
        tokio::spawn(write_queue::<R>(writer, queue, stats.clone()));
        WriteQueue { rows, stats }
    }

    /// Adds `row` in the next transaction. Once that has committed, the row comes back
    /// with what adding it gave (so the caller can build its answer without a copy).
    pub async fn add(&self, row: R::Row) -> Answer<R> {
        let (reply, answer) = oneshot::channel();
        self.rows
            .send(Queued { row, reply })
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        answer.await.map_err(|_| sqlx::Error::PoolClosed)?
    }

    /// Transactions committed so far (each holding one or more rows).
    #[cfg(test)]
    fn commits(&self) -> u64 {
        self.stats.commits.load(Ordering::Relaxed)
    }

    /// Times the writer connection was taken from the pool so far.
    #[cfg(test)]
    fn takes(&self) -> u64 {
        self.stats.takes.load(Ordering::Relaxed)
    }
}

/// Whether SQLite undid only the statement that failed, leaving the transaction usable.
fn is_refusal(error: &sqlx::Error) -> bool {
    matches!(
        error,
        sqlx::Error::Database(error) if matches!(
            error.kind(),
            ErrorKind::UniqueViolation
                | ErrorKind::ForeignKeyViolation
                | ErrorKind::NotNullViolation
                | ErrorKind::CheckViolation
        )
    )
}

async fn write_queue<R: Rows>(
    writer: SqlitePool,
    mut queue: mpsc::Receiver<Queued<R>>,
    stats: Arc<Stats>,
) {
    let mut writer = Writer::new(writer, stats);
    let mut batch = Vec::with_capacity(MAX_BATCH);
    // Everything queued while the last transaction was written goes into the next.
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (rows, replies): (Vec<R::Row>, Vec<_>) = batch
            .drain(..)
            .map(|queued| (queued.row, queued.reply))
            .unzip();
        let outcome = writer.write::<R>(&rows).await;
        if queue.is_empty() {
            // Nothing waiting: other writes may have the connection.
            writer.give_back();
        }
        if let Err(error) = &outcome {
            tracing::error!(%error, rows = rows.len(), "a group commit failed");
        }
        let answers: Vec<Result<R::Added, sqlx::Error>> = match outcome {
            Ok(added) => added,
            // The transaction as a whole did not commit (logged once, above).
            Err(error) => (0..rows.len())
                .map(|_| {
                    Err(sqlx::Error::Protocol(format!(
                        "the row's transaction did not commit: {error}"
                    )))
                })
                .collect(),
        };
        for ((row, reply), answer) in rows.into_iter().zip(replies).zip(answers) {
            // A caller that gave up waiting no longer needs the answer.
            let _ = reply.send(answer.map(|added| (row, added)));
        }
    }
}

/// The writer connection, kept from one transaction to the next while rows keep coming.
/// Taking it from the pool and giving it back are a round trip each to the connection's
/// thread (sqlx pings it both ways), which on a busy machine is a fair part of a
/// transaction's time. Other writes (an edit, a sign-up) wait for the same connection, so
/// it goes back to the pool when the queue is empty, and after [`MAX_KEPT`] transactions.
struct Writer {
    pool: SqlitePool,
    kept: Option<PoolConnection<Sqlite>>,
    /// Transactions written on `kept` since it was taken.
    turns: u32,
    stats: Arc<Stats>,
}

/// The most transactions in a row on one hold of the writer connection: under a steady
/// stream of new listings, another write waits for at most this many.
const MAX_KEPT: u32 = 16;

impl Writer {
    fn new(pool: SqlitePool, stats: Arc<Stats>) -> Self {
        Writer {
            pool,
            kept: None,
            turns: 0,
            stats,
        }
    }

    /// One transaction for the whole batch: each row's own result, once it has committed.
    async fn write<R: Rows>(
        &mut self,
        rows: &[R::Row],
    ) -> Result<Vec<Result<R::Added, sqlx::Error>>, sqlx::Error> {
        let mut conn = match self.kept.take() {
            Some(conn) => conn,
            None => {
                self.turns = 0;
                self.stats.takes.fetch_add(1, Ordering::Relaxed);
                self.pool.acquire().await?
            }
        };
        let outcome = write_all::<R>(&mut conn, rows).await;
        self.turns += 1;
        if outcome.is_err() {
            // After a failure the connection's transaction state is not known: the pool
            // opens a fresh one for the next batch.
            let _ = conn.close().await;
            return outcome;
        }
        self.stats.commits.fetch_add(1, Ordering::Relaxed);
        if self.turns < MAX_KEPT {
            self.kept = Some(conn);
        }
        outcome
    }

    /// Returns the connection to the pool, for the other writes.
    fn give_back(&mut self) {
        self.kept = None;
    }
}

async fn write_all<R: Rows>(
    conn: &mut SqliteConnection,
    rows: &[R::Row],
) -> Result<Vec<Result<R::Added, sqlx::Error>>, sqlx::Error> {
    // The shared statement is its own transaction: all its rows commit, or none do. An
    // explicit BEGIN and COMMIT around it would be two more round trips to the thread.
    match R::add(conn, rows).await {
        Ok(added) if added.len() == rows.len() => Ok(added.into_iter().map(Ok).collect()),
        Ok(added) => Err(sqlx::Error::Protocol(format!(
            "{} rows were added but {} were answered for",
            rows.len(),
            added.len()
        ))),
        // One of them was refused (a single row: that is its answer). Nothing was
        // stored, so the rows go in one at a time to find whose it was.
        Err(error) if is_refusal(&error) && rows.len() == 1 => Ok(vec![Err(error)]),
        Err(error) if is_refusal(&error) => one_at_a_time::<R>(conn, rows).await,
        Err(error) => Err(error),
    }
}

/// Adds each row with its own statement, all in one transaction: a refused row fails
/// alone (SQLite undoes only its statement), and the others commit together.
async fn one_at_a_time<R: Rows>(
    conn: &mut SqliteConnection,
    rows: &[R::Row],
) -> Result<Vec<Result<R::Added, sqlx::Error>>, sqlx::Error> {
    let mut transaction = conn.begin().await?;
    let mut answers = Vec::with_capacity(rows.len());
    for row in rows {
        match R::add(&mut transaction, std::slice::from_ref(row)).await {
            Ok(mut added) if added.len() == 1 => answers.push(Ok(added.remove(0))),
            Err(error) if is_refusal(&error) => answers.push(Err(error)),
            Ok(_) => {
                return Err(sqlx::Error::Protocol(
                    "one row was added but not answered for".into(),
                ))
            }
            Err(error) => return Err(error),
        }
    }
    transaction.commit().await?;
    Ok(answers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::SqlitePoolOptions;
    use std::time::Duration;

    /// Numbers that must not be negative; -2 stands for a write that fails for another
    /// reason than a constraint (its statement names a table that does not exist).
    struct Numbers;

    impl Rows for Numbers {
        type Row = i64;
        type Added = usize;

        fn add<'c>(
            conn: &'c mut SqliteConnection,
            rows: &'c [i64],
        ) -> BoxFuture<'c, Result<Vec<usize>, sqlx::Error>> {
            Box::pin(async move {
                let table = if rows.contains(&-2) { "missing" } else { "t" };
                let values = vec!["(?)"; rows.len()].join(", ");
                let sql = format!("INSERT INTO {table} (n) VALUES {values}");
                let mut query = sqlx::query(&sql);
                for n in rows {
                    query = query.bind(*n);
                }
                query.execute(conn).await?;
                // How many rows shared the statement: what each caller learns here.
                Ok(vec![rows.len(); rows.len()])
            })
        }
    }

    async fn queue(dir: &tempfile::TempDir) -> (WriteQueue<Numbers>, SqlitePool) {
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

    async fn stored(pool: &SqlitePool) -> Vec<i64> {
        sqlx::query_scalar("SELECT n FROM t ORDER BY n")
            .fetch_all(pool)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn rows_that_arrive_together_share_a_statement_and_a_commit() {
        let dir = tempfile::tempdir().unwrap();
        let (queue, pool) = queue(&dir).await;
        let results = futures_util::future::join_all((0..40).map(|n| queue.add(n))).await;
        let mut shared = 0;
        for (n, result) in results.into_iter().enumerate() {
            let (row, statement) = result.unwrap();
            assert_eq!(row, n as i64, "each caller gets its own row back");
            shared = shared.max(statement);
        }
        assert_eq!(stored(&pool).await, (0..40).collect::<Vec<_>>());
        assert!(shared > 1, "every row had a statement of its own");
        assert!(
            queue.commits() < 40,
            "{} commits for 40 rows",
            queue.commits()
        );
        // A row on its own is committed at once.
        assert_eq!(queue.add(99).await.unwrap(), (99, 1));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rows_that_keep_coming_keep_the_connection_but_other_writes_get_their_turn() {
        let dir = tempfile::tempdir().unwrap();
        let (queue, pool) = queue(&dir).await;
        // Eight callers adding rows without a pause, as under a stream of new listings.
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let callers: Vec<_> = (0..8)
            .map(|caller| {
                let (queue, stop) = (queue.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut n = caller * 1_000_000;
                    while !stop.load(Ordering::Relaxed) {
                        queue.add(n).await.unwrap();
                        n += 1;
                    }
                })
            })
            .collect();
        while queue.commits() < 50 {
            tokio::task::yield_now().await;
        }
        // Another write (an edit, say) gets the connection while the stream goes on.
        let other = tokio::time::timeout(Duration::from_secs(5), async {
            sqlx::query("INSERT INTO t (n) VALUES (999999999)")
                .execute(&pool)
                .await
                .unwrap();
        })
        .await;
        let commits_then = queue.commits();
        while queue.commits() < commits_then + 50 {
            tokio::task::yield_now().await;
        }
        stop.store(true, Ordering::Relaxed);
        for caller in callers {
            caller.await.unwrap();
        }
        assert!(
            other.is_ok(),
            "another write waited over 5 s for the connection"
        );
        assert!(
            queue.takes() * 2 < queue.commits(),
            "the connection was taken {} times for {} commits",
            queue.takes(),
            queue.commits()
        );
    }

    #[tokio::test]
    async fn a_refused_row_fails_alone_and_the_rest_of_its_statement_is_stored() {
        let dir = tempfile::tempdir().unwrap();
        let (queue, pool) = queue(&dir).await;
        // Forty rows at once, one of them breaking the table's rule.
        let rows = (0..40).map(|n| if n == 17 { -1 } else { n });
        let results = futures_util::future::join_all(rows.map(|n| queue.add(n))).await;
        for (n, result) in results.iter().enumerate() {
            if n == 17 {
                let error = result.as_ref().unwrap_err();
                assert!(
                    is_refusal(error),
                    "the bad row answers with its own error: {error}"
                );
            } else {
                assert_eq!(result.as_ref().unwrap().0, n as i64);
            }
        }
        let good: Vec<i64> = (0..40).filter(|n| *n != 17).collect();
        assert_eq!(
            stored(&pool).await,
            good,
            "every good row is stored, the bad one is not"
        );
    }

    #[tokio::test]
    async fn a_write_that_fails_for_another_reason_abandons_its_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let (queue, pool) = queue(&dir).await;
        let (first, broken, last) = tokio::join!(queue.add(1), queue.add(-2), queue.add(2));
        assert!(broken.is_err());
        // Nobody is told "stored" for a transaction that was not committed.
        assert!(first.is_err() && last.is_err());
        assert_eq!(stored(&pool).await, Vec::<i64>::new());
        // The queue goes on, on a fresh connection.
        assert_eq!(queue.add(3).await.unwrap(), (3, 1));
        assert_eq!(stored(&pool).await, vec![3]);
    }
}
