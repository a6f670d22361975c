//! Facet counts: how many cars each choice of the list filters would leave. The search
//! index counts them (`index.rs`) once it is built; before that, one query reads the cars
//! matching every filter but the five lists (body, fuel, gearbox, drive, colour), grouped
//! by those five columns, with each group's count and how many of its cars have each
//! equipment item; the counts are then added up here, each list without its own choices
//! (as faceted search works). The answer is kept while the cars are
//! unchanged, and computed once for everyone asking the same meanwhile.

use super::*;

/// A combination of the five list columns, with its cars and their equipment.
struct Group {
    body_type: Option<BodyType>,
    fuel: Option<Fuel>,
    transmission: Option<Transmission>,
    drive: Option<Drive>,
    colour: Option<Colour>,
    cars: i64,
    /// For each equipment item (by its bit), how many of the group's cars have it.
    items: [i64; EQUIPMENT_BITS],
}

/// An item's bit is its place in the catalogue (`Equipment` is one number).
const EQUIPMENT_BITS: usize = EquipmentItem::ALL.len();

/// The one query: groups of the cars matching every filter but the five lists.
pub(super) fn facets_sql(db: &Db, filters: &CarFilters) -> Sql {
    let mut base = filters.clone();
    base.specs.body_types.clear();
    base.specs.fuels.clear();
    base.specs.transmissions.clear();
    base.specs.drives.clear();
    base.specs.colours.clear();
    let search = Search::new(db, &base);
    let mut sql =
        Sql::new("SELECT c.body_type, c.fuel, c.transmission, c.drive, c.colour, COUNT(*) AS cars");
    for bit in 0..EQUIPMENT_BITS {
        sql.push(&format!(
            ", CAST(SUM((c.equipment >> {bit}) & 1) AS BIGINT) AS e{bit}"
        ));
    }
    let mut from = from_cars(db, &search, Reads::Filters);
    // With nothing but the status to go by, SQLite would walk an index of the status and
    // look each car up (several times slower than reading the table through).
    if matches!(db, Db::Sqlite { .. })
        && matches!(search, Search::Off)
        && !base.is_filtered()
        && base.specs.equipment.is_empty()
    {
        from.push_str(" NOT INDEXED");
    }
    sql.push(&from);
    push_filters(db, &mut sql, &base, &search);
    sql.push(" GROUP BY c.body_type, c.fuel, c.transmission, c.drive, c.colour");
    sql
}

/// The list cache's key for the facet counts of `filters` (`sql`: their [`facets_sql`]).
pub(super) fn facets_key(sql: &Sql, filters: &CarFilters) -> String {
    // The query leaves the lists out; the counts depend on them too.
    let specs = &filters.specs;
    format!(
        "facets|{sql:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        specs.body_types, specs.fuels, specs.transmissions, specs.drives, specs.colours
    )
}

/// The counts for `filters`: from memory when asked before since the cars last changed
/// (a page of the list the index found counted them too).
pub async fn facet_counts(
    db: &Db,
    cache: &ListCache,
    filters: &CarFilters,
) -> Result<Facets, AppError> {
    let sql = facets_sql(db, filters);
    let key = facets_key(&sql, filters);
    let (_, version) = counts(db).await?;
    if let Some(facets) = cache.facets(&key, version) {
        return Ok(facets);
    }
    // Being counted for another request right now? Then its answer.
    let turn = cache.turn(&key).await;
    if let Some(facets) = cache.facets(&key, version) {
        return Ok(facets);
    }
    if let Some(facets) = cache.index.facets(db, version, filters).await? {
        cache.put_facets(key.clone(), version, facets.clone());
        drop(turn);
        return Ok(facets);
    }
    let groups: Vec<Group> = on_db!(
        db,
        read | pool
            | async {
                use sqlx::Row;
                let rows = bind_all!(sqlx::query(&sql.text), sql)
                    .fetch_all(pool)
                    .await?;
                let choice = |row: &_, at: usize| -> Result<Option<String>, sqlx::Error> {
                    Row::try_get::<Option<String>, _>(row, at)
                };
                rows.iter()
                    .map(|row| {
                        let mut items = [0; EQUIPMENT_BITS];
                        for (bit, count) in items.iter_mut().enumerate() {
                            *count = row.try_get::<Option<i64>, _>(6 + bit)?.unwrap_or(0);
                        }
                        Ok(Group {
                            body_type: choice(row, 0)?.as_deref().and_then(BodyType::parse),
                            fuel: choice(row, 1)?.as_deref().and_then(Fuel::parse),
                            transmission: choice(row, 2)?.as_deref().and_then(Transmission::parse),
                            drive: choice(row, 3)?.as_deref().and_then(Drive::parse),
                            colour: choice(row, 4)?.as_deref().and_then(Colour::parse),
                            cars: row.try_get(5)?,
                            items,
                        })
                    })
                    .collect::<Result<Vec<_>, sqlx::Error>>()
            }
            .await
    )?;
    let facets = tally(&groups, &filters.specs);
    cache.put_facets(key.clone(), version, facets.clone());
    drop(turn);
    Ok(facets)
}

/// Whether a group's value passes a list filter (an empty list keeps every car).
fn passes<T: PartialEq>(chosen: &[T], value: Option<T>) -> bool {
    chosen.is_empty() || value.is_some_and(|v| chosen.contains(&v))
}

/// The groups added up: each list's choices counted over the groups that pass the other
/// four lists; each equipment item over the groups that pass all five.
fn tally(groups: &[Group], specs: &SpecFilters) -> Facets {
    fn count<T: Copy + PartialEq>(
        all: &[T],
        groups: &[&Group],
        value: fn(&Group) -> Option<T>,
    ) -> Vec<(T, i64)> {
        all.iter()
            .map(|&choice| {
                let cars = groups
                    .iter()
                    .filter(|g| value(g) == Some(choice))
                    .map(|g| g.cars)
                    .sum();
                (choice, cars)
            })
            .collect()
    }
    // The groups passing every list but the one left out (by its place in `lists`).
    let lists = |g: &Group| {
        [
            passes(&specs.body_types, g.body_type),
            passes(&specs.fuels, g.fuel),
            passes(&specs.transmissions, g.transmission),
            passes(&specs.drives, g.drive),
            passes(&specs.colours, g.colour),
        ]
    };
    let but = |skip: usize| -> Vec<&Group> {
        groups
            .iter()
            .filter(|g| {
                lists(g)
                    .iter()
                    .enumerate()
                    .all(|(at, ok)| at == skip || *ok)
            })
            .collect()
    };
    let all_lists = but(usize::MAX);
    let equipment = EquipmentItem::ALL
        .iter()
        .map(|&item| {
            let bit = item as usize;
            let cars = all_lists.iter().map(|g| g.items[bit]).sum();
            (item, cars)
        })
        .collect();
    Facets {
        body_types: count(BodyType::ALL, &but(0), |g| g.body_type),
        fuels: count(Fuel::ALL, &but(1), |g| g.fuel),
        transmissions: count(Transmission::ALL, &but(2), |g| g.transmission),
        drives: count(Drive::ALL, &but(3), |g| g.drive),
        colours: count(Colour::ALL, &but(4), |g| g.colour),
        equipment,
    }
}
