//! The search index: each app server keeps the cars for sale in a tantivy index in memory,
//! and answers list searches from it: the page's ids in the order asked, how many cars
//! match, and the facet counts, each in one pass over the cars that match (milliseconds at
//! 100,000 cars, where grouping them in SQL took up to half a second; bench/README.md,
//! "Choosing the search engine"). The cars' rows are then read by id.
//!
//! Never older than the data, with any number of app servers: every insert, update and
//! delete of a car bumps `car_counts.version` and logs the car's id under the new version
//! in `car_changes` (triggers; see the `car_changes` migration). A request reads that
//! version anyway (the list cache); before the index answers it, the index takes in every
//! change up to it: the cars logged since its own version are read again and replaced, in
//! one commit. An index further behind than the log keeps reads every car again. A request
//! waits for a short catch-up only: further behind (a burst of new listings, an import on
//! another server), the SQL queries answer while the index catches up in the background.
//!
//! Words are searched as the SQL search does (each word starts a word of the make, model
//! or description, whatever the case and accents); "best match" adds 10 for a word found in
//! the make, 5 in the model and 1 in the description. Until the first build is done (at
//! start, in the background) the SQL queries answer.

use super::*;
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, EmptyQuery, Occur, PhrasePrefixQuery, Query, RangeQuery,
    TermQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STRING,
};
use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, SimpleTokenizer, TextAnalyzer};
use tantivy::{
    DocId, Index, IndexReader, IndexWriter, ReloadPolicy, Score, SegmentReader, TantivyDocument,
    Term,
};

/// The most logged changes taken in one commit (a catch-up further behind takes several).
const MAX_CATCH_UP: i64 = if cfg!(test) { 500 } else { 20_000 };

/// How many changes behind the data a request lets the index be and waits while it catches
/// up (milliseconds); further behind, the database answers and the index catches up in the
/// background, so that no request waits for thousands of cars to be read again.
const WAIT_AT_MOST: i64 = 1_000;

/// How many changes the log keeps (about a day of a busy marketplace's edits).
const KEPT_CHANGES: i64 = 100_000;

/// Cars read per query while (re)building.
const BATCH: i64 = 5_000;

/// The index's memory for documents not yet committed (tantivy's minimum is 15 MB): a
/// catch-up holds a few cars; a rebuild writes a segment each time it fills.
const WRITER_MEMORY: usize = 20_000_000;

/// The five list filters, in the order `Tally::lists` keeps them.
const LISTS: usize = 5;

/// Room for the choices of the longest list (the colours).
const MAX_CHOICES: usize = 16;

const _: () = assert!(
    BodyType::ALL.len() <= MAX_CHOICES
        && Fuel::ALL.len() <= MAX_CHOICES
        && Transmission::ALL.len() <= MAX_CHOICES
        && Drive::ALL.len() <= MAX_CHOICES
        && Colour::ALL.len() <= MAX_CHOICES
        && EquipmentItem::ALL.len() <= 64
);

/// The cars for sale, searchable in memory; empty until [`CarIndex::build`] has run.
#[derive(Default)]
pub struct CarIndex {
    /// Shared with the background catch-up.
    engine: Arc<OnceLock<Engine>>,
}

impl std::fmt::Debug for CarIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let version = self.engine.get().map(|e| e.version.load(Ordering::Acquire));
        f.debug_struct("CarIndex")
            .field("version", &version)
            .finish()
    }
}

struct Engine {
    fields: Fields,
    /// How listings' words and the search box's are cut into terms.
    words: TextAnalyzer,
    reader: IndexReader,
    writer: Arc<std::sync::Mutex<IndexWriter>>,
    /// One request at a time reads the changes; the others wait for its commit.
    catching_up: tokio::sync::Mutex<()>,
    /// A catch-up too long for a request to wait is under way: the database answers.
    in_background: AtomicBool,
    /// The version of the cars the index holds: every change up to it is in.
    version: AtomicI64,
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    created_at: Field,
    /// The words of the make, the model and the description, searched separately so that
    /// a match in the make counts most.
    words: [Field; 3],
    make: Field,
    price_cents: Field,
    year: Field,
    mileage_km: Field,
    condition: Field,
    power_kw: Field,
    latitude: Field,
    longitude: Field,
    lists: [Field; LISTS],
    equipment: Field,
}

/// What a word found in the make, the model or the description adds to a car's match (as
/// the weights of the SQL search's ranking).
const WORD_WEIGHTS: [Score; 3] = [10.0, 5.0, 1.0];

/// The analyzer's name: words of letters and digits, lower case, accents dropped (as the
/// SQL search's tokenizer).
const WORDS: &str = "words";

fn words_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The list filters' names, as the index's fields and the cars table's columns.
const LIST_NAMES: [&str; LISTS] = ["body_type", "fuel", "transmission", "drive", "colour"];

impl Fields {
    fn schema() -> (Schema, Fields) {
        let mut schema = Schema::builder();
        // Which cars hold a word is all a search needs: no frequencies or positions.
        let words = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(WORDS)
                .set_index_option(IndexRecordOption::Basic),
        );
        let fields = Fields {
            id: schema.add_u64_field("id", INDEXED | FAST),
            created_at: schema.add_i64_field("created_at", FAST),
            words: [
                schema.add_text_field("make_words", words.clone()),
                schema.add_text_field("model_words", words.clone()),
                schema.add_text_field("description_words", words),
            ],
            make: schema.add_text_field("make", STRING),
            price_cents: schema.add_i64_field("price_cents", INDEXED | FAST),
            year: schema.add_i64_field("year", INDEXED | FAST),
            mileage_km: schema.add_i64_field("mileage_km", INDEXED | FAST),
            condition: schema.add_u64_field("condition", INDEXED),
            power_kw: schema.add_i64_field("power_kw", INDEXED | FAST),
            latitude: schema.add_f64_field("latitude", INDEXED | FAST),
            longitude: schema.add_f64_field("longitude", INDEXED | FAST),
            lists: LIST_NAMES.map(|name| schema.add_u64_field(name, FAST)),
            equipment: schema.add_u64_field("equipment", FAST),
        };
        (schema.build(), fields)
    }
}

/// What the index keeps of a car for sale.
#[derive(sqlx::FromRow)]
struct IndexRow {
    id: i64,
    created_at: DateTime<Utc>,
    make: String,
    model: String,
    description: String,
    price_cents: i64,
    year: i32,
    mileage_km: i64,
    condition: String,
    power_kw: Option<i32>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    body_type: Option<String>,
    fuel: Option<String>,
    transmission: Option<String>,
    drive: Option<String>,
    colour: Option<String>,
    equipment: i64,
}

const INDEX_COLUMNS: &str = "id, created_at, make, model, description, price_cents, year, mileage_km, condition, power_kw, \
     latitude, longitude, body_type, fuel, transmission, drive, colour, equipment";

/// A choice's number in the index: its place in its list.
fn code<T: PartialEq + Copy>(all: &[T], value: T) -> u64 {
    all.iter().position(|c| *c == value).unwrap_or_default() as u64
}

/// A make as the filter compares it: whatever the case.
fn make_key(make: &str) -> String {
    make.to_lowercase()
}

impl IndexRow {
    fn document(&self, f: &Fields) -> TantivyDocument {
        let mut doc = TantivyDocument::default();
        doc.add_u64(f.id, self.id.unsigned_abs());
        doc.add_i64(f.created_at, self.created_at.timestamp_micros());
        doc.add_text(f.words[0], &self.make);
        doc.add_text(f.words[1], &self.model);
        doc.add_text(f.words[2], &self.description);
        doc.add_text(f.make, make_key(&self.make));
        doc.add_i64(f.price_cents, self.price_cents);
        doc.add_i64(f.year, self.year.into());
        doc.add_i64(f.mileage_km, self.mileage_km);
        if let Some(condition) = Condition::parse(&self.condition) {
            doc.add_u64(f.condition, code(&Condition::ALL, condition));
        }
        if let Some(kw) = self.power_kw {
            doc.add_i64(f.power_kw, kw.into());
        }
        if let (Some(latitude), Some(longitude)) = (self.latitude, self.longitude) {
            doc.add_f64(f.latitude, latitude);
            doc.add_f64(f.longitude, longitude);
        }
        // A stored id this build does not know (written by a newer one) is unknown here too.
        fn choice<T: PartialEq + Copy>(
            stored: &Option<String>,
            parse: fn(&str) -> Option<T>,
            all: &[T],
        ) -> Option<u64> {
            stored.as_deref().and_then(parse).map(|c| code(all, c))
        }
        let choices = [
            choice(&self.body_type, BodyType::parse, BodyType::ALL),
            choice(&self.fuel, Fuel::parse, Fuel::ALL),
            choice(&self.transmission, Transmission::parse, Transmission::ALL),
            choice(&self.drive, Drive::parse, Drive::ALL),
            choice(&self.colour, Colour::parse, Colour::ALL),
        ];
        for (field, choice) in f.lists.iter().zip(choices) {
            if let Some(choice) = choice {
                doc.add_u64(*field, choice);
            }
        }
        doc.add_u64(f.equipment, Equipment::from_db(self.equipment).0);
        doc
    }
}

fn index_error(doing: &'static str, error: impl std::fmt::Display) -> AppError {
    AppError::internal(doing, error.to_string())
}

impl CarIndex {
    /// Reads every car for sale into a new index: once, at start (in the background).
    pub async fn build(&self, db: &Db) -> Result<(), AppError> {
        let (schema, fields) = Fields::schema();
        let index = Index::create_in_ram(schema);
        index.tokenizers().register(WORDS, words_analyzer());
        let writer = index
            .writer_with_num_threads(1, WRITER_MEMORY)
            .map_err(|e| index_error("opening the search index", e))?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| index_error("opening the search index", e))?;
        let engine = Engine {
            fields,
            words: words_analyzer(),
            reader,
            writer: Arc::new(std::sync::Mutex::new(writer)),
            catching_up: tokio::sync::Mutex::new(()),
            in_background: AtomicBool::new(false),
            version: AtomicI64::new(-1),
        };
        engine.rebuild(db).await?;
        let cars = engine.reader.searcher().num_docs();
        let version = engine.version.load(Ordering::Acquire);
        if self.engine.set(engine).is_ok() {
            tracing::info!(cars, version, "search index built");
        }
        Ok(())
    }

    /// The index holding every change up to `version`; `None` while it is not built, or is
    /// too far behind to catch up while a request waits (it then does in the background).
    async fn at_version(&self, db: &Db, version: i64) -> Result<Option<&Engine>, AppError> {
        let Some(engine) = self.engine.get() else {
            return Ok(None);
        };
        let behind = version - engine.version.load(Ordering::Acquire);
        if behind <= 0 {
            return Ok(Some(engine));
        }
        if behind > WAIT_AT_MOST || engine.in_background.load(Ordering::Acquire) {
            self.catch_up_in_background(db, version);
            return Ok(None);
        }
        let _turn = engine.catching_up.lock().await;
        if engine.version.load(Ordering::Acquire) < version {
            engine.catch_up(db, version).await?;
        }
        Ok(Some(engine))
    }

    /// Starts taking in the changes up to `version` in a task of its own, unless one runs.
    fn catch_up_in_background(&self, db: &Db, version: i64) {
        let Some(engine) = self.engine.get() else {
            return;
        };
        if engine.in_background.swap(true, Ordering::AcqRel) {
            return;
        }
        let engine = Arc::clone(&self.engine);
        let db = db.clone();
        tokio::spawn(async move {
            let Some(engine) = engine.get() else { return };
            let started = std::time::Instant::now();
            let from = engine.version.load(Ordering::Acquire);
            let caught_up = async {
                let _turn = engine.catching_up.lock().await;
                engine.catch_up(&db, version).await
            }
            .await;
            engine.in_background.store(false, Ordering::Release);
            let to = engine.version.load(Ordering::Acquire);
            let ms = started.elapsed().as_millis();
            match caught_up {
                Ok(()) => tracing::info!(from, to, ms, "search index caught up"),
                Err(error) => tracing::warn!(%error, from, to, "search index could not catch up"),
            }
        });
    }

    /// The facet counts for `filters` from the index, once it is built.
    pub(super) async fn facets(
        &self,
        db: &Db,
        version: i64,
        filters: &CarFilters,
    ) -> Result<Option<Facets>, AppError> {
        let Some(engine) = self.at_version(db, version).await? else {
            return Ok(None);
        };
        let found = engine.search(filters, None).await?;
        Ok(Some(found.tally.facets()))
    }

    /// How many cars match `filters` (counted up to MAX_RESULTS + 1, as the SQL count), the
    /// ids of those in `window` from `offset`, and the facet counts (found in the same
    /// pass), when the index can answer: built, and an order it keeps (at most four terms).
    pub(super) async fn list(
        &self,
        db: &Db,
        version: i64,
        filters: &CarFilters,
        window: Window<'_>,
        offset: i64,
    ) -> Result<Option<(i64, Vec<i64>, Facets)>, AppError> {
        if window.order.len() > MAX_ORDER_TERMS {
            return Ok(None);
        }
        let Some(engine) = self.at_version(db, version).await? else {
            return Ok(None);
        };
        let skip = usize::try_from(offset).unwrap_or_default();
        let wanted = skip + window.page_size as usize;
        // Only the first MAX_RESULTS matches can be paged through.
        let page = (skip < MAX_RESULTS as usize).then(|| Page {
            keys: page_keys(window.order, filters),
            first_descending: window.order.first().is_some_and(|t| t.descending),
            limit: wanted,
        });
        let found = engine.search(filters, page).await?;
        let total = i64::try_from(found.tally.cars).unwrap_or(i64::MAX);
        let ids = found
            .page
            .into_iter()
            .skip(skip)
            .map(|(_, id)| id)
            .collect();
        Ok(Some((
            total.min(MAX_RESULTS + 1),
            ids,
            found.tally.facets(),
        )))
    }
}

/// Forgets logged changes no index should still need: an index that far behind reads
/// every car again. Run now and then (with the upload sweep).
pub async fn prune_car_changes(db: &Db) -> Result<u64, AppError> {
    let done = on_db!(
        db,
        write
            | pool
            | sqlx::query(
                "DELETE FROM car_changes WHERE version <= \
                 (SELECT version FROM car_counts WHERE id = 1) - $1",
            )
            .bind(KEPT_CHANGES)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
    )?;
    Ok(done)
}

impl Engine {
    /// Every car for sale read again, replacing what the index held, in one commit (added
    /// batch by batch, so memory holds one batch of rows). The version is read first: a
    /// change made while the cars are read is logged after it, and taken in again by the
    /// next catch-up.
    async fn rebuild(&self, db: &Db) -> Result<(), AppError> {
        let (_, version) = counts(db).await?;
        let rebuilt = async {
            self.write(|writer, _| writer.delete_all_documents().map(drop))
                .await?;
            let mut after = 0_i64;
            loop {
                let sql = format!(
                    "SELECT {INDEX_COLUMNS} FROM cars WHERE status = 'available' AND id > $1 \
                     ORDER BY id LIMIT $2"
                );
                let rows: Vec<IndexRow> = on_db!(
                    db,
                    read | pool
                        | sqlx::query_as(&sql)
                            .bind(after)
                            .bind(BATCH)
                            .fetch_all(pool)
                            .await
                )?;
                let Some(last) = rows.last() else { break };
                after = last.id;
                let full = rows.len() as i64 == BATCH;
                let documents: Vec<TantivyDocument> =
                    rows.iter().map(|row| row.document(&self.fields)).collect();
                self.write(move |writer, _| {
                    for document in documents {
                        writer.add_document(document)?;
                    }
                    Ok(())
                })
                .await?;
                if !full {
                    break;
                }
            }
            self.commit(version, |_, _| Ok(())).await
        }
        .await;
        if rebuilt.is_err() {
            // What was deleted and added goes: the index stays as last committed.
            self.write(|writer, _| writer.rollback().map(drop)).await?;
        }
        rebuilt
    }

    /// Takes in the changes logged since the index's version, up to `version` at least:
    /// each changed car is removed, and put back as it is now if it is for sale.
    async fn catch_up(&self, db: &Db, version: i64) -> Result<(), AppError> {
        loop {
            let from = self.version.load(Ordering::Acquire);
            if from >= version {
                return Ok(());
            }
            let changes: Vec<(i64, i64)> = on_db!(
                db,
                read | pool
                    | sqlx::query_as(
                        "SELECT version, car_id FROM car_changes WHERE version > $1 \
                         ORDER BY version LIMIT $2",
                    )
                    .bind(from)
                    .bind(MAX_CATCH_UP)
                    .fetch_all(pool)
                    .await
            )?;
            // Versions are logged one by one: a gap means the log was pruned past this index.
            if changes.first().is_none_or(|(first, _)| *first != from + 1) {
                return self.rebuild(db).await;
            }
            self.take_in(db, changes).await?;
        }
    }

    /// Takes in one batch of logged changes, in one commit.
    async fn take_in(&self, db: &Db, changes: Vec<(i64, i64)>) -> Result<(), AppError> {
        let version = changes.last().map_or(0, |(version, _)| *version);
        let mut ids: Vec<i64> = changes.into_iter().map(|(_, id)| id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut rows: Vec<IndexRow> = Vec::new();
        for chunk in ids.chunks(500) {
            let mut sql = Sql::new(format!(
                "SELECT {INDEX_COLUMNS} FROM cars WHERE status = 'available' AND id IN ("
            ));
            for (at, id) in chunk.iter().enumerate() {
                if at > 0 {
                    sql.push(", ");
                }
                sql.bind(*id);
            }
            sql.push(")");
            let batch: Vec<IndexRow> = on_db!(
                db,
                read | pool
                    | bind_all!(sqlx::query_as(&sql.text), sql)
                        .fetch_all(pool)
                        .await
            )?;
            rows.extend(batch);
        }
        let documents: Vec<TantivyDocument> =
            rows.iter().map(|row| row.document(&self.fields)).collect();
        self.commit(version, move |writer, fields| {
            for id in ids {
                writer.delete_term(Term::from_field_u64(fields.id, id.unsigned_abs()));
            }
            for document in documents {
                writer.add_document(document)?;
            }
            Ok(())
        })
        .await
    }

    /// Applies `change` to the index's writer (off the async threads), not yet committed.
    async fn write(
        &self,
        change: impl FnOnce(&mut IndexWriter, &Fields) -> tantivy::Result<()> + Send + 'static,
    ) -> Result<(), AppError> {
        let writer = self.writer.clone();
        let fields = self.fields;
        tokio::task::spawn_blocking(move || {
            let mut writer = writer.lock().unwrap_or_else(|e| e.into_inner());
            change(&mut writer, &fields)
        })
        .await
        .map_err(|e| index_error("updating the search index", e))?
        .map_err(|e| index_error("updating the search index", e))
    }

    /// Applies `change` to the index and commits it (off the async threads), then lets
    /// searches see it and records `version` as taken in.
    async fn commit(
        &self,
        version: i64,
        change: impl FnOnce(&mut IndexWriter, &Fields) -> tantivy::Result<()> + Send + 'static,
    ) -> Result<(), AppError> {
        let writer = self.writer.clone();
        let fields = self.fields;
        tokio::task::spawn_blocking(move || {
            let mut writer = writer.lock().unwrap_or_else(|e| e.into_inner());
            let applied = change(&mut writer, &fields).and_then(|()| writer.commit().map(drop));
            if applied.is_err() {
                // Whatever was added before the failure goes; the index stays as committed.
                let _ = writer.rollback();
            }
            applied
        })
        .await
        .map_err(|e| index_error("updating the search index", e))?
        .map_err(|e| index_error("updating the search index", e))?;
        self.reader
            .reload()
            .map_err(|e| index_error("updating the search index", e))?;
        self.version.store(version, Ordering::Release);
        Ok(())
    }

    /// One pass over the cars the query finds: the facet counts, and the page if asked.
    async fn search(&self, filters: &CarFilters, page: Option<Page>) -> Result<Found, AppError> {
        let query = self.query(filters);
        let collector = FacetCollector::new(filters, page);
        let searcher = self.reader.searcher();
        tokio::task::spawn_blocking(move || searcher.search(&*query, &collector))
            .await
            .map_err(|e| index_error("searching the cars", e))?
            .map_err(|e| index_error("searching the cars", e))
    }

    /// Every filter but the five lists and the exact distance (which the collector checks):
    /// ranges, make, condition, and the bounding box of "near".
    fn query(&self, filters: &CarFilters) -> Box<dyn Query> {
        let f = &self.fields;
        let mut all: Vec<Box<dyn Query>> = Vec::new();
        let mut range = |field: Field, min: Option<i64>, max: Option<i64>| {
            if min.is_none() && max.is_none() {
                return;
            }
            let bound = |v: Option<i64>| {
                v.map_or(Bound::Unbounded, |v| {
                    Bound::Included(Term::from_field_i64(field, v))
                })
            };
            all.push(Box::new(RangeQuery::new(bound(min), bound(max))));
        };
        range(
            f.price_cents,
            filters.min_price_cents,
            filters.max_price_cents,
        );
        range(
            f.year,
            filters.min_year.map(i64::from),
            filters.max_year.map(i64::from),
        );
        range(f.mileage_km, filters.min_mileage_km, filters.max_mileage_km);
        range(
            f.power_kw,
            filters.specs.min_power_kw.map(i64::from),
            filters.specs.max_power_kw.map(i64::from),
        );
        if let Some(make) = &filters.make {
            all.push(Box::new(TermQuery::new(
                Term::from_field_text(f.make, &make_key(make)),
                IndexRecordOption::Basic,
            )));
        }
        if let Some(condition) = filters.condition {
            all.push(Box::new(TermQuery::new(
                Term::from_field_u64(f.condition, code(&Condition::ALL, condition)),
                IndexRecordOption::Basic,
            )));
        }
        if let Some(q) = &filters.q {
            // Each word must start a word of the make, the model or the description.
            let Some(words) = search_words(q) else {
                return Box::new(EmptyQuery);
            };
            let mut analyzer = self.words.clone();
            for word in words {
                let mut terms = Vec::new();
                analyzer
                    .token_stream(word)
                    .process(&mut |token| terms.push(token.text.clone()));
                for term in terms {
                    let in_any = f
                        .words
                        .iter()
                        .zip(WORD_WEIGHTS)
                        .map(|(field, weight)| {
                            let mut prefix =
                                PhrasePrefixQuery::new(vec![Term::from_field_text(*field, &term)]);
                            // Every word it starts, however many.
                            prefix.set_max_expansions(u32::MAX);
                            let weighted: Box<dyn Query> =
                                Box::new(BoostQuery::new(Box::new(prefix), weight));
                            (Occur::Should, weighted)
                        })
                        .collect();
                    all.push(Box::new(BooleanQuery::new(in_any)));
                }
            }
        }
        if let Some(near) = filters.near {
            let Some(town) = crate::geo::gazetteer().town(near.town_id) else {
                return Box::new(EmptyQuery);
            };
            let bbox = crate::geo::BoundingBox::around(
                town.latitude,
                town.longitude,
                near.radius_km.into(),
            );
            let between = |field: Field, low: f64, high: f64| -> Box<dyn Query> {
                Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_f64(field, low)),
                    Bound::Included(Term::from_field_f64(field, high)),
                ))
            };
            all.push(between(f.latitude, bbox.min_latitude, bbox.max_latitude));
            if let Some((west, east)) = bbox.longitude {
                all.push(between(f.longitude, west, east));
            }
        }
        if all.is_empty() {
            Box::new(AllQuery)
        } else {
            Box::new(BooleanQuery::intersection(all))
        }
    }
}

/// "Within N km of a town", checked exactly as the SQL does (spherical law of cosines,
/// the cosine clamped), with the town's trigonometry worked out once.
#[derive(Clone, Copy)]
struct Circle {
    sin_latitude: f64,
    cos_latitude: f64,
    longitude: f64,
    radius_km: f64,
}

impl Circle {
    fn around(near: Near) -> Option<Circle> {
        let town = crate::geo::gazetteer().town(near.town_id)?;
        let latitude = town.latitude.to_radians();
        Some(Circle {
            sin_latitude: latitude.sin(),
            cos_latitude: latitude.cos(),
            longitude: town.longitude.to_radians(),
            radius_km: f64::from(near.radius_km),
        })
    }

    fn distance_km(&self, latitude: f64, longitude: f64) -> f64 {
        let cosine = latitude.to_radians().sin() * self.sin_latitude
            + latitude.to_radians().cos()
                * self.cos_latitude
                * (longitude.to_radians() - self.longitude).cos();
        crate::geo::EARTH_RADIUS_KM * cosine.clamp(-1.0, 1.0).acos()
    }
}

/// The most order terms the index sorts by (the API may send more: the database sorts those).
const MAX_ORDER_TERMS: usize = 4;

/// A car's place in the order: each term's key (a "best match" term takes two), then the id.
const KEY_LEN: usize = 2 * MAX_ORDER_TERMS + 1;

type SortKey = [i64; KEY_LEN];

/// One term of the order, as the SQL query's ORDER BY has it (`search::push_order`).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Key {
    CreatedAt {
        descending: bool,
    },
    Price {
        descending: bool,
    },
    Year {
        descending: bool,
    },
    /// Unknown power last, whichever way.
    Power {
        descending: bool,
    },
    Distance {
        descending: bool,
    },
    /// How well the words match, best first.
    Score,
}

/// The order's keys: "best match" is the words' match then the newest (without words, the
/// newest); "nearest" without a town is the newest.
fn page_keys(order: &[OrderTerm], filters: &CarFilters) -> Vec<Key> {
    let mut keys = Vec::new();
    for term in order {
        let descending = term.descending;
        match term.field {
            OrderField::Distance if filters.near.is_some() => {
                keys.push(Key::Distance { descending });
            }
            OrderField::Distance => keys.push(Key::CreatedAt { descending: true }),
            OrderField::Relevance if filters.q.is_some() => {
                keys.push(Key::Score);
                keys.push(Key::CreatedAt { descending: true });
            }
            OrderField::Relevance | OrderField::CreatedAt => {
                keys.push(Key::CreatedAt { descending });
            }
            OrderField::Price => keys.push(Key::Price { descending }),
            OrderField::Year => keys.push(Key::Year { descending }),
            OrderField::Power => keys.push(Key::Power { descending }),
        }
    }
    keys
}

/// The page a search asks for: its order, and how many of the first cars to keep.
struct Page {
    keys: Vec<Key>,
    /// The id breaks ties in the first term's direction (as in SQL).
    first_descending: bool,
    limit: usize,
}

/// A value in ascending order, or reversed.
fn directed(value: i64, descending: bool) -> i64 {
    if descending {
        !value
    } else {
        value
    }
}

/// Counts, for the cars the query found, each list's choices over the cars passing the
/// other four lists, and each equipment item over the cars passing all five; and keeps the
/// first cars of the page's order among those passing every filter.
struct FacetCollector {
    /// Each list's chosen codes (empty: any will do).
    chosen: [Vec<u64>; LISTS],
    /// The equipment every car must have.
    equipment: u64,
    /// The exact distance, when "near" is set (the query holds its bounding box only).
    circle: Option<Circle>,
    page: Option<Arc<Page>>,
}

impl FacetCollector {
    fn new(filters: &CarFilters, page: Option<Page>) -> Self {
        fn codes<T: PartialEq + Copy>(all: &[T], chosen: &[T]) -> Vec<u64> {
            chosen.iter().map(|c| code(all, *c)).collect()
        }
        let specs = &filters.specs;
        FacetCollector {
            chosen: [
                codes(BodyType::ALL, &specs.body_types),
                codes(Fuel::ALL, &specs.fuels),
                codes(Transmission::ALL, &specs.transmissions),
                codes(Drive::ALL, &specs.drives),
                codes(Colour::ALL, &specs.colours),
            ],
            equipment: specs.equipment.0,
            // A town the gazetteer does not know: the query matches nothing.
            circle: filters.near.and_then(Circle::around),
            page: page.map(Arc::new),
        }
    }
}

/// The counts, by list and choice code, and by equipment bit.
#[derive(Clone, Debug, PartialEq)]
struct Tally {
    /// Cars passing every filter.
    cars: u64,
    lists: [[u64; MAX_CHOICES]; LISTS],
    items: [u64; 64],
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            cars: 0,
            lists: [[0; MAX_CHOICES]; LISTS],
            items: [0; 64],
        }
    }
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.cars += other.cars;
        for (mine, theirs) in self.lists.iter_mut().zip(&other.lists) {
            for (a, b) in mine.iter_mut().zip(theirs) {
                *a += b;
            }
        }
        for (a, b) in self.items.iter_mut().zip(&other.items) {
            *a += b;
        }
    }

    fn facets(&self) -> Facets {
        fn list<T: Copy>(all: &[T], counts: &[u64; MAX_CHOICES]) -> Vec<(T, i64)> {
            all.iter()
                .zip(counts)
                .map(|(choice, cars)| (*choice, i64::try_from(*cars).unwrap_or(i64::MAX)))
                .collect()
        }
        Facets {
            body_types: list(BodyType::ALL, &self.lists[0]),
            fuels: list(Fuel::ALL, &self.lists[1]),
            transmissions: list(Transmission::ALL, &self.lists[2]),
            drives: list(Drive::ALL, &self.lists[3]),
            colours: list(Colour::ALL, &self.lists[4]),
            equipment: EquipmentItem::ALL
                .iter()
                .map(|item| {
                    let cars = self.items[*item as usize];
                    (*item, i64::try_from(cars).unwrap_or(i64::MAX))
                })
                .collect(),
        }
    }
}

/// What one search found: the counts, and the page's first cars (key and id) in order.
struct Found {
    tally: Tally,
    page: Vec<(SortKey, i64)>,
}

/// The columns a segment's cars are read from.
struct SegmentTally {
    chosen: [Vec<u64>; LISTS],
    equipment_wanted: u64,
    circle: Option<Circle>,
    lists: [Column<u64>; LISTS],
    equipment: Column<u64>,
    latitude: Column<f64>,
    longitude: Column<f64>,
    tally: Tally,
    page: Option<SegmentPage>,
}

struct SegmentPage {
    page: Arc<Page>,
    id: Column<u64>,
    created_at: Column<i64>,
    price_cents: Column<i64>,
    year: Column<i64>,
    power_kw: Column<i64>,
    /// The first cars so far, the last in order on top.
    first: std::collections::BinaryHeap<(SortKey, i64)>,
}

impl SegmentPage {
    fn key(&self, doc: DocId, score: Score, distance: Option<f64>) -> (SortKey, i64) {
        let id = self
            .id
            .first(doc)
            .and_then(|id| i64::try_from(id).ok())
            .unwrap_or_default();
        let mut key = [0; KEY_LEN];
        let at_most = self.page.keys.len().min(KEY_LEN - 1);
        for (slot, term) in key.iter_mut().zip(&self.page.keys[..at_most]) {
            *slot = match *term {
                Key::CreatedAt { descending } => {
                    directed(self.created_at.first(doc).unwrap_or_default(), descending)
                }
                Key::Price { descending } => {
                    directed(self.price_cents.first(doc).unwrap_or_default(), descending)
                }
                Key::Year { descending } => {
                    directed(self.year.first(doc).unwrap_or_default(), descending)
                }
                Key::Power { descending } => self
                    .power_kw
                    .first(doc)
                    .map_or(i64::MAX, |kw| directed(kw, descending)),
                // Distances and scores are never negative: their bits keep their order.
                Key::Distance { descending } => directed(
                    i64::try_from(distance.unwrap_or_default().to_bits()).unwrap_or(i64::MAX),
                    descending,
                ),
                Key::Score => !i64::from(score.max(0.0).to_bits()),
            };
        }
        key[at_most] = directed(id, self.page.first_descending);
        (key, id)
    }

    fn offer(&mut self, entry: (SortKey, i64)) {
        if self.first.len() < self.page.limit {
            self.first.push(entry);
        } else if self.first.peek().is_some_and(|last| entry < *last) {
            self.first.pop();
            self.first.push(entry);
        }
    }
}

impl Collector for FacetCollector {
    type Fruit = Found;
    type Child = SegmentTally;

    fn for_segment(&self, _: u32, segment: &SegmentReader) -> tantivy::Result<SegmentTally> {
        let columns = segment.fast_fields();
        let lists = [
            columns.u64(LIST_NAMES[0])?,
            columns.u64(LIST_NAMES[1])?,
            columns.u64(LIST_NAMES[2])?,
            columns.u64(LIST_NAMES[3])?,
            columns.u64(LIST_NAMES[4])?,
        ];
        let page = match &self.page {
            Some(page) => Some(SegmentPage {
                page: page.clone(),
                id: columns.u64("id")?,
                created_at: columns.i64("created_at")?,
                price_cents: columns.i64("price_cents")?,
                year: columns.i64("year")?,
                power_kw: columns.i64("power_kw")?,
                first: std::collections::BinaryHeap::new(),
            }),
            None => None,
        };
        Ok(SegmentTally {
            chosen: self.chosen.clone(),
            equipment_wanted: self.equipment,
            circle: self.circle,
            lists,
            equipment: columns.u64("equipment")?,
            latitude: columns.f64("latitude")?,
            longitude: columns.f64("longitude")?,
            tally: Tally::default(),
            page,
        })
    }

    fn requires_scoring(&self) -> bool {
        self.page
            .as_ref()
            .is_some_and(|page| page.keys.contains(&Key::Score))
    }

    fn merge_fruits(&self, found: Vec<Found>) -> tantivy::Result<Found> {
        let mut tally = Tally::default();
        let mut page = Vec::new();
        for one in found {
            tally.add(&one.tally);
            page.extend(one.page);
        }
        page.sort_unstable();
        page.truncate(self.page.as_ref().map_or(0, |page| page.limit));
        Ok(Found { tally, page })
    }
}

impl SegmentCollector for SegmentTally {
    type Fruit = Found;

    fn collect(&mut self, doc: DocId, score: Score) {
        let mut distance = None;
        if let Some(circle) = &self.circle {
            let (Some(latitude), Some(longitude)) =
                (self.latitude.first(doc), self.longitude.first(doc))
            else {
                return;
            };
            let km = circle.distance_km(latitude, longitude);
            if km > circle.radius_km {
                return;
            }
            distance = Some(km);
        }
        let equipment = self.equipment.first(doc).unwrap_or_default();
        if equipment & self.equipment_wanted != self.equipment_wanted {
            return;
        }
        let mut codes = [None; LISTS];
        let mut failed = None;
        let mut failures = 0;
        for (at, column) in self.lists.iter().enumerate() {
            let value = column.first(doc);
            codes[at] = value;
            let chosen = &self.chosen[at];
            if !chosen.is_empty() && !value.is_some_and(|v| chosen.contains(&v)) {
                failures += 1;
                failed = Some(at);
            }
        }
        let count = |tally: &mut Tally, at: usize| {
            if let Some(value) = codes[at].and_then(|v| usize::try_from(v).ok()) {
                if let Some(slot) = tally.lists[at].get_mut(value) {
                    *slot += 1;
                }
            }
        };
        match (failures, failed) {
            (0, _) => {
                self.tally.cars += 1;
                for at in 0..LISTS {
                    count(&mut self.tally, at);
                }
                let mut bits = equipment;
                while bits != 0 {
                    let bit = bits.trailing_zeros() as usize;
                    if let Some(slot) = self.tally.items.get_mut(bit) {
                        *slot += 1;
                    }
                    bits &= bits - 1;
                }
                if let Some(page) = &mut self.page {
                    let entry = page.key(doc, score, distance);
                    page.offer(entry);
                }
            }
            // Left out by its own list alone: it counts for that list's choices.
            (1, Some(at)) => count(&mut self.tally, at),
            _ => {}
        }
    }

    fn harvest(self) -> Found {
        Found {
            tally: self.tally,
            page: self
                .page
                .map(|page| page.first.into_vec())
                .unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small pseudo-random sequence (the same cars on every run).
    struct Draw(u64);

    impl Draw {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) % n
        }

        fn pick<T: Copy>(&mut self, all: &[T]) -> Option<T> {
            // One car in eight has no value (an older listing).
            let at = self.below(all.len() as u64 + all.len() as u64 / 7 + 1) as usize;
            all.get(at).copied()
        }
    }

    const MAKES: [&str; 5] = ["Toyota", "toyota", "Ford", "Škoda", "Kia"];
    const MODELS: [&str; 5] = ["Corolla", "Focus", "Octavia", "Sportage", "Ford Edition"];
    const DESCRIPTIONS: [&str; 6] = [
        "",
        "One owner, full history.",
        "Fords its way through snow; new tyres.",
        "Rust-free, garage kept (one owner).",
        "Café racer styling, 2 keys",
        "Tows a Fordson; a ford crossing is no trouble.",
    ];

    async fn insert_cars(db: &Db, draw: &mut Draw, n: usize) {
        let chicago = crate::geo::gazetteer().town(CHICAGO).unwrap();
        // Towns from next door to 400 km away, and a few with no town at all.
        let towns: Vec<&crate::geo::Town> = crate::geo::gazetteer()
            .largest(2_000)
            .iter()
            .filter(|t| chicago.distance_km(t.latitude, t.longitude) < 400.0)
            .collect();
        for _ in 0..n {
            let town = towns.get(draw.below(towns.len() as u64 + 3) as usize);
            let mut sql = Sql::new(
                "INSERT INTO cars (seller_id, make, model, year, price_cents, mileage_km, \
                 condition, description, status, created_at, updated_at, body_type, fuel, \
                 transmission, drive, colour, power_kw, equipment, town_id, latitude, longitude) \
                 VALUES (1, ",
            );
            sql.bind(MAKES[draw.below(5) as usize])
                .push(", ")
                .bind(MODELS[draw.below(MODELS.len() as u64) as usize])
                .push(", ")
                .bind(1990 + draw.below(35) as i64)
                .push(", ")
                .bind(100_000 + draw.below(5_000_000) as i64)
                .push(", ")
                .bind(draw.below(300_000) as i64)
                .push(", ")
                .bind(if draw.below(4) == 0 { "new" } else { "used" })
                .push(", ")
                .bind(DESCRIPTIONS[draw.below(DESCRIPTIONS.len() as u64) as usize])
                .push(", ")
                .bind(if draw.below(10) == 0 {
                    "sold"
                } else {
                    "available"
                })
                .push(", ");
            // Some listed in the same second: the id breaks those ties.
            let listed = format!(
                "2026-{:02}-{:02}T{:02}:00:00Z",
                1 + draw.below(12),
                1 + draw.below(28),
                draw.below(3)
            );
            sql.bind(listed.as_str())
                .push(", ")
                .bind(listed.as_str())
                .push(", ");
            let body = draw.pick(BodyType::ALL).map(BodyType::as_str);
            let fuel = draw.pick(Fuel::ALL).map(Fuel::as_str);
            let gearbox = draw.pick(Transmission::ALL).map(Transmission::as_str);
            let drive = draw.pick(Drive::ALL).map(Drive::as_str);
            let colour = draw.pick(Colour::ALL).map(Colour::as_str);
            let power = (draw.below(8) > 0).then(|| 40 + draw.below(300) as i64);
            for value in [body, fuel, gearbox, drive, colour] {
                or_null(&mut sql, value).push(", ");
            }
            or_null(&mut sql, power).push(", ");
            sql.bind(draw.below(1 << 12) as i64 | (draw.below(1 << 12) as i64) << 12)
                .push(", ");
            or_null(&mut sql, town.map(|t| t.id)).push(", ");
            or_null(&mut sql, town.map(|t| t.latitude)).push(", ");
            or_null(&mut sql, town.map(|t| t.longitude)).push(")");
            on_db!(
                db,
                write
                    | pool
                    | bind_all!(sqlx::query(&sql.text), sql)
                        .execute(pool)
                        .await
                        .map(drop)
            )
            .unwrap();
        }
    }

    fn or_null(sql: &mut Sql, value: Option<impl Into<crate::db::Arg>>) -> &mut Sql {
        match value {
            Some(value) => sql.bind(value),
            None => sql.push("NULL"),
        }
    }

    /// A new SQLite database (in a directory that lasts as long as it is kept) with the
    /// seller every test car belongs to.
    async fn with_a_seller() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("index.db").display());
        let db = Db::connect(&url).await.unwrap();
        run(
            &db,
            "INSERT INTO users (id, username, password_hash, created_at) \
             VALUES (1, 'seller', 'x', '2026-01-01T00:00:00Z')",
        )
        .await;
        (dir, db)
    }

    async fn run(db: &Db, sql: &str) {
        on_db!(
            db,
            write | pool | sqlx::query(sql).execute(pool).await.map(drop)
        )
        .unwrap();
    }

    const CHICAGO: i64 = 4_887_398;

    /// Filter sets covering every filter the index answers, alone and together.
    fn cases() -> Vec<CarFilters> {
        let near = |radius_km| Near {
            town_id: CHICAGO,
            radius_km,
        };
        let mut cases = vec![CarFilters::default()];
        let mut f = CarFilters::default();
        f.specs.body_types = vec![BodyType::Suv, BodyType::Estate];
        cases.push(f.clone());
        f.specs.fuels = vec![Fuel::Electric, Fuel::Petrol];
        f.specs.transmissions = vec![Transmission::Automatic];
        f.specs.colours = vec![Colour::Black, Colour::White, Colour::Silver];
        cases.push(f);
        let mut f = CarFilters::default();
        f.specs.equipment = Equipment::from_db(0b101);
        f.specs.min_power_kw = Some(100);
        f.specs.drives = vec![Drive::AllWheel];
        cases.push(f);
        let mut f = CarFilters {
            near: Some(near(50)),
            ..CarFilters::default()
        };
        f.specs.body_types = vec![BodyType::Suv];
        cases.push(f);
        cases.push(CarFilters {
            near: Some(near(200)),
            min_price_cents: Some(1_000_000),
            max_year: Some(2015),
            make: Some("TOYOTA".into()),
            condition: Some(Condition::Used),
            ..CarFilters::default()
        });
        cases.push(CarFilters {
            near: Some(near(10)),
            max_mileage_km: Some(150_000),
            min_year: Some(2000),
            max_price_cents: Some(3_000_000),
            ..CarFilters::default()
        });
        cases.push(CarFilters {
            min_mileage_km: Some(40_000),
            max_mileage_km: Some(120_000),
            ..CarFilters::default()
        });
        // A make with a letter beyond ASCII, and a town nobody lives in.
        cases.push(CarFilters {
            make: Some("Škoda".into()),
            ..CarFilters::default()
        });
        cases.push(CarFilters {
            near: Some(Near {
                town_id: 1,
                radius_km: 500,
            }),
            ..CarFilters::default()
        });
        cases
    }

    /// Orders to page through: each sort of the marketplace, and API orders of two terms.
    fn orders() -> Vec<Vec<OrderTerm>> {
        let mut orders: Vec<Vec<OrderTerm>> = crate::cars::model::Sort::ALL
            .iter()
            .map(|sort| vec![sort.order()])
            .collect();
        let term = |field, descending| OrderTerm { field, descending };
        orders.push(vec![
            term(OrderField::Year, true),
            term(OrderField::Price, false),
        ]);
        orders.push(vec![
            term(OrderField::Power, false),
            term(OrderField::CreatedAt, false),
        ]);
        orders
    }

    /// The index's pages and totals equal the database's for every case and order (as sets
    /// for "best match" with words, which the two rank by different formulas).
    async fn assert_same_lists(db: &Db, index: &CarIndex, when: &str) {
        let (_, version) = counts(db).await.unwrap();
        let mut searches = cases();
        for q in ["ford", "SKO", "one own", "fords", "zzz", "!!"] {
            searches.push(CarFilters {
                q: Some(q.into()),
                ..CarFilters::default()
            });
        }
        // Words and ranges together (the tie between equal matches is the newest).
        searches.push(CarFilters {
            q: Some("toyota".into()),
            min_year: Some(2005),
            ..CarFilters::default()
        });
        searches.push(CarFilters {
            q: Some("ford one".into()),
            max_price_cents: Some(3_000_000),
            min_mileage_km: Some(10_000),
            ..CarFilters::default()
        });
        searches.push(CarFilters {
            q: Some("corolla".into()),
            near: Some(Near {
                town_id: CHICAGO,
                radius_km: 200,
            }),
            ..CarFilters::default()
        });
        for filters in searches {
            let search = Search::new(db, &filters);
            let count = count_sql(db, &filters, &search);
            let expected_total: i64 = on_db!(
                db,
                read | pool
                    | bind_all!(sqlx::query_scalar(&count.text), count)
                        .fetch_one(pool)
                        .await
            )
            .unwrap();
            // A cache with no index: the SQL query counts.
            let expected_facets = facet_counts(db, &ListCache::default(), &filters)
                .await
                .unwrap();
            for order in orders() {
                for (page, page_size) in [(1, 1_000), (2, 7)] {
                    let window = Window {
                        order: &order,
                        page,
                        page_size,
                    };
                    let offset = i64::from(page - 1) * i64::from(page_size);
                    let sql = page_sql(db, "c.id", &filters, &search, window, offset);
                    let mut expected: Vec<i64> = on_db!(
                        db,
                        read | pool
                            | bind_all!(sqlx::query_scalar(&sql.text), sql)
                                .fetch_all(pool)
                                .await
                    )
                    .unwrap();
                    let (total, ids, facets) = index
                        .list(db, version, &filters, window, offset)
                        .await
                        .unwrap()
                        .expect("the index answers");
                    let what = format!("{when}: {filters:?} by {order:?}, page {page}");
                    assert_eq!(total, expected_total, "{what}");
                    assert_eq!(facets, expected_facets, "{what}");
                    let ranked = filters.q.is_some()
                        && order
                            .first()
                            .is_some_and(|t| t.field == OrderField::Relevance);
                    if ranked {
                        // SQL ranks by bm25, the index by the fields a word is found in
                        // (make 10, model 5, description 1), then the newest: the same
                        // cars, and the index's order as that rule gives it.
                        if page == 1 {
                            let mut theirs = ids.clone();
                            theirs.sort_unstable();
                            expected.sort_unstable();
                            assert_eq!(theirs, expected, "{what}");
                        }
                        let q = filters.q.as_deref().unwrap_or_default();
                        let all = best_matches(db, q, &filters).await;
                        let expected: Vec<i64> = all
                            .into_iter()
                            .skip(usize::try_from(offset).unwrap())
                            .take(page_size as usize)
                            .collect();
                        assert_eq!(ids, expected, "{what}");
                        continue;
                    }
                    assert_eq!(ids, expected, "{what}");
                }
            }
        }
    }

    /// The cars `filters` finds, best match first as the index's rule has it: for each
    /// word of `q`, 10 if it starts a word of the make, 5 of the model, 1 of the
    /// description; then the newest listing; then the highest id.
    async fn best_matches(db: &Db, q: &str, filters: &CarFilters) -> Vec<i64> {
        let search = Search::new(db, filters);
        let mut members = Sql::new(format!(
            "SELECT c.id, c.make, c.model, c.description, c.created_at{}",
            from_cars(db, &search, Reads::Row)
        ));
        push_filters(db, &mut members, filters, &search);
        let rows: Vec<(i64, String, String, String, DateTime<Utc>)> = on_db!(
            db,
            read | pool
                | bind_all!(sqlx::query_as(&members.text), members)
                    .fetch_all(pool)
                    .await
        )
        .unwrap();
        let mut analyzer = words_analyzer();
        let mut terms = |text: &str| {
            let mut out = Vec::new();
            analyzer
                .token_stream(text)
                .process(&mut |token| out.push(token.text.clone()));
            out
        };
        let asked: Vec<String> = search_words(q)
            .unwrap_or_default()
            .into_iter()
            .flat_map(&mut terms)
            .collect();
        let mut scored: Vec<(u32, DateTime<Utc>, i64)> = rows
            .into_iter()
            .map(|(id, make, model, description, created_at)| {
                let fields = [terms(&make), terms(&model), terms(&description)];
                let score = asked
                    .iter()
                    .map(|term| {
                        fields
                            .iter()
                            .zip([10, 5, 1])
                            .filter(|(words, _)| words.iter().any(|w| w.starts_with(term)))
                            .map(|(_, weight)| weight)
                            .sum::<u32>()
                    })
                    .sum();
                (score, created_at, id)
            })
            .collect();
        scored.sort_unstable_by(|a, b| b.cmp(a));
        scored.into_iter().map(|(_, _, id)| id).collect()
    }

    /// The index's counts equal the database's for every case, at the data's version.
    async fn assert_same_counts(db: &Db, index: &CarIndex, when: &str) {
        assert_same_lists(db, index, when).await;
        let (_, version) = counts(db).await.unwrap();
        let mut nonzero = 0;
        for filters in cases() {
            // A cache with no index: the SQL query counts.
            let expected = facet_counts(db, &ListCache::default(), &filters)
                .await
                .unwrap();
            let counted = index.facets(db, version, &filters).await.unwrap();
            assert_eq!(counted.as_ref(), Some(&expected), "{when}: {filters:?}");
            nonzero += expected.body_types.iter().filter(|(_, n)| *n > 0).count();
        }
        assert!(nonzero > 10, "the cases find cars ({when})");
    }

    #[tokio::test]
    async fn the_index_counts_what_the_database_counts_as_the_cars_change() {
        let (_dir, db) = with_a_seller().await;
        let mut draw = Draw(7);
        insert_cars(&db, &mut draw, 600).await;
        let index = CarIndex::default();
        assert_eq!(
            index.facets(&db, 0, &CarFilters::default()).await.unwrap(),
            None,
            "not built yet: the database answers"
        );
        index.build(&db).await.unwrap();
        assert_same_counts(&db, &index, "built").await;

        // Edits, sales, deletions and new cars: taken in from the log of changes.
        insert_cars(&db, &mut draw, 50).await;
        run(
            &db,
            "UPDATE cars SET price_cents = price_cents + 700000 WHERE id % 7 = 0",
        )
        .await;
        run(&db, "UPDATE cars SET status = 'sold' WHERE id % 11 = 0").await;
        run(
            &db,
            "UPDATE cars SET status = 'available' WHERE id % 13 = 0",
        )
        .await;
        run(
            &db,
            "UPDATE cars SET body_type = 'suv', latitude = NULL, longitude = NULL \
             WHERE id % 17 = 0",
        )
        .await;
        run(&db, "DELETE FROM cars WHERE id % 19 = 0").await;
        let before = index.engine.get().unwrap().version.load(Ordering::Acquire);
        assert_same_counts(&db, &index, "caught up").await;
        let after = index.engine.get().unwrap().version.load(Ordering::Acquire);
        assert!(after > before, "the index took in the changes");

        // The log pruned past the index's version: it reads every car again.
        run(&db, "UPDATE cars SET colour = 'red' WHERE id % 5 = 0").await;
        run(&db, "DELETE FROM car_changes").await;
        run(&db, "UPDATE cars SET fuel = 'electric' WHERE id % 3 = 0").await;
        assert_same_counts(&db, &index, "rebuilt").await;
    }

    #[tokio::test]
    async fn far_behind_the_database_answers_while_the_index_catches_up_by_itself() {
        let (_dir, db) = with_a_seller().await;
        let mut draw = Draw(11);
        insert_cars(&db, &mut draw, 100).await;
        let index = CarIndex::default();
        index.build(&db).await.unwrap();
        // More new cars than a request waits for, in more than one batch of changes.
        let burst = WAIT_AT_MOST + 100;
        assert!(burst > MAX_CATCH_UP);
        insert_cars(&db, &mut draw, burst as usize).await;
        let (_, version) = counts(&db).await.unwrap();
        let engine = index.engine.get().unwrap();
        let before = engine.version.load(Ordering::Acquire);
        assert_eq!(
            index
                .facets(&db, version, &CarFilters::default())
                .await
                .unwrap(),
            None,
            "too far behind: the database answers"
        );
        assert_eq!(
            engine.version.load(Ordering::Acquire),
            before,
            "the request did not wait"
        );
        for _ in 0..200 {
            if !engine.in_background.load(Ordering::Acquire) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(engine.version.load(Ordering::Acquire) >= version);
        assert_same_counts(&db, &index, "caught up in the background").await;
    }

    #[tokio::test]
    async fn pruning_keeps_the_recent_changes() {
        let (_dir, db) = with_a_seller().await;
        insert_cars(&db, &mut Draw(3), 20).await;
        let logged = |db: &Db| {
            let db = db.clone();
            async move {
                on_db!(
                    &db,
                    read | pool
                        | sqlx::query_as::<_, (i64, i64)>(
                            "SELECT COUNT(*), COALESCE(MAX(version), 0) FROM car_changes",
                        )
                        .fetch_one(pool)
                        .await
                )
                .unwrap()
            }
        };
        let (changes, last) = logged(&db).await;
        assert_eq!(changes, 20, "each insert logged");
        assert_eq!(prune_car_changes(&db).await.unwrap(), 0, "all recent");
        run(
            &db,
            &format!("UPDATE car_counts SET version = version + {KEPT_CHANGES} - 10"),
        )
        .await;
        assert_eq!(prune_car_changes(&db).await.unwrap(), 10);
        let (changes, newest) = logged(&db).await;
        assert_eq!((changes, newest), (10, last));
    }
}
