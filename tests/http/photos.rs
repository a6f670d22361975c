//! A listing's photos through its pages, without JavaScript: several chosen at once on the
//! sell form, the edit page's photo forms (add several, move up and down, make cover,
//! describe, remove), who may use them, and the details page's gallery.

use crate::common::{api_car, car_form, png, sell, Server};
use reqwest::{header, multipart, Client, StatusCode};
use serde_json::Value;

/// `count` small PNG files in the form field `field`, named car-1.png, car-2.png, …
fn with_photos(form: multipart::Form, field: &'static str, count: usize) -> multipart::Form {
    (1..=count).fold(form, |form, n| {
        form.part(
            field,
            multipart::Part::bytes(png()).file_name(format!("car-{n}.png")),
        )
    })
}

/// The listing's photos as the API shows them: (id, label, caption), in order.
async fn photos(server: &Server, id: i64) -> Vec<(i64, Value, String)> {
    api_car(server, id).await["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|photo| {
            (
                photo["id"].as_i64().unwrap(),
                photo["label"].clone(),
                photo["caption"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Presses one of a photo's buttons on the edit page; returns where it leads.
async fn press(
    server: &Server,
    client: &Client,
    car: i64,
    photo: i64,
    fields: &[(&str, &str)],
) -> String {
    let res = client
        .post(server.url(&format!("/cars/{car}/photos/{photo}")))
        .form(fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{fields:?}");
    res.headers()[header::LOCATION].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_sell_form_takes_several_photos_at_once_and_the_first_is_the_cover() {
    let server = Server::start();
    let seller = server.user("sara").await;

    let form = with_photos(
        car_form("Skoda", "Octavia", "2019", "15500", "70000"),
        "photo",
        3,
    );
    let id = sell(&server, &seller, form).await;

    let stored = photos(&server, id).await;
    assert_eq!(stored.len(), 3, "{stored:?}");
    assert_eq!(server.media_files().await, 3);
    // The gallery shows them in that order, each saying where it is.
    let html = server
        .page_text(&server.client(), &format!("/cars/{id}"))
        .await;
    for n in 1..=3 {
        assert!(html.contains(&format!("{n} / 3")), "{html}");
        assert!(html.contains(&format!("2019 Skoda Octavia, photo {n} of 3")));
    }
}

#[tokio::test]
async fn a_bad_file_among_the_sell_forms_photos_keeps_the_listing_and_all_its_photos_out() {
    let server = Server::start();
    let seller = server.user("sara").await;
    let form = with_photos(
        car_form("Skoda", "Fabia", "2016", "7500", "90000"),
        "photo",
        2,
    )
    .part(
        "photo",
        multipart::Part::bytes(b"not a photo".to_vec()).file_name("IMG_2231.HEIC"),
    );

    let res = seller
        .post(server.url("/sell"))
        .multipart(form)
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["errors"]["photo"],
        "IMG_2231.HEIC: this file type is not supported — use JPEG, PNG or WebP."
    );
    assert_eq!(server.media_files().await, 0, "nothing half-stored");
}

#[tokio::test]
async fn the_edit_page_adds_several_photos_and_moves_describes_and_removes_each() {
    let server = Server::start();
    let seller = server.user("sara").await;
    let id = sell(
        &server,
        &seller,
        car_form("Seat", "Leon", "2020", "17000", "40000"),
    )
    .await;

    // "Add photos": two files in one form post, back to the photos with a message.
    let res = seller
        .post(server.url(&format!("/cars/{id}/photos")))
        .multipart(with_photos(multipart::Form::new(), "photos", 3))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()[header::LOCATION],
        format!("/cars/{id}/edit#photos")
    );
    let page = server.page_text(&seller, &format!("/cars/{id}/edit")).await;
    assert!(page.contains("3 photos added."), "{page}");
    assert!(page.contains("Photo 3 of 3"));
    let again = server.page_text(&seller, &format!("/cars/{id}/edit")).await;
    assert!(!again.contains("3 photos added."), "said once");
    let ids: Vec<i64> = photos(&server, id).await.iter().map(|p| p.0).collect();
    let (a, b, c) = (ids[0], ids[1], ids[2]);

    // Move down, move up, make cover: the order follows each press.
    let back = press(&server, &seller, id, a, &[("action", "down")]).await;
    assert_eq!(back, format!("/cars/{id}/edit#photo-{a}"));
    let order = |list: Vec<(i64, Value, String)>| list.iter().map(|p| p.0).collect::<Vec<_>>();
    assert_eq!(order(photos(&server, id).await), [b, a, c]);
    press(&server, &seller, id, c, &[("action", "up")]).await;
    assert_eq!(order(photos(&server, id).await), [b, c, a]);
    press(&server, &seller, id, a, &[("action", "cover")]).await;
    assert_eq!(order(photos(&server, id).await), [a, b, c]);
    // The first cannot move up: nothing changes.
    press(&server, &seller, id, a, &[("action", "up")]).await;
    assert_eq!(order(photos(&server, id).await), [a, b, c]);

    // Save what a photo shows; the details page offers a jump to the damage.
    press(
        &server,
        &seller,
        id,
        c,
        &[
            ("action", "save"),
            ("label", "damage"),
            ("caption", "Scratch on the rear bumper"),
        ],
    )
    .await;
    let stored = photos(&server, id).await;
    assert_eq!(stored[2].1, "damage");
    assert_eq!(stored[2].2, "Scratch on the rear bumper");
    let details = server
        .page_text(&server.client(), &format!("/cars/{id}"))
        .await;
    assert!(details.contains("Damage (1)"), "{details}");
    assert!(details.contains("href=\"#photo-3\""));
    assert!(details.contains("Scratch on the rear bumper"));

    // A caption too long is refused with a message, and nothing changes.
    let long = "x".repeat(121);
    press(
        &server,
        &seller,
        id,
        b,
        &[("action", "save"), ("caption", &long)],
    )
    .await;
    let page = server.page_text(&seller, &format!("/cars/{id}/edit")).await;
    assert!(page.contains("class=\"alert\""), "{page}");
    assert_eq!(photos(&server, id).await[1].2, "");

    // Remove: the photo and its file go.
    let back = press(&server, &seller, id, a, &[("action", "remove")]).await;
    assert_eq!(back, format!("/cars/{id}/edit#photos"));
    assert_eq!(order(photos(&server, id).await), [b, c]);
    assert_eq!(server.media_files().await, 2);
}

#[tokio::test]
async fn only_the_seller_can_use_a_listings_photo_forms() {
    let server = Server::start();
    let seller = server.user("sara").await;
    let form = with_photos(
        car_form("Kia", "Ceed", "2018", "11000", "65000"),
        "photo",
        2,
    );
    let id = sell(&server, &seller, form).await;
    let first = photos(&server, id).await[0].0;
    let other = server.user("mallory").await;
    let anonymous = server.client();

    for client in [&other, &anonymous] {
        let add = client
            .post(server.url(&format!("/cars/{id}/photos")))
            .multipart(with_photos(multipart::Form::new(), "photos", 1))
            .send()
            .await
            .unwrap();
        let remove = client
            .post(server.url(&format!("/cars/{id}/photos/{first}")))
            .form(&[("action", "remove")])
            .send()
            .await
            .unwrap();
        for res in [add, remove] {
            if std::ptr::eq(client, &anonymous) {
                // Sent to sign in, and back to the edit page after.
                assert_eq!(res.status(), StatusCode::SEE_OTHER);
                assert_eq!(
                    res.headers()[header::LOCATION],
                    format!("/login?next=/cars/{id}/edit")
                );
            } else {
                assert_eq!(res.status(), StatusCode::FORBIDDEN);
            }
        }
    }
    assert_eq!(photos(&server, id).await.len(), 2, "nothing changed");
    assert_eq!(server.media_files().await, 2, "no file left behind");

    // Unknown listings and photos are 404, for the seller too.
    let unknown = seller
        .post(server.url(&format!("/cars/{id}/photos/999999")))
        .form(&[("action", "remove")])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let unknown = seller
        .post(server.url("/cars/999999/photos"))
        .multipart(with_photos(multipart::Form::new(), "photos", 1))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}
