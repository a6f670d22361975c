//! Car queries. Each takes the database handle and runs on whichever engine it holds.

use super::model::{
    Car, CarDraft, CarFilters, CarPage, CarSummary, Condition, OrderField, OrderTerm, Status,
    MAX_RESULTS, PAGE_SIZE,
};
use crate::{
    auth::model::User,
    db::{
        bind_all,
        group_commit::{BoxFuture, Rows, WriteQueue},
        on_db, Db, Sql, Stamp,
    },
    error::AppError,
};
use chrono::{DateTime, Utc};
use std::fmt::Write;

pub fn media_url(name: &str) -> String {
    format!("/media/{name}")
}

#[derive(sqlx::FromRow)]
struct CarRow {
    id: i64,
    seller_id: i64,
    seller_username: String,
    make: String,
    model: String,
    year: i32,
    price_cents: i64,
    mileage_km: i64,
    condition: String,
    description: String,
    photo: Option<String>,
    image_url: Option<String>,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<CarRow> for Car {
    fn from(row: CarRow) -> Self {
        Car {
            id: row.id,
            seller_id: row.seller_id,
            seller_username: row.seller_username,
            make: row.make,
            model: row.model,
            year: row.year,
            price_cents: row.price_cents,
            mileage_km: row.mileage_km,
            condition: Condition::parse(&row.condition).unwrap_or_default(),
            description: row.description,
            photo_url: row.photo.as_deref().map(media_url),
            image_url: row.image_url,
            status: Status::parse(&row.status).unwrap_or_default(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: i64,
    make: String,
    model: String,
    year: i32,
    price_cents: i64,
    mileage_km: i64,
    condition: String,
    status: String,
    photo: Option<String>,
    image_url: Option<String>,
}

impl From<SummaryRow> for CarSummary {
    fn from(row: SummaryRow) -> Self {
        CarSummary {
            id: row.id,
            make: row.make,
            model: row.model,
            year: row.year,
            price_cents: row.price_cents,
            mileage_km: row.mileage_km,
            condition: Condition::parse(&row.condition).unwrap_or_default(),
            status: Status::parse(&row.status).unwrap_or_default(),
            // Cards load the thumbnail; the details page loads the full photo.
            image: row
                .photo
                .as_deref()
                .map(|name| media_url(&crate::media::thumbnail_name(name)))
                .or(row.image_url),
        }
    }
}

const CAR_COLUMNS: &str = "c.id, c.seller_id, u.username AS seller_username, c.make, c.model, c.year, c.price_cents, \
     c.mileage_km, c.condition, c.description, c.photo, c.image_url, c.status, c.created_at, c.updated_at";
const SUMMARY_COLUMNS: &str = "c.id, c.make, c.model, c.year, c.price_cents, c.mileage_km, c.condition, c.status, c.photo, c.image_url";

/// A listing to add: the seller's draft and the name its photo was stored under.
pub struct NewCar {
    pub seller_id: i64,
    pub draft: CarDraft,
    pub photo: Option<String>,
    /// Available for a new listing; the demo data also has pending and sold ones.
    pub status: Status,
    pub listed: Stamp,
}

/// New listings. On SQLite, those that sellers send at the same moment go in together,
/// one statement and one commit (see `group_commit`).
pub struct NewCars;

/// Where new listings go: on SQLite the queue in front of the writer connection, on
/// PostgreSQL (which commits concurrent transactions together itself) straight in.
#[derive(Debug)]
pub struct NewCarQueue(Option<WriteQueue<NewCars>>);

impl NewCarQueue {
    pub fn start(db: &Db) -> Self {
        NewCarQueue(match db {
            Db::Sqlite { writer, .. } => Some(WriteQueue::start(writer.clone())),
            Db::Postgres { .. } => None,
        })
    }
}

/// How a statement marks its parameters; both forms are bound in the same order.
#[derive(Clone, Copy, Debug)]
pub enum Params {
    /// `$1`, `$2`, …: PostgreSQL's form, which SQLite reads too.
    Numbered,
    /// `?`, SQLite only. sqlx asks SQLite for each parameter's name to place it, and
    /// SQLite finds a name by walking the statement's list of names, so a many-row
    /// `INSERT` with numbered parameters costs a walk per value. Unnamed ones are placed
    /// in order, with no list to walk.
    InOrder,
}

/// `INSERT` for `rows` listings, in the order [`bind_new_cars!`] binds their values.
pub fn insert_cars_sql(rows: usize, params: Params) -> String {
    let mut sql = String::from(
        "INSERT INTO cars (seller_id, make, model, year, price_cents, mileage_km, condition, \
         description, photo, image_url, status, created_at, updated_at) VALUES ",
    );
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for value in 0..VALUES_PER_CAR {
            if value > 0 {
                sql.push_str(", ");
            }
            match params {
                Params::Numbered => {
                    let _ = write!(sql, "${}", row * VALUES_PER_CAR + value + 1);
                }
                Params::InOrder => sql.push('?'),
            }
        }
        sql.push(')');
    }
    sql.push_str(" RETURNING id");
    sql
}

/// The values bound for each [`NewCar`].
const VALUES_PER_CAR: usize = 13;

/// Binds each [`NewCar`]'s thirteen values, in the order [`insert_cars_sql`] lists them.
macro_rules! bind_new_cars {
    ($query:expr, $rows:expr) => {{
        let mut query = $query;
        for car in $rows {
            query = query
                .bind(car.seller_id)
                .bind(&car.draft.make)
                .bind(&car.draft.model)
                .bind(car.draft.year)
                .bind(car.draft.price_cents)
                .bind(car.draft.mileage_km)
                .bind(car.draft.condition.as_str())
                .bind(&car.draft.description)
                .bind(&car.photo)
                .bind(&car.draft.image_url)
                .bind(car.status.as_str())
                // The listing's time is both its created and updated time.
                .bind(car.listed)
                .bind(car.listed);
        }
        query
    }};
}
pub(crate) use bind_new_cars;

impl Rows for NewCars {
    type Row = NewCar;
    type Added = i64;

    fn add<'c>(
        conn: &'c mut sqlx::SqliteConnection,
        rows: &'c [NewCar],
    ) -> BoxFuture<'c, Result<Vec<i64>, sqlx::Error>> {
        Box::pin(async move {
            let sql = insert_cars_sql(rows.len(), Params::InOrder);
            let mut ids: Vec<i64> = bind_new_cars!(sqlx::query_scalar(&sql), rows)
                .fetch_all(conn)
                .await?;
            // One INSERT gives its rows rising ids in the order of its VALUES (each is one
            // more than the largest before it), but RETURNING does not promise that order.
            ids.sort_unstable();
            Ok(ids)
        })
    }
}

/// Inserts a listing for `seller` and returns it as stored: every field but the id is
/// what was written, so the caller's answer needs no second read.
pub async fn insert_car(
    db: &Db,
    queue: &NewCarQueue,
    seller: &User,
    car: &CarDraft,
    photo: Option<&str>,
) -> Result<Car, AppError> {
    let new = NewCar {
        seller_id: seller.id,
        draft: car.clone(),
        photo: photo.map(str::to_owned),
        status: Status::Available,
        listed: Stamp::now(),
    };
    let (new, id) = match &queue.0 {
        Some(queue) => queue.add(new).await?,
        None => {
            let sql = insert_cars_sql(1, Params::Numbered);
            let id = on_db!(
                db,
                write
                    | pool
                    | bind_new_cars!(sqlx::query_scalar(&sql), [&new])
                        .fetch_one(pool)
                        .await
            )?;
            (new, id)
        }
    };
    let NewCar {
        draft,
        photo,
        status,
        listed,
        ..
    } = new;
    Ok(Car {
        id,
        seller_id: seller.id,
        seller_username: seller.username.clone(),
        make: draft.make,
        model: draft.model,
        year: draft.year,
        price_cents: draft.price_cents,
        mileage_km: draft.mileage_km,
        condition: draft.condition,
        description: draft.description,
        photo_url: photo.as_deref().map(media_url),
        image_url: draft.image_url,
        status,
        created_at: listed.0,
        updated_at: listed.0,
    })
}

/// The column updates of an edit, binding `$1`..`$10` (the photo is `$9`: kept when null).
const UPDATE_CAR_SET: &str = "make = $1, model = $2, year = $3, price_cents = $4, mileage_km = $5, \
     condition = $6, description = $7, image_url = $8, photo = COALESCE($9, cars.photo), updated_at = $10";

macro_rules! bind_car_update {
    ($query:expr, $car:expr, $photo:expr, $id:expr) => {
        $query
            .bind(&$car.make)
            .bind(&$car.model)
            .bind($car.year)
            .bind($car.price_cents)
            .bind($car.mileage_km)
            .bind($car.condition.as_str())
            .bind(&$car.description)
            .bind(&$car.image_url)
            .bind($photo)
            .bind(Stamp::now())
            .bind($id)
    };
}

/// Replaces a listing's fields, and its photo when `photo` is given. Returns the photo
/// that was replaced, for the caller to remove from the store. The old name is read in
/// the same atomic step as the write (PostgreSQL: one `UPDATE … FROM (… FOR UPDATE)
/// RETURNING` statement; SQLite: one transaction on its single writer), so edits racing
/// to replace the photo each learn the name they really replaced: no file is orphaned.
pub async fn update_car(
    db: &Db,
    id: i64,
    car: &CarDraft,
    photo: Option<&str>,
) -> Result<Option<String>, AppError> {
    let replaced: Option<Option<String>> = match db {
        Db::Postgres { pool } => {
            let sql = format!(
                "UPDATE cars SET {UPDATE_CAR_SET} \
                 FROM (SELECT id, photo FROM cars WHERE id = $11 FOR UPDATE) AS old \
                 WHERE cars.id = old.id RETURNING old.photo"
            );
            bind_car_update!(sqlx::query_scalar(&sql), car, photo, id)
                .fetch_optional(pool)
                .await?
        }
        Db::Sqlite { writer, .. } => {
            let mut tx = writer.begin().await?;
            let old: Option<Option<String>> =
                sqlx::query_scalar("SELECT photo FROM cars WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if old.is_some() {
                let sql = format!("UPDATE cars SET {UPDATE_CAR_SET} WHERE id = $11");
                bind_car_update!(sqlx::query(&sql), car, photo, id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            old
        }
    };
    let replaced = replaced.ok_or_else(AppError::not_found)?;
    Ok(replaced.filter(|_| photo.is_some()))
}

pub async fn set_status(db: &Db, id: i64, status: Status) -> Result<(), AppError> {
    let result = on_db!(
        db,
        write
            | pool
            | sqlx::query("UPDATE cars SET status = $1, updated_at = $2 WHERE id = $3")
                .bind(status.as_str())
                .bind(Stamp::now())
                .bind(id)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
    )?;
    if result == 0 {
        return Err(AppError::not_found());
    }
    Ok(())
}

/// Deletes the listing and returns the name of its stored photo, if it had one.
pub async fn delete_car(db: &Db, id: i64) -> Result<Option<String>, AppError> {
    let photo: Option<Option<String>> = on_db!(
        db,
        write
            | pool
            | sqlx::query_scalar("DELETE FROM cars WHERE id = $1 RETURNING photo")
                .bind(id)
                .fetch_optional(pool)
                .await
    )?;
    photo.ok_or_else(AppError::not_found)
}

/// The listing's current photo name and seller, for ownership checks.
pub async fn find_owner(db: &Db, id: i64) -> Result<(i64, Option<String>), AppError> {
    on_db!(
        db,
        read | pool
            | sqlx::query_as::<_, (i64, Option<String>)>(
                "SELECT seller_id, photo FROM cars WHERE id = $1"
            )
            .bind(id)
            .fetch_optional(pool)
            .await
    )?
    .ok_or_else(|| AppError::NotFound("This listing does not exist or has been removed.".into()))
}

pub async fn find_car_by_id(db: &Db, id: i64) -> Result<Option<Car>, AppError> {
    let sql = format!(
        "SELECT {CAR_COLUMNS} FROM cars c JOIN users u ON u.id = c.seller_id WHERE c.id = $1"
    );
    let row = on_db!(
        db,
        read | pool
            | sqlx::query_as::<_, CarRow>(&sql)
                .bind(id)
                .fetch_optional(pool)
                .await
    )?;
    Ok(row.map(Car::from))
}

/// Every listing of one seller, whatever its status, newest first.
pub async fn list_cars_by_seller(db: &Db, seller_id: i64) -> Result<Vec<CarSummary>, AppError> {
    let sql = format!("SELECT {SUMMARY_COLUMNS} FROM cars c WHERE c.seller_id = $1 ORDER BY c.created_at DESC, c.id DESC");
    let rows = on_db!(
        db,
        read | pool
            | sqlx::query_as::<_, SummaryRow>(&sql)
                .bind(seller_id)
                .fetch_all(pool)
                .await
    )?;
    Ok(rows.into_iter().map(CarSummary::from).collect())
}

/// Every listing of one seller in full (the API's my_listings), newest first.
pub async fn list_full_cars_by_seller(db: &Db, seller_id: i64) -> Result<Vec<Car>, AppError> {
    let sql = format!(
        "SELECT {CAR_COLUMNS} FROM cars c JOIN users u ON u.id = c.seller_id \
         WHERE c.seller_id = $1 ORDER BY c.created_at DESC, c.id DESC"
    );
    let rows = on_db!(
        db,
        read | pool
            | sqlx::query_as::<_, CarRow>(&sql)
                .bind(seller_id)
                .fetch_all(pool)
                .await
    )?;
    Ok(rows.into_iter().map(Car::from).collect())
}

/// The Make filter's choices when the cars are at `version` (read by the caller): each
/// make with an available car, once however sellers spelled its case (the filter ignores
/// case too). The list an earlier request read, if the cars have not changed since, else
/// the query.
async fn makes_at(db: &Db, cache: &ListCache, version: i64) -> Result<Vec<String>, AppError> {
    if let Some(makes) = cache.makes(version) {
        return Ok(makes);
    }
    let makes = query_available_makes(db).await?;
    cache.put_makes(version, makes.clone());
    Ok(makes)
}

/// A loose index scan: each step seeks the next make in `cars_status_make`, so the cost
/// grows with the number of makes, not of cars.
async fn query_available_makes(db: &Db) -> Result<Vec<String>, AppError> {
    Ok(on_db!(
        db,
        read | pool
            | sqlx::query_scalar(
                "WITH RECURSIVE makes(make) AS ( \
             SELECT MIN(make COLLATE NOCASE) FROM cars WHERE status = 'available' \
             UNION ALL \
             SELECT (SELECT MIN(c.make COLLATE NOCASE) FROM cars c \
                     WHERE c.status = 'available' AND c.make COLLATE NOCASE > makes.make) \
             FROM makes WHERE makes.make IS NOT NULL) \
         SELECT make FROM makes WHERE make IS NOT NULL ORDER BY make COLLATE NOCASE",
            )
            .fetch_all(pool)
            .await
    )?)
}

/// The number of cars for sale and the version of the cars table, kept by triggers.
async fn counts(db: &Db) -> Result<(i64, i64), AppError> {
    Ok(on_db!(
        db,
        read | pool
            | sqlx::query_as("SELECT available, version FROM car_counts WHERE id = 1")
                .fetch_one(pool)
                .await
    )?)
}

/// The search box's words, at most 8. Control characters separate words like spaces
/// (a NUL would end an FTS5 string early). `None` when a word has no letter or digit
/// at all: it can match nothing.
fn search_words(q: &str) -> Option<Vec<&str>> {
    let words = q
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .take(8)
        .collect::<Vec<_>>();
    words
        .iter()
        .all(|w| w.chars().any(char::is_alphanumeric))
        .then_some(words)
}

/// The search box as an FTS5 query: every word must match the start of a word in the
/// make, model or description (`civ` finds Civic), case- and accent-insensitively.
/// Each word is quoted, so FTS5 operators typed by a user are plain text.
pub fn fts_query(q: &str) -> Option<String> {
    let terms: Vec<String> = search_words(q)?
        .into_iter()
        .map(|word| format!("\"{}\"*", word.replace('"', "\"\"")))
        .collect();
    Some(terms.join(" "))
}

/// The search box as a PostgreSQL `tsquery` with the same meaning as [`fts_query`]:
/// every word must match the start of a word. Each word is a quoted lexeme, so
/// tsquery operators typed by a user are plain text.
pub fn tsquery(q: &str) -> Option<String> {
    let terms: Vec<String> = search_words(q)?
        .into_iter()
        .map(|word| format!("'{}':*", word.replace('\\', "\\\\").replace('\'', "''")))
        .collect();
    Some(terms.join(" & "))
}

// The cars' full-text search in each engine's dialect: FTS5's `cars_fts` table on
// SQLite, the `search` tsvector column on PostgreSQL.

/// The FROM clause's tables (`cars c`) when a full-text search filters them. SQLite
/// drives the query from its FTS5 table (CROSS JOIN keeps that order: the planner
/// would otherwise walk every car and probe the index once per row); PostgreSQL
/// searches the `tsvector` column of `cars` itself.
///
/// `filters_only`: the query reads nothing of a car but its status and filter columns
/// (a count). SQLite then reads them from the narrow `cars_id_filters` index, which it
/// does not pick by itself (it prefers the row by id, spread over many pages by its
/// description).
fn searched_cars(db: &Db, filters_only: bool) -> &'static str {
    match db {
        Db::Sqlite { .. } if filters_only => {
            "cars_fts CROSS JOIN cars c INDEXED BY cars_id_filters ON c.id = cars_fts.rowid"
        }
        Db::Sqlite { .. } => "cars_fts CROSS JOIN cars c ON c.id = cars_fts.rowid",
        Db::Postgres { .. } => "cars c",
    }
}

/// A condition keeping the cars that match `expression` (from [`text_query`]),
/// answered from the engine's text index (FTS5; GIN on PostgreSQL).
fn push_search_match(db: &Db, sql: &mut Sql, expression: String) {
    match db {
        Db::Sqlite { .. } => sql.push("cars_fts MATCH ").bind(expression),
        Db::Postgres { .. } => sql
            .push("c.search @@ to_tsquery('simple', ")
            .bind(expression)
            .push(")"),
    };
}

/// A condition keeping the cars among the matches of `expression`, for a plan that
/// walks the cars in another index's order: SQLite builds the set of matching ids
/// once and probes it for each car (PostgreSQL plans the same condition itself).
fn push_search_membership(db: &Db, sql: &mut Sql, expression: String) {
    match db {
        Db::Sqlite { .. } => {
            sql.push("c.id IN (SELECT rowid FROM cars_fts WHERE cars_fts MATCH ")
                .bind(expression)
                .push(")");
        }
        Db::Postgres { .. } => push_search_match(db, sql, expression),
    }
}

/// An ORDER BY term, best match first. Make counts more than model, model more than
/// description: FTS5's `rank` is bm25 with those weights (set in the migration),
/// PostgreSQL's `ts_rank` reads the weights stored in the vector.
fn push_search_rank(db: &Db, sql: &mut Sql, expression: String) {
    match db {
        Db::Sqlite { .. } => sql.push("cars_fts.rank"),
        Db::Postgres { .. } => sql
            .push("ts_rank(c.search, to_tsquery('simple', ")
            .bind(expression)
            .push(")) DESC"),
    };
}

/// The search box as the engine's full-text query language.
fn text_query(db: &Db, q: &str) -> Option<String> {
    match db {
        Db::Sqlite { .. } => fts_query(q),
        Db::Postgres { .. } => tsquery(q),
    }
}

/// The search box, turned into the engine's query language once per list request.
enum Search {
    /// No search: every available car.
    Off,
    /// A search no listing can match (see [`search_words`]).
    Nothing,
    /// Driven by the text index: each match is looked up, then the matches are sorted.
    Text(String),
    /// Many matches: the cars are walked in the order asked (by its index), each checked
    /// against the set of matches, until the page is full (see [`walk_in_order`]).
    Members(String),
}

impl Search {
    fn new(db: &Db, filters: &CarFilters) -> Self {
        match filters.q.as_deref().map(|q| text_query(db, q)) {
            None => Search::Off,
            Some(None) => Search::Nothing,
            Some(Some(expression)) => Search::Text(expression),
        }
    }
}

/// What a list query reads of each car.
#[derive(Clone, Copy, PartialEq)]
enum Reads {
    /// Its status and filter columns only (a count).
    Filters,
    /// The columns asked for, from the car's row.
    Row,
    /// Those, and the seller's name.
    RowAndSeller,
}

impl Reads {
    /// The seller's name is joined only when the row shape asks for it (a page skipped
    /// by OFFSET would otherwise pay for the join too).
    fn row(columns: &str) -> Self {
        if columns.contains("u.") {
            Reads::RowAndSeller
        } else {
            Reads::Row
        }
    }
}

/// `FROM cars c`, with what a search needs and the seller joined when it is read.
fn from_cars(db: &Db, search: &Search, reads: Reads) -> String {
    let mut from = String::from(" FROM ");
    from.push_str(if matches!(search, Search::Text(_)) {
        searched_cars(db, reads == Reads::Filters)
    } else {
        "cars c"
    });
    if reads == Reads::RowAndSeller {
        from.push_str(" JOIN users u ON u.id = c.seller_id");
    }
    from
}

fn push_filters(db: &Db, query: &mut Sql, filters: &CarFilters, search: &Search) {
    query.push(" WHERE c.status = 'available'");
    match search {
        Search::Off => {}
        Search::Nothing => {
            query.push(" AND 1 = 0");
        }
        Search::Text(expression) => {
            query.push(" AND ");
            push_search_match(db, query, expression.clone());
        }
        Search::Members(expression) => {
            query.push(" AND ");
            push_search_membership(db, query, expression.clone());
        }
    }
    if let Some(v) = filters.min_price_cents {
        query.push(" AND c.price_cents >= ").bind(v);
    }
    if let Some(v) = filters.max_price_cents {
        query.push(" AND c.price_cents <= ").bind(v);
    }
    if let Some(v) = filters.min_year {
        query.push(" AND c.year >= ").bind(v);
    }
    if let Some(v) = filters.max_year {
        query.push(" AND c.year <= ").bind(v);
    }
    if let Some(make) = &filters.make {
        query
            .push(" AND c.make = ")
            .bind(make.as_str())
            .push(" COLLATE NOCASE");
    }
    if let Some(condition) = filters.condition {
        query.push(" AND c.condition = ").bind(condition.as_str());
    }
    if let Some(v) = filters.max_mileage_km {
        query.push(" AND c.mileage_km <= ").bind(v);
    }
}

/// Which rows of a result list to fetch, in what order.
#[derive(Clone, Copy, Debug)]
pub struct Window<'a> {
    pub order: &'a [OrderTerm],
    /// 1-based.
    pub page: u32,
    pub page_size: u32,
}

fn push_order(db: &Db, query: &mut Sql, order: &[OrderTerm], search: &Search) {
    query.push(" ORDER BY ");
    for term in order {
        match (term.field, search) {
            (OrderField::Relevance, Search::Text(expression)) => {
                push_search_rank(db, query, expression.clone());
                query.push(", c.created_at DESC, ");
                continue;
            }
            // Without a search, "best match" is the newest listings.
            (OrderField::Relevance | OrderField::CreatedAt, _) => query.push("c.created_at"),
            (OrderField::Price, _) => query.push("c.price_cents"),
            (OrderField::Year, _) => query.push("c.year"),
        };
        query.push(if term.descending { " DESC, " } else { " ASC, " });
    }
    // The id breaks ties, so a page boundary never shows a car twice or skips one.
    let first_descending = order.first().is_some_and(|t| t.descending);
    query.push(if first_descending {
        "c.id DESC"
    } else {
        "c.id ASC"
    });
}

/// One page of a list: `SELECT columns ... ORDER BY ... LIMIT ... OFFSET ...`.
fn page_sql(
    db: &Db,
    columns: &str,
    filters: &CarFilters,
    search: &Search,
    window: Window<'_>,
    offset: i64,
) -> Sql {
    let mut query = Sql::new(format!(
        "SELECT {columns}{}",
        from_cars(db, search, Reads::row(columns))
    ));
    push_filters(db, &mut query, filters, search);
    push_order(db, &mut query, window.order, search);
    query
        .push(" LIMIT ")
        .bind(i64::from(window.page_size))
        .push(" OFFSET ")
        .bind(offset);
    query
}

/// How many available cars match, counting at most MAX_RESULTS + 1 of them: a count
/// costs at most that many rows however large the marketplace grows ("more than 10,000
/// cars").
fn count_sql(db: &Db, filters: &CarFilters, search: &Search) -> Sql {
    let mut count = Sql::new(format!(
        "SELECT COUNT(*) FROM (SELECT 1{}",
        from_cars(db, search, Reads::Filters)
    ));
    push_filters(db, &mut count, filters, search);
    count
        .push(" LIMIT ")
        .bind(MAX_RESULTS + 1)
        .push(") AS matches");
    count
}

/// Whether a search's page is found sooner by walking the cars in the order asked and
/// checking each against the set of matches, than by looking up every match and sorting.
/// Looking up a match costs about ten times a step of the walk (see bench/README.md),
/// and with `total` matches among `available` cars the walk takes about
/// `(offset + page size) * available / total` steps. So a common word walks; a rare one
/// (where a walk could cross every car) does not. "Best match" needs the text index's rank.
fn walk_in_order(total: i64, available: i64, offset: i64, window: Window<'_>) -> bool {
    let needed = offset + i64::from(window.page_size);
    !window
        .order
        .iter()
        .any(|term| term.field == OrderField::Relevance)
        && 10 * total * total >= needed.saturating_mul(available)
}

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
    entries: std::sync::Mutex<std::collections::HashMap<String, CachedList>>,
    /// The questions being computed now, each with the lock its askers queue on.
    computing: std::sync::Mutex<std::collections::HashMap<String, Gate>>,
    /// The Make filter's choices, with the version they were read at (or after).
    makes: std::sync::Mutex<Option<(i64, Vec<String>)>>,
}

type Gate = std::sync::Arc<tokio::sync::Mutex<()>>;

/// The right to compute one question; whoever asks it meanwhile waits for this to drop.
struct Turn<'a> {
    cache: &'a ListCache,
    key: &'a str,
    guard: tokio::sync::OwnedMutexGuard<()>,
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
struct CachedList {
    version: i64,
    total: i64,
    ids: Vec<i64>,
}

/// Enough for the popular searches and their first pages; each entry is about 1 kB.
const LIST_CACHE_ENTRIES: usize = 1024;

impl ListCache {
    /// The answer for `key`, if it was computed at `version` or later: a request that saw
    /// `version` may be answered from newer data, never from older.
    fn get(&self, key: &str, version: i64) -> Option<CachedList> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(key).filter(|e| e.version >= version).cloned()
    }

    /// The answer for `key` computed at any version (to be checked against the data).
    fn peek(&self, key: &str) -> Option<CachedList> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(key).cloned()
    }

    fn put(&self, key: String, entry: CachedList) {
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
    fn makes(&self, version: i64) -> Option<Vec<String>> {
        let makes = self.makes.lock().unwrap_or_else(|e| e.into_inner());
        makes
            .as_ref()
            .filter(|(read_at, _)| *read_at >= version)
            .map(|(_, makes)| makes.clone())
    }

    fn put_makes(&self, version: i64, list: Vec<String>) {
        let mut makes = self.makes.lock().unwrap_or_else(|e| e.into_inner());
        if makes
            .as_ref()
            .is_none_or(|(read_at, _)| *read_at <= version)
        {
            *makes = Some((version, list));
        }
    }

    /// Waits until no other request is computing `key`, then holds that right.
    async fn turn<'a>(&'a self, key: &'a str) -> Turn<'a> {
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
    fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }
}

/// One window of a list, how many cars match in all, and the version of the cars the
/// answer is at least as new as.
struct Listed<R> {
    rows: Vec<R>,
    total: i64,
    version: i64,
}

/// One window of available cars matching the filters, and how many match in all.
/// `columns` picks the row shape (`R`), so the grid and the API share one query.
async fn list_available<R>(
    db: &Db,
    cache: &ListCache,
    columns: &str,
    filters: &CarFilters,
    window: Window<'_>,
) -> Result<Listed<R>, AppError>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin
        + HasId,
{
    let search = Search::new(db, filters);
    let count = filters
        .is_filtered()
        .then(|| count_sql(db, filters, &search));
    // Only the first MAX_RESULTS matches can be paged through, so OFFSET stays cheap too.
    let page = window.page.max(1);
    let offset = i64::from(page - 1) * i64::from(window.page_size);
    let page_query = page_sql(db, columns, filters, &search, window, offset);
    let key = format!("{count:?}|{page_query:?}");

    // The number of cars for sale and the version of the cars table, kept by triggers.
    // A page answered before is read with them, in the same query (one snapshot): if the
    // cars have not changed since, that is the whole answer.
    let known = cache.peek(&key).filter(|entry| !entry.ids.is_empty());
    let (available, version) = match known {
        Some(entry) => {
            let (available, version, rows) = cars_with_counts(db, columns, &entry.ids).await?;
            if entry.version >= version {
                return Ok(Listed {
                    rows: in_order(rows, &entry.ids),
                    total: entry.total,
                    version,
                });
            }
            (available, version)
        }
        None => counts(db).await?,
    };

    let mut cached = cache.get(&key, version);
    let mut turn = None;
    if cached.is_none() {
        // Asked by another request right now? Then its answer, once it has one, if that
        // was computed from data at least as new as this request saw. (While sellers write,
        // each wait serves everyone queued behind one computation, instead of each in turn.)
        let waited = cache.turn(&key).await;
        cached = cache.get(&key, version);
        if cached.is_none() {
            turn = Some(waited);
        }
    }
    let Some(CachedList { total, ids, .. }) = cached else {
        // Not asked since the cars last changed: the queries themselves.
        let total = match &count {
            Some(count) => on_db!(
                db,
                read | pool
                    | bind_all!(sqlx::query_scalar::<_, i64>(&count.text), count)
                        .fetch_one(pool)
                        .await
            )?,
            None => available.min(MAX_RESULTS + 1),
        };
        let rows: Vec<R> = if offset >= total.min(MAX_RESULTS) {
            Vec::new()
        } else {
            // The same page, planned by how many cars match (the count is known now).
            let page_query = match &search {
                Search::Text(expression) if walk_in_order(total, available, offset, window) => {
                    let members = Search::Members(expression.clone());
                    page_sql(db, columns, filters, &members, window, offset)
                }
                _ => page_query,
            };
            on_db!(
                db,
                read | pool
                    | bind_all!(sqlx::query_as(&page_query.text), page_query)
                        .fetch_all(pool)
                        .await
            )?
        };
        let ids = rows.iter().map(HasId::id).collect();
        cache.put(
            key.clone(),
            CachedList {
                version,
                total,
                ids,
            },
        );
        drop(turn);
        return Ok(Listed {
            rows,
            total,
            version,
        });
    };
    // Answered at this version already (by the request this one waited for, or with no
    // cars): only the page's cars.
    let rows = if ids.is_empty() {
        Vec::new()
    } else {
        let (_, _, rows) = cars_with_counts(db, columns, &ids).await?;
        in_order(rows, &ids)
    };
    Ok(Listed {
        rows,
        total,
        version,
    })
}

/// Rows back in the page's order. A car deleted since its id was read is simply left out.
fn in_order<R: HasId>(mut rows: Vec<R>, ids: &[i64]) -> Vec<R> {
    rows.sort_by_key(|row| ids.iter().position(|id| *id == row.id()));
    rows
}

/// The cars with these ids (any order), with the number of cars for sale and the version
/// of the cars table, read in one query. The counts row is always there (LEFT JOIN), so
/// the counts come back even if none of the cars does.
async fn cars_with_counts<R>(
    db: &Db,
    columns: &str,
    ids: &[i64],
) -> Result<(i64, i64, Vec<R>), AppError>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    let mut sql = Sql::new(format!(
        "SELECT k.available AS counts_available, k.version AS counts_version, {columns} \
         FROM car_counts k LEFT JOIN cars c ON c.id IN ("
    ));
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(*id);
    }
    sql.push(")");
    if Reads::row(columns) == Reads::RowAndSeller {
        sql.push(" LEFT JOIN users u ON u.id = c.seller_id");
    }
    sql.push(" WHERE k.id = 1");
    let rows: Vec<(i64, i64, Option<R>)> = on_db!(
        db,
        read | pool
            | bind_all!(sqlx::query(&sql.text), sql)
                .try_map(counts_and_car)
                .fetch_all(pool)
                .await
    )?;
    let Some(&(available, version, _)) = rows.first() else {
        return Err(AppError::internal(
            "reading the car counts",
            "the car_counts row is missing",
        ));
    };
    let cars = rows.into_iter().filter_map(|(_, _, car)| car).collect();
    Ok((available, version, cars))
}

/// One row of [`cars_with_counts`]: the counts, and the car if the LEFT JOIN found one.
fn counts_and_car<Row, R>(row: Row) -> Result<(i64, i64, Option<R>), sqlx::Error>
where
    Row: sqlx::Row,
    R: for<'r> sqlx::FromRow<'r, Row>,
    for<'a> &'a str: sqlx::ColumnIndex<Row>,
    i64: for<'r> sqlx::Decode<'r, Row::Database> + sqlx::Type<Row::Database>,
{
    let available: i64 = row.try_get("counts_available")?;
    let version: i64 = row.try_get("counts_version")?;
    let id: Option<i64> = row.try_get("id")?;
    let car = match id {
        Some(_) => Some(R::from_row(&row)?),
        None => None,
    };
    Ok((available, version, car))
}

/// Row shapes that carry the car's id.
trait HasId {
    fn id(&self) -> i64;
}

impl HasId for SummaryRow {
    fn id(&self) -> i64 {
        self.id
    }
}

impl HasId for CarRow {
    fn id(&self) -> i64 {
        self.id
    }
}

/// One marketplace page (the page's filters carry its sort and page number), with the
/// Make filter's choices read at the same version of the cars.
pub async fn list_available_cars(
    db: &Db,
    cache: &ListCache,
    filters: &CarFilters,
) -> Result<CarPage, AppError> {
    let order = [filters.sort.order()];
    let window = Window {
        order: &order,
        page: filters.page.max(1),
        page_size: PAGE_SIZE,
    };
    let listed = list_available::<SummaryRow>(db, cache, SUMMARY_COLUMNS, filters, window).await?;
    Ok(CarPage {
        cars: listed.rows.into_iter().map(CarSummary::from).collect(),
        total: listed.total,
        page: window.page,
        page_size: PAGE_SIZE,
        makes: makes_at(db, cache, listed.version).await?,
    })
}

/// Full listings (as the API shows them) for one window, and the total matching.
pub async fn list_available_cars_full(
    db: &Db,
    cache: &ListCache,
    filters: &CarFilters,
    window: Window<'_>,
) -> Result<(Vec<Car>, i64), AppError> {
    let listed = list_available::<CarRow>(db, cache, CAR_COLUMNS, filters, window).await?;
    Ok((
        listed.rows.into_iter().map(Car::from).collect(),
        listed.total,
    ))
}

#[cfg(test)]
mod tests {
    use super::{
        count_sql, fts_query, insert_cars_sql, page_sql, tsquery, walk_in_order, CachedList,
        ListCache, Params, Search, Window, LIST_CACHE_ENTRIES,
    };
    use crate::cars::model::{CarFilters, OrderField, OrderTerm};
    use crate::db::{bind_all, Db, Sql};

    /// SQLite's plan for `sql`, one line per step.
    async fn plan(db: &Db, sql: &Sql) -> Vec<String> {
        let Db::Sqlite { pool, .. } = db else {
            unreachable!("a SQLite database")
        };
        let text = format!("EXPLAIN QUERY PLAN {}", sql.text);
        let steps: Vec<(i64, i64, i64, String)> = bind_all!(sqlx::query_as(&text), sql)
            .fetch_all(pool)
            .await
            .unwrap();
        steps.into_iter().map(|step| step.3).collect()
    }

    /// A price range with a year bound (the API's common filter) is counted, and paged in
    /// price order, from the price index alone: no car row is read and nothing is sorted.
    #[tokio::test]
    async fn a_price_range_with_a_year_bound_is_answered_from_the_price_index() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("plan.db").display());
        let db = Db::connect(&url).await.unwrap();
        let filters = CarFilters {
            min_price_cents: Some(500_000),
            max_price_cents: Some(2_000_000),
            min_year: Some(2012),
            ..CarFilters::default()
        };
        let by_price = [OrderTerm {
            field: OrderField::Price,
            descending: false,
        }];
        let window = Window {
            order: &by_price,
            page: 1,
            page_size: 24,
        };
        let expected = "SEARCH c USING COVERING INDEX cars_status_price \
                        (status=? AND price_cents>? AND price_cents<?)";
        // The count runs its capped subquery as a co-routine around the same search.
        let count = count_sql(&db, &filters, &Search::Off);
        assert_eq!(
            plan(&db, &count).await,
            ["CO-ROUTINE matches", expected, "SCAN matches"]
        );
        let page = page_sql(&db, "c.id", &filters, &Search::Off, window, 0);
        assert_eq!(plan(&db, &page).await, [expected]);
    }

    #[test]
    fn listings_added_together_are_numbered_row_after_row() {
        let sql = insert_cars_sql(2, Params::Numbered);
        assert!(sql.ends_with(
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13), \
             ($14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26) RETURNING id"
        ));
        let sql = insert_cars_sql(2, Params::InOrder);
        let row = format!("({})", ["?"; 13].join(", "));
        assert!(sql.ends_with(&format!("VALUES {row}, {row} RETURNING id")));
    }

    #[test]
    fn a_common_word_walks_the_order_and_a_rare_one_is_looked_up() {
        let by = |field| {
            [OrderTerm {
                field,
                descending: false,
            }]
        };
        let price = by(OrderField::Price);
        let window = |order| Window {
            order,
            page: 1,
            page_size: 24,
        };
        // 100,000 cars for sale: "toyota" matches 6,000, a rare model 40.
        assert!(walk_in_order(6_000, 100_000, 0, window(&price)));
        assert!(!walk_in_order(40, 100_000, 0, window(&price)));
        // A deep page needs a longer walk, so it takes more matches to be worth it.
        assert!(walk_in_order(600, 100_000, 0, window(&price)));
        assert!(!walk_in_order(600, 100_000, 9_000, window(&price)));
        // Best match is ranked by the text index: always looked up.
        assert!(!walk_in_order(
            6_000,
            100_000,
            0,
            window(&by(OrderField::Relevance))
        ));
    }

    fn entry(version: i64, id: i64) -> CachedList {
        CachedList {
            version,
            total: 1,
            ids: vec![id],
        }
    }

    #[test]
    fn the_list_cache_answers_only_from_data_as_new_as_the_request() {
        let cache = ListCache::default();
        cache.put("q".into(), entry(7, 1));
        assert_eq!(cache.get("q", 7).map(|e| e.ids), Some(vec![1]));
        assert!(cache.get("q", 8).is_none(), "the cars changed since");
        assert!(cache.get("other", 7).is_none());
        // A request that saw an older version may have the newer answer (it waited for it).
        assert!(cache.get("q", 6).is_some());
        // An answer computed from older data never replaces a newer one.
        cache.put("q".into(), entry(5, 2));
        assert_eq!(cache.get("q", 7).map(|e| e.ids), Some(vec![1]));
    }

    #[test]
    fn the_make_choices_are_kept_only_while_the_cars_do_not_change() {
        let cache = ListCache::default();
        assert_eq!(cache.makes(1), None);
        cache.put_makes(7, vec!["Kia".into()]);
        assert_eq!(cache.makes(7), Some(vec!["Kia".to_owned()]));
        assert_eq!(cache.makes(6), Some(vec!["Kia".to_owned()]));
        assert_eq!(cache.makes(8), None, "the cars changed since");
        // Choices read from older data never replace newer ones.
        cache.put_makes(5, vec![]);
        assert_eq!(cache.makes(7), Some(vec!["Kia".to_owned()]));
        cache.put_makes(8, vec![]);
        assert_eq!(cache.makes(8), Some(vec![]));
    }

    #[test]
    fn the_list_cache_stays_bounded() {
        let cache = ListCache::default();
        for i in 0..LIST_CACHE_ENTRIES as i64 {
            cache.put(format!("old{i}"), entry(1, i));
        }
        // A new version drops every stale answer first.
        cache.put("new".into(), entry(2, 0));
        assert_eq!(cache.len(), 1);
        for i in 0..(3 * LIST_CACHE_ENTRIES) as i64 {
            cache.put(format!("k{i}"), entry(2, i));
            assert!(cache.len() <= LIST_CACHE_ENTRIES);
        }
    }

    #[tokio::test]
    async fn a_question_being_computed_is_computed_once() {
        let cache = std::sync::Arc::new(ListCache::default());
        let wait = std::time::Duration::from_millis(50);
        let first = cache.turn("q").await;
        // A second request for the same question waits; another question does not.
        assert!(tokio::time::timeout(wait, cache.turn("q")).await.is_err());
        drop(
            tokio::time::timeout(wait, cache.turn("other"))
                .await
                .unwrap(),
        );
        let theirs = cache.clone();
        let second = tokio::spawn(async move {
            let _turn = theirs.turn("q").await;
            // By its turn, the answer is there to be read.
            theirs.get("q", 1).map(|e| e.ids)
        });
        tokio::time::sleep(wait).await;
        assert!(!second.is_finished(), "waits while the first computes");
        cache.put("q".into(), entry(1, 42));
        drop(first);
        assert_eq!(second.await.unwrap(), Some(vec![42]));
        // Nobody is computing now: no gate is left behind, however the waits ended.
        assert!(cache.computing.lock().unwrap().is_empty());
    }

    #[test]
    fn search_words_become_quoted_prefix_terms() {
        assert_eq!(fts_query("tidy  Honda").unwrap(), "\"tidy\"* \"Honda\"*");
        // FTS5 syntax typed by a user is just text.
        assert_eq!(
            fts_query("a\"b OR NEAR(x)").unwrap(),
            "\"a\"\"b\"* \"OR\"* \"NEAR(x)\"*"
        );
        assert_eq!(fts_query("a\u{0}b").unwrap(), "\"a\"* \"b\"*");
        assert_eq!(fts_query("100% -"), None);
        assert_eq!(fts_query("%"), None);
    }

    #[test]
    fn search_words_become_quoted_tsquery_prefixes() {
        assert_eq!(tsquery("tidy  Honda").unwrap(), "'tidy':* & 'Honda':*");
        // tsquery syntax typed by a user is just text.
        assert_eq!(tsquery("a'b !x|y").unwrap(), "'a''b':* & '!x|y':*");
        assert_eq!(tsquery(r"back\slash").unwrap(), r"'back\\slash':*");
        assert_eq!(tsquery("100% -"), None);
    }
}
