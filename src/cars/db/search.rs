//! The marketplace query: text search in each engine's dialect, filters, order and
//! paging, and the choice between the two plans a search can take.

use super::*;

/// The Make filter's choices when the cars are at `version` (read by the caller): each
/// make with an available car, once however sellers spelled its case (the filter ignores
/// case too). The list an earlier request read, if the cars have not changed since, else
/// the query.
pub(super) async fn makes_at(
    db: &Db,
    cache: &ListCache,
    version: i64,
) -> Result<Vec<String>, AppError> {
    if let Some(makes) = cache.makes(version) {
        return Ok(makes);
    }
    let makes = query_available_makes(db).await?;
    cache.put_makes(version, makes.clone());
    Ok(makes)
}

/// A loose index scan: each step seeks the next make in `cars_status_make`, so the cost
/// grows with the number of makes, not of cars.
pub(super) async fn query_available_makes(db: &Db) -> Result<Vec<String>, AppError> {
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

/// The most make and model pairs the sell form suggests.
const MAX_KNOWN_MODELS: i64 = 2_000;

/// Each make and model with a car for sale, once however sellers spelled its case, in
/// alphabetical order (at most 2,000): what the sell form suggests as a seller types.
pub async fn known_models(db: &Db, cache: &ListCache) -> Result<Vec<(String, String)>, AppError> {
    let (_, version) = counts(db).await?;
    if let Some(models) = cache.models(version) {
        return Ok(models);
    }
    let rows: Vec<(String, String)> = on_db!(
        db,
        read | pool
            | sqlx::query_as(
                "SELECT make, model FROM cars WHERE status = 'available' GROUP BY make, model \
                 ORDER BY lower(make), lower(model), make, model LIMIT $1",
            )
            .bind(MAX_KNOWN_MODELS)
            .fetch_all(pool)
            .await
    )?;
    let mut seen = std::collections::HashSet::new();
    let models: Vec<(String, String)> = rows
        .into_iter()
        .filter(|(make, model)| seen.insert((make.to_lowercase(), model.to_lowercase())))
        .collect();
    cache.put_models(version, models.clone());
    Ok(models)
}

/// The number of cars for sale and the version of the cars table, kept by triggers.
pub(super) async fn counts(db: &Db) -> Result<(i64, i64), AppError> {
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
pub(super) fn search_words(q: &str) -> Option<Vec<&str>> {
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
pub(super) fn searched_cars(db: &Db, filters_only: bool) -> &'static str {
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
pub(super) fn push_search_match(db: &Db, sql: &mut Sql, expression: String) {
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
pub(super) fn push_search_membership(db: &Db, sql: &mut Sql, expression: String) {
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
pub(super) fn push_search_rank(db: &Db, sql: &mut Sql, expression: String) {
    match db {
        Db::Sqlite { .. } => sql.push("cars_fts.rank"),
        Db::Postgres { .. } => sql
            .push("ts_rank(c.search, to_tsquery('simple', ")
            .bind(expression)
            .push(")) DESC"),
    };
}

/// The search box as the engine's full-text query language.
pub(super) fn text_query(db: &Db, q: &str) -> Option<String> {
    match db {
        Db::Sqlite { .. } => fts_query(q),
        Db::Postgres { .. } => tsquery(q),
    }
}

/// The search box, turned into the engine's query language once per list request.
pub(super) enum Search {
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
    pub(super) fn new(db: &Db, filters: &CarFilters) -> Self {
        match filters.q.as_deref().map(|q| text_query(db, q)) {
            None => Search::Off,
            Some(None) => Search::Nothing,
            Some(Some(expression)) => Search::Text(expression),
        }
    }
}

/// What a list query reads of each car.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Reads {
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
    pub(super) fn row(columns: &str) -> Self {
        if columns.contains("u.") {
            Reads::RowAndSeller
        } else {
            Reads::Row
        }
    }
}

/// `FROM cars c`, with what a search needs and the seller joined when it is read.
pub(super) fn from_cars(db: &Db, search: &Search, reads: Reads) -> String {
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

pub(super) fn push_filters(db: &Db, query: &mut Sql, filters: &CarFilters, search: &Search) {
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
    if let Some(v) = filters.min_mileage_km {
        query.push(" AND c.mileage_km >= ").bind(v);
    }
    if let Some(v) = filters.max_mileage_km {
        query.push(" AND c.mileage_km <= ").bind(v);
    }
    push_spec_filters(query, &filters.specs);
    if let Some(near) = filters.near {
        push_near(db, query, near);
    }
}

/// The great-circle distance in km from the car's town to a point whose latitude's sine
/// and cosine and longitude in radians are bound (spherical law of cosines; the cosine is
/// clamped, as rounding can take it a hair past 1 for the same town).
fn push_distance(db: &Db, query: &mut Sql, town: &crate::geo::Town) {
    let latitude = town.latitude.to_radians();
    let (min, max) = match db {
        Db::Sqlite { .. } => ("min", "max"),
        Db::Postgres { .. } => ("least", "greatest"),
    };
    query
        .push(&format!(
            "({} * acos({max}(-1.0, {min}(1.0, sin(radians(c.latitude)) * ",
            crate::geo::EARTH_RADIUS_KM
        ))
        .bind(latitude.sin())
        .push(" + cos(radians(c.latitude)) * ")
        .bind(latitude.cos())
        .push(" * cos(radians(c.longitude) - ")
        .bind(town.longitude.to_radians())
        .push(")))))");
}

/// "Near <town> within N km": the cars in the circle's bounding box (which the
/// `cars_available_place` index finds), then the exact distance. A town the gazetteer
/// does not know matches nothing.
fn push_near(db: &Db, query: &mut Sql, near: Near) {
    let Some(town) = crate::geo::gazetteer().town(near.town_id) else {
        query.push(" AND 1 = 0");
        return;
    };
    let radius = f64::from(near.radius_km);
    let bbox = crate::geo::BoundingBox::around(town.latitude, town.longitude, radius);
    query
        .push(" AND c.latitude BETWEEN ")
        .bind(bbox.min_latitude)
        .push(" AND ")
        .bind(bbox.max_latitude);
    if let Some((west, east)) = bbox.longitude {
        query
            .push(" AND c.longitude BETWEEN ")
            .bind(west)
            .push(" AND ")
            .bind(east);
    }
    query.push(" AND ");
    push_distance(db, query, town);
    query.push(" <= ").bind(radius);
}

/// The specification's filters: any of a list's choices, a power range, all of the equipment.
fn push_spec_filters(query: &mut Sql, specs: &SpecFilters) {
    fn any_of(query: &mut Sql, column: &str, ids: Vec<&'static str>) {
        if ids.is_empty() {
            return;
        }
        query.push(" AND ").push(column).push(" IN (");
        for (at, id) in ids.into_iter().enumerate() {
            if at > 0 {
                query.push(", ");
            }
            query.bind(id);
        }
        query.push(")");
    }
    any_of(
        query,
        "c.body_type",
        specs.body_types.iter().map(|c| c.as_str()).collect(),
    );
    any_of(
        query,
        "c.fuel",
        specs.fuels.iter().map(|c| c.as_str()).collect(),
    );
    any_of(
        query,
        "c.transmission",
        specs.transmissions.iter().map(|c| c.as_str()).collect(),
    );
    any_of(
        query,
        "c.drive",
        specs.drives.iter().map(|c| c.as_str()).collect(),
    );
    any_of(
        query,
        "c.colour",
        specs.colours.iter().map(|c| c.as_str()).collect(),
    );
    if let Some(kw) = specs.min_power_kw {
        query.push(" AND c.power_kw >= ").bind(kw);
    }
    if let Some(kw) = specs.max_power_kw {
        query.push(" AND c.power_kw <= ").bind(kw);
    }
    if !specs.equipment.is_empty() {
        let all = specs.equipment.to_db();
        query
            .push(" AND (c.equipment & ")
            .bind(all)
            .push(") = ")
            .bind(all);
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

pub(super) fn push_order(
    db: &Db,
    query: &mut Sql,
    order: &[OrderTerm],
    search: &Search,
    near: Option<Near>,
) {
    query.push(" ORDER BY ");
    let near_town = near.and_then(|near| crate::geo::gazetteer().town(near.town_id));
    for term in order {
        match (term.field, search) {
            (OrderField::Distance, _) if near_town.is_some() => {
                if let Some(town) = near_town {
                    push_distance(db, query, town);
                }
                &mut *query
            }
            // Unknown power last, whichever way.
            (OrderField::Power, _) => {
                query.push("c.power_kw");
                query.push(if term.descending {
                    " DESC NULLS LAST, "
                } else {
                    " ASC NULLS LAST, "
                });
                continue;
            }
            (OrderField::Relevance, Search::Text(expression)) => {
                push_search_rank(db, query, expression.clone());
                query.push(", c.created_at DESC, ");
                continue;
            }
            // Without a search, "best match" is the newest listings; without a town,
            // so is "nearest".
            (OrderField::Distance, _) => {
                query.push("c.created_at DESC, ");
                continue;
            }
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
pub(super) fn page_sql(
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
    push_order(db, &mut query, window.order, search, filters.near);
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
pub(super) fn count_sql(db: &Db, filters: &CarFilters, search: &Search) -> Sql {
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
pub(super) fn walk_in_order(total: i64, available: i64, offset: i64, window: Window<'_>) -> bool {
    let needed = offset + i64::from(window.page_size);
    !window
        .order
        .iter()
        .any(|term| term.field == OrderField::Relevance)
        && 10 * total * total >= needed.saturating_mul(available)
}
