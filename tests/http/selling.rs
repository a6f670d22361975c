//! Selling through the pages and server functions: the sell and edit forms, status
//! changes and deletion, who may do them, bad input, photos, and what an old link to a
//! deleted listing shows.

use crate::common::{
    api_token, call, car_form, car_json, create_by_token, list_cars, my_cars, plain_client, png,
    sell, Server,
};
use reqwest::{header, multipart, Client, Method, StatusCode};
use serde_json::{json, Value};

/// A seller, `name`, with one listing (a 2018 Honda Civic): their browser and its id.
async fn seller_with_a_civic(server: &Server, name: &str) -> (Client, i64) {
    let seller = server.user(name).await;
    let id = sell(
        server,
        &seller,
        car_form("Honda", "Civic", "2018", "14500", "60000"),
    )
    .await;
    (seller, id)
}

/// Posts a server function's form as `client` and returns the status.
async fn post_form(
    server: &Server,
    client: &Client,
    path: &str,
    form: &[(&str, &str)],
) -> StatusCode {
    client
        .post(server.url(path))
        .form(form)
        .send()
        .await
        .unwrap()
        .status()
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
    let sid = id.to_string();
    let status = post_form(
        &server,
        &anon,
        "/rpc/cars/set_status",
        &[("id", &sid), ("status", "sold")],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let status = post_form(&server, &anon, "/rpc/cars/delete", &[("id", &sid)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let mine = my_cars(&server, &alice).await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["model"], "Corolla");
    assert_eq!(mine[0]["status"], "available");
}

#[tokio::test]
async fn a_browser_without_a_session_is_sent_to_log_in_before_selling() {
    let server = Server::start();

    let res = server
        .client()
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
    let (_alice, id) = seller_with_a_civic(&server, "alice").await;
    let bob = server.user("bob").await;
    let sid = id.to_string();

    let res = bob
        .post(server.url(&format!("/cars/{id}/edit")))
        .multipart(car_form("Honda", "Stolen", "2018", "1", "1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let status = post_form(
        &server,
        &bob,
        "/rpc/cars/set_status",
        &[("id", &sid), ("status", "sold")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let status = post_form(&server, &bob, "/rpc/cars/delete", &[("id", &sid)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
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
}

#[tokio::test]
async fn the_owner_can_edit_their_listing() {
    let server = Server::start();
    let (alice, id) = seller_with_a_civic(&server, "alice").await;

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
}

#[tokio::test]
async fn a_car_its_owner_marks_pending_leaves_the_marketplace() {
    let server = Server::start();
    let (alice, id) = seller_with_a_civic(&server, "alice").await;
    let sid = id.to_string();

    let pending = post_form(
        &server,
        &alice,
        "/rpc/cars/set_status",
        &[("id", &sid), ("status", "pending")],
    )
    .await;
    let unknown = post_form(
        &server,
        &alice,
        "/rpc/cars/set_status",
        &[("id", &sid), ("status", "stolen")],
    )
    .await;

    assert_eq!(pending, StatusCode::OK);
    assert_eq!(
        list_cars(&server, &alice, json!({})).await["total"],
        0,
        "a pending car leaves the marketplace"
    );
    assert_eq!(unknown, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_owner_can_delete_their_listing() {
    let server = Server::start();
    let (alice, id) = seller_with_a_civic(&server, "alice").await;

    let res = alice
        .post(server.url("/rpc/cars/delete"))
        .form(&[("id", id.to_string().as_str())])
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
async fn each_bad_field_on_the_sell_form_gets_its_own_message() {
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
}

#[tokio::test]
async fn an_unknown_condition_and_a_script_url_each_get_a_message() {
    let server = Server::start();
    let alice = server.user("alice").await;
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
}

#[tokio::test]
async fn a_photo_that_is_not_an_image_or_too_large_is_refused_and_leaves_nothing_behind() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let fake = multipart::Part::bytes(b"<html>not a photo</html>".to_vec())
        .file_name("car.jpg")
        .mime_str("image/jpeg")
        .unwrap();
    let mut huge = png();
    huge.resize(16 * 1024 * 1024, 0);
    let big = multipart::Part::bytes(huge)
        .file_name("big.png")
        .mime_str("image/png")
        .unwrap();

    let not_an_image = alice
        .post(server.url("/sell"))
        .multipart(car_form("Honda", "Civic", "2018", "1000", "10").part("photo", fake))
        .send()
        .await
        .unwrap();
    let too_large = alice
        .post(server.url("/sell"))
        .multipart(car_form("Honda", "Civic", "2018", "1000", "10").part("photo", big))
        .send()
        .await
        .unwrap();

    assert_eq!(not_an_image.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let errors: serde_json::Value = not_an_image.json().await.unwrap();
    assert_eq!(
        errors["errors"]["photo"],
        "car.jpg: this file type is not supported — use JPEG, PNG or WebP."
    );
    assert!(
        too_large.status().is_client_error(),
        "huge upload: {}",
        too_large.status()
    );
    let errors: serde_json::Value = too_large.json().await.unwrap();
    assert_eq!(
        errors["errors"]["photo"],
        "big.png: the photo must be at most 15 MB."
    );
    assert_eq!(server.media_files().await, 0);
    assert!(
        my_cars(&server, &alice).await.is_empty(),
        "nothing half-written"
    );
}

#[tokio::test]
async fn malformed_server_function_input_is_a_400_not_a_500() {
    let server = Server::start();
    let alice = server.user("alice").await;

    let status = post_form(
        &server,
        &alice,
        "/rpc/cars/set_status",
        &[("id", "not-a-number"), ("status", "sold")],
    )
    .await;
    let list = alice
        .post(server.url("/rpc/cars/list"))
        .header(header::CONTENT_TYPE, "application/json")
        .body("{\"filters\": 12}")
        .send()
        .await
        .unwrap();

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(list.status(), StatusCode::BAD_REQUEST);
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

    let page = list_cars(&server, &alice, json!({})).await;
    let full = page["cars"][0]["image"].as_str().unwrap().to_owned();
    // The name is ours, and the opaque PNG was re-encoded as a JPEG (no metadata survives).
    assert!(
        full.starts_with("/media/") && full.ends_with(".jpg"),
        "{full}"
    );
    assert!(!full.contains("whatever"));
    // The card asks for its 640-pixel size; this 40-pixel photo has no sizes (nothing
    // is enlarged), so the photo itself answers.
    let src = page["cars"][0]["picture"]["src"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(src, full.replace(".jpg", "-640w.jpg"));
    let details = server.page_text(&alice, &format!("/cars/{id}")).await;
    assert!(details.contains(&format!("src=\"{full}\"")), "{details}");
    let res = alice.get(server.url(&src)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "image/jpeg");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        server.media_files().await,
        1,
        "the photo, too small for sizes"
    );

    alice
        .post(server.url("/rpc/cars/delete"))
        .form(&[("id", id.to_string().as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(server.media_files().await, 0);
}

#[tokio::test]
async fn a_path_that_climbs_out_of_the_photo_store_is_not_found() {
    let server = Server::start();
    let alice = server.user("alice").await;

    let res = alice
        .get(server.url("/media/..%2F..%2Fetc%2Fpasswd"))
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

/// A deleted listing's id is never given to a later listing (SQLite once reused the
/// largest id), so an old link to it answers 404 rather than showing another car.
#[tokio::test]
async fn a_deleted_listings_id_is_never_given_to_another() {
    let server = Server::start();
    let token = api_token(&server, "lena").await;
    let older = create_by_token(
        &server,
        &token,
        car_json("Skoda", "Octavia", 2016, "6500.00", 140_000),
    )
    .await;
    let newest = create_by_token(
        &server,
        &token,
        car_json("Volvo", "V60", 2018, "14000.00", 90_000),
    )
    .await;
    let newest_id = newest["id"].as_i64().unwrap();
    let path = format!("/api/cars/{newest_id}/");
    let deleted = call(&server, Method::DELETE, &path, Some(&token), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);

    let next = create_by_token(
        &server,
        &token,
        car_json("Toyota", "Yaris", 2019, "9000.00", 60_000),
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
async fn the_sell_form_suggests_the_makes_and_models_for_sale() {
    let server = Server::start();
    let token = api_token(&server, "alice").await;
    for (make, model) in [
        ("Toyota", "Corolla"),
        ("toyota", "corolla"),
        ("Skoda", "Octavia"),
    ] {
        create_by_token(&server, &token, car_json(make, model, 2018, "9000", 80000)).await;
    }
    let bob = server.user("bob").await;
    let form = server.page_text(&bob, "/sell").await;
    assert!(form.contains(r#"list="known-makes""#) && form.contains(r#"list="known-models""#));
    let makes = form.split(r#"<datalist id="known-makes">"#).nth(1).unwrap();
    let makes = &makes[..makes.find("</datalist>").unwrap()];
    assert_eq!(
        makes.matches("<option").count(),
        2,
        "once each, whatever the case: {makes}"
    );
    assert!(makes.contains(r#"value="Skoda""#) && makes.contains(r#"value="Toyota""#));
    assert!(form.contains(r#"<option value="Octavia" label="Skoda Octavia">"#));
    assert_eq!(form.matches(r#"label="Toyota Corolla""#).count(), 1);
}
