//! A listing's specification (body, fuel, gearbox, drive, colour, figures, equipment):
//! entered on the sell and edit forms, shown on the details page and in the API, kept by
//! API edits that do not send it, and refused field by field when it is wrong.

use crate::common::{
    api_car, api_token, call, car_form, create_by_token, my_cars, plain_client, sell, Server,
};
use reqwest::{multipart, Method, StatusCode};
use serde_json::{json, Value};

/// The sell form for a 2021 plug-in hybrid SUV with its specification.
fn hybrid_suv() -> multipart::Form {
    [
        ("body_type", "suv"),
        ("fuel", "plug_in_hybrid"),
        ("transmission", "automatic"),
        ("drive", "all_wheel"),
        ("colour", "grey"),
        ("power_kw", "225"),
        ("engine_cc", "1,998"),
        ("battery_kwh", "18.7"),
        ("doors", "5"),
        ("seats", "7"),
        ("previous_owners", "1"),
        ("first_registration", "2021-03"),
        ("equipment", "tow_bar"),
        ("equipment", "heated_seats"),
    ]
    .into_iter()
    .fold(
        car_form("Volvo", "XC90", "2021", "41500", "52000"),
        |form, (name, value)| form.text(name, value),
    )
}

#[tokio::test]
async fn a_seller_lists_a_car_with_its_specification_and_buyers_see_it() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let id = sell(&server, &alice, hybrid_suv()).await;

    let html = server
        .page_text(&server.client(), &format!("/cars/{id}"))
        .await;
    for shown in [
        "Specification",
        "SUV",
        "Plug-in hybrid",
        "Automatic",
        "All-wheel drive",
        "Grey",
        "225 kW (306 hp)",
        "1,998 cc",
        "18.7 kWh",
        "March 2021",
        "Equipment",
        "Heated seats",
        "Tow bar",
    ] {
        assert!(html.contains(shown), "{shown} is not on the details page");
    }
    assert!(
        !html.contains("Sunroof"),
        "only the chosen equipment is listed"
    );

    let car = api_car(&server, id).await;
    let expected = json!({
        "body_type": "suv", "fuel": "plug_in_hybrid", "transmission": "automatic",
        "drive": "all_wheel", "colour": "grey", "power_kw": 225, "power_hp": 306,
        "engine_cc": 1998, "battery_kwh": 18.7, "doors": 5, "seats": 7,
        "previous_owners": 1, "first_registration": "2021-03",
        "equipment": ["heated_seats", "tow_bar"],
    });
    for (field, value) in expected.as_object().unwrap() {
        assert_eq!(&car[field], value, "{field}");
    }

    // The edit form shows the specification as stored, and saves what is sent back.
    let form = server.page_text(&alice, &format!("/cars/{id}/edit")).await;
    assert!(
        form.contains(r#"value="1998""#),
        "the engine size is filled in"
    );
    assert!(form.contains(r#"value="2021-03""#));
    let res = alice
        .post(server.url(&format!("/cars/{id}/edit")))
        .multipart(
            car_form("Volvo", "XC90", "2021", "39900", "52000")
                .text("body_type", "suv")
                .text("fuel", "electric")
                .text("battery_kwh", "107")
                .text("equipment", "heat_pump"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let car = api_car(&server, id).await;
    assert_eq!(car["fuel"], "electric");
    assert_eq!(car["battery_kwh"], 107.0);
    assert_eq!(car["engine_cc"], Value::Null, "left empty on the form");
    assert_eq!(car["equipment"], json!(["heat_pump"]));

    // An API edit that does not send the specification keeps it.
    let token = call(
        &server,
        Method::POST,
        "/api/auth/token/",
        None,
        Some(json!({ "username": "alice", "password": "correct-horse-battery" })),
    )
    .await;
    let token = token.body["token"].as_str().unwrap().to_owned();
    let reply = call(
        &server,
        Method::PATCH,
        &format!("/api/cars/{id}/"),
        Some(&token),
        Some(json!({ "price": "38500.00" })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["price"], "38500.00");
    assert_eq!(reply.body["fuel"], "electric");
    assert_eq!(reply.body["equipment"], json!(["heat_pump"]));
}

#[tokio::test]
async fn a_car_without_a_specification_still_shows_and_reads_as_unknown() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let id = sell(
        &server,
        &alice,
        car_form("Honda", "Civic", "2018", "14500", "60000"),
    )
    .await;
    let html = server
        .page_text(&server.client(), &format!("/cars/{id}"))
        .await;
    assert!(html.contains("2018 Honda Civic"));
    assert!(
        !html.contains("specs-heading"),
        "no empty specification table"
    );
    let car = api_car(&server, id).await;
    assert_eq!(car["body_type"], Value::Null);
    assert_eq!(car["power_kw"], Value::Null);
    assert_eq!(car["equipment"], json!([]));
}

#[tokio::test]
async fn each_bad_specification_field_gets_its_own_message_and_nothing_is_stored() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let form = [
        ("body_type", "spaceship"),
        ("fuel", "electric"),
        ("engine_cc", "1600"),
        ("power_kw", "0"),
        ("doors", "12"),
        ("first_registration", "2099-01"),
        ("equipment", "jet_pack"),
    ]
    .into_iter()
    .fold(
        car_form("Tesla", "Model 3", "2020", "25000", "60000"),
        |form, (name, value)| form.text(name, value),
    );
    let res = alice
        .post(server.url("/sell"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    for field in [
        "body_type",
        "engine_cc",
        "power_kw",
        "doors",
        "first_registration",
        "equipment",
    ] {
        assert!(
            body["errors"][field]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{field}: {body}"
        );
    }
    assert!(body["errors"]["engine_cc"]
        .as_str()
        .unwrap()
        .contains("electric"));
    assert!(my_cars(&server, &alice).await.is_empty(), "nothing stored");
}

#[tokio::test]
async fn the_api_takes_the_specification_as_json_and_as_a_form() {
    let server = Server::start();
    let token = api_token(&server, "alice").await;
    let created = create_by_token(
        &server,
        &token,
        json!({
            "make": "Nissan", "model": "Leaf", "year": 2019, "price": "14990", "mileage": 41000,
            "body_type": "hatchback", "fuel": "electric", "transmission": "automatic",
            "power_kw": 110.0, "battery_kwh": 39.99, "doors": "5", "engine_cc": null,
            "first_registration": "2019-07", "equipment": ["heat_pump", "navigation", "heat_pump"],
        }),
    )
    .await;
    assert_eq!(created["fuel"], "electric");
    assert_eq!(created["power_kw"], 110);
    assert_eq!(created["battery_kwh"], 40.0, "rounded to a tenth of a kWh");
    assert_eq!(created["doors"], 5);
    assert_eq!(created["engine_cc"], Value::Null);
    assert_eq!(created["equipment"], json!(["navigation", "heat_pump"]));
    let id = created["id"].as_i64().unwrap();

    // A PATCH that sends the equipment replaces it; one that does not keeps it.
    let path = format!("/api/cars/{id}/");
    let patch = |body: Value| call(&server, Method::PATCH, &path, Some(&token), Some(body));
    let reply = patch(json!({ "equipment": ["tow_bar"], "colour": "RED" })).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["equipment"], json!(["tow_bar"]));
    assert_eq!(
        reply.body["colour"], "red",
        "ids are read whatever their case"
    );
    let reply = patch(json!({ "equipment": null, "seats": null })).await;
    assert_eq!(reply.body["equipment"], json!([]));
    assert_eq!(reply.body["doors"], 5);

    // A form repeats the field once per item.
    let res = plain_client()
        .patch(server.url(&path))
        .header("Authorization", format!("Token {token}"))
        .form(&[
            ("equipment", "leather"),
            ("equipment", "sunroof"),
            ("drive", "front"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let car: Value = res.json().await.unwrap();
    assert_eq!(car["equipment"], json!(["leather", "sunroof"]));
    assert_eq!(car["drive"], "front");
}

#[tokio::test]
async fn the_api_refuses_a_bad_specification_naming_each_field_and_stores_nothing() {
    let server = Server::start();
    let token = api_token(&server, "alice").await;
    let base =
        json!({ "make": "Nissan", "model": "Leaf", "year": 2019, "price": "14990", "mileage": 1 });
    let cases = [
        (
            json!({ "body_type": "spaceship" }),
            "body_type",
            "Choose a body type",
        ),
        (json!({ "fuel": "coal" }), "fuel", "Choose a fuel"),
        (json!({ "power_kw": 0 }), "power_kw", "1 to 2,000"),
        (json!({ "power_kw": true }), "power_kw", "A valid integer"),
        (json!({ "seats": 21 }), "seats", "1 to 20"),
        (
            json!({ "battery_kwh": 50 }),
            "battery_kwh",
            "electric and plug-in",
        ),
        (
            json!({ "fuel": "electric", "engine_cc": 1600 }),
            "engine_cc",
            "no engine size",
        ),
        (
            json!({ "first_registration": "2019-13" }),
            "first_registration",
            "2019-04",
        ),
        (
            json!({ "first_registration": "2999-01" }),
            "first_registration",
            "from 1886",
        ),
        (
            json!({ "equipment": ["jet_pack"] }),
            "equipment",
            "jet_pack",
        ),
        (
            json!({ "equipment": "tow_bar" }),
            "equipment",
            "list of equipment",
        ),
        (
            json!({ "equipment": [1, 2] }),
            "equipment",
            "list of equipment",
        ),
    ];
    for (fields, field, message) in cases {
        let mut body = base.clone();
        body.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        let reply = call(
            &server,
            Method::POST,
            "/api/cars/",
            Some(&token),
            Some(body),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{field}: {}",
            reply.body
        );
        let said = reply.body[field][0].as_str().unwrap_or_default();
        assert!(said.contains(message), "{field}: {said}");
    }
    let mine = call(
        &server,
        Method::GET,
        "/api/cars/my_listings/",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(mine.body, json!([]), "nothing was stored");
}

#[tokio::test]
async fn buyers_filter_by_the_specification_on_the_page_and_in_the_api() {
    let server = Server::start();
    let token = api_token(&server, "alice").await;
    let cars = [
        (
            "Alpha",
            json!({ "body_type": "suv", "fuel": "diesel", "transmission": "automatic",
            "drive": "all_wheel", "colour": "grey", "power_kw": 140,
            "equipment": ["tow_bar", "heated_seats"] }),
        ),
        (
            "Bravo",
            json!({ "body_type": "suv", "fuel": "electric", "transmission": "automatic",
            "drive": "all_wheel", "colour": "white", "power_kw": 200, "battery_kwh": 75,
            "equipment": ["heated_seats"] }),
        ),
        (
            "Charlie",
            json!({ "body_type": "hatchback", "fuel": "petrol", "transmission": "manual",
            "drive": "front", "colour": "red", "power_kw": 70 }),
        ),
        (
            "Delta",
            json!({ "body_type": "estate", "fuel": "diesel", "transmission": "manual",
            "drive": "front", "colour": "grey", "power_kw": 110, "equipment": ["tow_bar"] }),
        ),
        // Nothing known about this one: no specification filter keeps it.
        ("Echo", json!({})),
    ];
    for (model, specs) in cars {
        let mut body = json!({ "make": "Testa", "model": model, "year": 2020, "price": "20000",
            "mileage": 10000 });
        body.as_object_mut()
            .unwrap()
            .extend(specs.as_object().unwrap().clone());
        create_by_token(&server, &token, body).await;
    }
    let models = |query: &'static str| {
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
            let mut models: Vec<String> = reply.body["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|car| car["model"].as_str().unwrap().to_owned())
                .collect();
            models.sort();
            assert_eq!(
                reply.body["count"],
                models.len(),
                "{query}: the count is what is listed"
            );
            models
        }
    };
    assert_eq!(models("body_type=suv").await, ["Alpha", "Bravo"]);
    assert_eq!(
        models("body_type=suv&body_type=estate").await,
        ["Alpha", "Bravo", "Delta"]
    );
    assert_eq!(models("fuel=diesel&transmission=manual").await, ["Delta"]);
    assert_eq!(models("drive=front&colour=red").await, ["Charlie"]);
    assert_eq!(
        models("min_power_kw=100&max_power_kw=150").await,
        ["Alpha", "Delta"]
    );
    assert_eq!(models("min_power_kw=200").await, ["Bravo"]);
    assert_eq!(models("equipment=tow_bar").await, ["Alpha", "Delta"]);
    assert_eq!(
        models("equipment=tow_bar&equipment=heated_seats").await,
        ["Alpha"]
    );
    assert_eq!(
        models("colour=grey&body_type=suv&make=testa").await,
        ["Alpha"]
    );
    assert_eq!(
        models("fuel=&min_power_kw=").await.len(),
        5,
        "empty values filter nothing"
    );

    for (query, field) in [
        ("body_type=spaceship", "body_type"),
        ("fuel=diesel&fuel=coal", "fuel"),
        ("min_power_kw=-5", "min_power_kw"),
        ("max_power_kw=lots", "max_power_kw"),
        ("equipment=jet_pack", "equipment"),
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
        assert!(
            reply.body[field][0].as_str().is_some(),
            "{query}: {}",
            reply.body
        );
    }

    // The page: the same filters from the same query string, shown as ticked boxes and as
    // chips that each remove one filter.
    let html = server
        .page_text(&server.client(), "/cars?body_type=suv&equipment=tow_bar")
        .await;
    assert!(html.contains("2020 Testa Alpha"));
    for other in ["Bravo", "Charlie", "Delta", "Echo"] {
        assert!(
            !html.contains(&format!("2020 Testa {other}")),
            "{other} is filtered out"
        );
    }
    assert!(
        html.contains(r#"value="suv" checked"#),
        "the SUV box is ticked"
    );
    assert!(
        html.contains(r#"href="/cars?equipment=tow_bar""#),
        "the SUV chip removes SUV"
    );
    assert!(
        html.contains(r#"href="/cars?body_type=suv""#),
        "the tow bar chip removes it"
    );
    let html = server.page_text(&server.client(), "/cars?fuel=coal").await;
    assert!(
        html.contains("Unknown fuel: coal."),
        "an unknown choice is reported"
    );
}

#[tokio::test]
async fn facet_counts_are_what_each_choice_would_leave_on_the_page_and_in_the_api() {
    let server = Server::start();
    let token = api_token(&server, "alice").await;
    let cars = [
        (
            "Alpha",
            json!({ "body_type": "suv", "fuel": "diesel", "transmission": "automatic",
            "equipment": ["tow_bar", "heated_seats"] }),
        ),
        (
            "Bravo",
            json!({ "body_type": "suv", "fuel": "electric", "transmission": "automatic",
            "battery_kwh": 75, "equipment": ["heated_seats"] }),
        ),
        (
            "Charlie",
            json!({ "body_type": "hatchback", "fuel": "petrol", "transmission": "manual" }),
        ),
        (
            "Delta",
            json!({ "body_type": "estate", "fuel": "diesel", "transmission": "manual",
            "equipment": ["tow_bar"] }),
        ),
        ("Echo", json!({})),
    ];
    for (model, specs) in cars {
        let mut body = json!({ "make": "Facetta", "model": model, "year": 2020,
            "price": "20000", "mileage": 10000 });
        body.as_object_mut()
            .unwrap()
            .extend(specs.as_object().unwrap().clone());
        create_by_token(&server, &token, body).await;
    }
    let get = |query: String| {
        let server = &server;
        async move {
            let reply = call(server, Method::GET, &query, None, None).await;
            assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.body);
            reply.body
        }
    };
    // Each count is the list's own count for the filters with that choice instead of the
    // facet's own choices (or, for the equipment, with that item as well).
    for filters in [
        "make=Facetta",
        "make=Facetta&transmission=automatic",
        "make=Facetta&body_type=suv&fuel=diesel",
        "make=Facetta&equipment=tow_bar",
    ] {
        let facets = get(format!("/api/facets/?{filters}")).await;
        let list = get(format!("/api/cars/?{filters}")).await;
        assert_eq!(facets["count"], list["count"], "{filters}");
        for (facet, choices) in [
            ("body_type", &["suv", "hatchback", "estate", "van"][..]),
            ("fuel", &["diesel", "electric", "petrol", "hydrogen"][..]),
            ("transmission", &["automatic", "manual"][..]),
        ] {
            let others: Vec<&str> = filters
                .split('&')
                .filter(|pair| !pair.starts_with(&format!("{facet}=")))
                .collect();
            for choice in choices {
                let direct = get(format!("/api/cars/?{}&{facet}={choice}", others.join("&"))).await;
                assert_eq!(
                    facets[facet][choice], direct["count"],
                    "{filters}: {facet}={choice}"
                );
            }
        }
        for item in ["tow_bar", "heated_seats", "sunroof"] {
            let direct = get(format!("/api/cars/?{filters}&equipment={item}")).await;
            assert_eq!(
                facets["equipment"][item], direct["count"],
                "{filters}: {item}"
            );
        }
    }
    let all = get("/api/facets/?make=Facetta".into()).await;
    assert_eq!(all["count"], 5);
    assert_eq!(all["body_type"]["suv"], 2);
    assert_eq!(all["body_type"]["van"], 0, "every choice is listed");
    assert_eq!(all["equipment"]["tow_bar"], 2);
    let bad = call(&server, Method::GET, "/api/facets/?fuel=coal", None, None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body["fuel"][0].is_string());

    // The page shows the counts beside the boxes, and a choice that would leave no car
    // cannot be ticked.
    let page = server
        .page_text(
            &server.client(),
            "/cars?make=Facetta&transmission=automatic",
        )
        .await;
    let shows = |id: &str, cars: &str| {
        page.contains(&format!(r#"id="f-{id}-cars" class="facet-count">{cars}<"#))
    };
    assert!(shows("body_type-suv", "2 cars"), "SUV (2)");
    assert!(shows("body_type-hatchback", "0 cars"));
    let van_at = page.find(r#"id="f-body_type-van""#).unwrap();
    let van = &page[van_at..van_at + page[van_at..].find('>').unwrap()];
    assert!(
        van.contains("disabled"),
        "no van: the box is disabled ({van})"
    );
    assert!(shows("transmission-manual", "2 cars"));
    assert!(shows("transmission-automatic", "2 cars"));
}
