//! Requests the tests make again and again: clients, API calls, signing up, listing cars
//! (through the API or the sell form), the marketplace's server functions, and what the
//! database holds.

use super::{bodies::car_with_photo, png, Server};
use reqwest::{header, multipart, Client, Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

/// The password every test user registers with.
pub const PASSWORD: &str = "correct-horse-battery";

/// A client without cookies that follows no redirects and opens a new connection per request.
pub fn plain_client() -> Client {
    Client::builder()
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A client without cookies that keeps connections alive (as a busy caller does) and gives up after 30 s.
pub fn pooled_client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// One API response: status, JSON body (Null if none or not JSON) and headers.
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: header::HeaderMap,
}

/// Sends `request` and reads the answer as a `Reply`.
pub async fn send(request: reqwest::RequestBuilder) -> Reply {
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

/// A JSON request to the API, with an optional token, from a plain client.
pub async fn call(
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

/// Registers `name` with a cookie-less client and returns its session cookie ("name=value").
pub async fn register_for_cookie(server: &Server, name: &str) -> String {
    let res = plain_client()
        .post(server.url("/rpc/auth/register"))
        .form(&[("username", name), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    session_cookie(&res).expect("registering signs in")
}

/// The session cookie ("name=value") a response sets, if any.
pub fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("autonexus_session="))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

/// Who the server says is signed in on this client (JSON null for nobody).
pub async fn current_user(server: &Server, client: &Client) -> Value {
    client
        .post(server.url("/rpc/auth/current_user"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Who the server says is signed in with the session cookie `cookie` (JSON null for nobody).
pub async fn current_user_by_cookie(server: &Server, cookie: &str) -> Value {
    let res = plain_client()
        .post(server.url("/rpc/auth/current_user"))
        .header(header::COOKIE, cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// Logs in with a cookie-less client (an unknown browser) and returns the answer.
pub async fn login(server: &Server, username: &str, password: &str) -> reqwest::Response {
    plain_client()
        .post(server.url("/rpc/auth/login"))
        .form(&[("username", username), ("password", password)])
        .send()
        .await
        .unwrap()
}

/// Registers `name` and returns a fresh API token (the 40 characters, without "Token ").
pub async fn api_token(server: &Server, name: &str) -> String {
    server.user(name).await;
    let reply = call(
        server,
        Method::POST,
        "/api/auth/token/",
        None,
        Some(json!({"username": name, "password": PASSWORD})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["token"].as_str().unwrap().to_owned()
}

/// Registers `name` and returns a fresh API token and the user's id, checked at /api/auth/me/.
pub async fn api_token_and_id(server: &Server, name: &str) -> (String, i64) {
    let token = api_token(server, name).await;
    let me = call(server, Method::GET, "/api/auth/me/", Some(&token), None).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["username"], name);
    (token, me.body["id"].as_i64().unwrap())
}

/// Lists a car through the API with a token; asserts 201 and returns the listing.
pub async fn create_by_token(server: &Server, token: &str, body: Value) -> Value {
    let reply = call(server, Method::POST, "/api/cars/", Some(token), Some(body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

/// Lists a car through the API as the browser session in `cookie` (no Origin: a same-site client).
pub async fn create_by_cookie(server: &Server, cookie: &str, body: &Value) -> reqwest::Response {
    plain_client()
        .post(server.url("/api/cars/"))
        .header(header::COOKIE, cookie)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Sets a car's status through the API with the seller's token; asserts 200 and the new status.
pub async fn set_status_by_token(
    server: &Server,
    token: &str,
    id: impl std::fmt::Display,
    status: &str,
) {
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

/// Lists a car with a small photo through the API (multipart) and returns its id.
pub async fn create_with_photo(server: &Server, token: &str) -> i64 {
    let res = plain_client()
        .post(server.url("/api/cars/"))
        .header(header::AUTHORIZATION, format!("Token {token}"))
        .multipart(car_with_photo(png()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// An API PATCH of listing `id` that replaces its photo (not yet sent).
pub fn replace_photo(
    server: &Server,
    token: &str,
    id: i64,
    photo: Vec<u8>,
) -> reqwest::RequestBuilder {
    plain_client()
        .patch(server.url(&format!("/api/cars/{id}/")))
        .header(header::AUTHORIZATION, format!("Token {token}"))
        .multipart(multipart::Form::new().part(
            "primary_image",
            multipart::Part::bytes(photo).file_name("car.png"),
        ))
}

/// Lists a car through the sell form and returns its id (from the redirect to its page).
/// A listing as the API shows it to anyone (`GET /api/cars/{id}/`).
pub async fn api_car(server: &Server, id: i64) -> Value {
    server
        .client()
        .get(server.url(&format!("/api/cars/{id}/")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub async fn sell(server: &Server, client: &Client, form: multipart::Form) -> i64 {
    let res = client
        .post(server.url("/sell"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{:?}",
        res.text().await
    );
    let location = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    location.trim_start_matches("/cars/").parse().unwrap()
}

/// The body of a `/rpc/cars/list` call: the marketplace's default filters (every car
/// for sale, newest first, page 1) with the fields in `changes` set.
pub fn list_request(changes: Value) -> Value {
    let mut filters = json!({ "q": null, "min_price_cents": null,
        "max_price_cents": null, "min_year": null, "max_year": null, "make": null,
        "condition": null, "max_mileage_km": null, "sort": "Newest", "page": 1 });
    for (field, value) in changes.as_object().expect("changes are a JSON object") {
        filters[field] = value.clone();
    }
    json!({ "filters": filters })
}

/// The marketplace's answer (`/rpc/cars/list`) for the default filters with `changes` set; asserts 200.
pub async fn list_cars(server: &Server, client: &Client, changes: Value) -> Value {
    let res = client
        .post(server.url("/rpc/cars/list"))
        .json(&list_request(changes))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// The signed-in seller's own cars, any status (`/rpc/cars/mine`); asserts 200.
pub async fn my_cars(server: &Server, client: &Client) -> Vec<Value> {
    let res = client
        .post(server.url("/rpc/cars/mine"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The ids of the cars on one page of the API's list, in order.
pub fn result_ids(page: &Value) -> Vec<i64> {
    page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

/// Everything stored about cars and tokens, to prove a rejected request changed nothing.
pub async fn stored_cars_and_tokens(pool: &sqlx::AnyPool) -> String {
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
