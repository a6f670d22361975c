//! The search index: each app server keeps the cars for sale in a tantivy index in memory
//! and counts the facets from it, in one pass over the cars that match (milliseconds at
//! 100,000 cars, where grouping them in SQL took up to half a second; bench/README.md,
//! "Choosing the search engine").
//!
//! Never older than the data, with any number of app servers: every insert, update and
//! delete of a car bumps `car_counts.version` and logs the car's id under the new version
//! in `car_changes` (triggers; see the `car_changes` migration). A request reads that
//! version anyway (the list cache); before the index answers it, the index takes in every
//! change up to it: the cars logged since its own version are read again and replaced, in
//! one commit. An index further behind than the log keeps reads every car again.
//!
//! Until its first build is done (at start, in the background) the SQL query answers,
//! and so it does for a search with words (the engine's own full-text index).

use super::*;
use std::ops::Bound;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::{AllQuery, BooleanQuery, EmptyQuery, Query, RangeQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema, FAST, INDEXED, STRING};
use tantivy::{
    DocId, Index, IndexReader, IndexWriter, ReloadPolicy, Score, SegmentReader, TantivyDocument,
    Term,
};

/// The most logged changes taken in one catch-up; further behind, every car is read again.
const MAX_CATCH_UP: i64 = 20_000;

/// How many changes the log keeps (about a day of a busy marketplace's edits).
const KEPT_CHANGES: i64 = 100_000;

/// Cars read per query while (re)building.
const BATCH: i64 = 5_000;

/// The index's memory for documents not yet committed (tantivy's minimum is 15 MB).
const WRITER_MEMORY: usize = 50_000_000;

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
    engine: OnceLock<Engine>,
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
    reader: IndexReader,
    writer: Arc<std::sync::Mutex<IndexWriter>>,
    /// One request at a time reads the changes; the others wait for its commit.
    catching_up: tokio::sync::Mutex<()>,
    /// The version of the cars the index holds: every change up to it is in.
    version: AtomicI64,
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
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

/// The list filters' names, as the index's fields and the cars table's columns.
const LIST_NAMES: [&str; LISTS] = ["body_type", "fuel", "transmission", "drive", "colour"];

impl Fields {
    fn schema() -> (Schema, Fields) {
        let mut schema = Schema::builder();
        let fields = Fields {
            id: schema.add_u64_field("id", INDEXED | FAST),
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
    make: String,
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

const INDEX_COLUMNS: &str = "id, make, price_cents, year, mileage_km, condition, power_kw, \
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
        let choices = [
            self.body_type
                .as_deref()
                .and_then(BodyType::parse)
                .map(|c| code(BodyType::ALL, c)),
            self.fuel
                .as_deref()
                .and_then(Fuel::parse)
                .map(|c| code(Fuel::ALL, c)),
            self.transmission
                .as_deref()
                .and_then(Transmission::parse)
                .map(|c| code(Transmission::ALL, c)),
            self.drive
                .as_deref()
                .and_then(Drive::parse)
                .map(|c| code(Drive::ALL, c)),
            self.colour
                .as_deref()
                .and_then(Colour::parse)
                .map(|c| code(Colour::ALL, c)),
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
            reader,
            writer: Arc::new(std::sync::Mutex::new(writer)),
            catching_up: tokio::sync::Mutex::new(()),
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

    /// The index holding every change up to `version`, or `None` while it is not built.
    async fn at_version(&self, db: &Db, version: i64) -> Result<Option<&Engine>, AppError> {
        let Some(engine) = self.engine.get() else {
            return Ok(None);
        };
        if engine.version.load(Ordering::Acquire) < version {
            let _turn = engine.catching_up.lock().await;
            if engine.version.load(Ordering::Acquire) < version {
                engine.catch_up(db).await?;
            }
        }
        Ok(Some(engine))
    }

    /// The facet counts for `filters` from the index, when it can answer them: built, and
    /// no words to search for (those the database's full-text index answers).
    pub(super) async fn facets(
        &self,
        db: &Db,
        version: i64,
        filters: &CarFilters,
    ) -> Result<Option<Facets>, AppError> {
        if filters.q.is_some() {
            return Ok(None);
        }
        let Some(engine) = self.at_version(db, version).await? else {
            return Ok(None);
        };
        let query = engine.query(filters);
        let collector = FacetCollector::new(filters);
        let searcher = engine.reader.searcher();
        let tally = tokio::task::spawn_blocking(move || searcher.search(&*query, &collector))
            .await
            .map_err(|e| index_error("counting the facets", e))?
            .map_err(|e| index_error("counting the facets", e))?;
        Ok(Some(tally.facets()))
    }

    /// Whether the index is built (tests wait for it).
    pub fn is_built(&self) -> bool {
        self.engine.get().is_some()
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
    /// Every car for sale read again, replacing what the index held, in one commit. The
    /// version is read first: a change made while the cars are read is logged after it, and
    /// taken in again by the next catch-up.
    async fn rebuild(&self, db: &Db) -> Result<(), AppError> {
        let (_, version) = counts(db).await?;
        let mut documents = Vec::new();
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
            documents.extend(rows.iter().map(|row| row.document(&self.fields)));
            if !full {
                break;
            }
        }
        self.commit(version, move |writer, _| {
            writer.delete_all_documents()?;
            for document in documents {
                writer.add_document(document)?;
            }
            Ok(())
        })
        .await
    }

    /// Takes in the changes logged since the index's version: each changed car is removed,
    /// and put back as it is now if it is for sale.
    async fn catch_up(&self, db: &Db) -> Result<(), AppError> {
        let from = self.version.load(Ordering::Acquire);
        let changes: Vec<(i64, i64)> = on_db!(
            db,
            read | pool
                | sqlx::query_as(
                    "SELECT version, car_id FROM car_changes WHERE version > $1 \
                     ORDER BY version LIMIT $2",
                )
                .bind(from)
                .bind(MAX_CATCH_UP + 1)
                .fetch_all(pool)
                .await
        )?;
        // Versions are logged one by one: a gap means the log was pruned past this index.
        let whole = changes.first().is_some_and(|(first, _)| *first == from + 1)
            && (changes.len() as i64) <= MAX_CATCH_UP;
        if !whole {
            return self.rebuild(db).await;
        }
        let version = changes.last().map_or(from, |(version, _)| *version);
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
        range(f.mileage_km, None, filters.max_mileage_km);
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

    fn holds(&self, latitude: f64, longitude: f64) -> bool {
        let cosine = latitude.to_radians().sin() * self.sin_latitude
            + latitude.to_radians().cos()
                * self.cos_latitude
                * (longitude.to_radians() - self.longitude).cos();
        crate::geo::EARTH_RADIUS_KM * cosine.clamp(-1.0, 1.0).acos() <= self.radius_km
    }
}

/// Counts, for the cars the query found, each list's choices over the cars passing the
/// other four lists, and each equipment item over the cars passing all five.
struct FacetCollector {
    /// Each list's chosen codes (empty: any will do).
    chosen: [Vec<u64>; LISTS],
    /// The equipment every car must have.
    equipment: u64,
    /// The exact distance, when "near" is set (the query holds its bounding box only).
    circle: Option<Circle>,
}

impl FacetCollector {
    fn new(filters: &CarFilters) -> Self {
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

struct SegmentTally {
    chosen: [Vec<u64>; LISTS],
    equipment_wanted: u64,
    circle: Option<Circle>,
    lists: [Column<u64>; LISTS],
    equipment: Column<u64>,
    latitude: Column<f64>,
    longitude: Column<f64>,
    tally: Tally,
}

impl Collector for FacetCollector {
    type Fruit = Tally;
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
        Ok(SegmentTally {
            chosen: self.chosen.clone(),
            equipment_wanted: self.equipment,
            circle: self.circle,
            lists,
            equipment: columns.u64("equipment")?,
            latitude: columns.f64("latitude")?,
            longitude: columns.f64("longitude")?,
            tally: Tally::default(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, tallies: Vec<Tally>) -> tantivy::Result<Tally> {
        let mut all = Tally::default();
        for tally in &tallies {
            all.add(tally);
        }
        Ok(all)
    }
}

impl SegmentCollector for SegmentTally {
    type Fruit = Tally;

    fn collect(&mut self, doc: DocId, _: Score) {
        if let Some(circle) = &self.circle {
            let (Some(latitude), Some(longitude)) =
                (self.latitude.first(doc), self.longitude.first(doc))
            else {
                return;
            };
            if !circle.holds(latitude, longitude) {
                return;
            }
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
            }
            // Left out by its own list alone: it counts for that list's choices.
            (1, Some(at)) => count(&mut self.tally, at),
            _ => {}
        }
    }

    fn harvest(self) -> Tally {
        self.tally
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
            sql.bind(MAKES[draw.below(5) as usize].to_owned())
                .push(", 'Model', ")
                .bind(1990 + draw.below(35) as i64)
                .push(", ")
                .bind(100_000 + draw.below(5_000_000) as i64)
                .push(", ")
                .bind(draw.below(300_000) as i64)
                .push(", ")
                .bind(if draw.below(4) == 0 { "new" } else { "used" })
                .push(", '', ")
                .bind(if draw.below(10) == 0 {
                    "sold"
                } else {
                    "available"
                })
                .push(", '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', ");
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

    /// The index's counts equal the database's for every case, at the data's version.
    async fn assert_same_counts(db: &Db, index: &CarIndex, when: &str) {
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
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("index.db").display());
        let db = Db::connect(&url).await.unwrap();
        run(
            &db,
            "INSERT INTO users (id, username, password_hash, created_at) \
             VALUES (1, 'seller', 'x', '2026-01-01T00:00:00Z')",
        )
        .await;
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
    async fn pruning_keeps_the_recent_changes() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("prune.db").display());
        let db = Db::connect(&url).await.unwrap();
        run(
            &db,
            "INSERT INTO users (id, username, password_hash, created_at) \
             VALUES (1, 'seller', 'x', '2026-01-01T00:00:00Z')",
        )
        .await;
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
