//! Pages of available cars with their counts, through the list cache.

use super::*;

/// One window of a list, how many cars match in all, and the version of the cars the
/// answer is at least as new as.
pub(super) struct Listed<R> {
    pub(super) rows: Vec<R>,
    pub(super) total: i64,
    pub(super) version: i64,
}

/// One window of available cars matching the filters, and how many match in all.
/// `columns` picks the row shape (`R`), so the grid and the API share one query.
pub(super) async fn list_available<R>(
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
        // Not asked since the cars last changed: the search index, once built, finds the
        // page's cars; then only their rows are read.
        if let Some((total, ids, facets)) = cache
            .index
            .list(db, version, filters, window, offset)
            .await?
        {
            // The marketplace page asks for them next: no second pass over the same cars.
            let facets_key = facets_key(&facets_sql(db, filters), filters);
            cache.put_facets(facets_key, version, facets);
            let rows = rows_in_order(db, columns, &ids).await?;
            return Ok(keep(
                cache,
                &key,
                turn,
                ids,
                Listed {
                    rows,
                    total,
                    version,
                },
            ));
        }
        // Else the queries themselves.
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
        return Ok(keep(
            cache,
            &key,
            turn,
            ids,
            Listed {
                rows,
                total,
                version,
            },
        ));
    };
    // Answered at this version already (by the request this one waited for, or with no
    // cars): only the page's cars.
    let rows = rows_in_order(db, columns, &ids).await?;
    Ok(Listed {
        rows,
        total,
        version,
    })
}

/// Keeps a computed answer for the requests after this one, then lets those waiting for it
/// (behind `turn`) read it.
fn keep<R>(
    cache: &ListCache,
    key: &str,
    turn: Option<Turn<'_>>,
    ids: Vec<i64>,
    listed: Listed<R>,
) -> Listed<R> {
    cache.put(
        key.to_owned(),
        CachedList {
            version: listed.version,
            total: listed.total,
            ids,
        },
    );
    drop(turn);
    listed
}

/// The rows of the cars `ids`, in that order (none read for no ids).
async fn rows_in_order<R>(db: &Db, columns: &str, ids: &[i64]) -> Result<Vec<R>, AppError>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin
        + HasId,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let (_, _, rows) = cars_with_counts(db, columns, ids).await?;
    Ok(in_order(rows, ids))
}

/// Rows back in the page's order. A car deleted since its id was read is simply left out.
pub(super) fn in_order<R: HasId>(mut rows: Vec<R>, ids: &[i64]) -> Vec<R> {
    rows.sort_by_key(|row| ids.iter().position(|id| *id == row.id()));
    rows
}

/// The cars with these ids (any order), with the number of cars for sale and the version
/// of the cars table, read in one query. The counts row is always there (LEFT JOIN), so
/// the counts come back even if none of the cars does.
pub(super) async fn cars_with_counts<R>(
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
pub(super) fn counts_and_car<Row, R>(row: Row) -> Result<(i64, i64, Option<R>), sqlx::Error>
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
    let mut cars: Vec<CarSummary> = listed.rows.into_iter().map(CarSummary::from).collect();
    if let Some(near) = filters.near {
        for car in &mut cars {
            car.distance_km = car
                .town
                .as_ref()
                .and_then(|town| crate::cars::model::distance_between(town.town_id, near.town_id));
        }
    }
    Ok(CarPage {
        cars,
        total: listed.total,
        page: window.page,
        page_size: PAGE_SIZE,
        makes: makes_at(db, cache, listed.version).await?,
        facets: facet_counts(db, cache, filters).await?,
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
