//! Browsing the marketplace: the page and its 404s, search, filters, sorting and
//! pagination (on the page, the list server function and the API's list as buyers use
//! it), the cars-for-sale count and the make filter as cars change, and the demo data.

use crate::common::{
    api_token, api_token_and_id, call, car_form, car_json, create_by_token, list_cars,
    list_request, my_cars, plain_client, result_ids, sell, send, set_status_by_token, Server,
};
use reqwest::{multipart, Client, Method, StatusCode};
use serde_json::{json, Value};

/// The models of the cars on one marketplace answer, in order.
fn models(page: &Value) -> Vec<String> {
    page["cars"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["model"].as_str().unwrap().to_owned())
        .collect()
}

/// Alice lists four cars and one she has sold: Accord (newest), Civic, Camry, Corolla,
/// and the sold Focus. Returns her browser.
async fn four_cars_for_sale(server: &Server) -> Client {
    let alice = server.user("alice").await;
    let cars = [
        ("Toyota", "Corolla", "2012", "8000", "150000"),
        ("Toyota", "Camry", "2018", "19500", "60000"),
        ("Honda", "Civic", "2015", "12000", "90000"),
        ("Honda", "Accord", "2021", "31000", "15000"),
        ("Ford", "Focus", "2010", "5000", "210000"),
    ];
    let mut ids = Vec::new();
    for (make, model, year, price, mileage) in cars {
        ids.push(sell(server, &alice, car_form(make, model, year, price, mileage)).await);
    }
    alice
        .post(server.url("/rpc/cars/set_status"))
        .form(&[("id", ids[4].to_string().as_str()), ("status", "sold")])
        .send()
        .await
        .unwrap();
    alice
}

#[tokio::test]
async fn anonymous_visitor_sees_the_marketplace_and_real_404s() {
    let server = Server::start();
    let client = server.client();

    let res = client.get(server.url("/cars")).send().await.unwrap();

    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("Buy Used Cars"));
    assert!(html.contains("No cars for sale yet"));
    for path in ["/cars/999999", "/cars/abc", "/cars/-1", "/no-such-page"] {
        let res = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn the_marketplace_lists_cars_for_sale_in_the_order_chosen() {
    let server = Server::start();
    let alice = four_cars_for_sale(&server).await;

    let sorted = |sort: Value| list_cars(&server, &alice, json!({ "sort": sort }));

    assert_eq!(
        models(&list_cars(&server, &alice, json!({})).await),
        ["Accord", "Civic", "Camry", "Corolla"]
    );
    assert_eq!(
        models(&sorted(json!("PriceAsc")).await),
        ["Corolla", "Civic", "Camry", "Accord"]
    );
    assert_eq!(
        models(&sorted(json!("PriceDesc")).await),
        ["Accord", "Camry", "Civic", "Corolla"]
    );
    assert_eq!(
        models(&sorted(json!("YearAsc")).await),
        ["Corolla", "Civic", "Camry", "Accord"]
    );
    assert_eq!(
        models(&sorted(json!("Oldest")).await),
        ["Corolla", "Camry", "Civic", "Accord"]
    );
}

#[tokio::test]
async fn a_marketplace_search_finds_every_word_in_any_field() {
    let server = Server::start();
    let alice = four_cars_for_sale(&server).await;

    let search = |q: &str| list_cars(&server, &alice, json!({ "q": q }));

    assert_eq!(models(&search("toyota").await), ["Camry", "Corolla"]);
    assert_eq!(models(&search("tidy honda").await), ["Accord", "Civic"]);
    assert_eq!(models(&search("100%").await), Vec::<String>::new());
}

#[tokio::test]
async fn the_marketplace_filters_by_price_year_make_condition_and_mileage() {
    let server = Server::start();
    let alice = four_cars_for_sale(&server).await;

    let filtered = |filters: Value| list_cars(&server, &alice, filters);

    assert_eq!(
        models(
            &filtered(json!({"min_price_cents": 1_000_000, "max_price_cents": 2_000_000})).await
        ),
        ["Civic", "Camry"]
    );
    assert_eq!(
        models(&filtered(json!({"min_year": 2013, "max_year": 2019})).await),
        ["Civic", "Camry"]
    );
    assert_eq!(
        models(&filtered(json!({"make": "honda", "condition": "used"})).await),
        ["Accord", "Civic"]
    );
    assert_eq!(
        models(&filtered(json!({"max_mileage_km": 60000})).await),
        ["Accord", "Camry"]
    );
    assert_eq!(
        models(&filtered(json!({"min_mileage_km": 60000, "max_mileage_km": 150000})).await),
        ["Civic", "Camry", "Corolla"]
    );
}

#[tokio::test]
async fn the_marketplace_shows_24_cars_a_page() {
    let server = Server::start();
    let alice = four_cars_for_sale(&server).await;
    for i in 0..22 {
        let form = car_form(
            "Kia",
            &format!("Rio{i:02}"),
            "2014",
            &(4000 + i).to_string(),
            "1000",
        );
        sell(&server, &alice, form).await;
    }

    let first = list_cars(&server, &alice, json!({"q": "kia", "sort": "PriceAsc"})).await;
    let all = list_cars(&server, &alice, json!({})).await;
    let second = list_cars(&server, &alice, json!({"page": 2})).await;
    let beyond = list_cars(&server, &alice, json!({"page": 9})).await;

    assert_eq!(first["total"], 22);
    assert_eq!(first["cars"].as_array().unwrap().len(), 22);
    assert_eq!(all["total"], 26);
    assert_eq!(all["cars"].as_array().unwrap().len(), 24);
    assert_eq!(second["cars"].as_array().unwrap().len(), 2);
    assert_eq!(beyond["cars"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn the_marketplace_page_takes_its_filters_from_the_query_string() {
    let server = Server::start();
    let alice = four_cars_for_sale(&server).await;

    let html = server
        .page_text(&alice, "/cars?q=honda&sort=price_asc")
        .await;

    let civic = html.find("2015 Honda Civic").unwrap();
    let accord = html.find("2021 Honda Accord").unwrap();
    assert!(civic < accord);
    assert!(html.contains("2 cars"));
}

#[tokio::test]
async fn a_mileage_range_keeps_its_values_and_each_bound_has_a_chip() {
    let server = Server::start();
    let alice = four_cars_for_sale(&server).await;

    let html = server
        .page_text(&alice, "/cars?min_mileage=60000&max_mileage=150000")
        .await;

    for shown in [
        "2015 Honda Civic",
        "2018 Toyota Camry",
        "2012 Toyota Corolla",
    ] {
        assert!(html.contains(shown), "{shown}");
    }
    assert!(
        !html.contains("2021 Honda Accord"),
        "15,000 km is below the range"
    );
    assert!(html.contains("3 cars"));
    assert!(html.contains(r#"name="min_mileage" type="text" inputmode="numeric" value="60000""#));
    assert!(html.contains("From 60,000 km"));
    assert!(
        html.contains(r#"href="/cars?max_mileage=150000""#),
        "the lower bound's chip keeps the upper one"
    );
    assert!(html.contains(r#"href="/cars?min_mileage=60000""#));

    let html = server.page_text(&alice, "/cars?min_mileage=lots").await;
    assert!(html.contains("Min mileage must be a whole number of kilometres."));
}

#[tokio::test]
async fn a_search_lists_the_best_matches_first_unless_another_order_is_chosen() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let form = |make: &str, model: &str, description: &str| {
        multipart::Form::new()
            .text("make", make.to_owned())
            .text("model", model.to_owned())
            .text("year", "2016")
            .text("price", "9000")
            .text("mileage", "80000")
            .text("condition", "used")
            .text("description", description.to_owned())
            .text("image_url", "")
    };
    // Oldest first: the Ford itself, then two newer cars that only mention a Ford.
    sell(&server, &alice, form("Ford", "Fiesta", "Small and frugal.")).await;
    sell(
        &server,
        &alice,
        form("Skoda", "Fabia", "Cheaper to run than my old Ford."),
    )
    .await;
    sell(
        &server,
        &alice,
        form("Mazda", "Ford Edition", "A special edition."),
    )
    .await;

    // The marketplace URL with only a search: make beats model beats description.
    let html = server.page_text(&alice, "/cars?q=ford").await;
    let at = |model: &str| html.find(model).unwrap_or_else(|| panic!("{model} listed"));
    assert!(at("Fiesta") < at("Ford Edition"), "make match first");
    assert!(
        at("Ford Edition") < at("Fabia"),
        "model match before description"
    );
    assert!(
        html.contains("<option value=\"best_match\" selected"),
        "the sort box says so"
    );

    // An order the buyer picks still wins.
    let newest = list_cars(&server, &alice, json!({ "q": "ford", "sort": "Newest" })).await;
    assert_eq!(models(&newest), ["Ford Edition", "Fabia", "Fiesta"]);
    let best = list_cars(&server, &alice, json!({ "q": "ford", "sort": "BestMatch" })).await;
    assert_eq!(models(&best), ["Fiesta", "Ford Edition", "Fabia"]);
    // Without a search, "best match" is simply newest first.
    let all = list_cars(&server, &alice, json!({ "sort": "BestMatch" })).await;
    assert_eq!(models(&all), ["Ford Edition", "Fabia", "Fiesta"]);
}

/// Plants `count` cars in one statement (both engines): each row is `values`, a SELECT list
/// over the listing `template` (`c`) and its number `i` (1 to `count`).
async fn plant_cars(server: &Server, template: i64, count: i64, values: &str) {
    sqlx::query(&format!(
        "INSERT INTO cars (seller_id, make, model, year, price_cents, mileage_km, condition, description, status, \
         created_at, updated_at) SELECT {values} \
         FROM cars c CROSS JOIN (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) \
         SELECT i FROM n) AS copies WHERE c.id = $1"
    ))
    .bind(template)
    .execute(&server.storage.db_rw().await)
    .await
    .unwrap();
}

/// The ids of the available cars of `make` (priced $10,000 to $20,000 if `band`), in `order`, as stored.
async fn stored_ids(db: &sqlx::AnyPool, make: &str, band: bool, order: &str) -> Vec<i64> {
    let sql = format!(
        "SELECT id FROM cars WHERE status = 'available' AND make = $1 {} ORDER BY {order}",
        if band {
            "AND price_cents BETWEEN 1000000 AND 2000000"
        } else {
            ""
        }
    );
    sqlx::query_scalar::<_, i64>(&sql)
        .bind(make)
        .fetch_all(db)
        .await
        .unwrap()
}

/// The ids the API lists for `query`, 20 a page, following the pages to the last.
async fn ids_on_every_page(server: &Server, client: &Client, query: &str) -> Vec<i64> {
    let url = server.url(&format!("/api/cars/?{query}&page_size=20"));
    let mut ids = Vec::new();
    for page in 1.. {
        let res = client
            .get(format!("{url}&page={page}"))
            .send()
            .await
            .unwrap();
        if res.status() == StatusCode::NOT_FOUND {
            break;
        }
        let body: Value = res.json().await.unwrap();
        for car in body["results"].as_array().unwrap() {
            ids.push(car["id"].as_i64().unwrap());
        }
        if body["next"].is_null() {
            break;
        }
    }
    ids
}

#[tokio::test]
async fn a_search_pages_the_same_whether_few_or_many_cars_match() {
    // SQLite finds a page of a common word's matches by walking the cars in the order
    // asked, and a rare word's by looking up each match: both must give the same pages.
    let server = Server::start();
    let alice = server.user("alice").await;
    let id = sell(
        &server,
        &alice,
        car_form("Toyota", "Corolla", "2015", "4000", "90000"),
    )
    .await;
    // 300 more: 294 Toyotas and 6 Hondas, each with its own price ($5,000 to $34,900).
    plant_cars(
        &server,
        id,
        300,
        "c.seller_id, CASE WHEN i % 50 = 0 THEN 'Honda' ELSE 'Toyota' END, 'Planted', c.year, \
         500000 + (i * 7919 % 300) * 10000, c.mileage_km, c.condition, 'A planted car.', c.status, \
         c.created_at, c.updated_at",
    )
    .await;
    let db = server.db().await;

    for (word, make) in [("toyota", "Toyota"), ("honda", "Honda")] {
        let cases = [
            ("ordering=price", false, "price_cents, id"),
            ("ordering=-created_at", false, "created_at DESC, id DESC"),
            (
                "ordering=-price&min_price=10000&max_price=20000",
                true,
                "price_cents DESC, id DESC",
            ),
        ];
        for (params, band, order) in cases {
            let want = stored_ids(&db, make, band, order).await;
            assert!(!want.is_empty());
            let got = ids_on_every_page(&server, &alice, &format!("search={word}&{params}")).await;
            assert_eq!(got, want, "search={word}&{params}");
        }
    }
}

#[tokio::test]
async fn a_huge_marketplace_counts_to_ten_thousand_and_pages_stop_there() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let id = sell(
        &server,
        &alice,
        car_form("Honda", "Civic", "2015", "9000", "90000"),
    )
    .await;
    // 10,049 more copies of that listing.
    plant_cars(
        &server,
        id,
        10_049,
        "c.seller_id, c.make, c.model, c.year, c.price_cents, c.mileage_km, c.condition, c.description, \
         c.status, c.created_at, c.updated_at",
    )
    .await;

    let html = server.page_text(&alice, "/cars?q=civic").await;
    assert!(html.contains("More than 10,000 cars"), "{html}");
    assert!(html.contains("Showing the first 10,000"));
    assert!(
        html.contains("page=417"),
        "the last reachable page is linked"
    );
    assert!(!html.contains("page=418"));

    let page = |n: u32| {
        let url = server.url(&format!("/api/cars/?page_size=100&page={n}"));
        let client = alice.clone();
        async move { client.get(url).send().await.unwrap() }
    };
    let last = page(100).await;
    assert_eq!(last.status(), StatusCode::OK);
    let body: Value = last.json().await.unwrap();
    assert_eq!(body["count"], 10_000);
    assert!(body["next"].is_null());
    assert_eq!(body["results"].as_array().unwrap().len(), 100);
    assert_eq!(page(101).await.status(), StatusCode::NOT_FOUND);
}

/// The unfiltered list reads a count kept by database triggers; it must follow every
/// way a car enters or leaves the market (listing, status changes both ways, deletion,
/// a seller's account going with all its cars).
#[tokio::test]
async fn the_count_of_cars_for_sale_follows_every_change() {
    let server = Server::start();
    let db = server.storage.db_rw().await;
    let (alice, _) = api_token_and_id(&server, "alice").await;
    let (bob, bob_id) = api_token_and_id(&server, "bob").await;
    let check = |step: &'static str| {
        let (server, db) = (&server, &db);
        async move {
            let stored: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM cars WHERE status = 'available'")
                    .fetch_one(db)
                    .await
                    .unwrap();
            let api = call(server, Method::GET, "/api/cars/", None, None).await;
            assert_eq!(api.body["count"], stored, "API count after {step}");
            let heading = match stored {
                0 => "No cars for sale yet".to_owned(),
                1 => "1 car".to_owned(),
                n => format!("{n} cars"),
            };
            let html = server.page_text(&plain_client(), "/cars").await;
            assert!(
                html.contains(&format!(">{heading}</h2>")),
                "page says {heading:?} after {step}"
            );
            stored
        }
    };
    assert_eq!(check("nothing").await, 0);
    let mut ids = Vec::new();
    for (token, make) in [
        (&alice, "Ford"),
        (&alice, "Honda"),
        (&bob, "Kia"),
        (&bob, "Audi"),
    ] {
        let body = car_json(make, "Test", 2015, "5000", 10);
        ids.push(create_by_token(&server, token, body).await["id"].clone());
    }
    assert_eq!(check("four listings").await, 4);
    set_status_by_token(&server, &alice, &ids[0], "pending").await;
    set_status_by_token(&server, &alice, &ids[0], "sold").await;
    assert_eq!(check("pending then sold").await, 3);
    set_status_by_token(&server, &alice, &ids[0], "available").await;
    set_status_by_token(&server, &alice, &ids[1], "available").await;
    assert_eq!(check("back on sale, and a no-op").await, 4);
    let reply = call(
        &server,
        Method::DELETE,
        &format!("/api/cars/{}/", ids[1]),
        Some(&alice),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(check("a deletion").await, 3);
    set_status_by_token(&server, &bob, &ids[2], "sold").await;
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(bob_id)
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(check("a seller's account removed").await, 1);
}

/// The Make filter's choices: each make with a car for sale, once however sellers
/// spelled its case (the filter ignores case), in alphabetical order. The marketplace
/// page gets them with its cars; the answer is kept until the cars change, so it is
/// asked again after every change.
#[tokio::test]
async fn the_make_filter_offers_each_make_for_sale_once_whatever_its_case() {
    let server = Server::start();
    let (alice, _) = api_token_and_id(&server, "alice").await;
    let makes = || async {
        let page = send(
            plain_client()
                .post(server.url("/rpc/cars/list"))
                .json(&list_request(json!({}))),
        )
        .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        serde_json::from_value::<Vec<String>>(page.body["makes"].clone()).unwrap()
    };
    let folded =
        |offered: &[String]| -> Vec<String> { offered.iter().map(|m| m.to_lowercase()).collect() };
    assert_eq!(makes().await, Vec::<String>::new());
    let mut kia = Value::Null;
    for make in ["Toyota", "toyota", "TOYOTA", "Honda", "bmw", "Kia", "Audi"] {
        let created =
            create_by_token(&server, &alice, car_json(make, "Test", 2015, "5000", 10)).await;
        if make == "Kia" {
            kia = created["id"].clone();
        }
    }
    assert_eq!(
        folded(&makes().await),
        ["audi", "bmw", "honda", "kia", "toyota"]
    );
    set_status_by_token(&server, &alice, &kia, "sold").await;
    let offered = makes().await;
    assert_eq!(
        folded(&offered),
        ["audi", "bmw", "honda", "toyota"],
        "one entry per make for sale, sold-only makes left out: {offered:?}"
    );
    // Choosing the offered spelling finds the make's cars in every spelling.
    let toyota = &offered[3];
    let found = call(
        &server,
        Method::GET,
        &format!("/api/cars/?make={toyota}"),
        None,
        None,
    )
    .await;
    assert_eq!(found.body["count"], 3, "{}", found.body);
}

/// List answers are cached per data version: a repeated search must still see every
/// change that moves a car into or out of it, or changes its order.
#[tokio::test]
async fn a_repeated_search_sees_every_change_to_the_cars() {
    let server = Server::start();
    let token = api_token(&server, "alice").await;
    let path = "/api/cars/?search=civic&max_price=10000&ordering=price";
    let at = &server;
    let search = || async move { call(at, Method::GET, path, None, None).await.body };
    let patch = |id: i64, body: Value| {
        let (server, token) = (&server, token.clone());
        async move {
            let reply = call(
                server,
                Method::PATCH,
                &format!("/api/cars/{id}/"),
                Some(&token),
                Some(body),
            )
            .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        }
    };
    let civic = |year: i32, price: &str| car_json("Honda", "Civic", year, price, 10);
    let first = create_by_token(&server, &token, civic(2015, "9000")).await["id"]
        .as_i64()
        .unwrap();
    let once = search().await;
    assert_eq!(result_ids(&once), vec![first]);
    assert_eq!(once["results"][0]["seller_details"]["username"], "alice");
    // Answered from the cache: the same cars, with every field and the seller's name.
    assert_eq!(search().await, once, "asked again");
    patch(first, json!({"price": "15000"})).await;
    assert_eq!(search().await["count"], 0, "priced out of the search");
    patch(first, json!({"price": "8000"})).await;
    let second = create_by_token(&server, &token, civic(2016, "7000")).await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        result_ids(&search().await),
        vec![second, first],
        "cheapest first"
    );
    patch(second, json!({"price": "8500"})).await;
    assert_eq!(
        result_ids(&search().await),
        vec![first, second],
        "reordered by a price change"
    );
    patch(
        first,
        json!({"model": "Accord", "description": "A tidy Honda Accord."}),
    )
    .await;
    assert_eq!(
        result_ids(&search().await),
        vec![second],
        "no longer a Civic"
    );
    set_status_by_token(&server, &token, second, "sold").await;
    let last = search().await;
    assert_eq!(last["count"], 0, "sold: {last}");
}

#[tokio::test]
async fn demo_data_seeds_hundreds_of_listings_from_several_sellers() {
    let server = Server::start_with(&[("DEMO_DATA", "1")]);
    let client = server.client();

    let page = list_cars(&server, &client, json!({})).await;

    assert!(page["total"].as_i64().unwrap() >= 200, "{}", page["total"]);
    assert!(page["cars"][0]["image"]
        .as_str()
        .unwrap()
        .starts_with("/media/"));
    let makes: Vec<String> = serde_json::from_value(page["makes"].clone()).unwrap();
    assert!(makes.len() >= 20, "{makes:?}");
    for seller in ["alice", "bob"] {
        let res = client
            .post(server.url("/rpc/auth/login"))
            .form(&[("username", seller), ("password", "autonexus-demo")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{seller} can log in");
        assert!(!my_cars(&server, &client).await.is_empty());
    }
}

/// The marketplace page: the first row's photos load at once, the rest lazily, and every
/// photo reserves its box (width and height), so nothing moves as photos arrive.
#[tokio::test]
async fn the_marketplace_loads_the_first_row_of_thumbnails_at_once_and_reserves_every_photos_box() {
    let server = Server::start_with(&[("DEMO_DATA", "1")]);
    let client = server.client();

    let html = server.page_text(&client, "/cars").await;

    let photos: Vec<&str> = html
        .split("<img ")
        .skip(1)
        .map(|tag| &tag[..tag.find('>').unwrap()])
        .collect();
    assert_eq!(photos.len(), 24, "a full page of cards with photos");
    assert!(photos
        .iter()
        .all(|tag| tag.contains("width=\"640\"") && tag.contains("height=\"400\"")));
    let lazy = photos
        .iter()
        .filter(|t| t.contains("loading=\"lazy\""))
        .count();
    assert_eq!(lazy, 20, "all but the first four cards load lazily");
    assert!(
        photos.iter().all(|tag| tag.contains("-640w.jpg\"")),
        "cards load their card-sized copy"
    );
    // WebP in two sizes for the browser to pick from, by the card's width.
    assert_eq!(html.matches("-320w.webp 320w, ").count(), 24);
    assert_eq!(html.matches("type=\"image/webp\"").count(), 24);
}
