//! Where cars are: a seller names the car's town (choosing among towns of the same name
//! without JavaScript), buyers see it on cards and the details page, and search "near
//! <town> within N km" on the marketplace and in the API, nearest first if they like.

use crate::common::{api_token, call, car_form, create_by_token, plain_client, sell, Server};
use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

/// The gazetteer's best match for `label` (`GET /api/towns/`): its id and coordinates.
async fn town(server: &Server, label: &str) -> (i64, f64, f64) {
    let reply = call(
        server,
        Method::GET,
        &format!("/api/towns/?q={}", urlencode(label)),
        None,
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let first = &reply.body[0];
    assert_eq!(first["label"], label, "{}", reply.body);
    (
        first["id"].as_i64().unwrap(),
        first["latitude"].as_f64().unwrap(),
        first["longitude"].as_f64().unwrap(),
    )
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The great-circle distance in km (haversine, mean Earth radius), worked out here
/// independently of the server's SQL.
fn km((lat1, lon1): (f64, f64), (lat2, lon2): (f64, f64)) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let h = ((p2 - p1) / 2.0).sin().powi(2)
        + p1.cos() * p2.cos() * ((lon2 - lon1).to_radians() / 2.0).sin().powi(2);
    2.0 * 6371.0088 * h.sqrt().asin()
}

#[tokio::test]
async fn a_seller_chooses_among_towns_of_one_name_and_buyers_see_the_town() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let (springfield_il, _, _) = town(&server, "Springfield, Illinois").await;

    // A browser without JavaScript: the form comes back with the Springfields to choose from.
    let res = alice
        .post(server.url("/sell"))
        .header(header::ACCEPT, "text/html")
        .multipart(car_form("Ford", "Focus", "2017", "8900", "90000").text("town", "springfield"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let form = server.page_text(&alice, "/sell").await;
    assert!(form.contains("More than one town matches"), "{form}");
    assert!(form.contains("Which one?"));
    assert!(form.contains("Springfield, Illinois"));
    assert!(form.contains("Springfield, Massachusetts"));
    assert!(form.contains(&format!(r#"name="town_id" value="{springfield_il}""#)));
    assert!(
        form.contains(r#"value="springfield""#),
        "what was typed stays"
    );

    // Choosing one lists the car there.
    let id = sell(
        &server,
        &alice,
        car_form("Ford", "Focus", "2017", "8900", "90000")
            .text("town", "springfield")
            .text("town_id", springfield_il.to_string()),
    )
    .await;
    let html = server
        .page_text(&server.client(), &format!("/cars/{id}"))
        .await;
    assert!(html.contains("Location"));
    assert!(html.contains("Springfield, Illinois"));
    let car = call(
        &server,
        Method::GET,
        &format!("/api/cars/{id}/"),
        None,
        None,
    )
    .await;
    assert_eq!(car.body["town_id"], springfield_il);
    assert_eq!(car.body["town"], "Springfield, Illinois");
    assert_eq!(car.body["distance_km"], Value::Null);

    // The edit form shows the town by its full name, which saves as the same town.
    let form = server.page_text(&alice, &format!("/cars/{id}/edit")).await;
    assert!(form.contains(r#"value="Springfield, Illinois""#));
    let res = alice
        .post(server.url(&format!("/cars/{id}/edit")))
        .multipart(
            car_form("Ford", "Focus", "2017", "8500", "90000")
                .text("town", "Springfield, Illinois"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let car = call(
        &server,
        Method::GET,
        &format!("/api/cars/{id}/"),
        None,
        None,
    )
    .await;
    assert_eq!(car.body["town_id"], springfield_il);
    assert_eq!(car.body["price"], "8500.00");

    // A town that does not exist, and a script's form post, get the field's message.
    for (typed, message) in [
        ("Springfield", "More than one town"),
        ("Atlantis Under The Sea", "No town called"),
    ] {
        let res = alice
            .post(server.url("/sell"))
            .multipart(car_form("Ford", "Ka", "2012", "2900", "120000").text("town", typed))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = res.json().await.unwrap();
        assert!(
            body["errors"]["town"].as_str().unwrap().contains(message),
            "{body}"
        );
    }
}

#[tokio::test]
async fn the_api_sets_and_clears_a_town_by_id_and_refuses_unknown_ones() {
    let server = Server::start();
    let token = api_token(&server, "alice").await;
    let (chicago, _, _) = town(&server, "Chicago, Illinois").await;
    let created = create_by_token(
        &server,
        &token,
        json!({ "make": "Kia", "model": "Ceed", "year": 2019, "price": "11000", "mileage": 50000,
                "town_id": chicago }),
    )
    .await;
    assert_eq!(created["town"], "Chicago, Illinois");
    let path = format!("/api/cars/{}/", created["id"]);
    let patch = |body: Value| call(&server, Method::PATCH, &path, Some(&token), Some(body));
    let kept = patch(json!({ "price": "10500" })).await;
    assert_eq!(kept.body["town_id"], chicago, "a PATCH without it keeps it");
    for bad in [json!(12), json!("nowhere"), json!(true)] {
        let reply = patch(json!({ "town_id": bad })).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(reply.body["town_id"][0].is_string(), "{}", reply.body);
    }
    let cleared = patch(json!({ "town_id": null })).await;
    assert_eq!(cleared.status, StatusCode::OK);
    assert_eq!(cleared.body["town_id"], Value::Null);
    assert_eq!(cleared.body["town"], Value::Null);

    // Towns by name: namesakes tell their region; nothing typed, nothing listed.
    let towns = call(
        &server,
        Method::GET,
        "/api/towns/?q=springfield",
        None,
        None,
    )
    .await;
    let labels: Vec<&str> = towns
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["label"].as_str().unwrap())
        .collect();
    assert!(labels.len() > 3 && labels.len() <= 10, "{labels:?}");
    assert!(labels.contains(&"Springfield, Illinois"));
    let none = call(&server, Method::GET, "/api/towns/?q=", None, None).await;
    assert_eq!(none.body, json!([]));
}

#[tokio::test]
async fn buyers_search_near_a_town_within_a_radius_on_the_page_and_in_the_api() {
    let server = Server::start();
    let token = api_token(&server, "alice").await;
    let chicago = town(&server, "Chicago, Illinois").await;
    let places = [
        ("Chicago", "Chicago, Illinois"),
        ("Evanston", "Evanston, Illinois"),
        ("Aurora", "Aurora, Illinois"),
        ("Milwaukee", "Milwaukee, Wisconsin"),
        ("Springfield", "Springfield, Illinois"),
    ];
    let mut distances = Vec::new();
    for (at, (model, label)) in places.into_iter().enumerate() {
        let (id, lat, lon) = town(&server, label).await;
        distances.push((model, km((chicago.1, chicago.2), (lat, lon))));
        create_by_token(
            &server,
            &token,
            json!({ "make": "Placetest", "model": model, "year": 2018, "price": "9000",
                    "mileage": 70000, "town_id": id, "power_kw": 60 + 10 * at as i64 }),
        )
        .await;
    }
    // A car whose seller named no town: no distance search finds it.
    create_by_token(
        &server,
        &token,
        json!({ "make": "Placetest", "model": "Nowhere", "year": 2018, "price": "9000",
                "mileage": 70000 }),
    )
    .await;

    let list = |query: String| {
        let server = &server;
        async move {
            let reply = call(
                server,
                Method::GET,
                &format!("/api/cars/?{query}"),
                None,
                None,
            )
            .await;
            assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.body);
            reply.body["results"].as_array().unwrap().clone()
        }
    };
    for radius in [10, 25, 50, 100, 200, 500] {
        let cars = list(format!(
            "near={}&radius_km={radius}&ordering=distance",
            chicago.0
        ))
        .await;
        let found: Vec<&str> = cars.iter().map(|c| c["model"].as_str().unwrap()).collect();
        let mut expected: Vec<(&str, f64)> = distances
            .iter()
            .copied()
            .filter(|(_, d)| *d <= f64::from(radius))
            .collect();
        expected.sort_by(|a, b| a.1.total_cmp(&b.1));
        let expected_models: Vec<&str> = expected.iter().map(|(m, _)| *m).collect();
        assert_eq!(found, expected_models, "within {radius} km, nearest first");
        for (car, (_, d)) in cars.iter().zip(&expected) {
            let said = car["distance_km"].as_f64().unwrap();
            assert!((said - d).abs() <= 0.1, "{said} against {d}");
        }
    }
    // No town is within 1 km of a radius: the edges above are clear-cut.
    assert!(distances
        .iter()
        .all(|(_, d)| ![10.0, 25.0, 50.0, 100.0, 200.0, 500.0]
            .iter()
            .any(|r| (d - r).abs() < 1.0)));

    // A town named by its only name works too; most powerful first puts the unknown last.
    let by_name = list("near=chicago&radius_km=25".into()).await;
    assert_eq!(by_name.len(), 2, "Chicago and Evanston");
    let powerful = list("make=Placetest&ordering=-power_kw".into()).await;
    let powers: Vec<Value> = powerful.iter().map(|c| c["power_kw"].clone()).collect();
    assert_eq!(
        powers,
        [
            json!(100),
            json!(90),
            json!(80),
            json!(70),
            json!(60),
            Value::Null
        ]
    );

    // Bad values are named.
    for (query, field) in [
        ("near=springfield", "near"),
        ("near=99999999999", "near"),
        (
            &format!("near={}&radius_km=30", chicago.0) as &str,
            "radius_km",
        ),
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

    // The page: the town on each card with its distance, a chip that removes the search,
    // and nearest first.
    let page = server
        .page_text(
            &plain_client(),
            &format!("/cars?near={}&radius_km=50&sort=nearest", chicago.0),
        )
        .await;
    assert!(page.contains("Within 50 km of Chicago, Illinois"));
    assert!(page.contains("Less than 1 km away"));
    let evanston_km = format!("{} km away", distances[1].1.round());
    assert!(page.contains(&evanston_km), "{evanston_km}");
    assert!(!page.contains("Milwaukee, Wisconsin"));
    let chicago_at = page.find("2018 Placetest Chicago").unwrap();
    let evanston_at = page.find("2018 Placetest Evanston").unwrap();
    assert!(chicago_at < evanston_at, "nearest first");
    // Typed as a name several towns have: the choices, each a link.
    let page = server
        .page_text(&plain_client(), "/cars?near=Springfield&radius_km=100")
        .await;
    assert!(page.contains("Which one?"));
    assert!(page.contains("More than one town matches"));
    let (springfield_il, _, _) = town(&server, "Springfield, Illinois").await;
    assert!(page.contains(&format!("near={springfield_il}&amp;radius_km=100")));
}
