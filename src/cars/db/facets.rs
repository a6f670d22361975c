//! Facet counts: how many cars each choice of the list filters would leave, in one query
//! (a `GROUP BY` per list, joined with `UNION ALL`), answered again from memory while the
//! cars have not changed.

use super::*;

/// A list filter whose choices are counted: its name in the answer, its column, and how
/// to take its own choices out of the filters (a list where any choice will do is counted
/// without them, as faceted search does).
struct Facet {
    name: &'static str,
    column: &'static str,
    without_own: fn(&mut CarFilters),
}

const FACETS: [Facet; 6] = [
    Facet {
        name: "body_type",
        column: "c.body_type",
        without_own: |f| f.specs.body_types.clear(),
    },
    Facet {
        name: "fuel",
        column: "c.fuel",
        without_own: |f| f.specs.fuels.clear(),
    },
    Facet {
        name: "transmission",
        column: "c.transmission",
        without_own: |f| f.specs.transmissions.clear(),
    },
    Facet {
        name: "drive",
        column: "c.drive",
        without_own: |f| f.specs.drives.clear(),
    },
    Facet {
        name: "colour",
        column: "c.colour",
        without_own: |f| f.specs.colours.clear(),
    },
    // All of the chosen items must be there: an item's count is of the cars that match
    // every filter and have it too. Grouped by the whole set of items (one number), then
    // added up item by item here.
    Facet {
        name: "equipment",
        column: "c.equipment",
        without_own: |_| {},
    },
];

/// The one query for every facet: rows of (facet, value as text, cars).
pub(super) fn facets_sql(db: &Db, filters: &CarFilters) -> Sql {
    let search = Search::new(db, filters);
    let mut sql = Sql::new("");
    for (at, facet) in FACETS.iter().enumerate() {
        let mut own = filters.clone();
        (facet.without_own)(&mut own);
        sql.push(if at == 0 {
            "SELECT "
        } else {
            " UNION ALL SELECT "
        });
        sql.push(&format!(
            "'{}' AS facet, CAST({} AS TEXT) AS value, COUNT(*) AS cars",
            facet.name, facet.column
        ));
        sql.push(&from_cars(db, &search, Reads::Filters));
        push_filters(db, &mut sql, &own, &search);
        sql.push(&format!(" GROUP BY {}", facet.column));
    }
    sql
}

/// The counts for `filters`: from memory when asked before since the cars last changed.
pub async fn facet_counts(
    db: &Db,
    cache: &ListCache,
    filters: &CarFilters,
) -> Result<Facets, AppError> {
    let sql = facets_sql(db, filters);
    let key = format!("{sql:?}");
    let (_, version) = counts(db).await?;
    if let Some(facets) = cache.facets(&key, version) {
        return Ok(facets);
    }
    let rows: Vec<(String, Option<String>, i64)> = on_db!(
        db,
        read | pool
            | bind_all!(sqlx::query_as(&sql.text), sql)
                .fetch_all(pool)
                .await
    )?;
    let facets = tally(&rows);
    cache.put_facets(key, version, facets.clone());
    Ok(facets)
}

/// The query's rows as counts beside every choice (0 for those no row names).
fn tally(rows: &[(String, Option<String>, i64)]) -> Facets {
    fn list<T: Copy + PartialEq>(
        rows: &[(String, Option<String>, i64)],
        facet: &str,
        all: &[T],
        parse: fn(&str) -> Option<T>,
    ) -> Vec<(T, i64)> {
        let mut counts: Vec<(T, i64)> = all.iter().map(|c| (*c, 0)).collect();
        for (name, value, cars) in rows {
            if name != facet {
                continue;
            }
            if let Some(choice) = value.as_deref().and_then(parse) {
                if let Some(slot) = counts.iter_mut().find(|(c, _)| *c == choice) {
                    slot.1 += cars;
                }
            }
        }
        counts
    }
    let mut equipment: Vec<(EquipmentItem, i64)> =
        EquipmentItem::ALL.iter().map(|item| (*item, 0)).collect();
    for (name, value, cars) in rows {
        let Some(mask) = value.as_deref().and_then(|v| v.parse::<i64>().ok()) else {
            continue;
        };
        if name == "equipment" {
            let items = Equipment::from_db(mask);
            for slot in equipment.iter_mut().filter(|(item, _)| items.has(*item)) {
                slot.1 += cars;
            }
        }
    }
    Facets {
        body_types: list(rows, "body_type", BodyType::ALL, BodyType::parse),
        fuels: list(rows, "fuel", Fuel::ALL, Fuel::parse),
        transmissions: list(rows, "transmission", Transmission::ALL, Transmission::parse),
        drives: list(rows, "drive", Drive::ALL, Drive::parse),
        colours: list(rows, "colour", Colour::ALL, Colour::parse),
        equipment,
    }
}
