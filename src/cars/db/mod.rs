//! Car queries. Each takes the database handle and runs on whichever engine it holds.

mod facets;
mod index;
mod list;
mod list_cache;
mod photos;
mod read;
mod rows;
mod search;
mod uploads;
mod write;

pub use facets::*;
pub use index::*;
pub use list::*;
pub use list_cache::*;
pub use photos::*;
pub use read::*;
pub use rows::*;
pub use search::*;
pub use uploads::*;
pub use write::*;

use super::model::{
    BodyType, Car, CarDraft, CarFilters, CarPage, CarSummary, Colour, Condition, Drive, Equipment,
    EquipmentItem, Facets, Fuel, Near, OrderField, OrderTerm, Place, SpecFilters, Specs, Status,
    Transmission, YearMonth, MAX_RESULTS, PAGE_SIZE,
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
        let numbered = |from: usize| {
            let numbers: Vec<String> = (from..from + 29).map(|n| format!("${n}")).collect();
            format!("({})", numbers.join(", "))
        };
        let sql = insert_cars_sql(2, Params::Numbered);
        assert!(sql.ends_with(&format!(
            "VALUES {}, {} RETURNING id",
            numbered(1),
            numbered(30)
        )));
        let columns = sql.split_once(") VALUES").unwrap().0.split(',').count();
        assert_eq!(columns, 29, "one value for each column");
        let sql = insert_cars_sql(2, Params::InOrder);
        let row = format!("({})", ["?"; 29].join(", "));
        assert!(sql.ends_with(&format!("VALUES {row}, {row} RETURNING id")));
    }

    /// A database that had listings with a photo before the photos table came: after the
    /// migration each has it as its photo 1, and listings added later get theirs the same way.
    #[tokio::test]
    async fn each_listings_photo_from_before_the_photos_table_becomes_its_photo_1() {
        use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
        let dir = tempfile::tempdir().unwrap();
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("old.db"))
            .create_if_missing(true)
            .foreign_keys(true);
        let pool = SqlitePool::connect_with(options).await.unwrap();
        let mut before = sqlx::migrate!("./migrations/sqlite");
        let earlier: Vec<_> = before
            .migrations
            .iter()
            .filter(|m| m.version < 20261206000012)
            .cloned()
            .collect();
        before.migrations = earlier.into();
        before.run(&pool).await.unwrap();
        let insert = "INSERT INTO cars (seller_id, make, model, year, price_cents, mileage_km, \
                      photo, created_at, updated_at) VALUES (1, 'Audi', 'A4', 2018, 100, 1, $1, \
                      '2026-01-01', '2026-01-02')";
        sqlx::query(
            "INSERT INTO users (username, password_hash, created_at) VALUES ('ann', 'x', '2026')",
        )
        .execute(&pool)
        .await
        .unwrap();
        for photo in [Some("old.jpg"), None] {
            sqlx::query(insert)
                .bind(photo)
                .execute(&pool)
                .await
                .unwrap();
        }

        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .unwrap();
        sqlx::query(insert)
            .bind("new.jpg")
            .execute(&pool)
            .await
            .unwrap();

        let photos: Vec<(i64, i64, String, String)> =
            sqlx::query_as("SELECT car_id, position, name, created_at FROM car_photos ORDER BY id")
                .fetch_all(&pool)
                .await
                .unwrap();
        assert_eq!(
            photos,
            [
                (1, 1, "old.jpg".into(), "2026-01-02".into()),
                (3, 1, "new.jpg".into(), "2026-01-01".into())
            ]
        );
        // Deleting a listing deletes its photos' rows.
        sqlx::query("DELETE FROM cars WHERE id = 1")
            .execute(&pool)
            .await
            .unwrap();
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM car_photos")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(left, 1);
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
