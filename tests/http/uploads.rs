//! Photos uploaded ahead, as the forms' island does with JavaScript on: `POST
//! /photo-uploads` one photo at a time, then the sell form or the edit page's "Add photos"
//! form sends only their ids (`uploaded` fields) in the seller's order. Who may use an
//! upload, what a bad file gets, and the sweep that deletes uploads no listing took.

use crate::common::{api_car, car_form, sell, Server};
use reqwest::{header, multipart, Client, StatusCode};
use serde_json::Value;
use std::time::{Duration, Instant};

/// A one-colour PNG of `width` x `height`: the size tells photos apart in the API.
fn png_of(width: u32, height: u32) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(width, height, image::Rgb([200, 30, 30]))
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

async fn upload(server: &Server, client: &Client, bytes: Vec<u8>, name: &str) -> reqwest::Response {
    client
        .post(server.url("/photo-uploads"))
        .header(header::ACCEPT, "application/json")
        .multipart(multipart::Form::new().part(
            "photo",
            multipart::Part::bytes(bytes).file_name(name.to_owned()),
        ))
        .send()
        .await
        .unwrap()
}

/// Uploads a `width`-pixel-wide photo; returns its id.
async fn uploaded(server: &Server, client: &Client, width: u32) -> i64 {
    let res = upload(server, client, png_of(width, 30), &format!("w{width}.png")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["width"], width);
    assert_eq!(body["height"], 30);
    assert!(body["thumbnail_url"]
        .as_str()
        .unwrap()
        .starts_with("/media/"));
    body["id"].as_i64().unwrap()
}

/// The sell form with its text fields and `uploaded` ids, as the island sends it.
fn sell_form(ids: &[i64]) -> multipart::Form {
    ids.iter().fold(
        car_form("Volvo", "V60", "2018", "17500", "90000"),
        |form, id| form.text("uploaded", id.to_string()),
    )
}

/// The widths of a listing's photos, in order.
async fn widths(server: &Server, id: i64) -> Vec<i64> {
    api_car(server, id).await["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|photo| photo["width"].as_i64().unwrap())
        .collect()
}

async fn waiting(server: &Server) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM uploaded_photos")
        .fetch_one(&server.db().await)
        .await
        .unwrap()
}

#[tokio::test]
async fn photos_uploaded_ahead_join_the_listing_in_the_order_the_form_sends() {
    let server = Server::start();
    let seller = server.user("sara").await;
    let first = uploaded(&server, &seller, 40).await;
    let second = uploaded(&server, &seller, 50).await;
    let third = uploaded(&server, &seller, 60).await;
    assert_eq!(waiting(&server).await, 3);

    // The seller made the third photo the cover and left the second one out.
    let id = sell(&server, &seller, sell_form(&[third, first])).await;

    assert_eq!(widths(&server, id).await, vec![60, 40]);
    // The unused one keeps waiting (for the sweep); the used ones are the listing's now.
    assert_eq!(waiting(&server).await, 1);
    let again = seller
        .post(server.url("/sell"))
        .multipart(sell_form(&[third]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a photo is used once"
    );
    assert_eq!(waiting(&server).await, 1);

    // The edit page's "Add photos" form takes them the same way, after the others.
    let res = seller
        .post(server.url(&format!("/cars/{id}/photos")))
        .multipart(multipart::Form::new().text("uploaded", second.to_string()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(widths(&server, id).await, vec![60, 40, 50]);
    assert_eq!(waiting(&server).await, 0);
}

#[tokio::test]
async fn an_upload_is_its_uploaders_only_and_a_form_naming_anothers_stores_nothing() {
    let server = Server::start();
    let sara = server.user("sara").await;
    let mallory = server.user("mallory").await;
    let saras = uploaded(&server, &sara, 40).await;
    let files = server.media_files().await;

    let res = mallory
        .post(server.url("/sell"))
        .multipart(sell_form(&[saras]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("no longer here"));
    let cars: i64 = sqlx::query_scalar("SELECT count(*) FROM cars")
        .fetch_one(&server.db().await)
        .await
        .unwrap();
    assert_eq!(cars, 0, "no listing half-made");
    assert_eq!(
        waiting(&server).await,
        1,
        "Sara's photo still waits for her"
    );
    assert_eq!(server.media_files().await, files);

    // Not signed in: 401; from another site: refused before anything is read.
    let anonymous = upload(&server, &server.client(), png_of(40, 30), "a.png").await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let cross_site = sara
        .post(server.url("/photo-uploads"))
        .header("sec-fetch-site", "cross-site")
        .multipart(multipart::Form::new().part(
            "photo",
            multipart::Part::bytes(png_of(40, 30)).file_name("a.png"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    assert_eq!(waiting(&server).await, 1);
}

#[tokio::test]
async fn a_bad_upload_says_why_naming_the_file_and_stores_nothing() {
    let server = Server::start();
    let seller = server.user("sara").await;

    let res = upload(&server, &seller, b"not a photo".to_vec(), "IMG_2231.HEIC").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        res.text().await.unwrap(),
        "IMG_2231.HEIC: this file type is not supported — use JPEG, PNG or WebP."
    );
    let too_big = upload(&server, &seller, vec![0xff; 16 * 1024 * 1024], "huge.jpg").await;
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(too_big.text().await.unwrap().starts_with("huge.jpg: "));
    let empty = seller
        .post(server.url("/photo-uploads"))
        .multipart(multipart::Form::new().text("photo", ""))
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);

    assert_eq!(waiting(&server).await, 0);
    assert_eq!(server.media_files().await, 0);
}

#[tokio::test]
async fn a_sell_form_sent_back_with_errors_still_holds_its_uploaded_photos() {
    let server = Server::start();
    let seller = server.user("sara").await;
    let photo = uploaded(&server, &seller, 40).await;
    let form =
        car_form("Volvo", "V60", "1700", "17500", "90000").text("uploaded", photo.to_string());

    let res = seller
        .post(server.url("/sell"))
        .header(header::ACCEPT, "text/html")
        .multipart(form)
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = server.page_text(&seller, "/sell").await;
    assert!(page.contains("Enter a year between"), "{page}");
    assert!(
        page.contains(&format!(r#"name="uploaded" value="{photo}""#)),
        "the photo is sent again with the corrected form: {page}"
    );
    assert_eq!(waiting(&server).await, 1);
}

#[tokio::test]
async fn uploads_no_listing_took_are_deleted_with_their_files_after_a_day() {
    let server = Server::start_with(&[("UPLOAD_SWEEP_SECS", "1")]);
    let seller = server.user("sara").await;
    let old = uploaded(&server, &seller, 40).await;
    let kept = uploaded(&server, &seller, 50).await;
    let used = uploaded(&server, &seller, 60).await;
    sell(&server, &seller, sell_form(&[used])).await;
    let files = server.media_files().await;
    assert_eq!(files, 3);

    // The test's clock: the first upload was made 25 hours ago.
    let long_ago = (chrono::Utc::now() - chrono::Duration::hours(25))
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    let sql = if server.storage.is_postgres() {
        "UPDATE uploaded_photos SET created_at = CAST($1 AS TIMESTAMPTZ) WHERE id = $2"
    } else {
        "UPDATE uploaded_photos SET created_at = $1 WHERE id = $2"
    };
    sqlx::query(sql)
        .bind(&long_ago)
        .bind(old)
        .execute(&server.storage.db_rw().await)
        .await
        .unwrap();

    let started = Instant::now();
    while waiting(&server).await != 1 {
        assert!(started.elapsed() < Duration::from_secs(20), "no sweep");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Its file goes too; the recent upload and the listing's photo stay.
    while server.media_files().await != files - 1 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "its file stayed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let left: i64 = sqlx::query_scalar("SELECT id FROM uploaded_photos")
        .fetch_one(&server.db().await)
        .await
        .unwrap();
    assert_eq!(left, kept);
    let late = seller
        .post(server.url("/sell"))
        .multipart(sell_form(&[old]))
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
