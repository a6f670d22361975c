//! Read coalescing: a lookup that many requests make at once (the user behind an API
//! token, on every API call) is answered for all of them by one query. On SQLite each
//! query is a round trip to its connection's thread, plus taking the connection from the
//! pool and a ping when it goes back; under load those hand-offs, not SQLite's index
//! probe, are most of a lookup's cost. On PostgreSQL the saving is network round trips.
//!
//! Nothing is cached. Every answer comes from a query that started after the request
//! asked, so a revoked token stops working at once, on every app server. A request that
//! asks while no query runs gets a query of its own at once; the requests that ask while
//! one runs share the next.

use super::group_commit::BoxFuture;
use crate::error::AppError;
use std::{collections::HashMap, hash::Hash};
use tokio::sync::{mpsc, oneshot};

/// What one query found: each key that was found, with what it found.
pub type FoundKeys<K, F> = Result<Vec<(K, F)>, AppError>;

/// The most requests one query answers: as many keys as bind parameters in one `IN (...)`.
const MAX_ASKS: usize = 64;

/// Something many requests look up by key, that can look up many keys with one query.
pub trait Lookup: Send + Sync + 'static {
    type Key: Eq + Hash + Clone + Send + Sync + 'static;
    type Found: Clone + Send + Sync + 'static;

    /// Finds `keys` (no key twice) with one query; a key that is not found is left out.
    fn find<'a>(
        &'a self,
        keys: &'a [Self::Key],
    ) -> BoxFuture<'a, FoundKeys<Self::Key, Self::Found>>;
}

/// Answer for one request.
type Answer<L> = Result<Option<<L as Lookup>::Found>, AppError>;

/// A request's key, and where it waits for the answer.
struct Ask<L: Lookup> {
    key: L::Key,
    reply: oneshot::Sender<Answer<L>>,
}

/// The queue in front of one [`Lookup`]; cloning it shares the queue.
pub struct Coalesced<L: Lookup> {
    asks: mpsc::Sender<Ask<L>>,
}

impl<L: Lookup> Clone for Coalesced<L> {
    fn clone(&self) -> Self {
        Coalesced {
            asks: self.asks.clone(),
        }
    }
}

impl<L: Lookup> std::fmt::Debug for Coalesced<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coalesced")
            .field(
                "waiting",
                &(self.asks.max_capacity() - self.asks.capacity()),
            )
            .finish()
    }
}

impl<L: Lookup> Coalesced<L> {
    /// Starts the task that runs `lookup`'s queries. It ends when the last handle is dropped.
    pub fn start(lookup: L) -> Self {
        let (asks, queue) = mpsc::channel(4 * MAX_ASKS);
        tokio::spawn(answer(lookup, queue));
        Coalesced { asks }
    }

    /// What `key` finds now (`None` if nothing), from a query that starts after this call.
    pub async fn get(&self, key: L::Key) -> Answer<L> {
        let (reply, answer) = oneshot::channel();
        let gone = || AppError::internal("a coalesced lookup", "the lookup task has stopped");
        self.asks
            .send(Ask { key, reply })
            .await
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

async fn answer<L: Lookup>(lookup: L, mut queue: mpsc::Receiver<Ask<L>>) {
    let mut asks = Vec::with_capacity(MAX_ASKS);
    // Everything asked while the last query ran is answered by the next.
    while queue.recv_many(&mut asks, MAX_ASKS).await > 0 {
        let mut waiting: HashMap<L::Key, Vec<oneshot::Sender<Answer<L>>>> =
            HashMap::with_capacity(asks.len());
        for ask in asks.drain(..) {
            waiting.entry(ask.key).or_default().push(ask.reply);
        }
        let keys: Vec<L::Key> = waiting.keys().cloned().collect();
        match lookup.find(&keys).await {
            Ok(found) => {
                let mut found: HashMap<L::Key, L::Found> = found.into_iter().collect();
                for (key, replies) in waiting {
                    let answer = found.remove(&key);
                    for reply in replies {
                        // A request that gave up waiting no longer needs the answer.
                        let _ = reply.send(Ok(answer.clone()));
                    }
                }
            }
            // Logged where it became an `AppError`; each request answers with it.
            Err(error) => {
                for reply in waiting.into_values().flatten() {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    type Shared<T> = Arc<Mutex<T>>;

    /// Squares of the numbers in `known`; records the keys of every query it runs.
    /// A query for 13 fails.
    #[derive(Clone, Default)]
    struct Squares {
        known: Shared<Vec<u32>>,
        queries: Shared<Vec<Vec<u32>>>,
    }

    impl Squares {
        fn knowing(known: &[u32]) -> Self {
            Squares {
                known: Arc::new(Mutex::new(known.to_vec())),
                ..Squares::default()
            }
        }

        fn queries(&self) -> Vec<Vec<u32>> {
            self.queries.lock().unwrap().clone()
        }
    }

    impl Lookup for Squares {
        type Key = u32;
        type Found = u32;

        fn find<'a>(&'a self, keys: &'a [u32]) -> BoxFuture<'a, FoundKeys<u32, u32>> {
            Box::pin(async move {
                self.queries.lock().unwrap().push(keys.to_vec());
                // A query takes a while, as a real one does under load.
                tokio::time::sleep(Duration::from_millis(20)).await;
                if keys.contains(&13) {
                    return Err(AppError::internal("a test lookup", "key 13 fails"));
                }
                let known = self.known.lock().unwrap().clone();
                Ok(keys
                    .iter()
                    .filter(|key| known.contains(key))
                    .map(|key| (*key, key * key))
                    .collect())
            })
        }
    }

    #[tokio::test]
    async fn requests_that_ask_together_share_a_query_and_each_gets_its_own_answer() {
        let squares = Squares::knowing(&[1, 2, 3, 4]);
        let lookups = Coalesced::start(squares.clone());
        // 60 requests over six keys, two of them unknown.
        let keys: Vec<u32> = (0..60).map(|i| i % 6 + 1).collect();
        let answers =
            futures_util::future::join_all(keys.iter().map(|key| lookups.get(*key))).await;
        for (key, answer) in keys.iter().zip(answers) {
            let expected = (*key <= 4).then_some(key * key);
            assert_eq!(answer.unwrap(), expected, "the answer for {key}");
        }
        let queries = squares.queries();
        assert!(
            queries.len() < 10,
            "{} queries for 60 requests: {queries:?}",
            queries.len()
        );
        for keys in &queries {
            let mut distinct = keys.clone();
            distinct.sort();
            distinct.dedup();
            assert_eq!(distinct.len(), keys.len(), "a key asked twice in {keys:?}");
        }
    }

    #[tokio::test]
    async fn nothing_is_cached_a_request_after_a_change_sees_the_change() {
        let squares = Squares::knowing(&[5]);
        let lookups = Coalesced::start(squares.clone());
        assert_eq!(lookups.get(5).await.unwrap(), Some(25));
        // 5 goes away (as a revoked token does): the next request no longer finds it.
        squares.known.lock().unwrap().clear();
        assert_eq!(lookups.get(5).await.unwrap(), None);
        assert_eq!(squares.queries(), vec![vec![5], vec![5]]);
    }

    #[tokio::test]
    async fn a_failed_query_fails_its_requests_and_the_next_query_still_runs() {
        let lookups = Coalesced::start(Squares::knowing(&[2]));
        let (failed, _) = tokio::join!(lookups.get(13), async {
            // Asked while the failing query runs: answered by the next one.
            tokio::time::sleep(Duration::from_millis(5)).await;
            assert_eq!(lookups.get(2).await.unwrap(), Some(4));
        });
        assert!(matches!(failed, Err(AppError::Internal(_))), "{failed:?}");
        assert_eq!(lookups.get(2).await.unwrap(), Some(4));
    }
}
