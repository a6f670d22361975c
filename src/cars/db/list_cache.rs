//! Recent marketplace and API list answers, kept until the cars change.

use crate::cars::model::Facets;

/// Recent list answers (the capped count and one page's ids), each valid while the cars
/// have not changed. `car_counts.version` is bumped by triggers on every insert, update
/// and delete, and read with every list request, so an answer is never older than the
/// data, whichever app server made the change. Repeated searches and pages (the first
/// page of a popular search) then cost one row read and one lookup per car shown. The
/// Make filter's choices are kept the same way, so the marketplace page reads them only
/// after a change.
///
/// A question not in the cache is computed once: requests asking the same one meanwhile
/// wait for that answer instead of all running the same search at once (a popular
/// search right after a change would otherwise put every read connection on it).
#[derive(Debug, Default)]
pub struct ListCache {
    pub(super) entries: std::sync::Mutex<std::collections::HashMap<String, CachedList>>,
    /// The questions being computed now, each with the lock its askers queue on.
    pub(super) computing: std::sync::Mutex<std::collections::HashMap<String, Gate>>,
    /// The Make filter's choices, with the version they were read at (or after).
    pub(super) makes: std::sync::Mutex<Option<(i64, Vec<String>)>>,
    /// The makes and models of the cars for sale (the sell form's suggestions), with the
    /// version they were read at (or after).
    pub(super) models: std::sync::Mutex<Option<(i64, MakesAndModels)>>,
    /// Facet counts by their query, each with the version it was read at (or after).
    pub(super) facets: std::sync::Mutex<std::collections::HashMap<String, (i64, Facets)>>,
    /// The cars for sale in this server's search index, which counts the facets.
    pub index: super::CarIndex,
}

pub(super) type Gate = std::sync::Arc<tokio::sync::Mutex<()>>;

/// (make, model) pairs.
pub(super) type MakesAndModels = Vec<(String, String)>;

/// The right to compute one question; whoever asks it meanwhile waits for this to drop.
pub(super) struct Turn<'a> {
    pub(super) cache: &'a ListCache,
    pub(super) key: &'a str,
    pub(super) guard: tokio::sync::OwnedMutexGuard<()>,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut computing = self
            .cache
            .computing
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // Held only by the map and this turn: nobody is waiting, so the gate goes.
        let gate = tokio::sync::OwnedMutexGuard::mutex(&self.guard);
        if std::sync::Arc::strong_count(gate) == 2 {
            computing.remove(self.key);
        }
    }
}

#[derive(Clone, Debug)]
pub(super) struct CachedList {
    pub(super) version: i64,
    pub(super) total: i64,
    pub(super) ids: Vec<i64>,
}

/// Enough for the popular searches and their first pages; each entry is about 1 kB.
pub(super) const LIST_CACHE_ENTRIES: usize = 1024;

impl ListCache {
    /// The answer for `key`, if it was computed at `version` or later: a request that saw
    /// `version` may be answered from newer data, never from older.
    pub(super) fn get(&self, key: &str, version: i64) -> Option<CachedList> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(key).filter(|e| e.version >= version).cloned()
    }

    /// The answer for `key` computed at any version (to be checked against the data).
    pub(super) fn peek(&self, key: &str) -> Option<CachedList> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(key).cloned()
    }

    pub(super) fn put(&self, key: String, entry: CachedList) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.get(&key).is_some_and(|e| e.version > entry.version) {
            return;
        }
        if entries.len() >= LIST_CACHE_ENTRIES {
            // Stale answers go first; if all are current, start afresh (simple and bounded).
            let current = entry.version;
            entries.retain(|_, e| e.version == current);
            if entries.len() >= LIST_CACHE_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, entry);
    }

    /// The Make filter's choices, if they were read at `version` or later.
    pub(super) fn makes(&self, version: i64) -> Option<Vec<String>> {
        let makes = self.makes.lock().unwrap_or_else(|e| e.into_inner());
        makes
            .as_ref()
            .filter(|(read_at, _)| *read_at >= version)
            .map(|(_, makes)| makes.clone())
    }

    pub(super) fn put_makes(&self, version: i64, list: Vec<String>) {
        let mut makes = self.makes.lock().unwrap_or_else(|e| e.into_inner());
        if makes
            .as_ref()
            .is_none_or(|(read_at, _)| *read_at <= version)
        {
            *makes = Some((version, list));
        }
    }

    /// The makes and models for sale, if read at `version` or later.
    pub(super) fn models(&self, version: i64) -> Option<Vec<(String, String)>> {
        let models = self.models.lock().unwrap_or_else(|e| e.into_inner());
        models
            .as_ref()
            .filter(|(read_at, _)| *read_at >= version)
            .map(|(_, list)| list.clone())
    }

    pub(super) fn put_models(&self, version: i64, list: Vec<(String, String)>) {
        let mut models = self.models.lock().unwrap_or_else(|e| e.into_inner());
        if models
            .as_ref()
            .is_none_or(|(read_at, _)| *read_at <= version)
        {
            *models = Some((version, list));
        }
    }

    /// The facet counts of the query `key`, if read at `version` or later.
    pub(super) fn facets(&self, key: &str, version: i64) -> Option<Facets> {
        let facets = self.facets.lock().unwrap_or_else(|e| e.into_inner());
        facets
            .get(key)
            .filter(|(read_at, _)| *read_at >= version)
            .map(|(_, facets)| facets.clone())
    }

    /// Keeps facet counts; a full cache starts again empty (as many as the lists keep).
    pub(super) fn put_facets(&self, key: String, version: i64, counts: Facets) {
        let mut facets = self.facets.lock().unwrap_or_else(|e| e.into_inner());
        if facets.len() >= LIST_CACHE_ENTRIES && !facets.contains_key(&key) {
            facets.clear();
        }
        facets.insert(key, (version, counts));
    }

    /// Waits until no other request is computing `key`, then holds that right.
    pub(super) async fn turn<'a>(&'a self, key: &'a str) -> Turn<'a> {
        let gate = {
            let mut computing = self.computing.lock().unwrap_or_else(|e| e.into_inner());
            if computing.len() >= LIST_CACHE_ENTRIES {
                // A request dropped while waiting can leave its gate behind; unused ones go.
                computing.retain(|_, gate| std::sync::Arc::strong_count(gate) > 1);
            }
            computing.entry(key.to_owned()).or_default().clone()
        };
        Turn {
            cache: self,
            key,
            guard: gate.lock_owned().await,
        }
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }
}
