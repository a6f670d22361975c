//! The REST API at /api/ against the real server: the DRF contract, every endpoint
//! and status code, the permission matrix, pagination edges, and a fuzz test.

use crate::common::{
    fuzz::{self, random_json, random_object, random_text, Rng},
    list_request, png, Server,
};
use reqwest::{header, multipart, Client, Method, StatusCode};
use serde_json::{json, Value};
use sqlx::AnyPool;

/// One API response: status, JSON body (Null if none or not JSON) and headers.
struct Reply {
    status: StatusCode,
    body: Value,
    headers: header::HeaderMap,
}

fn plain_client() -> Client {
    Client::builder()
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn send(request: reqwest::RequestBuilder) -> Reply {
    let res = request.send().await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        body,
        headers,
    }
}

/// A JSON request with an optional token.
async fn call(
    server: &Server,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let mut request = plain_client().request(method, server.url(path));
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Token {token}"));
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    send(request).await
}

/// Registers `name` and returns a fresh API token and the user's id.
async fn token_for(server: &Server, name: &str) -> (String, i64) {
    server.user(name).await;
    let reply = call(
        server,
        Method::POST,
        "/api/auth/token/",
        None,
        Some(json!({"username": name, "password": "correct-horse-battery"})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let token = reply.body["token"].as_str().unwrap().to_owned();
    let me = call(server, Method::GET, "/api/auth/me/", Some(&token), None).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["username"], name);
    (token, me.body["id"].as_i64().unwrap())
}

fn car(make: &str, model: &str, year: i32, price: &str, mileage: i64) -> Value {
    json!({
        "make": make, "model": model, "year": year, "price": price, "mileage": mileage,
        "condition": "used", "description": format!("A tidy {make} {model}.")
    })
}

async fn create(server: &Server, token: &str, body: Value) -> Value {
    let reply = call(server, Method::POST, "/api/cars/", Some(token), Some(body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

/// Sets a car's status with the seller's token; the API answers 200 with the new status.
async fn set_status(server: &Server, token: &str, id: impl std::fmt::Display, status: &str) {
    let reply = call(
        server,
        Method::POST,
        &format!("/api/cars/{id}/status/"),
        Some(token),
        Some(json!({"status": status})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["status"], status);
}

/// Everything stored about cars and tokens, to prove a rejected request changed nothing.
async fn fingerprint(pool: &AnyPool) -> String {
    // Written to run on both engines (string_agg: SQLite 3.44+, PostgreSQL).
    sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM api_tokens) || '#' || COALESCE((SELECT string_agg(id || '|' || seller_id || '|' || \
          make || '|' || model || '|' || year || '|' || price_cents || '|' || mileage_km || '|' || condition || '|' || \
          description || '|' || COALESCE(photo, '') || '|' || COALESCE(image_url, '') || '|' || status || '|' || \
          CAST(updated_at AS TEXT), ';' ORDER BY id) FROM cars), '')",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn open_db(server: &Server) -> AnyPool {
    server.db().await
}

fn ids(page: &Value) -> Vec<i64> {
    page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn list_paginates_filters_searches_and_orders_like_drf() {
    let server = Server::start();
    let empty = call(&server, Method::GET, "/api/cars/", None, None).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(
        empty.body,
        json!({"count": 0, "next": null, "previous": null, "results": []})
    );
    assert_eq!(
        call(&server, Method::GET, "/api/cars/?page=2", None, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let (token, _) = token_for(&server, "alice").await;
    let makes = ["Toyota", "Honda", "Ford"];
    let mut created = Vec::new();
    for i in 0..30_i64 {
        let make = makes[(i % 3) as usize];
        let body = car(
            make,
            &format!("Model{i}"),
            2000 + (i as i32 % 20),
            &format!("{}", 5_000 + i * 1_000),
            10_000 * i,
        );
        created.push(create(&server, &token, body).await["id"].as_i64().unwrap());
    }
    // One new car and one sold car: the sold one is never listed.
    let mut new_car = car("Tesla", "Model 3", 2024, "39999.99", 0);
    new_car["condition"] = json!("new");
    new_car["description"] = json!("Full self-driving HARDWARE");
    let tesla = create(&server, &token, new_car).await["id"]
        .as_i64()
        .unwrap();
    let sold = create(&server, &token, car("Ford", "Sold", 2010, "1000", 5)).await;
    set_status(&server, &token, &sold["id"], "sold").await;

    let page1 = call(&server, Method::GET, "/api/cars/", None, None)
        .await
        .body;
    assert_eq!(page1["count"], 31);
    assert_eq!(ids(&page1).len(), 24);
    assert_eq!(ids(&page1)[0], tesla, "newest first by default");
    assert_eq!(page1["previous"], Value::Null);
    assert_eq!(page1["next"], server.url("/api/cars/?page=2"));
    assert!(page1["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["status"] == "available"));

    let page2 = call(&server, Method::GET, "/api/cars/?page=2", None, None)
        .await
        .body;
    assert_eq!(ids(&page2).len(), 7, "the last page holds the rest");
    assert_eq!(page2["next"], Value::Null);
    assert_eq!(page2["previous"], server.url("/api/cars/"));
    let mut all: Vec<i64> = ids(&page1).into_iter().chain(ids(&page2)).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 31, "no car on two pages, none skipped");

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
    let small = call(
        &server,
        Method::GET,
        "/api/cars/?page_size=5&page=2&search=model",
        None,
        None,
    )
    .await
    .body;
    assert_eq!(ids(&small).len(), 5);
    assert_eq!(
        small["next"],
        server.url("/api/cars/?page_size=5&search=model&page=3")
    );
    assert_eq!(
        small["previous"],
        server.url("/api/cars/?page_size=5&search=model")
    );
    let capped = call(
        &server,
        Method::GET,
        "/api/cars/?page_size=1000",
        None,
        None,
    )
    .await
    .body;
    assert_eq!(
        ids(&capped).len(),
        31,
        "page_size is capped at 100, not refused"
    );

    // Ordering: several keys, unknown ones ignored.
    let by_price = call(
        &server,
        Method::GET,
        "/api/cars/?ordering=price&page_size=100",
        None,
        None,
    )
    .await
    .body;
    let prices: Vec<f64> = by_price["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["price"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(prices.windows(2).all(|w| w[0] <= w[1]), "{prices:?}");
    let by_year = call(
        &server,
        Method::GET,
        "/api/cars/?ordering=-year,price&page_size=100",
        None,
        None,
    )
    .await
    .body;
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
    let unknown = call(
        &server,
        Method::GET,
        "/api/cars/?ordering=mileage,hack;drop",
        None,
        None,
    )
    .await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert_eq!(
        ids(&unknown.body),
        ids(&page1),
        "unknown fields are ignored"
    );

    // Search is case-insensitive over make, model and description; filters combine.
    let search = call(
        &server,
        Method::GET,
        "/api/cars/?search=hardware",
        None,
        None,
    )
    .await
    .body;
    assert_eq!(ids(&search), [tesla]);
    let filtered = call(
        &server,
        Method::GET,
        "/api/cars/?make=honda&min_price=10000&max_price=20000&min_year=2005&max_year=2015&max_mileage=150000&condition=used",
        None,
        None,
    )
    .await
    .body;
    let rows = filtered["results"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert_eq!(filtered["count"], rows.len());
    for c in rows {
        let price: f64 = c["price"].as_str().unwrap().parse().unwrap();
        assert_eq!(c["make"], "Honda");
        assert!((10_000.0..=20_000.0).contains(&price), "{c}");
        assert!((2005..=2015).contains(&c["year"].as_i64().unwrap()));
        assert!(c["mileage"].as_i64().unwrap() <= 150_000);
    }
    let new_only = call(&server, Method::GET, "/api/cars/?condition=new", None, None)
        .await
        .body;
    assert_eq!(ids(&new_only), [tesla]);

    // Malformed numbers: 400 naming the field.
    for (query, field) in [
        ("min_price=abc", "min_price"),
        ("max_price=NaN", "max_price"),
        ("max_year=20x5", "max_year"),
        ("min_year=99999999999999999999", "min_year"),
        ("max_mileage=-3", "max_mileage"),
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
    assert_eq!(created.len(), 30);
}

/// The unfiltered list reads a count kept by database triggers; it must follow every
/// way a car enters or leaves the market (listing, status changes both ways, deletion,
/// a seller's account going with all its cars).
#[tokio::test]
async fn the_count_of_cars_for_sale_follows_every_change() {
    let server = Server::start();
    let db = server.storage.db_rw().await;
    let (alice, _) = token_for(&server, "alice").await;
    let (bob, bob_id) = token_for(&server, "bob").await;
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
        ids.push(create(&server, token, car(make, "Test", 2015, "5000", 10)).await["id"].clone());
    }
    assert_eq!(check("four listings").await, 4);
    set_status(&server, &alice, &ids[0], "pending").await;
    set_status(&server, &alice, &ids[0], "sold").await;
    assert_eq!(check("pending then sold").await, 3);
    set_status(&server, &alice, &ids[0], "available").await;
    set_status(&server, &alice, &ids[1], "available").await;
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
    set_status(&server, &bob, &ids[2], "sold").await;
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
    let (alice, _) = token_for(&server, "alice").await;
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
        let created = create(&server, &alice, car(make, "Test", 2015, "5000", 10)).await;
        if make == "Kia" {
            kia = created["id"].clone();
        }
    }
    assert_eq!(
        folded(&makes().await),
        ["audi", "bmw", "honda", "kia", "toyota"]
    );
    set_status(&server, &alice, &kia, "sold").await;
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
    let (token, _) = token_for(&server, "alice").await;
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
    let first = create(&server, &token, car("Honda", "Civic", 2015, "9000", 10)).await["id"]
        .as_i64()
        .unwrap();
    let once = search().await;
    assert_eq!(ids(&once), vec![first]);
    assert_eq!(once["results"][0]["seller_details"]["username"], "alice");
    // Answered from the cache: the same cars, with every field and the seller's name.
    assert_eq!(search().await, once, "asked again");
    patch(first, json!({"price": "15000"})).await;
    assert_eq!(search().await["count"], 0, "priced out of the search");
    patch(first, json!({"price": "8000"})).await;
    let second = create(&server, &token, car("Honda", "Civic", 2016, "7000", 10)).await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(ids(&search().await), vec![second, first], "cheapest first");
    patch(second, json!({"price": "8500"})).await;
    assert_eq!(
        ids(&search().await),
        vec![first, second],
        "reordered by a price change"
    );
    patch(
        first,
        json!({"model": "Accord", "description": "A tidy Honda Accord."}),
    )
    .await;
    assert_eq!(ids(&search().await), vec![second], "no longer a Civic");
    set_status(&server, &token, second, "sold").await;
    let last = search().await;
    assert_eq!(last["count"], 0, "sold: {last}");
}

#[tokio::test]
async fn create_follows_the_original_serializer() {
    let server = Server::start();
    let anonymous = call(
        &server,
        Method::POST,
        "/api/cars/",
        None,
        Some(car("Toyota", "Corolla", 2017, "11990.00", 98_000)),
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert!(anonymous.headers[header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .starts_with("Token"));
    assert!(anonymous.body["detail"].is_string());
    let bad_token = call(
        &server,
        Method::POST,
        "/api/cars/",
        Some(&"0".repeat(40)),
        Some(car("Toyota", "Corolla", 2017, "11990.00", 98_000)),
    )
    .await;
    assert_eq!(bad_token.status, StatusCode::UNAUTHORIZED);
    assert_eq!(bad_token.body["detail"], "Invalid token.");

    let (token, alice_id) = token_for(&server, "alice").await;
    let mut body = car("Toyota", "Corolla", 2017, "11990.00", 98_000);
    // Read-only fields are ignored.
    body["status"] = json!("sold");
    body["seller"] = json!(999_999);
    body["created_at"] = json!("2000-01-01T00:00:00Z");
    body["image_url"] = json!("https://images.example.com/corolla.jpg");
    let created = create(&server, &token, body).await;
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
    let read_back = call(
        &server,
        Method::GET,
        &format!("/api/cars/{}/", created["id"]),
        None,
        None,
    )
    .await;
    assert_eq!(read_back.body, created);
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
    assert_eq!(
        keys,
        [
            "condition",
            "created_at",
            "description",
            "id",
            "image_url",
            "make",
            "mileage",
            "model",
            "price",
            "primary_image",
            "seller",
            "seller_details",
            "status",
            "updated_at",
            "year"
        ]
    );

    // Price as a JSON number; year as a string: both accepted, as DRF does.
    let numeric = create(
        &server,
        &token,
        json!({"make": "Mazda", "model": "3", "year": "2019", "price": 15999.5, "mileage": 0}),
    )
    .await;
    assert_eq!(numeric["price"], "15999.50");
    assert_eq!(numeric["condition"], "used", "condition defaults to used");

    // A url-encoded form works too.
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

    // With a photo, as multipart: primary_image is an absolute URL that serves the image.
    let photo = send(
        plain_client()
            .post(server.url("/api/cars/"))
            .header(header::AUTHORIZATION, format!("Token {token}"))
            .multipart(
                multipart::Form::new()
                    .text("make", "Volvo")
                    .text("model", "V70")
                    .text("year", "2008")
                    .text("price", "3999")
                    .text("mileage", "250000")
                    .part(
                        "primary_image",
                        multipart::Part::bytes(png()).file_name("volvo.png"),
                    ),
            ),
    )
    .await;
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
    assert_eq!(server.media_files().await, 2, "the photo and its thumbnail");

    // 400s name each bad field; nothing is stored.
    let pool = open_db(&server).await;
    let before = fingerprint(&pool).await;
    let missing = call(
        &server,
        Method::POST,
        "/api/cars/",
        Some(&token),
        Some(json!({"make": "Toyota"})),
    )
    .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    for field in ["model", "year", "price", "mileage"] {
        assert!(missing.body[field][0].is_string(), "{}", missing.body);
    }
    let wrong_types = call(
        &server,
        Method::POST,
        "/api/cars/",
        Some(&token),
        Some(json!({"make": ["Toyota"], "model": "C", "year": true, "price": {"a": 1}, "mileage": 5, "image_url": "javascript:alert(1)"})),
    )
    .await;
    assert_eq!(wrong_types.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong_types.body["make"][0], "Not a valid string.");
    assert_eq!(wrong_types.body["year"][0], "A valid integer is required.");
    assert_eq!(wrong_types.body["price"][0], "A valid number is required.");
    assert!(wrong_types.body["image_url"][0].is_string());
    let not_object = call(
        &server,
        Method::POST,
        "/api/cars/",
        Some(&token),
        Some(json!([1, 2])),
    )
    .await;
    assert_eq!(not_object.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        not_object.body["non_field_errors"][0],
        "Invalid data. Expected a dictionary, but got list."
    );
    let authed = |request: reqwest::RequestBuilder| {
        request.header(header::AUTHORIZATION, format!("Token {token}"))
    };
    let broken_json = send(
        authed(plain_client().post(server.url("/api/cars/")))
            .header(header::CONTENT_TYPE, "application/json")
            .body("{\"make\": "),
    )
    .await;
    assert_eq!(broken_json.status, StatusCode::BAD_REQUEST);
    assert!(broken_json.body["detail"]
        .as_str()
        .unwrap()
        .starts_with("JSON parse error"));
    let text = send(
        authed(plain_client().post(server.url("/api/cars/")))
            .header(header::CONTENT_TYPE, "text/plain")
            .body("make=Toyota"),
    )
    .await;
    assert_eq!(text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(text.body["detail"].as_str().unwrap().contains("text/plain"));
    let huge = send(
        authed(plain_client().post(server.url("/api/cars/")))
            .header(header::CONTENT_TYPE, "application/json")
            .body(format!("{{\"description\": \"{}\"}}", "x".repeat(600_000))),
    )
    .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    let not_image = send(
        authed(plain_client().post(server.url("/api/cars/"))).multipart(
            multipart::Form::new()
                .text("make", "Volvo")
                .text("model", "V70")
                .text("year", "2008")
                .text("price", "3999")
                .text("mileage", "250000")
                .part(
                    "primary_image",
                    multipart::Part::bytes(b"<svg onload=alert(1)>".to_vec()).file_name("x.png"),
                ),
        ),
    )
    .await;
    assert_eq!(not_image.status, StatusCode::BAD_REQUEST);
    assert!(not_image.body["primary_image"][0].is_string());
    let too_big_photo = send(
        authed(plain_client().post(server.url("/api/cars/"))).multipart(
            multipart::Form::new().text("make", "Volvo").part(
                "primary_image",
                multipart::Part::bytes(vec![0u8; 10 * 1024 * 1024 + 1]).file_name("big.jpg"),
            ),
        ),
    )
    .await;
    assert_eq!(too_big_photo.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        fingerprint(&pool).await,
        before,
        "rejected requests stored nothing"
    );
    assert_eq!(server.media_files().await, 2, "no orphaned photo");
}

#[tokio::test]
async fn only_the_owner_changes_a_car_and_everyone_else_gets_the_right_status() {
    let server = Server::start();
    let (owner, _) = token_for(&server, "owner").await;
    let (other, _) = token_for(&server, "other").await;
    let id = create(
        &server,
        &owner,
        car("Toyota", "Corolla", 2017, "11990.00", 98_000),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let pool = open_db(&server).await;
    let path = format!("/api/cars/{id}/");
    let status_path = format!("/api/cars/{id}/status/");
    let full = car("Toyota", "Corolla", 2017, "1.00", 98_000);

    // (method, path, body): every write route.
    let writes: Vec<(Method, &str, Option<Value>)> = vec![
        (Method::PUT, &path, Some(full.clone())),
        (Method::PATCH, &path, Some(json!({"price": "1.00"}))),
        (Method::POST, &status_path, Some(json!({"status": "sold"}))),
        (Method::DELETE, &path, None),
    ];
    let before = fingerprint(&pool).await;
    for (method, route, body) in &writes {
        let anonymous = call(&server, method.clone(), route, None, body.clone()).await;
        assert_eq!(
            anonymous.status,
            StatusCode::UNAUTHORIZED,
            "anonymous {method} {route}"
        );
        let stranger = call(&server, method.clone(), route, Some(&other), body.clone()).await;
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
            Some(&owner),
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
            Some(&owner),
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
        fingerprint(&pool).await,
        before,
        "refused writes changed nothing"
    );

    // The owner: PATCH changes only what is sent.
    let patched = call(
        &server,
        Method::PATCH,
        &path,
        Some(&owner),
        Some(json!({"price": 10500, "seller": 1, "status": "sold", "description": "New tyres."})),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["price"], "10500.00");
    assert_eq!(patched.body["status"], "available");
    assert_eq!(patched.body["make"], "Toyota");
    assert_eq!(patched.body["mileage"], 98_000);
    assert_eq!(patched.body["description"], "New tyres.");
    let invalid_patch = call(
        &server,
        Method::PATCH,
        &path,
        Some(&owner),
        Some(json!({"year": 1500})),
    )
    .await;
    assert_eq!(invalid_patch.status, StatusCode::BAD_REQUEST);
    assert!(invalid_patch.body["year"][0].is_string());

    // PUT needs every required field; optional ones not sent are kept.
    let partial_put = call(
        &server,
        Method::PUT,
        &path,
        Some(&owner),
        Some(json!({"make": "Toyota"})),
    )
    .await;
    assert_eq!(partial_put.status, StatusCode::BAD_REQUEST);
    assert!(partial_put.body["model"][0].is_string());
    let put = call(
        &server,
        Method::PUT,
        &path,
        Some(&owner),
        Some(json!({"make": "Toyota", "model": "Auris", "year": 2018, "price": "9999", "mileage": 100})),
    )
    .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.body["model"], "Auris");
    assert_eq!(put.body["description"], "New tyres.");

    // Status: a bad value is a 400 naming the field; a good one hides the car from others.
    let bad_status = call(
        &server,
        Method::POST,
        &status_path,
        Some(&owner),
        Some(json!({"status": "stolen"})),
    )
    .await;
    assert_eq!(bad_status.status, StatusCode::BAD_REQUEST);
    assert!(bad_status.body["status"][0].is_string());
    let pending = call(
        &server,
        Method::POST,
        &status_path,
        Some(&owner),
        Some(json!({"status": "pending"})),
    )
    .await;
    assert_eq!(pending.status, StatusCode::OK);
    assert_eq!(pending.body["status"], "pending");
    assert_eq!(
        call(&server, Method::GET, &path, None, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&server, Method::GET, &path, Some(&other), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let own_view = call(&server, Method::GET, &path, Some(&owner), None).await;
    assert_eq!(own_view.status, StatusCode::OK);
    assert_eq!(own_view.body["status"], "pending");

    // my_listings: the caller's cars, any status; 401 without a caller.
    assert_eq!(
        call(&server, Method::GET, "/api/cars/my_listings/", None, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let mine = call(
        &server,
        Method::GET,
        "/api/cars/my_listings/",
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(mine.status, StatusCode::OK);
    assert_eq!(mine.body.as_array().unwrap().len(), 1);
    assert_eq!(mine.body[0]["status"], "pending");
    let theirs = call(
        &server,
        Method::GET,
        "/api/cars/my_listings/",
        Some(&other),
        None,
    )
    .await;
    assert_eq!(theirs.body, json!([]));

    // Delete: 204, then 404.
    let deleted = call(&server, Method::DELETE, &path, Some(&owner), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        call(&server, Method::GET, &path, Some(&owner), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// A deleted listing's id is never given to a later listing (SQLite once reused the
/// largest id), so an old link to it answers 404 rather than showing another car.
#[tokio::test]
async fn a_deleted_listings_id_is_never_given_to_another() {
    let server = Server::start();
    let (token, _) = token_for(&server, "lena").await;
    let older = create(
        &server,
        &token,
        car("Skoda", "Octavia", 2016, "6500.00", 140_000),
    )
    .await;
    let newest = create(
        &server,
        &token,
        car("Volvo", "V60", 2018, "14000.00", 90_000),
    )
    .await;
    let newest_id = newest["id"].as_i64().unwrap();
    let path = format!("/api/cars/{newest_id}/");
    let deleted = call(&server, Method::DELETE, &path, Some(&token), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);

    let next = create(
        &server,
        &token,
        car("Toyota", "Yaris", 2019, "9000.00", 60_000),
    )
    .await;
    let next_id = next["id"].as_i64().unwrap();
    assert!(
        next_id > newest_id,
        "the listing created after deleting #{newest_id} got #{next_id}"
    );
    assert_ne!(next_id, older["id"].as_i64().unwrap());
    assert_eq!(
        call(&server, Method::GET, &path, Some(&token), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let page = plain_client()
        .get(server.url(&format!("/cars/{newest_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    let html = page.text().await.unwrap();
    assert!(!html.contains("Yaris"), "the old link shows the new car");
}

#[tokio::test]
async fn browser_sessions_work_for_same_site_requests_only() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let me = send(alice.get(server.url("/api/auth/me/"))).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["username"], "alice");
    let body = car("Fiat", "Panda", 2015, "4000", 60_000);
    let same_site = send(
        alice
            .post(server.url("/api/cars/"))
            .header("sec-fetch-site", "same-origin")
            .json(&body),
    )
    .await;
    assert_eq!(same_site.status, StatusCode::CREATED, "{}", same_site.body);
    let pool = open_db(&server).await;
    let before = fingerprint(&pool).await;
    let cross_site = send(
        alice
            .post(server.url("/api/cars/"))
            .header("sec-fetch-site", "cross-site")
            .json(&body),
    )
    .await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);
    let other_origin = send(
        alice
            .delete(server.url(&format!("/api/cars/{}/", same_site.body["id"])))
            .header(header::ORIGIN, "https://evil.example"),
    )
    .await;
    assert_eq!(other_origin.status, StatusCode::FORBIDDEN);
    assert_eq!(fingerprint(&pool).await, before);
}

#[tokio::test]
async fn tokens_are_issued_checked_hashed_and_revoked() {
    let server = Server::start();
    let (token, _) = token_for(&server, "alice").await;
    assert_eq!(token.len(), 40);
    let missing = call(
        &server,
        Method::POST,
        "/api/auth/token/",
        None,
        Some(json!({})),
    )
    .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.body["username"][0], "This field is required.");
    assert_eq!(missing.body["password"][0], "This field is required.");
    for (username, password) in [
        ("alice", "wrong-password-1"),
        ("nobody", "correct-horse-battery"),
    ] {
        let wrong = call(
            &server,
            Method::POST,
            "/api/auth/token/",
            None,
            Some(json!({"username": username, "password": password})),
        )
        .await;
        assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            wrong.body["non_field_errors"][0],
            "Unable to log in with provided credentials."
        );
    }
    // Only a hash is stored.
    let pool = open_db(&server).await;
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM api_tokens")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], token);
    assert!(!stored[0].contains(&token));

    assert_eq!(
        call(&server, Method::DELETE, "/api/auth/token/", None, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let revoked = call(
        &server,
        Method::DELETE,
        "/api/auth/token/",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let after = call(&server, Method::GET, "/api/auth/me/", Some(&token), None).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(after.body["detail"], "Invalid token.");
}

#[tokio::test]
async fn routing_methods_schema_and_reference_follow_drf_conventions() {
    let server = Server::start();
    let put_list = call(&server, Method::PUT, "/api/cars/", None, Some(json!({}))).await;
    assert_eq!(put_list.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(put_list.body["detail"], "Method \"PUT\" not allowed.");
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

const KEYS: [&str; 16] = [
    "make",
    "model",
    "year",
    "price",
    "mileage",
    "condition",
    "description",
    "image_url",
    "status",
    "seller",
    "id",
    "created_at",
    "primary_image",
    "username",
    "password",
    "zzz",
];

fn random_query(rng: &mut Rng) -> String {
    let names = [
        "search",
        "ordering",
        "min_price",
        "max_price",
        "min_year",
        "max_year",
        "make",
        "condition",
        "max_mileage",
        "page",
        "page_size",
        "junk",
    ];
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for _ in 0..rng.below(6) {
        let value = match rng.below(4) {
            0 => rng
                .pick(&[
                    "-price,year",
                    "price",
                    "-created_at",
                    "x,,-",
                    "1",
                    "-1",
                    "0",
                    "2",
                ])
                .to_string(),
            _ => random_text(rng),
        };
        let name = *rng.pick(&names);
        out.append_pair(name, &value);
    }
    let mut query = out.finish();
    if rng.below(10) == 0 {
        query.push_str("&%zz=%&&=");
    }
    query
}

#[tokio::test]
async fn random_requests_never_get_a_5xx_and_rejected_ones_change_nothing() {
    let (seed, cases) = fuzz::seed_and_cases(400);
    let mut rng = Rng(seed);

    let server = Server::start();
    let (mine, _) = token_for(&server, "alice").await;
    let (theirs, _) = token_for(&server, "bob").await;
    let own_id = create(
        &server,
        &mine,
        car("Toyota", "Corolla", 2017, "11990", 98_000),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let their_id = create(
        &server,
        &theirs,
        car("Honda", "Civic", 2016, "9990", 120_000),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let pool = open_db(&server).await;
    let mut state = fingerprint(&pool).await;
    let mut media = server.media_files().await;
    let client = plain_client();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();

    for case in 0..cases {
        let id = rng
            .pick(&[
                own_id.to_string(),
                their_id.to_string(),
                "999999".into(),
                "abc".into(),
                "-1".into(),
                "1e3".into(),
                "%2e%2e".into(),
            ])
            .clone();
        let (method, path) = match rng.below(8) {
            0 | 1 => (
                Method::GET,
                format!("/api/cars/?{}", random_query(&mut rng)),
            ),
            2 => (Method::POST, "/api/cars/".to_owned()),
            3 => (Method::PATCH, format!("/api/cars/{id}/")),
            4 => (Method::PUT, format!("/api/cars/{id}/")),
            5 => (Method::POST, format!("/api/cars/{id}/status/")),
            6 => (Method::POST, "/api/auth/token/".to_owned()),
            _ => (
                rng.pick(&[Method::GET, Method::DELETE]).clone(),
                format!("/api/cars/{id}/"),
            ),
        };
        let auth = rng.below(4);
        // A seller deleting their own car is a legitimate change; keep both fixture cars
        // for later cases (without Bob's car, no later case could be refused with a 403).
        let owner_deletes = match auth {
            1 => id == their_id.to_string(),
            3 => id == own_id.to_string(),
            _ => false,
        };
        let method = if method == Method::DELETE && owner_deletes {
            Method::GET
        } else {
            method
        };
        let mut request = client.request(method.clone(), server.url(&path));
        request = match auth {
            0 => request,
            1 => request.header(header::AUTHORIZATION, format!("Token {theirs}")),
            2 => request.header(
                header::AUTHORIZATION,
                rng.pick(&["Token nope", "Token", "Basic YTpi", "Token a b"])
                    .to_string(),
            ),
            _ => request.header(header::AUTHORIZATION, format!("Token {mine}")),
        };
        let described;
        request = match rng.below(10) {
            0 => {
                described = "raw bytes".to_owned();
                request
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(random_text(&mut rng).into_bytes())
            }
            1 => {
                described = "form".to_owned();
                let pairs: Vec<(String, String)> = (0..rng.below(6))
                    .map(|_| (rng.pick(&KEYS).to_string(), random_text(&mut rng)))
                    .collect();
                request.form(&pairs)
            }
            2 => {
                described = "text/plain".to_owned();
                request
                    .header(header::CONTENT_TYPE, "text/plain")
                    .body("hello")
            }
            3 => {
                described = "multipart".to_owned();
                let mut form = multipart::Form::new();
                for _ in 0..rng.below(6) {
                    form = form.text(rng.pick(&KEYS).to_string(), random_text(&mut rng));
                }
                if rng.below(2) == 0 {
                    let bytes = if rng.below(2) == 0 {
                        png()
                    } else {
                        random_text(&mut rng).into_bytes()
                    };
                    form = form.part(
                        "primary_image",
                        multipart::Part::bytes(bytes).file_name("p.png"),
                    );
                }
                request.multipart(form)
            }
            _ => {
                let body = if rng.below(8) == 0 {
                    random_json(&mut rng, 0, &KEYS)
                } else {
                    random_object(&mut rng, 0, &KEYS)
                };
                described = body.to_string().chars().take(300).collect();
                request.json(&body)
            }
        };
        let response = request.send().await.unwrap();
        let status = response.status();
        let _ = response.bytes().await;
        *statuses.entry(status.as_u16()).or_default() += 1;
        assert!(
            !status.is_server_error(),
            "case {case} (FUZZ_SEED={seed}): {method} {path} with {described} -> {status}"
        );
        let now = fingerprint(&pool).await;
        if status.is_success() {
            state = now;
            media = server.media_files().await;
        } else {
            assert_eq!(
                now, state,
                "case {case} (FUZZ_SEED={seed}): rejected {method} {path} ({status}) changed the database"
            );
            assert_eq!(
                server.media_files().await,
                media,
                "case {case}: rejected request left a photo behind"
            );
        }
    }
    println!("fuzz: status counts {statuses:?}");
    // The generator must reach the interesting answers, or the test proves little.
    for expected in [200_u16, 400, 401, 403, 404] {
        assert!(
            statuses.contains_key(&expected),
            "no {expected} in {statuses:?}"
        );
    }
}
