//! The marketplace's pages and server functions: browsing, searching, selling and
//! managing listings, logging in, compression and demo data.

use crate::common::{current_user, list_request, png, sell, Server, TestData};
use reqwest::{header, multipart, Client, StatusCode};
use serde_json::{json, Value};

fn car_form(make: &str, model: &str, year: &str, price: &str, mileage: &str) -> multipart::Form {
    multipart::Form::new()
        .text("make", make.to_owned())
        .text("model", model.to_owned())
        .text("year", year.to_owned())
        .text("price", price.to_owned())
        .text("mileage", mileage.to_owned())
        .text("condition", "used")
        .text("description", format!("A tidy {make} {model}."))
        .text("image_url", "")
}

async fn list(server: &Server, client: &Client, filters: Value) -> Value {
    let res = client
        .post(server.url("/rpc/cars/list"))
        .json(&list_request(filters))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn my_cars(server: &Server, client: &Client) -> Vec<Value> {
    let res = client
        .post(server.url("/rpc/cars/mine"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn models(page: &Value) -> Vec<String> {
    page["cars"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["model"].as_str().unwrap().to_owned())
        .collect()
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

/// The body of `path` as sent for `accept_encoding`: (content-encoding, decoded text).
async fn fetch_encoded(server: &Server, path: &str, accept_encoding: &str) -> (String, String) {
    use std::io::Read;
    let res = Client::new()
        .get(server.url(path))
        .header(header::ACCEPT_ENCODING, accept_encoding)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    let vary = res
        .headers()
        .get(header::VARY)
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(vary.as_deref(), Some("accept-encoding"), "{path}");
    let encoding = res
        .headers()
        .get(header::CONTENT_ENCODING)
        .map_or("identity", |v| v.to_str().unwrap())
        .to_owned();
    let bytes = res.bytes().await.unwrap();
    let mut text = String::new();
    match encoding.as_str() {
        "gzip" => flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap(),
        "br" => brotli::Decompressor::new(&bytes[..], 4096)
            .read_to_string(&mut text)
            .unwrap(),
        "zstd" => zstd::Decoder::new(&bytes[..])
            .unwrap()
            .read_to_string(&mut text)
            .unwrap(),
        _ => std::str::from_utf8(&bytes)
            .map(|t| text.push_str(t))
            .map(|()| 0)
            .unwrap(),
    };
    (encoding, text)
}

#[tokio::test]
async fn pages_and_json_arrive_compressed_in_an_encoding_the_client_accepts() {
    let server = Server::start();
    let seller = server.user("sam").await;
    for _ in 0..4 {
        let form = car_form("Toyota", "Corolla", "2015", "9500", "84000");
        sell(&server, &seller, form).await;
    }
    // A short answer is not worth compressing, by either layer.
    let res = Client::new()
        .get(server.url("/api/cars/?search=nothing-matches-this"))
        .header(header::ACCEPT_ENCODING, "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers().get(header::CONTENT_ENCODING), None);
    for path in ["/cars", "/api/cars/"] {
        let (encoding, plain) = fetch_encoded(&server, path, "identity").await;
        assert_eq!(encoding, "identity", "{path}");
        assert!(plain.contains("Corolla"), "{path}: {plain}");
        for (accepted, expected) in [
            ("gzip, deflate, br, zstd", "zstd"),
            ("gzip, deflate, br", "gzip"),
            ("br", "br"),
            ("gzip;q=0, br", "br"),
            ("br;q=0, gzip;q=0", "identity"),
        ] {
            let (encoding, text) = fetch_encoded(&server, path, accepted).await;
            assert_eq!(encoding, expected, "{path} with {accepted}");
            assert!(text.contains("Corolla"), "{path} with {accepted}");
            if path.starts_with("/api") {
                let json: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(json, serde_json::from_str::<Value>(&plain).unwrap());
            } else {
                // Whole, to the end of the document (Leptos appends its scripts after it).
                assert!(
                    text.contains("</footer></body></html>"),
                    "{path} with {accepted}"
                );
            }
        }
    }
}

#[tokio::test]
async fn anonymous_visitor_cannot_create_change_or_delete_anything() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let id = sell(
        &server,
        &alice,
        car_form("Toyota", "Corolla", "2019", "15999", "84000"),
    )
    .await;
    let anon = server.client();

    let res = anon
        .post(server.url("/sell"))
        .multipart(car_form("Ford", "Focus", "2015", "8000", "1000"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = anon
        .post(server.url(&format!("/cars/{id}/edit")))
        .multipart(car_form("Ford", "Focus", "2015", "1", "1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = anon
        .post(server.url("/rpc/cars/set_status"))
        .form(&[("id", id.to_string().as_str()), ("status", "sold")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = anon
        .post(server.url("/rpc/cars/delete"))
        .form(&[("id", id.to_string().as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let mine = my_cars(&server, &alice).await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["model"], "Corolla");
    assert_eq!(mine[0]["status"], "available");
    // A browser without a session is sent to log in instead.
    let res = anon
        .get(server.url("/sell"))
        .header(header::ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(res.headers()[header::LOCATION], "/login?next=%2Fsell");
}

#[tokio::test]
async fn only_the_owner_can_edit_change_status_or_delete() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let id = sell(
        &server,
        &alice,
        car_form("Honda", "Civic", "2018", "14500", "60000"),
    )
    .await;
    let sid = id.to_string();

    let res = bob
        .post(server.url(&format!("/cars/{id}/edit")))
        .multipart(car_form("Honda", "Stolen", "2018", "1", "1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = bob
        .post(server.url("/rpc/cars/set_status"))
        .form(&[("id", sid.as_str()), ("status", "sold")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = bob
        .post(server.url("/rpc/cars/delete"))
        .form(&[("id", sid.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = bob
        .get(server.url(&format!("/cars/{id}/edit")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let html = server.page_text(&bob, &format!("/cars/{id}")).await;
    assert!(
        !html.contains("Delete listing"),
        "no owner actions for others"
    );

    // The owner can do all of it.
    let res = alice
        .post(server.url(&format!("/cars/{id}/edit")))
        .multipart(car_form(
            "Honda",
            "Civic Sport",
            "2018",
            "13999.99",
            "61000",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = server.page_text(&alice, &format!("/cars/{id}")).await;
    assert!(html.contains("2018 Honda Civic Sport"));
    assert!(html.contains("$13,999.99"));
    assert!(html.contains("61,000 km"));
    assert!(html.contains("Delete listing"));
    let res = alice
        .post(server.url("/rpc/cars/set_status"))
        .form(&[("id", sid.as_str()), ("status", "pending")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        list(&server, &alice, json!({})).await["total"],
        0,
        "a pending car leaves the marketplace"
    );
    let res = alice
        .post(server.url("/rpc/cars/set_status"))
        .form(&[("id", sid.as_str()), ("status", "stolen")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = alice
        .post(server.url("/rpc/cars/delete"))
        .form(&[("id", sid.as_str())])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success() || res.status().is_redirection());
    assert!(my_cars(&server, &alice).await.is_empty());
    let res = alice
        .get(server.url(&format!("/cars/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_stores_nothing() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let cases = [
        ("", "Civic", "2018", "1000", "10", "make"),
        ("Honda", &"x".repeat(101), "2018", "1000", "10", "model"),
        ("Honda", "Civic", "1885", "1000", "10", "year"),
        ("Honda", "Civic", "3000", "1000", "10", "year"),
        ("Honda", "Civic", "2018", "0", "10", "price"),
        ("Honda", "Civic", "2018", "10000000000", "10", "price"),
        ("Honda", "Civic", "2018", "1.999", "10", "price"),
        ("Honda", "Civic", "2018", "abc", "10", "price"),
        ("Honda", "Civic", "2018", "1000", "2000001", "mileage"),
        ("Honda", "Civic", "2018", "1000", "-5", "mileage"),
    ];
    for (make, model, year, price, mileage, field) in cases {
        let res = alice
            .post(server.url("/sell"))
            .multipart(car_form(make, model, year, price, mileage))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let body: Value = res.json().await.unwrap();
        assert!(
            body["errors"][field]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{field}: {body}"
        );
    }
    let form = car_form("Honda", "Civic", "2018", "1000", "10")
        .text("condition", "mint")
        .text("image_url", "javascript:alert(1)");
    let res = alice
        .post(server.url("/sell"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["errors"]["image_url"].is_string() && body["errors"]["condition"].is_string(),
        "{body}"
    );

    // A file that is not an image, and one that is too large: refused, and no file is left behind.
    let fake = multipart::Part::bytes(b"<html>not a photo</html>".to_vec())
        .file_name("car.jpg")
        .mime_str("image/jpeg")
        .unwrap();
    let res = alice
        .post(server.url("/sell"))
        .multipart(car_form("Honda", "Civic", "2018", "1000", "10").part("photo", fake))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let mut huge = png();
    huge.resize(11 * 1024 * 1024, 0);
    let big = multipart::Part::bytes(huge)
        .file_name("big.png")
        .mime_str("image/png")
        .unwrap();
    let res = alice
        .post(server.url("/sell"))
        .multipart(car_form("Honda", "Civic", "2018", "1000", "10").part("photo", big))
        .send()
        .await
        .unwrap();
    assert!(
        res.status().is_client_error(),
        "huge upload: {}",
        res.status()
    );
    assert_eq!(server.media_files().await, 0);
    assert!(
        my_cars(&server, &alice).await.is_empty(),
        "nothing half-written"
    );

    // Malformed server-function input is a 400, not a 500.
    let res = alice
        .post(server.url("/rpc/cars/set_status"))
        .form(&[("id", "not-a-number"), ("status", "sold")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = alice
        .post(server.url("/rpc/cars/list"))
        .header(header::CONTENT_TYPE, "application/json")
        .body("{\"filters\": 12}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_photo_is_stored_served_with_its_type_and_removed_with_the_listing() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let photo = multipart::Part::bytes(png())
        .file_name("whatever.gif")
        .mime_str("application/octet-stream")
        .unwrap();
    let id = sell(
        &server,
        &alice,
        car_form("Mazda", "CX-5", "2020", "24000", "30000").part("photo", photo),
    )
    .await;
    let page = list(&server, &alice, json!({})).await;
    let src = page["cars"][0]["image"].as_str().unwrap().to_owned();
    // The name is ours, and the opaque PNG was re-encoded as a JPEG (no metadata survives).
    assert!(
        src.starts_with("/media/") && src.ends_with("-thumb.jpg"),
        "{src}"
    );
    assert!(!src.contains("whatever"));
    // The card's thumbnail is small; the details page shows the full photo.
    let details = server.page_text(&alice, &format!("/cars/{id}")).await;
    let full = src.replace("-thumb", "");
    assert!(details.contains(&format!("src=\"{full}\"")), "{details}");
    let res = alice.get(server.url(&src)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "image/jpeg");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(server.media_files().await, 2, "the photo and its thumbnail");
    alice
        .post(server.url("/rpc/cars/delete"))
        .form(&[("id", id.to_string().as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(server.media_files().await, 0);
    let res = alice
        .get(server.url("/media/..%2F..%2Fetc%2Fpasswd"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn search_filters_sorting_and_pagination_return_the_right_cars() {
    let server = Server::start();
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
        ids.push(sell(&server, &alice, car_form(make, model, year, price, mileage)).await);
    }
    alice
        .post(server.url("/rpc/cars/set_status"))
        .form(&[("id", ids[4].to_string().as_str()), ("status", "sold")])
        .send()
        .await
        .unwrap();

    assert_eq!(
        models(&list(&server, &alice, json!({})).await),
        ["Accord", "Civic", "Camry", "Corolla"]
    );
    assert_eq!(
        models(&list(&server, &alice, json!({"sort": "PriceAsc"})).await),
        ["Corolla", "Civic", "Camry", "Accord"]
    );
    assert_eq!(
        models(&list(&server, &alice, json!({"sort": "PriceDesc"})).await),
        ["Accord", "Camry", "Civic", "Corolla"]
    );
    assert_eq!(
        models(&list(&server, &alice, json!({"sort": "YearAsc"})).await),
        ["Corolla", "Civic", "Camry", "Accord"]
    );
    assert_eq!(
        models(&list(&server, &alice, json!({"sort": "Oldest"})).await),
        ["Corolla", "Camry", "Civic", "Accord"]
    );
    assert_eq!(
        models(&list(&server, &alice, json!({"q": "toyota"})).await),
        ["Camry", "Corolla"]
    );
    assert_eq!(
        models(&list(&server, &alice, json!({"q": "tidy honda"})).await),
        ["Accord", "Civic"]
    );
    assert_eq!(
        models(&list(&server, &alice, json!({"q": "100%"})).await),
        Vec::<String>::new()
    );
    assert_eq!(
        models(
            &list(
                &server,
                &alice,
                json!({"min_price_cents": 1_000_000, "max_price_cents": 2_000_000})
            )
            .await
        ),
        ["Civic", "Camry"]
    );
    assert_eq!(
        models(&list(&server, &alice, json!({"min_year": 2013, "max_year": 2019})).await),
        ["Civic", "Camry"]
    );
    assert_eq!(
        models(
            &list(
                &server,
                &alice,
                json!({"make": "honda", "condition": "used"})
            )
            .await
        ),
        ["Accord", "Civic"]
    );
    assert_eq!(
        models(&list(&server, &alice, json!({"max_mileage_km": 60000})).await),
        ["Accord", "Camry"]
    );

    for i in 0..22 {
        sell(
            &server,
            &alice,
            car_form(
                "Kia",
                &format!("Rio{i:02}"),
                "2014",
                &(4000 + i).to_string(),
                "1000",
            ),
        )
        .await;
    }
    let first = list(&server, &alice, json!({"q": "kia", "sort": "PriceAsc"})).await;
    assert_eq!(first["total"], 22);
    assert_eq!(first["cars"].as_array().unwrap().len(), 22);
    let all = list(&server, &alice, json!({})).await;
    assert_eq!(all["total"], 26);
    assert_eq!(all["cars"].as_array().unwrap().len(), 24);
    let second = list(&server, &alice, json!({"page": 2})).await;
    assert_eq!(second["cars"].as_array().unwrap().len(), 2);
    let beyond = list(&server, &alice, json!({"page": 9})).await;
    assert_eq!(beyond["cars"].as_array().unwrap().len(), 0);
    // The same filters through the page's query string.
    let html = server
        .page_text(&alice, "/cars?q=honda&sort=price_asc")
        .await;
    let civic = html.find("2015 Honda Civic").unwrap();
    let accord = html.find("2021 Honda Accord").unwrap();
    assert!(civic < accord);
    assert!(html.contains("2 cars"));
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
    let newest = list(&server, &alice, json!({ "q": "ford", "sort": "Newest" })).await;
    assert_eq!(models(&newest), ["Ford Edition", "Fabia", "Fiesta"]);
    let best = list(&server, &alice, json!({ "q": "ford", "sort": "BestMatch" })).await;
    assert_eq!(models(&best), ["Fiesta", "Ford Edition", "Fabia"]);
    // Without a search, "best match" is simply newest first.
    let all = list(&server, &alice, json!({ "sort": "BestMatch" })).await;
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
    let expected = |make: &'static str, band: bool, order: &'static str| {
        let db = db.clone();
        async move {
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
                .fetch_all(&db)
                .await
                .unwrap()
        }
    };
    let listed = |query: String| {
        let url = server.url(&format!("/api/cars/?{query}&page_size=20"));
        let client = alice.clone();
        async move {
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
    };
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
            let want = expected(make, band, order).await;
            assert!(!want.is_empty());
            let got = listed(format!("search={word}&{params}")).await;
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

#[tokio::test]
async fn login_is_generic_on_failure_and_rotates_the_session() {
    let server = Server::start();
    let _ = server.user("alice").await;
    let client = server.client();
    let wrong = client
        .post(server.url("/rpc/auth/login"))
        .form(&[("username", "alice"), ("password", "wrong-password")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong_body = wrong.text().await.unwrap();
    let unknown = client
        .post(server.url("/rpc/auth/login"))
        .form(&[("username", "nobody"), ("password", "wrong-password")])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        unknown.text().await.unwrap(),
        wrong_body,
        "same message for unknown user and wrong password"
    );

    // Register rejects a duplicate (case-insensitive) and a short password with field messages.
    let res = client
        .post(server.url("/rpc/auth/register"))
        .form(&[("username", "ALICE"), ("password", "correct-horse-battery")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("taken"));
    let res = client
        .post(server.url("/rpc/auth/register"))
        .form(&[("username", "carol"), ("password", "short")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Log in: a new session id is issued.
    let _ = client.get(server.url("/cars")).send().await.unwrap();
    let res = client
        .post(server.url("/rpc/auth/login"))
        .form(&[
            ("username", "Alice"),
            ("password", "correct-horse-battery"),
            ("next", "https://evil.example"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()[header::LOCATION],
        "/",
        "never redirect off-site"
    );
    let cookie = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("autonexus_session="))
        .unwrap_or_default();
    assert!(cookie.starts_with("autonexus_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let me = current_user(&server, &client).await;
    assert_eq!(me["username"], "alice");
    client
        .post(server.url("/rpc/auth/logout"))
        .send()
        .await
        .unwrap();
    let me = current_user(&server, &client).await;
    assert!(me.is_null());
}

#[tokio::test]
async fn sessions_survive_a_restart() {
    let data = TestData::new();
    let first = data.start(&[]);
    let client = first.user("alice").await;
    drop(first);
    let second = data.start(&[]);
    // Same cookie jar, new server process and port: cookies are per host, not per port.
    let me = current_user(&second, &client).await;
    assert_eq!(me["username"], "alice");
}

#[tokio::test]
async fn demo_data_seeds_hundreds_of_listings_from_several_sellers() {
    let server = Server::start_with(&[("DEMO_DATA", "1")]);
    let client = server.client();
    let page = list(&server, &client, json!({})).await;
    assert!(page["total"].as_i64().unwrap() >= 200, "{}", page["total"]);
    assert!(page["cars"][0]["image"]
        .as_str()
        .unwrap()
        .starts_with("/media/"));
    let makes: Vec<String> = serde_json::from_value(page["makes"].clone()).unwrap();
    assert!(makes.len() >= 20, "{makes:?}");
    // The marketplace page: the first row's photos load at once, the rest lazily, and every
    // photo reserves its box (width and height), so nothing moves as photos arrive.
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
        photos.iter().all(|tag| tag.contains("-thumb.jpg")),
        "cards load thumbnails"
    );
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
