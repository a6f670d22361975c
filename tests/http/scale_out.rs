//! Scale-out: two app server processes on different ports share one database and one
//! photo store, as they would behind a load balancer. A user signs in on one, lists a car
//! with a photo through the other, and both serve the listing, the photo and the session.
//!
//! Run by the test command on PostgreSQL with photos in S3 (see tests/http/common); on SQLite
//! it shows the same for several processes on one machine.

use crate::common::{car_form, current_user, png, sell, Server, TestData};
use reqwest::{header, multipart, Client, StatusCode};
use serde_json::Value;

/// Two app servers, A and B, on one test's data; the data outlives them.
fn two_servers() -> (TestData, Server, Server) {
    let data = TestData::new();
    let a = data.start(&[]);
    let b = data.start(&[]);
    assert_ne!(a.base, b.base, "two processes on two ports");
    eprintln!(
        "scale-out on {} with photos in {}",
        if data.storage.is_postgres() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        if data.storage.s3_prefix.is_some() {
            "S3"
        } else {
            "a shared directory"
        }
    );
    (data, a, b)
}

/// Sam's Volvo with a photo, sold through `server` from `browser`; returns its page's path.
async fn sell_the_volvo(server: &Server, browser: &Client) -> String {
    let form = multipart::Form::new()
        .text("make", "Volvo")
        .text("model", "V70 Shared")
        .text("year", "2012")
        .text("price", "6400")
        .text("mileage", "188000")
        .text("condition", "used")
        .text("description", "One owner, served by any app server.")
        .text("image_url", "")
        .part(
            "photo",
            multipart::Part::bytes(png())
                .file_name("volvo.png")
                .mime_str("image/png")
                .unwrap(),
        );
    let id = sell(server, browser, form).await;
    format!("/cars/{id}")
}

#[tokio::test]
async fn a_session_made_on_one_server_is_known_to_the_other() {
    let (_data, a, b) = two_servers();

    // One browser: cookies are per host, so behind a balancer it sends its session to either.
    let browser = a.user("sam").await;

    assert_eq!(
        current_user(&b, &browser).await["username"],
        "sam",
        "server B knows the session made on A"
    );
}

#[tokio::test]
async fn a_car_listed_through_one_server_is_shown_with_the_same_photo_by_both() {
    let (data, a, b) = two_servers();
    let browser = a.user("sam").await;

    // The listing and its photo go in through B.
    let location = sell_the_volvo(&b, &browser).await;

    // Both servers show it in the marketplace, with the same photo, to an anonymous buyer.
    let mut photos = Vec::new();
    for server in [&a, &b] {
        let buyer = server.client();
        let html = server.page_text(&buyer, "/cars?q=shared").await;
        assert!(html.contains("V70 Shared"), "{} lists the car", server.base);
        assert!(html.contains(&format!("href=\"{location}\"")));
        let listing: Value = buyer
            .get(server.url(&format!("/api{location}/")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(listing["seller_details"]["username"], "sam");
        let photo = listing["primary_image"]
            .as_str()
            .expect("the listing has a photo");
        let path = &photo[photo.find("/media/").expect("a /media/ URL")..];
        assert!(html.contains(&path.replace(".jpg", "-640w.jpg")));
        for file in [path.to_owned(), path.replace(".jpg", "-640w.jpg")] {
            let res = buyer.get(server.url(&file)).send().await.unwrap();
            assert_eq!(
                res.status(),
                StatusCode::OK,
                "{} serves {file}",
                server.base
            );
            assert_eq!(res.headers()[header::CONTENT_TYPE], "image/jpeg");
            let bytes = res.bytes().await.unwrap();
            assert!(bytes.starts_with(&[0xFF, 0xD8]), "a JPEG");
            photos.push(bytes);
        }
    }
    assert_eq!(photos[0], photos[2], "the same photo from either server");
    assert_eq!(
        data.storage.media_files().await,
        1,
        "one photo (too small to have sizes)"
    );
}

#[tokio::test]
async fn signing_out_on_one_server_ends_the_session_on_both() {
    let (_data, a, b) = two_servers();
    let browser = a.user("sam").await;
    assert_eq!(current_user(&b, &browser).await["username"], "sam");

    browser
        .post(a.url("/rpc/auth/logout"))
        .send()
        .await
        .unwrap();

    let me = current_user(&b, &browser).await;
    assert!(me.is_null(), "B no longer knows the session: {me}");
}

/// Each server counts the facets from its own search index: a car listed, changed or sold
/// through one server is counted by the other at once (its index takes in the change before
/// it answers).
#[tokio::test]
async fn facet_counts_on_either_server_follow_changes_made_through_the_other() {
    let (_data, a, b) = two_servers();
    let browser = a.user("sam").await;
    let counts = |server: &Server| {
        let url = server.url("/api/facets/?make=Volvo");
        let client = server.client();
        async move {
            let facets: Value = client.get(url).send().await.unwrap().json().await.unwrap();
            (
                facets["body_type"]["estate"].as_i64().unwrap(),
                facets["body_type"]["suv"].as_i64().unwrap(),
            )
        }
    };
    // Both servers have counted once (their indexes are at this version).
    assert_eq!(counts(&a).await, (0, 0));
    assert_eq!(counts(&b).await, (0, 0));

    let estate = car_form("Volvo", "V70", "2012", "6400", "188000").text("body_type", "estate");
    let id = sell(&b, &browser, estate).await;
    assert_eq!(
        counts(&a).await,
        (1, 0),
        "A counts the estate listed through B"
    );
    assert_eq!(counts(&b).await, (1, 0));

    let res = browser
        .post(b.url(&format!("/cars/{id}/edit")))
        .multipart(car_form("Volvo", "V70", "2012", "6400", "188000").text("body_type", "suv"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        counts(&a).await,
        (0, 1),
        "A counts it as the SUV it became on B"
    );

    let res = browser
        .post(a.url("/rpc/cars/set_status"))
        .form(&[("id", id.to_string().as_str()), ("status", "sold")])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success() || res.status().is_redirection());
    assert_eq!(
        counts(&b).await,
        (0, 0),
        "B no longer counts it once sold on A"
    );
}
