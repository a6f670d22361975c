//! Car types shared by server and browser, and the validation both sides run.

mod filters;
mod format;
mod place;
mod specs;
mod types;
mod validate;

pub use filters::*;
pub use format::*;
pub use place::*;
pub use specs::*;
pub use types::*;
pub use validate::*;

use crate::error::FieldErrors;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_parse_to_exact_cents() {
        let good = [
            ("15999", 1_599_900),
            ("15,999.50", 1_599_950),
            ("$15 999.5", 1_599_950),
            ("0.01", 1),
            (".5", 50),
            ("9999999999.99", MAX_PRICE_CENTS),
            ("0009.10", 910),
        ];
        for (raw, cents) in good {
            assert_eq!(parse_price(raw), Ok(cents), "{raw}");
        }
    }

    #[test]
    fn bad_prices_are_rejected_with_a_message() {
        for raw in [
            "",
            " ",
            "0",
            "0.00",
            "-5",
            "1.234",
            "10000000000",
            "abc",
            "1e5",
            "12.3.4",
            "NaN",
            ".",
            "$",
        ] {
            let result = parse_price(raw);
            assert!(
                result.is_err(),
                "{raw:?} should be rejected, got {result:?}"
            );
        }
    }

    #[test]
    fn years_are_bounded_by_the_first_car_and_next_year() {
        assert_eq!(parse_year("1886", 2026), Ok(1886));
        assert_eq!(parse_year(" 2027 ", 2026), Ok(2027));
        for raw in ["1885", "2028", "", "20x0", "-2020", "99999999999"] {
            assert!(parse_year(raw, 2026).is_err(), "{raw}");
        }
    }

    #[test]
    fn mileage_is_whole_kilometres_up_to_two_million() {
        assert_eq!(parse_mileage("0"), Ok(0));
        assert_eq!(parse_mileage("84,000"), Ok(84_000));
        assert_eq!(parse_mileage("2000000"), Ok(2_000_000));
        for raw in ["", "2000001", "-1", "12.5", "lots", "99999999999999"] {
            assert!(parse_mileage(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_name("Make", "  Toyota "), Ok("Toyota".into()));
        assert_eq!(parse_name("Make", &"a".repeat(100)), Ok("a".repeat(100)));
        assert!(parse_name("Make", &"a".repeat(101)).is_err());
        assert!(parse_name("Make", "   ").is_err());
        assert!(parse_name("Make", "To\u{0}yota").is_err());
    }

    #[test]
    fn description_may_be_empty_but_not_too_long() {
        assert_eq!(parse_description(""), Ok(String::new()));
        assert_eq!(
            parse_description("One owner.\r\nFull history."),
            Ok("One owner.\nFull history.".into())
        );
        assert!(parse_description(&"x".repeat(5_000)).is_ok());
        assert!(parse_description(&"x".repeat(5_001)).is_err());
    }

    #[test]
    fn image_urls_must_be_http_or_https() {
        assert_eq!(parse_image_url(""), Ok(None));
        assert_eq!(
            parse_image_url("https://example.com/car.jpg"),
            Ok(Some("https://example.com/car.jpg".into()))
        );
        assert!(parse_image_url("http://cdn.example.org/a.png?x=1")
            .unwrap()
            .is_some());
        for raw in [
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "ftp://example.com/a.jpg",
            "example.com/a.jpg",
            "https://",
            "/media/a.jpg",
        ] {
            assert!(parse_image_url(raw).is_err(), "{raw}");
        }
        assert!(parse_image_url(&format!("https://example.com/{}", "a".repeat(2_000))).is_err());
    }

    #[test]
    fn condition_and_status_parse_only_known_values() {
        assert_eq!(Condition::parse("NEW"), Some(Condition::New));
        assert_eq!(Condition::parse("used"), Some(Condition::Used));
        assert_eq!(Condition::parse("broken"), None);
        assert_eq!(Status::parse("sold"), Some(Status::Sold));
        assert_eq!(Status::parse("pending"), Some(Status::Pending));
        assert_eq!(Status::parse("stolen"), None);
    }

    #[test]
    fn a_whole_form_reports_every_bad_field() {
        let form = CarForm {
            make: "".into(),
            model: "Corolla".into(),
            year: "1700".into(),
            price: "abc".into(),
            mileage: "-4".into(),
            condition: "mint".into(),
            description: "".into(),
            image_url: "javascript:x".into(),
            specs: SpecsForm::default(),
            town: "Springfield".into(),
            town_id: String::new(),
        };
        let errors = form.validate(2026).unwrap_err();
        let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "condition",
                "image_url",
                "make",
                "mileage",
                "price",
                "town",
                "year"
            ]
        );
    }

    #[test]
    fn a_good_form_becomes_a_draft() {
        let form = CarForm {
            make: " Toyota".into(),
            model: "Corolla ".into(),
            year: "2019".into(),
            price: "15,999".into(),
            mileage: "84000".into(),
            condition: "".into(),
            description: "Clean".into(),
            image_url: "".into(),
            specs: SpecsForm::default(),
            town: "chicago, illinois".into(),
            town_id: String::new(),
        };
        let draft = form.validate(2026).unwrap();
        assert_eq!(
            draft,
            CarDraft {
                make: "Toyota".into(),
                model: "Corolla".into(),
                year: 2019,
                price_cents: 1_599_900,
                mileage_km: 84_000,
                condition: Condition::Used,
                description: "Clean".into(),
                image_url: None,
                specs: Specs::default(),
                town_id: Some(4887398),
            }
        );
    }

    #[test]
    fn money_and_mileage_format_for_people() {
        assert_eq!(format_price(1_599_900), "$15,999");
        assert_eq!(format_price(1_599_950), "$15,999.50");
        assert_eq!(format_price(5), "$0.05");
        assert_eq!(format_price(MAX_PRICE_CENTS), "$9,999,999,999.99");
        assert_eq!(format_mileage(84_000), "84,000 km");
        assert_eq!(format_mileage(0), "0 km");
        assert_eq!(format_price_input(1_599_950), "15999.50");
    }

    #[test]
    fn filters_round_trip_through_the_query_string() {
        let query = "q=civic&min_price=5000&max_price=20000.50&min_year=2010&max_year=2020&make=Honda&condition=used&min_mileage=20000&max_mileage=100000&sort=price_asc&page=3";
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        let (filters, problems) = CarFilters::from_query(get);
        assert!(problems.is_empty());
        assert_eq!(filters.min_price_cents, Some(500_000));
        assert_eq!(filters.max_price_cents, Some(2_000_050));
        assert_eq!(filters.min_mileage_km, Some(20_000));
        assert_eq!(filters.max_mileage_km, Some(100_000));
        assert_eq!(filters.sort, Sort::PriceAsc);
        assert_eq!(filters.page, 3);
        assert_eq!(filters.to_query(3), query);
    }

    #[test]
    fn specification_filters_round_trip_through_the_query_string() {
        let query = "body_type=estate&body_type=suv&fuel=diesel&transmission=manual&drive=all_wheel&colour=grey&min_power_kw=100&max_power_kw=200&equipment=heated_seats&equipment=tow_bar";
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let get_all = |k: &str| {
            pairs
                .iter()
                .filter(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .collect()
        };
        let (filters, problems) = CarFilters::from_query_all(get_all);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(filters.specs.body_types, [BodyType::Estate, BodyType::Suv]);
        assert!(filters.specs.equipment.has(EquipmentItem::TowBar));
        assert!(filters.is_filtered());
        assert_eq!(filters.to_query(1), query);
        // The same choices in another order, repeated, or in capitals: the same filters.
        let (again, _) = CarFilters::from_query_all(|k| match k {
            "body_type" => vec!["SUV".into(), "estate".into(), "suv".into()],
            _ => vec![],
        });
        assert_eq!(again.specs.body_types, [BodyType::Estate, BodyType::Suv]);
        // From JSON, lists are put in the same order and repeats dropped.
        let json = CarFilters {
            specs: SpecFilters {
                fuels: vec![Fuel::Electric, Fuel::Diesel, Fuel::Electric],
                max_power_kw: Some(i32::MAX),
                ..SpecFilters::default()
            },
            ..CarFilters::default()
        }
        .bounded();
        assert_eq!(json.specs.fuels, [Fuel::Diesel, Fuel::Electric]);
        assert_eq!(json.specs.max_power_kw, Some(MAX_POWER_KW));
    }

    #[test]
    fn a_search_sorts_by_best_match_unless_told_otherwise() {
        let parse = |query: &'static str| {
            CarFilters::from_query(move |k| {
                url::form_urlencoded::parse(query.as_bytes())
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.into_owned())
            })
            .0
        };
        let search = parse("q=ford");
        assert_eq!(search.sort, Sort::BestMatch);
        assert_eq!(search.to_query(1), "q=ford");
        let newest = parse("q=ford&sort=newest");
        assert_eq!(newest.sort, Sort::Newest);
        assert_eq!(newest.to_query(1), "q=ford&sort=newest");
        assert_eq!(parse("").sort, Sort::Newest);
    }

    #[test]
    fn unusable_filters_are_dropped_and_reported() {
        let get = |k: &str| match k {
            "min_price" => Some("cheap".to_owned()),
            "min_year" => Some("old".to_owned()),
            "page" => Some("-2".to_owned()),
            "sort" => Some("random".to_owned()),
            _ => None,
        };
        let (filters, problems) = CarFilters::from_query(get);
        assert_eq!(filters.min_price_cents, None);
        assert_eq!(filters.min_year, None);
        assert_eq!(filters.page, 1);
        assert_eq!(filters.sort, Sort::Newest);
        assert_eq!(
            problems.keys().map(String::as_str).collect::<Vec<_>>(),
            ["min_price", "min_year"]
        );
    }

    #[test]
    fn drf_ordering_keeps_known_fields_in_order() {
        let terms = OrderTerm::parse_list("-price, year,bogus,price");
        assert_eq!(
            terms,
            [
                OrderTerm {
                    field: OrderField::Price,
                    descending: true
                },
                OrderTerm {
                    field: OrderField::Year,
                    descending: false
                },
            ]
        );
        assert_eq!(OrderTerm::parse_list("mileage,-"), [OrderTerm::NEWEST]);
        assert_eq!(OrderTerm::parse_list(""), [OrderTerm::NEWEST]);
    }

    #[test]
    fn price_filters_allow_zero_but_not_garbage() {
        assert_eq!(parse_price_filter("0"), Some(0));
        assert_eq!(parse_price_filter("0.00"), Some(0));
        assert_eq!(parse_price_filter("5000"), Some(500_000));
        for raw in ["NaN", "abc", "-1", "0.0.0", "1e5"] {
            assert_eq!(parse_price_filter(raw), None, "{raw}");
        }
    }

    #[test]
    fn filters_from_json_are_bounded_like_the_query_string() {
        let filters = CarFilters {
            q: Some("x".repeat(10_000)),
            make: Some("   ".into()),
            page: u32::MAX,
            ..Default::default()
        }
        .bounded();
        assert_eq!(filters.q.unwrap().len(), MAX_SEARCH);
        assert_eq!(filters.make, None);
        assert_eq!(filters.page, MAX_PAGE);
        // PostgreSQL refuses a NUL in text: control characters never reach a query.
        let filters = CarFilters {
            q: Some("tidy\u{0}civic".into()),
            make: Some("a\u{0}b\n".into()),
            ..Default::default()
        }
        .bounded();
        assert_eq!(filters.q.as_deref(), Some("tidy civic"));
        assert_eq!(filters.make.as_deref(), Some("a b"));
    }

    #[test]
    fn page_count_rounds_up() {
        let page = |total| {
            CarPage {
                cars: vec![],
                total,
                page: 1,
                page_size: 24,
                makes: vec![],
                facets: Facets::default(),
            }
            .page_count()
        };
        assert_eq!(page(0), 1);
        assert_eq!(page(24), 1);
        assert_eq!(page(25), 2);
        assert_eq!(page(240), 10);
    }

    #[test]
    fn a_form_kept_for_showing_again_is_cut_to_each_fields_limit() {
        let form = CarForm {
            make: "M".repeat(MAX_TEXT * 50),
            description: "é".repeat(MAX_DESCRIPTION + 10),
            image_url: "https://x/".repeat(MAX_URL),
            year: "2019".into(),
            ..Default::default()
        }
        .truncated();
        assert_eq!(form.make.chars().count(), MAX_TEXT);
        assert_eq!(form.description.chars().count(), MAX_DESCRIPTION);
        assert_eq!(form.image_url.chars().count(), MAX_URL);
        assert_eq!(form.year, "2019", "short fields are kept whole");
    }
}
