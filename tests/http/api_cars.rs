//! The REST API's cars at /api/cars/, against the real server: the DRF contract for
//! listing (pagination, ordering, search, filters), creating, changing and deleting, every
//! status code of the permission matrix, and the API's routing, schema and reference.

use crate::common::{
    api_token, api_token_and_id, call, camera_photo, car_json, create_by_token, plain_client, png,
    result_ids, send, set_status_by_token, stored_cars_and_tokens, Reply, Server, TestData,
};
use reqwest::{header, multipart, Method, StatusCode};
use serde_json::{json, Value};

/// Alice's 31 cars for sale (30 used, ten each of Toyota, Honda and Ford, and the newest, a
/// new Tesla whose description says "HARDWARE") and one she has sold.
struct Market {
    used: Vec<i64>,
    tesla: i64,
}

impl Market {
    async fn stock(server: &Server) -> Market {
        let token = api_token(server, "alice").await;
        let makes = ["Toyota", "Honda", "Ford"];
        let mut used = Vec::new();
        for i in 0..30_i64 {
            let make = makes[(i % 3) as usize];
            let body = car_json(
                make,
                &format!("Model{i}"),
                2000 + (i as i32 % 20),
                &format!("{}", 5_000 + i * 1_000),
                10_000 * i,
            );
            used.push(
                create_by_token(server, &token, body).await["id"]
                    .as_i64()
                    .unwrap(),
            );
        }
        // One new car and one sold car: the sold one is never listed.
        let mut new_car = car_json("Tesla", "Model 3", 2024, "39999.99", 0);
        new_car["condition"] = json!("new");
        new_car["description"] = json!("Full self-driving HARDWARE");
        let tesla = create_by_token(server, &token, new_car).await["id"]
            .as_i64()
            .unwrap();
        let sold = create_by_token(server, &token, car_json("Ford", "Sold", 2010, "1000", 5)).await;
        set_status_by_token(server, &token, &sold["id"], "sold").await;
        Market { used, tesla }
    }
}

/// The body of an anonymous GET of `path`.
async fn get(server: &Server, path: &str) -> Value {
    call(server, Method::GET, path, None, None).await.body
}

#[tokio::test]
async fn an_empty_list_has_no_results_and_no_second_page() {
    let server = Server::start();

    let empty = call(&server, Method::GET, "/api/cars/", None, None).await;
    let second = call(&server, Method::GET, "/api/cars/?page=2", None, None).await;

    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(
        empty.body,
        json!({"count": 0, "next": null, "previous": null, "results": []})
    );
    assert_eq!(second.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_list_pages_24_cars_for_sale_at_a_time_newest_first() {
    let server = Server::start();
    let market = Market::stock(&server).await;

    let page1 = get(&server, "/api/cars/").await;
    let page2 = get(&server, "/api/cars/?page=2").await;

    assert_eq!(market.used.len(), 30);
    assert_eq!(page1["count"], 31);
    assert_eq!(result_ids(&page1).len(), 24);
    assert_eq!(
        result_ids(&page1)[0],
        market.tesla,
        "newest first by default"
    );
    assert_eq!(page1["previous"], Value::Null);
    assert_eq!(page1["next"], server.url("/api/cars/?page=2"));
    assert!(page1["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["status"] == "available"));
    assert_eq!(result_ids(&page2).len(), 7, "the last page holds the rest");
    assert_eq!(page2["next"], Value::Null);
    assert_eq!(page2["previous"], server.url("/api/cars/"));
    let mut all: Vec<i64> = result_ids(&page1)
        .into_iter()
        .chain(result_ids(&page2))
        .collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 31, "no car on two pages, none skipped");
}

#[tokio::test]
async fn a_page_past_the_end_or_not_a_page_number_is_an_invalid_page() {
    let server = Server::start();
    Market::stock(&server).await;

    for bad_page in ["3", "0", "-1", "abc", "99999999999"] {
        let reply = call(
            &server,
            Method::GET,
            &format!("/api/cars/?page={bad_page}"),
            None,
            None,
        )
        .await;

        assert_eq!(reply.status, StatusCode::NOT_FOUND, "page={bad_page}");
        assert_eq!(reply.body["detail"], "Invalid page.");
    }
}

#[tokio::test]
async fn page_size_sets_the_page_length_up_to_100_and_the_links_keep_the_query() {
    let server = Server::start();
    Market::stock(&server).await;

    let small = get(&server, "/api/cars/?page_size=5&page=2&search=model").await;
    let capped = get(&server, "/api/cars/?page_size=1000").await;

    assert_eq!(result_ids(&small).len(), 5);
    assert_eq!(
        small["next"],
        server.url("/api/cars/?page_size=5&search=model&page=3")
    );
    assert_eq!(
        small["previous"],
        server.url("/api/cars/?page_size=5&search=model")
    );
    assert_eq!(
        result_ids(&capped).len(),
        31,
        "page_size is capped at 100, not refused"
    );
}

#[tokio::test]
async fn ordering_sorts_by_each_field_given_and_ignores_unknown_ones() {
    let server = Server::start();
    Market::stock(&server).await;

    let by_price = get(&server, "/api/cars/?ordering=price&page_size=100").await;
    let by_year = get(&server, "/api/cars/?ordering=-year,price&page_size=100").await;
    let unknown = call(
        &server,
        Method::GET,
        "/api/cars/?ordering=mileage,hack;drop",
        None,
        None,
    )
    .await;
    let default = get(&server, "/api/cars/").await;

    let prices: Vec<f64> = by_price["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["price"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(prices.windows(2).all(|w| w[0] <= w[1]), "{prices:?}");
    let keys: Vec<(i64, f64)> = by_year["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                -c["year"].as_i64().unwrap(),
                c["price"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    assert!(keys.windows(2).all(|w| w[0] <= w[1]), "{keys:?}");
    assert_eq!(unknown.status, StatusCode::OK);
    assert_eq!(
        result_ids(&unknown.body),
        result_ids(&default),
        "unknown fields are ignored"
    );
}

#[tokio::test]
async fn search_ignores_case_and_filters_combine() {
    let server = Server::start();
    let market = Market::stock(&server).await;

    let search = get(&server, "/api/cars/?search=hardware").await;
    let filtered = get(
        &server,
        "/api/cars/?make=honda&min_price=10000&max_price=20000&min_year=2005&max_year=2015&min_mileage=80000&max_mileage=150000&condition=used",
    )
    .await;
    let new_only = get(&server, "/api/cars/?condition=new").await;

    // Search is case-insensitive over make, model and description.
    assert_eq!(result_ids(&search), [market.tesla]);
    let rows = filtered["results"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert_eq!(filtered["count"], rows.len());
    for c in rows {
        let price: f64 = c["price"].as_str().unwrap().parse().unwrap();
        assert_eq!(c["make"], "Honda");
        assert!((10_000.0..=20_000.0).contains(&price), "{c}");
        assert!((2005..=2015).contains(&c["year"].as_i64().unwrap()));
        assert!((80_000..=150_000).contains(&c["mileage"].as_i64().unwrap()));
    }
    assert_eq!(result_ids(&new_only), [market.tesla]);
}

#[tokio::test]
async fn a_malformed_filter_is_a_400_naming_the_field() {
    let server = Server::start();
    Market::stock(&server).await;

    for (query, field) in [
        ("min_price=abc", "min_price"),
        ("max_price=NaN", "max_price"),
        ("max_year=20x5", "max_year"),
        ("min_year=99999999999999999999", "min_year"),
        ("max_mileage=-3", "max_mileage"),
        ("min_mileage=12.5", "min_mileage"),
        ("condition=mint", "condition"),
    ] {
        let reply = call(
            &server,
            Method::GET,
            &format!("/api/cars/?{query}"),
            None,
            None,
        )
        .await;

        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(reply.body[field][0].is_string(), "{query}: {}", reply.body);
    }
}

#[tokio::test]
async fn creating_a_listing_needs_a_valid_token() {
    let server = Server::start();
    let corolla = car_json("Toyota", "Corolla", 2017, "11990.00", 98_000);

    let anonymous = call(
        &server,
        Method::POST,
        "/api/cars/",
        None,
        Some(corolla.clone()),
    )
    .await;
    let bad_token = call(
        &server,
        Method::POST,
        "/api/cars/",
        Some(&"0".repeat(40)),
        Some(corolla),
    )
    .await;

    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert!(anonymous.headers[header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .starts_with("Token"));
    assert!(anonymous.body["detail"].is_string());
    assert_eq!(bad_token.status, StatusCode::UNAUTHORIZED);
    assert_eq!(bad_token.body["detail"], "Invalid token.");
}

#[tokio::test]
async fn create_follows_the_original_serializer() {
    let server = Server::start();
    let (token, alice_id) = api_token_and_id(&server, "alice").await;
    let mut body = car_json("Toyota", "Corolla", 2017, "11990.00", 98_000);
    // Read-only fields are ignored.
    body["status"] = json!("sold");
    body["seller"] = json!(999_999);
    body["created_at"] = json!("2000-01-01T00:00:00Z");
    body["image_url"] = json!("https://images.example.com/corolla.jpg");

    let created = create_by_token(&server, &token, body).await;

    assert_eq!(created["seller"], alice_id);
    assert_eq!(
        created["seller_details"],
        json!({"id": alice_id, "username": "alice"})
    );
    assert_eq!(created["price"], "11990.00");
    assert_eq!(created["year"], 2017);
    assert_eq!(created["mileage"], 98_000);
    assert_eq!(created["condition"], "used");
    assert_eq!(created["status"], "available");
    assert_eq!(created["primary_image"], Value::Null);
    assert_eq!(
        created["image_url"],
        "https://images.example.com/corolla.jpg"
    );
    // The answer is the listing as stored: reading it back gives the same.
    let read_back = get(&server, &format!("/api/cars/{}/", created["id"])).await;
    assert_eq!(read_back, created);
    let created_at = created["created_at"].as_str().unwrap();
    assert!(created_at.ends_with('Z') && !created_at.starts_with("2000"));
    assert!(chrono::DateTime::parse_from_rfc3339(created_at).is_ok());
    let mut keys: Vec<&str> = created
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    // The original serializer's fields, `photos` (the gallery, added after it), the
    // specification (added after that), unknown for a car listed without one.
    assert_eq!(created["photos"], json!([]));
    assert_eq!(created["body_type"], Value::Null);
    assert_eq!(created["equipment"], json!([]));
    let original = [
        "condition",
        "created_at",
        "description",
        "id",
        "image_url",
        "make",
        "mileage",
        "model",
        "photos",
        "price",
        "primary_image",
        "seller",
        "seller_details",
        "status",
        "updated_at",
        "year",
    ];
    let specification = [
        "battery_kwh",
        "body_type",
        "colour",
        "doors",
        "drive",
        "engine_cc",
        "equipment",
        "first_registration",
        "fuel",
        "power_hp",
        "power_kw",
        "previous_owners",
        "seats",
        "transmission",
    ];
    // And the car's town (with its distance in a "near" list), none here.
    let place = ["distance_km", "town", "town_id"];
    assert_eq!(created["town_id"], Value::Null);
    let mut expected: Vec<&str> = original
        .into_iter()
        .chain(specification)
        .chain(place)
        .collect();
    expected.sort();
    assert_eq!(keys, expected);
}

#[tokio::test]
async fn a_price_may_be_a_number_and_a_year_a_string_as_drf_accepts() {
    let server = Server::start();
    let token = api_token(&server, "alice").await;

    let numeric = create_by_token(
        &server,
        &token,
        json!({"make": "Mazda", "model": "3", "year": "2019", "price": 15999.5, "mileage": 0}),
    )
    .await;

    assert_eq!(numeric["price"], "15999.50");
    assert_eq!(numeric["condition"], "used", "condition defaults to used");
}

#[tokio::test]
async fn json_numbers_are_read_as_json_schema_reads_them() {
    let server = Server::start();
    let token = api_token(&server, "alice").await;

    // 2017.0 is the integer 2017 in JSON Schema (and for DRF); a number is a model name's text.
    let whole = create_by_token(
        &server,
        &token,
        json!({"make": "Mazda", "model": 3, "year": 2017.0, "price": "9000", "mileage": 1500.0}),
    )
    .await;
    let fraction = call(
        &server,
        Method::POST,
        "/api/cars/",
        Some(&token),
        Some(
            json!({"make": "Mazda", "model": "3", "year": 2017.5, "price": "9000", "mileage": 0.5}),
        ),
    )
    .await;

    assert_eq!(whole["year"], 2017);
    assert_eq!(whole["mileage"], 1500);
    assert_eq!(whole["model"], "3");
    assert_eq!(fraction.status, StatusCode::BAD_REQUEST);
    assert!(fraction.body["year"][0].is_string());
    assert!(fraction.body["mileage"][0].is_string());
}

#[tokio::test]
async fn a_token_that_is_sent_must_be_valid_even_where_none_is_needed() {
    let server = Server::start();
    let token = api_token(&server, "alice").await;
    let car = create_by_token(&server, &token, car_json("Audi", "A4", 2018, "20000", 5)).await;
    let car_path = format!("/api/cars/{}/", car["id"]);

    let list = call(
        &server,
        Method::GET,
        "/api/cars/",
        Some("not-a-token"),
        None,
    )
    .await;
    let one = call(&server, Method::GET, &car_path, Some("not-a-token"), None).await;
    let anonymous = call(&server, Method::GET, "/api/cars/", None, None).await;
    let with_token = call(&server, Method::GET, "/api/cars/", Some(&token), None).await;

    assert_eq!(list.status, StatusCode::UNAUTHORIZED);
    assert_eq!(list.body["detail"], "Invalid token.");
    assert_eq!(list.headers[header::WWW_AUTHENTICATE], "Token");
    assert_eq!(one.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.status, StatusCode::OK);
    assert_eq!(with_token.status, StatusCode::OK);
    assert_eq!(with_token.body["count"], 1);
}

#[tokio::test]
async fn a_listing_can_be_created_from_a_url_encoded_form() {
    let server = Server::start();
    let token = api_token(&server, "alice").await;

    let form = send(
        plain_client()
            .post(server.url("/api/cars/"))
            .header(header::AUTHORIZATION, format!("Token {token}"))
            .form(&[
                ("make", "Kia"),
                ("model", "Rio"),
                ("year", "2012"),
                ("price", "4500"),
                ("mileage", "120000"),
            ]),
    )
    .await;

    assert_eq!(form.status, StatusCode::CREATED, "{}", form.body);
}

/// A multipart create form for a 2008 Volvo V70, with `photo` as its primary image.
fn volvo_with(photo: multipart::Part) -> multipart::Form {
    multipart::Form::new()
        .text("make", "Volvo")
        .text("model", "V70")
        .text("year", "2008")
        .text("price", "3999")
        .text("mileage", "250000")
        .part("primary_image", photo)
}

/// Lists the Volvo with a real photo (multipart) as `token`; returns the answer.
async fn create_volvo_with_a_photo(server: &Server, token: &str) -> Reply {
    send(
        plain_client()
            .post(server.url("/api/cars/"))
            .header(header::AUTHORIZATION, format!("Token {token}"))
            .multipart(volvo_with(
                multipart::Part::bytes(png()).file_name("volvo.png"),
            )),
    )
    .await
}

/// The positions and names of a listing's photos, as stored.
async fn stored_photos(pool: &sqlx::AnyPool, car: i64) -> Vec<(i64, String)> {
    sqlx::query_as(
        "SELECT CAST(position AS BIGINT), name FROM car_photos WHERE car_id = $1 ORDER BY position",
    )
    .bind(car)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// The stored name of the photo an answer's `primary_image` links to.
fn photo_name(car: &Value) -> String {
    let url = car["primary_image"].as_str().unwrap();
    url.rsplit('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_listings_photo_is_its_photo_1_through_every_change() {
    let server = Server::start();
    let token = api_token(&server, "alice").await;
    let pool = server.db().await;
    let with_photo = create_volvo_with_a_photo(&server, &token).await.body;
    let without = create_by_token(&server, &token, car_json("Audi", "A4", 2018, "20000", 5)).await;
    let (first, second) = (
        with_photo["id"].as_i64().unwrap(),
        without["id"].as_i64().unwrap(),
    );
    let new_photo = |id: i64| {
        send(
            plain_client()
                .patch(server.url(&format!("/api/cars/{id}/")))
                .header(header::AUTHORIZATION, format!("Token {token}"))
                .multipart(multipart::Form::new().part(
                    "primary_image",
                    multipart::Part::bytes(png()).file_name("new.png"),
                )),
        )
    };

    let created = stored_photos(&pool, first).await;
    let replaced = new_photo(first).await.body;
    let after_replace = stored_photos(&pool, first).await;
    let added = new_photo(second).await.body;
    let after_add = stored_photos(&pool, second).await;
    let deleted = call(
        &server,
        Method::DELETE,
        &format!("/api/cars/{first}/"),
        Some(&token),
        None,
    )
    .await;

    assert_eq!(created, [(1, photo_name(&with_photo))]);
    assert_ne!(photo_name(&replaced), photo_name(&with_photo));
    assert_eq!(
        after_replace,
        [(1, photo_name(&replaced))],
        "replaced in place"
    );
    assert_eq!(
        after_add,
        [(1, photo_name(&added))],
        "a first photo is photo 1"
    );
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(stored_photos(&pool, first).await.is_empty());
    assert_eq!(
        server.media_files().await,
        1,
        "only the Audi's photo is left (too small to have sizes)"
    );
}

#[tokio::test]
async fn a_listing_created_with_a_photo_links_it_by_an_absolute_url() {
    let server = Server::start();
    let token = api_token(&server, "alice").await;

    let photo = create_volvo_with_a_photo(&server, &token).await;

    assert_eq!(photo.status, StatusCode::CREATED, "{}", photo.body);
    let image_url = photo.body["primary_image"].as_str().unwrap().to_owned();
    assert!(image_url.starts_with(&server.base), "{image_url}");
    let image = plain_client().get(&image_url).send().await.unwrap();
    assert_eq!(image.status(), StatusCode::OK);
    assert_eq!(
        image.headers()[header::CONTENT_TYPE],
        "image/jpeg",
        "an opaque photo is re-encoded as JPEG"
    );
    assert_eq!(
        server.media_files().await,
        1,
        "the photo (too small to have sizes)"
    );
}

#[tokio::test]
async fn a_create_with_missing_or_wrong_fields_names_each_one_and_stores_nothing() {
    let server = Server::start();
    let token = api_token(&server, "alice").await;
    create_by_token(
        &server,
        &token,
        car_json("Toyota", "Corolla", 2017, "11990.00", 98_000),
    )
    .await;
    let pool = server.db().await;
    let before = stored_cars_and_tokens(&pool).await;

    let missing = call(
        &server,
        Method::POST,
        "/api/cars/",
        Some(&token),
        Some(json!({"make": "Toyota"})),
    )
    .await;
    let wrong_types = call(
        &server,
        Method::POST,
        "/api/cars/",
        Some(&token),
        Some(json!({"make": ["Toyota"], "model": "C", "year": true, "price": {"a": 1}, "mileage": 5, "image_url": "javascript:alert(1)"})),
    )
    .await;
    let not_object = call(
        &server,
        Method::POST,
        "/api/cars/",
        Some(&token),
        Some(json!([1, 2])),
    )
    .await;

    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    for field in ["model", "year", "price", "mileage"] {
        assert!(missing.body[field][0].is_string(), "{}", missing.body);
    }
    assert_eq!(wrong_types.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong_types.body["make"][0], "Not a valid string.");
    assert_eq!(wrong_types.body["year"][0], "A valid integer is required.");
    assert_eq!(wrong_types.body["price"][0], "A valid number is required.");
    assert!(wrong_types.body["image_url"][0].is_string());
    assert_eq!(not_object.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        not_object.body["non_field_errors"][0],
        "Invalid data. Expected a dictionary, but got list."
    );
    assert_eq!(
        stored_cars_and_tokens(&pool).await,
        before,
        "rejected requests stored nothing"
    );
}

#[tokio::test]
async fn a_create_with_an_unreadable_body_or_photo_is_refused_and_leaves_nothing_behind() {
    let server = Server::start();
    let token = api_token(&server, "alice").await;
    let photo = create_volvo_with_a_photo(&server, &token).await;
    assert_eq!(photo.status, StatusCode::CREATED, "{}", photo.body);
    let pool = server.db().await;
    let before = stored_cars_and_tokens(&pool).await;
    let post = || {
        plain_client()
            .post(server.url("/api/cars/"))
            .header(header::AUTHORIZATION, format!("Token {token}"))
    };

    let broken_json = send(
        post()
            .header(header::CONTENT_TYPE, "application/json")
            .body("{\"make\": "),
    )
    .await;
    let text = send(
        post()
            .header(header::CONTENT_TYPE, "text/plain")
            .body("make=Toyota"),
    )
    .await;
    let huge = send(
        post()
            .header(header::CONTENT_TYPE, "application/json")
            .body(format!("{{\"description\": \"{}\"}}", "x".repeat(600_000))),
    )
    .await;
    let not_image = send(post().multipart(volvo_with(
        multipart::Part::bytes(b"<svg onload=alert(1)>".to_vec()).file_name("x.png"),
    )))
    .await;
    let too_big_photo = send(
        post().multipart(multipart::Form::new().text("make", "Volvo").part(
            "primary_image",
            multipart::Part::bytes(vec![0u8; 15 * 1024 * 1024 + 1]).file_name("big.jpg"),
        )),
    )
    .await;

    assert_eq!(broken_json.status, StatusCode::BAD_REQUEST);
    assert!(broken_json.body["detail"]
        .as_str()
        .unwrap()
        .starts_with("JSON parse error"));
    assert_eq!(text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(text.body["detail"].as_str().unwrap().contains("text/plain"));
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(not_image.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        not_image.body["primary_image"][0],
        "x.png: this file type is not supported — use JPEG, PNG or WebP."
    );
    assert_eq!(too_big_photo.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        too_big_photo.body["detail"],
        "big.jpg: the file is larger than 15 MB, the most a photo may be."
    );
    assert_eq!(
        stored_cars_and_tokens(&pool).await,
        before,
        "rejected requests stored nothing"
    );
    assert_eq!(server.media_files().await, 1, "no orphaned photo");
}

/// A seller (`owner`) with one used 2017 Toyota Corolla at 11990.00, and another user (`other`).
struct OwnedCar {
    owner: String,
    other: String,
    id: i64,
    path: String,
    status_path: String,
}

impl OwnedCar {
    async fn list(server: &Server) -> OwnedCar {
        let owner = api_token(server, "owner").await;
        let other = api_token(server, "other").await;
        let id = create_by_token(
            server,
            &owner,
            car_json("Toyota", "Corolla", 2017, "11990.00", 98_000),
        )
        .await["id"]
            .as_i64()
            .unwrap();
        OwnedCar {
            owner,
            other,
            id,
            path: format!("/api/cars/{id}/"),
            status_path: format!("/api/cars/{id}/status/"),
        }
    }
}

#[tokio::test]
async fn only_the_owner_changes_a_car_and_everyone_else_gets_the_right_status() {
    let server = Server::start();
    let car = OwnedCar::list(&server).await;
    let (id, owner, other) = (car.id, &car.owner, &car.other);
    let pool = server.db().await;
    let full = car_json("Toyota", "Corolla", 2017, "1.00", 98_000);
    // (method, path, body): every write route.
    let writes: Vec<(Method, &str, Option<Value>)> = vec![
        (Method::PUT, &car.path, Some(full.clone())),
        (Method::PATCH, &car.path, Some(json!({"price": "1.00"}))),
        (
            Method::POST,
            &car.status_path,
            Some(json!({"status": "sold"})),
        ),
        (Method::DELETE, &car.path, None),
    ];
    let before = stored_cars_and_tokens(&pool).await;

    for (method, route, body) in &writes {
        let anonymous = call(&server, method.clone(), route, None, body.clone()).await;
        assert_eq!(
            anonymous.status,
            StatusCode::UNAUTHORIZED,
            "anonymous {method} {route}"
        );
        let stranger = call(&server, method.clone(), route, Some(other), body.clone()).await;
        assert_eq!(
            stranger.status,
            StatusCode::FORBIDDEN,
            "other {method} {route}"
        );
        assert!(stranger.body["detail"].is_string());
        let unknown_route = route.replace(&format!("/{id}/"), "/987654/");
        let unknown = call(
            &server,
            method.clone(),
            &unknown_route,
            Some(owner),
            body.clone(),
        )
        .await;
        assert_eq!(
            unknown.status,
            StatusCode::NOT_FOUND,
            "unknown {method} {route}"
        );
        let anonymous_unknown =
            call(&server, method.clone(), &unknown_route, None, body.clone()).await;
        assert_eq!(
            anonymous_unknown.status,
            StatusCode::UNAUTHORIZED,
            "anonymous unknown {method}"
        );
        let not_a_number = route.replace(&format!("/{id}/"), "/abc/");
        let reply = call(
            &server,
            method.clone(),
            &not_a_number,
            Some(owner),
            body.clone(),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{method} {not_a_number}"
        );
    }

    assert_eq!(
        stored_cars_and_tokens(&pool).await,
        before,
        "refused writes changed nothing"
    );
}

#[tokio::test]
async fn patch_changes_only_the_fields_sent_and_never_the_read_only_ones() {
    let server = Server::start();
    let car = OwnedCar::list(&server).await;

    let patched = call(
        &server,
        Method::PATCH,
        &car.path,
        Some(&car.owner),
        Some(json!({"price": 10500, "seller": 1, "status": "sold", "description": "New tyres."})),
    )
    .await;
    let invalid_patch = call(
        &server,
        Method::PATCH,
        &car.path,
        Some(&car.owner),
        Some(json!({"year": 1500})),
    )
    .await;

    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["price"], "10500.00");
    assert_eq!(patched.body["status"], "available");
    assert_eq!(patched.body["make"], "Toyota");
    assert_eq!(patched.body["mileage"], 98_000);
    assert_eq!(patched.body["description"], "New tyres.");
    assert_eq!(invalid_patch.status, StatusCode::BAD_REQUEST);
    assert!(invalid_patch.body["year"][0].is_string());

    // The document says PATCH's body is optional: without one, nothing changes.
    let empty = send(
        plain_client()
            .patch(server.url(&car.path))
            .header(header::AUTHORIZATION, format!("Token {}", car.owner)),
    )
    .await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    assert_eq!(empty.body["description"], "New tyres.");
}

#[tokio::test]
async fn put_needs_every_required_field_and_keeps_optional_ones_not_sent() {
    let server = Server::start();
    let car = OwnedCar::list(&server).await;
    let patched = call(
        &server,
        Method::PATCH,
        &car.path,
        Some(&car.owner),
        Some(json!({"description": "New tyres."})),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);

    let partial_put = call(
        &server,
        Method::PUT,
        &car.path,
        Some(&car.owner),
        Some(json!({"make": "Toyota"})),
    )
    .await;
    let put = call(
        &server,
        Method::PUT,
        &car.path,
        Some(&car.owner),
        Some(json!({"make": "Toyota", "model": "Auris", "year": 2018, "price": "9999", "mileage": 100})),
    )
    .await;

    assert_eq!(partial_put.status, StatusCode::BAD_REQUEST);
    assert!(partial_put.body["model"][0].is_string());
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.body["model"], "Auris");
    assert_eq!(put.body["description"], "New tyres.");
}

#[tokio::test]
async fn a_car_marked_pending_is_hidden_from_everyone_but_its_owner() {
    let server = Server::start();
    let car = OwnedCar::list(&server).await;

    let bad_status = call(
        &server,
        Method::POST,
        &car.status_path,
        Some(&car.owner),
        Some(json!({"status": "stolen"})),
    )
    .await;
    let pending = call(
        &server,
        Method::POST,
        &car.status_path,
        Some(&car.owner),
        Some(json!({"status": "pending"})),
    )
    .await;

    assert_eq!(bad_status.status, StatusCode::BAD_REQUEST);
    assert!(bad_status.body["status"][0].is_string());
    assert_eq!(pending.status, StatusCode::OK);
    assert_eq!(pending.body["status"], "pending");
    assert_eq!(
        call(&server, Method::GET, &car.path, None, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&server, Method::GET, &car.path, Some(&car.other), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let own_view = call(&server, Method::GET, &car.path, Some(&car.owner), None).await;
    assert_eq!(own_view.status, StatusCode::OK);
    assert_eq!(own_view.body["status"], "pending");
}

#[tokio::test]
async fn my_listings_are_the_callers_own_cars_in_any_status() {
    let server = Server::start();
    let car = OwnedCar::list(&server).await;
    set_status_by_token(&server, &car.owner, car.id, "pending").await;

    let anonymous = call(&server, Method::GET, "/api/cars/my_listings/", None, None).await;
    let mine = call(
        &server,
        Method::GET,
        "/api/cars/my_listings/",
        Some(&car.owner),
        None,
    )
    .await;
    let theirs = call(
        &server,
        Method::GET,
        "/api/cars/my_listings/",
        Some(&car.other),
        None,
    )
    .await;

    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(mine.status, StatusCode::OK);
    assert_eq!(mine.body.as_array().unwrap().len(), 1);
    assert_eq!(mine.body[0]["status"], "pending");
    assert_eq!(theirs.body, json!([]));
}

#[tokio::test]
async fn a_car_its_owner_deletes_is_gone() {
    let server = Server::start();
    let car = OwnedCar::list(&server).await;

    let deleted = call(&server, Method::DELETE, &car.path, Some(&car.owner), None).await;

    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        call(&server, Method::GET, &car.path, Some(&car.owner), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn routing_methods_schema_and_reference_follow_drf_conventions() {
    let server = Server::start();

    let put_list = call(&server, Method::PUT, "/api/cars/", None, Some(json!({}))).await;
    assert_eq!(put_list.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(put_list.body["detail"], "Method \"PUT\" not allowed.");
    assert_eq!(put_list.headers[header::ALLOW], "GET,HEAD,POST");
    let no_slash = call(&server, Method::GET, "/api/cars?search=x", None, None).await;
    assert_eq!(no_slash.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(no_slash.headers[header::LOCATION], "/api/cars/?search=x");
    let unknown = call(&server, Method::GET, "/api/nothing/here/", None, None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.body["detail"], "Not found.");

    let schema = call(&server, Method::GET, "/api/schema/", None, None).await;
    assert_eq!(schema.status, StatusCode::OK);
    assert!(schema.body["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(schema.body["paths"]["/api/cars/{id}/"]["patch"].is_object());
    assert!(schema.body["components"]["schemas"]["ApiCar"].is_object());
    // One body per media type: only multipart carries the photo; PATCH requires nothing.
    let patch = &schema.body["paths"]["/api/cars/{id}/"]["patch"]["requestBody"];
    assert_eq!(patch["required"], false);
    assert_eq!(
        patch["content"]["multipart/form-data"]["schema"]["$ref"],
        "#/components/schemas/CarPatchMultipart"
    );
    // Each body is one of three shapes, by the fuel it sends (see the specification tests).
    let schemas = &schema.body["components"]["schemas"];
    for shape in 0..3 {
        let json = &schemas["CarWrite"]["anyOf"][shape];
        let multipart = &schemas["CarWriteMultipart"]["anyOf"][shape];
        assert!(json["properties"]["primary_image"].is_null());
        assert_eq!(multipart["properties"]["primary_image"]["format"], "binary");
        assert_eq!(json["properties"]["year"]["minimum"], 1886);
    }
    let docs = plain_client()
        .get(server.url("/api/docs/"))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    let html = docs.text().await.unwrap();
    assert!(html.contains("<code>GET /api/cars/</code>"));
    assert!(html.contains("<code>POST /api/auth/token/</code>"));
}

/// `count` small PNG photos in `photos` fields (named car-1.png, car-2.png, ...).
fn photos_form(count: usize) -> multipart::Form {
    (1..=count).fold(multipart::Form::new(), |form, n| {
        form.part(
            "photos",
            multipart::Part::bytes(png()).file_name(format!("car-{n}.png")),
        )
    })
}

/// POSTs `form` to the listing's photos as `token`'s user.
async fn add_photos(
    server: &Server,
    token: Option<&str>,
    car: i64,
    form: multipart::Form,
) -> Reply {
    let mut request = plain_client()
        .post(server.url(&format!("/api/cars/{car}/photos/")))
        .multipart(form);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Token {token}"));
    }
    send(request).await
}

/// The photos' ids of an answer, in its order.
fn photo_ids(car: &Value) -> Vec<i64> {
    car["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|photo| photo["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn photos_are_added_put_in_order_given_a_cover_described_and_removed() {
    let server = Server::start();
    let token = api_token(&server, "alice").await;
    let car = create_by_token(&server, &token, car_json("Audi", "A4", 2018, "20000", 5)).await;
    let id = car["id"].as_i64().unwrap();
    let photos = format!("/api/cars/{id}/photos/");

    let added = add_photos(&server, Some(&token), id, photos_form(3)).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let ids = photo_ids(&added.body);
    assert_eq!(ids.len(), 3);
    let positions: Vec<i64> = added.body["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|photo| photo["position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, [1, 2, 3]);
    assert_eq!(added.body["primary_image"], added.body["photos"][0]["url"]);
    // 40 x 25 pixels: no smaller copies are made, so the thumbnail is the photo itself.
    assert_eq!(
        added.body["photos"][0]["thumbnail_url"],
        added.body["photos"][0]["url"]
    );
    assert_eq!(added.body["photos"][0]["width"], 40);
    assert_eq!(added.body["photos"][0]["height"], 25);

    let reversed: Vec<i64> = ids.iter().rev().copied().collect();
    let ordered = call(
        &server,
        Method::PATCH,
        &photos,
        Some(&token),
        Some(json!({"order": reversed})),
    )
    .await;
    assert_eq!(ordered.status, StatusCode::OK, "{}", ordered.body);
    assert_eq!(photo_ids(&ordered.body), reversed);
    assert_eq!(
        ordered.body["primary_image"],
        ordered.body["photos"][0]["url"]
    );

    let covered = call(
        &server,
        Method::PATCH,
        &photos,
        Some(&token),
        Some(json!({"cover": ids[1]})),
    )
    .await;
    assert_eq!(photo_ids(&covered.body), [ids[1], ids[2], ids[0]]);

    let not_all = call(
        &server,
        Method::PATCH,
        &photos,
        Some(&token),
        Some(json!({"order": [ids[0], ids[1]]})),
    )
    .await;
    assert_eq!(not_all.status, StatusCode::CONFLICT);
    assert_eq!(
        not_all.body["detail"],
        "The order must list every photo of this listing once, by id."
    );
    let not_ids = call(
        &server,
        Method::PATCH,
        &photos,
        Some(&token),
        Some(json!({"order": "first"})),
    )
    .await;
    assert_eq!(not_ids.status, StatusCode::BAD_REQUEST);

    let one = format!("/api/cars/{id}/photos/{}/", ids[2]);
    let described = call(
        &server,
        Method::PATCH,
        &one,
        Some(&token),
        Some(json!({"label": "damage", "caption": "  Scratch on the rear bumper "})),
    )
    .await;
    assert_eq!(described.status, StatusCode::OK, "{}", described.body);
    assert_eq!(described.body["label"], "damage");
    assert_eq!(described.body["caption"], "Scratch on the rear bumper");
    let unknown_label = call(
        &server,
        Method::PATCH,
        &one,
        Some(&token),
        Some(json!({"label": "roof"})),
    )
    .await;
    assert_eq!(unknown_label.status, StatusCode::BAD_REQUEST);
    assert!(unknown_label.body["label"][0]
        .as_str()
        .unwrap()
        .contains("damage"));
    let shown = call(
        &server,
        Method::GET,
        &format!("/api/cars/{id}/"),
        None,
        None,
    )
    .await;
    assert_eq!(shown.body["photos"][1]["label"], "damage");
    assert_eq!(
        shown.body["photos"][1]["caption"],
        "Scratch on the rear bumper"
    );

    // The cover goes: the next photo is the cover, and the positions close up.
    let removed = call(
        &server,
        Method::DELETE,
        &format!("/api/cars/{id}/photos/{}/", ids[1]),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let after = call(
        &server,
        Method::GET,
        &format!("/api/cars/{id}/"),
        None,
        None,
    )
    .await;
    assert_eq!(photo_ids(&after.body), [ids[2], ids[0]]);
    assert_eq!(after.body["photos"][1]["position"], 2);
    assert_eq!(after.body["primary_image"], after.body["photos"][0]["url"]);
    assert_eq!(
        server.media_files().await,
        2,
        "two photos (too small to have sizes)"
    );

    let deleted = call(
        &server,
        Method::DELETE,
        &format!("/api/cars/{id}/"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        server.media_files().await,
        0,
        "every photo goes with the listing"
    );
}

#[tokio::test]
async fn every_photo_route_answers_401_403_404_like_the_listing() {
    let server = Server::start();
    let owner = api_token(&server, "owner").await;
    let other = api_token(&server, "other").await;
    let car = create_by_token(&server, &owner, car_json("Audi", "A4", 2018, "20000", 5)).await;
    let id = car["id"].as_i64().unwrap();
    let added = add_photos(&server, Some(&owner), id, photos_form(1)).await;
    let photo = photo_ids(&added.body)[0];

    for (caller, car, photo, expected) in [
        (None, id, photo, StatusCode::UNAUTHORIZED),
        (Some(other.as_str()), id, photo, StatusCode::FORBIDDEN),
        (Some(owner.as_str()), 999_999, photo, StatusCode::NOT_FOUND),
    ] {
        let posted = add_photos(&server, caller, car, photos_form(1)).await;
        let arranged = call(
            &server,
            Method::PATCH,
            &format!("/api/cars/{car}/photos/"),
            caller,
            Some(json!({"cover": photo})),
        )
        .await;
        let described = call(
            &server,
            Method::PATCH,
            &format!("/api/cars/{car}/photos/{photo}/"),
            caller,
            Some(json!({"caption": "x"})),
        )
        .await;
        let removed = call(
            &server,
            Method::DELETE,
            &format!("/api/cars/{car}/photos/{photo}/"),
            caller,
            None,
        )
        .await;
        for (route, status) in [
            ("POST photos", posted.status),
            ("PATCH photos", arranged.status),
            ("PATCH photo", described.status),
            ("DELETE photo", removed.status),
        ] {
            assert_eq!(status, expected, "{route} as {caller:?} on car {car}");
        }
    }
    // The owner, but a photo of another listing or none at all.
    let second = create_by_token(&server, &owner, car_json("BMW", "X1", 2019, "25000", 5)).await;
    let second = second["id"].as_i64().unwrap();
    for photo in [photo, 999_999] {
        let path = format!("/api/cars/{second}/photos/{photo}/");
        let described = call(
            &server,
            Method::PATCH,
            &path,
            Some(&owner),
            Some(json!({"caption": "x"})),
        )
        .await;
        let removed = call(&server, Method::DELETE, &path, Some(&owner), None).await;
        assert_eq!(described.status, StatusCode::NOT_FOUND);
        assert_eq!(removed.status, StatusCode::NOT_FOUND);
    }
    let kept = call(
        &server,
        Method::GET,
        &format!("/api/cars/{id}/"),
        None,
        None,
    )
    .await;
    assert_eq!(
        photo_ids(&kept.body),
        [photo],
        "nothing changed by the refused requests"
    );
    assert_eq!(kept.body["photos"][0]["caption"], "");
}

#[tokio::test]
async fn a_listing_takes_20_photos_and_a_bad_file_keeps_none_of_its_batch() {
    let server = Server::start();
    let token = api_token(&server, "alice").await;
    let car = create_by_token(&server, &token, car_json("Audi", "A4", 2018, "20000", 5)).await;
    let id = car["id"].as_i64().unwrap();

    let bad_batch = photos_form(2).part(
        "photos",
        multipart::Part::bytes(b"ftypheic not really".to_vec()).file_name("IMG_2231.HEIC"),
    );
    let refused = add_photos(&server, Some(&token), id, bad_batch).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.body["photos"][0],
        "IMG_2231.HEIC: this file type is not supported — use JPEG, PNG or WebP."
    );
    assert_eq!(server.media_files().await, 0, "none of the batch is kept");

    let twenty = add_photos(&server, Some(&token), id, photos_form(20)).await;
    assert_eq!(twenty.status, StatusCode::CREATED, "{}", twenty.body);
    assert_eq!(photo_ids(&twenty.body).len(), 20);
    let one_more = add_photos(&server, Some(&token), id, photos_form(1)).await;
    assert_eq!(one_more.status, StatusCode::CONFLICT);
    assert_eq!(
        one_more.body["detail"],
        "A listing has at most 20 photos, and this one has them all."
    );
    let nothing = add_photos(
        &server,
        Some(&token),
        id,
        multipart::Form::new().text("note", "x"),
    )
    .await;
    assert_eq!(nothing.status, StatusCode::BAD_REQUEST, "no photo sent");
    assert!(nothing.body["photos"][0]
        .as_str()
        .unwrap()
        .starts_with("Choose at least one photo"));
    assert_eq!(server.media_files().await, 20);
}

#[tokio::test]
async fn each_photo_is_kept_in_three_widths_in_webp_and_its_own_format_and_removed_with_them() {
    let server = Server::start();
    let token = api_token(&server, "alice").await;
    let car = create_by_token(&server, &token, car_json("Audi", "A6", 2019, "31000", 5)).await;
    let id = car["id"].as_i64().unwrap();
    let form = multipart::Form::new().part(
        "photos",
        multipart::Part::bytes(camera_photo()).file_name("front.jpg"),
    );

    let added = add_photos(&server, Some(&token), id, form).await;

    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let photo = &added.body["photos"][0];
    assert_eq!(
        (photo["width"].as_i64(), photo["height"].as_i64()),
        (Some(1600), Some(1200))
    );
    let url = photo["url"].as_str().unwrap();
    let path = &url[url.find("/media/").unwrap()..];
    assert_eq!(
        photo["thumbnail_url"].as_str().unwrap(),
        url.replace(".jpg", "-640w.jpg")
    );
    let client = plain_client();
    for width in [320u32, 640, 1280] {
        for (ext, content_type, format) in [
            ("webp", "image/webp", image::ImageFormat::WebP),
            ("jpg", "image/jpeg", image::ImageFormat::Jpeg),
        ] {
            let file = path.replace(".jpg", &format!("-{width}w.{ext}"));
            let res = client.get(server.url(&file)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{file}");
            assert_eq!(res.headers()[header::CONTENT_TYPE], content_type, "{file}");
            assert!(res.headers()[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("immutable"));
            let bytes = res.bytes().await.unwrap();
            let img = image::load_from_memory_with_format(&bytes, format).unwrap();
            assert_eq!(
                (img.width(), img.height()),
                (width, width * 3 / 4),
                "{file}"
            );
        }
    }
    assert_eq!(
        server.media_files().await,
        7,
        "the photo and 3 sizes in 2 formats"
    );
    // The details page offers each size to the browser, WebP first.
    let html = server.page_text(&client, &format!("/cars/{id}")).await;
    let webp = path.replace(".jpg", "-1280w.webp 1280w");
    assert!(html.contains(&webp), "{html}");
    assert!(html.contains("type=\"image/webp\""));
    assert!(html.contains("width=\"1600\" height=\"1200\""));

    let photo_id = photo["id"].as_i64().unwrap();
    let removed = call(
        &server,
        Method::DELETE,
        &format!("/api/cars/{id}/photos/{photo_id}/"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);
    assert_eq!(
        server.media_files().await,
        0,
        "every size goes with the photo"
    );
}

#[tokio::test]
async fn photos_stored_before_sizes_existed_get_them_when_a_server_starts() {
    let data = TestData::new();
    let first = data.start(&[]);
    let token = api_token(&first, "alice").await;
    let car = create_by_token(&first, &token, car_json("Audi", "A3", 2017, "14000", 5)).await;
    let id = car["id"].as_i64().unwrap();
    let form = multipart::Form::new().part(
        "photos",
        multipart::Part::bytes(camera_photo()).file_name("side.jpg"),
    );
    let added = add_photos(&first, Some(&token), id, form).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let url = added.body["photos"][0]["url"].as_str().unwrap().to_owned();
    let name = url.rsplit('/').next().unwrap().to_owned();
    // As an older version left it: the photo alone, its shape unknown.
    sqlx::query("UPDATE car_photos SET width = NULL, height = NULL")
        .execute(&first.storage.db_rw().await)
        .await
        .unwrap();
    for width in [320, 640, 1280] {
        for ext in ["jpg", "webp"] {
            data.storage
                .delete_media(&name.replace(".jpg", &format!("-{width}w.{ext}")))
                .await;
        }
    }
    assert_eq!(data.storage.media_files().await, 1);
    let before = call(&first, Method::GET, &format!("/api/cars/{id}/"), None, None).await;
    assert_eq!(before.body["photos"][0]["width"], Value::Null);
    drop(first);

    // The next server to start makes them, in the background.
    let second = data.start(&[]);
    let mut answer = Value::Null;
    for _ in 0..100 {
        answer = call(
            &second,
            Method::GET,
            &format!("/api/cars/{id}/"),
            None,
            None,
        )
        .await
        .body;
        if answer["photos"][0]["width"] == 1600 && data.storage.media_files().await == 7 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(answer["photos"][0]["width"], 1600, "{answer}");
    assert_eq!(answer["photos"][0]["height"], 1200);
    assert_eq!(data.storage.media_files().await, 7);
    assert!(answer["photos"][0]["thumbnail_url"]
        .as_str()
        .unwrap()
        .ends_with(&name.replace(".jpg", "-640w.jpg")));
}

#[tokio::test]
async fn the_facet_counts_and_the_towns_are_read_only_and_open_to_everyone() {
    let server = Server::start();
    let token = api_token(&server, "reader").await;
    for path in ["/api/facets/?fuel=diesel", "/api/towns/?q=spring"] {
        for who in [None, Some(token.as_str())] {
            let reply = call(&server, Method::GET, path, who, None).await;
            assert_eq!(reply.status, StatusCode::OK, "GET {path} by {who:?}");
        }
        // A token that is not one: the counts refuse it, as every route about cars does
        // (DRF); the towns are the same for everyone (publicly cached), and never read it.
        let forged = call(&server, Method::GET, path, Some("not-a-token"), None).await;
        if path.starts_with("/api/facets/") {
            assert_eq!(forged.status, StatusCode::UNAUTHORIZED, "GET {path}");
            assert!(forged.body["detail"].is_string());
        } else {
            assert_eq!(forged.status, StatusCode::OK, "GET {path}");
            assert_eq!(
                forged.headers[header::CACHE_CONTROL],
                "public, max-age=3600"
            );
        }
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            for who in [None, Some(token.as_str())] {
                let reply = call(&server, method.clone(), path, who, Some(json!({}))).await;
                assert_eq!(
                    reply.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} by {who:?}"
                );
                assert_eq!(reply.headers[header::ALLOW], "GET,HEAD", "{method} {path}");
                assert_eq!(
                    reply.body["detail"],
                    format!("Method \"{method}\" not allowed.")
                );
            }
        }
    }
}
