//! Random inputs, many of them malformed, against the REST API and the server functions:
//! none may get a 5xx, and none that is refused may change what is stored. Replay a failure
//! with FUZZ_SEED (and FUZZ_CASES for more cases); see `common::fuzz`.

use crate::common::{
    api_token, bare_car_json, car_json, create_by_cookie, create_by_token,
    fuzz::{self, random_json, random_object, random_text, Rng},
    plain_client, png, register_for_cookie, stored_cars_and_tokens, Server,
};
use reqwest::{header, multipart, Client, Method, StatusCode};

/// Field names the API fuzz test puts in bodies and forms.
const API_KEYS: [&str; 16] = [
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

/// A random query string for the API's list: known and unknown parameters, odd values.
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
        "min_mileage",
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

/// The cars and tokens the API fuzz test aims at: Alice's (`mine`) and Bob's (`theirs`).
struct Sellers {
    mine: String,
    theirs: String,
    own_id: i64,
    their_id: i64,
}

impl Sellers {
    async fn with_a_car_each(server: &Server) -> Sellers {
        let mine = api_token(server, "alice").await;
        let theirs = api_token(server, "bob").await;
        let own_id = create_by_token(
            server,
            &mine,
            car_json("Toyota", "Corolla", 2017, "11990", 98_000),
        )
        .await["id"]
            .as_i64()
            .unwrap();
        let their_id = create_by_token(
            server,
            &theirs,
            car_json("Honda", "Civic", 2016, "9990", 120_000),
        )
        .await["id"]
            .as_i64()
            .unwrap();
        Sellers {
            mine,
            theirs,
            own_id,
            their_id,
        }
    }
}

/// One random API request: its method, path and a description of its body, and the request.
struct RandomRequest {
    method: Method,
    path: String,
    described: String,
    request: reqwest::RequestBuilder,
}

/// A random API request: any route and id, no, a wrong or either seller's token, and a body
/// of any kind (raw bytes, form, text, multipart with or without a photo, JSON).
fn random_api_request(
    rng: &mut Rng,
    client: &Client,
    server: &Server,
    sellers: &Sellers,
) -> RandomRequest {
    let Sellers {
        mine,
        theirs,
        own_id,
        their_id,
    } = sellers;
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
        0 | 1 => (Method::GET, format!("/api/cars/?{}", random_query(rng))),
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
                .body(random_text(rng).into_bytes())
        }
        1 => {
            described = "form".to_owned();
            let pairs: Vec<(String, String)> = (0..rng.below(6))
                .map(|_| (rng.pick(&API_KEYS).to_string(), random_text(rng)))
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
                form = form.text(rng.pick(&API_KEYS).to_string(), random_text(rng));
            }
            if rng.below(2) == 0 {
                let bytes = if rng.below(2) == 0 {
                    png()
                } else {
                    random_text(rng).into_bytes()
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
                random_json(rng, 0, &API_KEYS)
            } else {
                random_object(rng, 0, &API_KEYS)
            };
            described = body.to_string().chars().take(300).collect();
            request.json(&body)
        }
    };
    RandomRequest {
        method,
        path,
        described,
        request,
    }
}

#[tokio::test]
async fn random_requests_never_get_a_5xx_and_rejected_ones_change_nothing() {
    let (seed, cases) = fuzz::seed_and_cases(400);
    let mut rng = Rng(seed);
    let server = Server::start();
    let sellers = Sellers::with_a_car_each(&server).await;
    let pool = server.db().await;
    let mut state = stored_cars_and_tokens(&pool).await;
    let mut media = server.media_files().await;
    let client = plain_client();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();

    for case in 0..cases {
        let RandomRequest {
            method,
            path,
            described,
            request,
        } = random_api_request(&mut rng, &client, &server, &sellers);

        let response = request.send().await.unwrap();
        let status = response.status();
        let _ = response.bytes().await;

        *statuses.entry(status.as_u16()).or_default() += 1;
        assert!(
            !status.is_server_error(),
            "case {case} (FUZZ_SEED={seed}): {method} {path} with {described} -> {status}"
        );
        let now = stored_cars_and_tokens(&pool).await;
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

/// Users, cars and tokens as stored, to prove a rejected call changed nothing.
async fn stored_users_cars_and_tokens(pool: &sqlx::AnyPool) -> String {
    sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM users) || '#' || (SELECT COUNT(*) FROM api_tokens) || '#' || \
         COALESCE((SELECT string_agg(id || '|' || make || '|' || model || '|' || price_cents || '|' || status || '|' || \
         CAST(updated_at AS TEXT), ';' ORDER BY id) FROM cars), '')",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Field names the server-function fuzz test puts in bodies and forms.
const RPC_KEYS: [&str; 12] = [
    "id", "status", "username", "password", "email", "next", "filters", "q", "page", "sort",
    "make", "junk",
];

/// Every server function.
const ENDPOINTS: [&str; 10] = [
    "/rpc/auth/register",
    "/rpc/auth/login",
    "/rpc/auth/logout",
    "/rpc/auth/current_user",
    "/rpc/cars/list",
    "/rpc/cars/get",
    "/rpc/cars/mine",
    "/rpc/cars/form_state",
    "/rpc/cars/set_status",
    "/rpc/cars/delete",
];

/// A random server-function call, with or without Alice's `cookie`, and a body of JSON, raw
/// bytes or form pairs: (the endpoint, a description of the body, the request).
fn random_server_function_call(
    rng: &mut Rng,
    server: &Server,
    cookie: &str,
) -> (&'static str, String, reqwest::RequestBuilder) {
    let endpoint = *rng.pick(&ENDPOINTS);
    let mut request = plain_client().post(server.url(endpoint));
    if rng.below(2) == 0 {
        request = request.header(header::COOKIE, cookie);
    }
    let described;
    request = match rng.below(5) {
        0 => {
            let body = if rng.below(3) == 0 {
                random_json(rng, 0, &RPC_KEYS)
            } else {
                random_object(rng, 0, &RPC_KEYS)
            };
            described = body.to_string().chars().take(200).collect::<String>();
            request.json(&body)
        }
        1 => {
            described = "raw bytes".to_owned();
            request
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(random_text(rng).into_bytes())
        }
        _ => {
            let pairs: Vec<(String, String)> = (0..rng.below(5))
                .map(|_| {
                    let key = rng.pick(&RPC_KEYS).to_string();
                    let value = match rng.below(3) {
                        0 => rng
                            .pick(&["1", "2", "-1", "sold", "pending", "alice"])
                            .to_string(),
                        _ => random_text(rng),
                    };
                    (key, value)
                })
                .collect();
            described = format!("{pairs:?}").chars().take(200).collect();
            request.form(&pairs)
        }
    };
    (endpoint, described, request)
}

#[tokio::test]
async fn random_server_function_calls_never_get_a_5xx_and_rejected_ones_change_nothing() {
    let (seed, cases) = fuzz::seed_and_cases(300);
    let mut rng = Rng(seed);
    let server = Server::start_with(&[("REGISTRATIONS_PER_HOUR", "100000")]);
    let cookie = register_for_cookie(&server, "alice").await;
    let res = create_by_cookie(&server, &cookie, &bare_car_json("Panda")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let pool = server.db().await;
    let mut state = stored_users_cars_and_tokens(&pool).await;
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();

    for case in 0..cases {
        let (endpoint, described, request) =
            random_server_function_call(&mut rng, &server, &cookie);

        let response = request.send().await.unwrap();
        let status = response.status();
        let _ = response.bytes().await;

        *statuses.entry(status.as_u16()).or_default() += 1;
        assert!(
            !status.is_server_error(),
            "case {case} (FUZZ_SEED={seed}): {endpoint} with {described} -> {status}"
        );
        let now = stored_users_cars_and_tokens(&pool).await;
        if status.is_success() || status.is_redirection() {
            state = now;
        } else {
            assert_eq!(
                now, state,
                "case {case} (FUZZ_SEED={seed}): rejected {endpoint} ({status}) changed stored data"
            );
        }
    }

    println!("fuzz: status counts {statuses:?}");
    assert!(statuses.contains_key(&200) && statuses.contains_key(&400));
}
