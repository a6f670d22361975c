//! Security properties, each proved against the real server: cross-site request
//! refusal, session cookies and expiry, brute-force limits, escaping, health checks.

use crate::common::Server;
use reqwest::{header, multipart, Client, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn bare_client() -> Client {
    Client::builder()
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Registers `name` with a plain client and returns the session cookie ("name=value").
async fn register(server: &Server, name: &str) -> String {
    let res = bare_client()
        .post(server.url("/rpc/auth/register"))
        .form(&[("username", name), ("password", "correct-horse-battery")])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    session_cookie(&res).expect("registering signs in")
}

fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("autonexus_session="))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

async fn who(server: &Server, cookie: &str) -> Value {
    let res = bare_client()
        .post(server.url("/rpc/auth/current_user"))
        .header(header::COOKIE, cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn login(server: &Server, username: &str, password: &str) -> reqwest::Response {
    bare_client()
        .post(server.url("/rpc/auth/login"))
        .form(&[("username", username), ("password", password)])
        .send()
        .await
        .unwrap()
}

/// Lists a car through the API as the browser session in `cookie` (no Origin: a same-site client).
async fn create_by_cookie(server: &Server, cookie: &str, body: &Value) -> reqwest::Response {
    bare_client()
        .post(server.url("/api/cars/"))
        .header(header::COOKIE, cookie)
        .json(body)
        .send()
        .await
        .unwrap()
}

fn car_json(model: &str) -> Value {
    json!({"make": "Fiat", "model": model, "year": 2015, "price": "4000", "mileage": 60000})
}

#[tokio::test]
async fn cross_site_writes_are_refused_on_every_route_and_same_site_ones_work() {
    let server = Server::start();
    let cookie = register(&server, "alice").await;
    let client = bare_client();
    let create = create_by_cookie(&server, &cookie, &car_json("Panda")).await;
    assert_eq!(create.status(), StatusCode::CREATED);
    let id = create.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let id_text = id.to_string();

    let form = || {
        multipart::Form::new()
            .text("make", "Fiat")
            .text("model", "Hacked")
            .text("year", "2015")
            .text("price", "1")
            .text("mileage", "1")
    };
    // Every kind of write: server functions, multipart form posts, the API (by cookie).
    let attempts = || -> Vec<(&str, reqwest::RequestBuilder)> {
        vec![
            (
                "set_status",
                client
                    .post(server.url("/rpc/cars/set_status"))
                    .form(&[("id", id_text.as_str()), ("status", "sold")]),
            ),
            (
                "delete",
                client
                    .post(server.url("/rpc/cars/delete"))
                    .form(&[("id", id_text.as_str())]),
            ),
            ("logout", client.post(server.url("/rpc/auth/logout"))),
            (
                "login",
                client
                    .post(server.url("/rpc/auth/login"))
                    .form(&[("username", "alice"), ("password", "correct-horse-battery")]),
            ),
            (
                "register",
                client.post(server.url("/rpc/auth/register")).form(&[
                    ("username", "mallory"),
                    ("password", "correct-horse-battery"),
                ]),
            ),
            ("sell", client.post(server.url("/sell")).multipart(form())),
            (
                "edit",
                client
                    .post(server.url(&format!("/cars/{id}/edit")))
                    .multipart(form()),
            ),
            (
                "api create",
                client
                    .post(server.url("/api/cars/"))
                    .json(&car_json("Evil")),
            ),
            (
                "api patch",
                client
                    .patch(server.url(&format!("/api/cars/{id}/")))
                    .json(&json!({"price": 1})),
            ),
            (
                "api delete",
                client.delete(server.url(&format!("/api/cars/{id}/"))),
            ),
        ]
    };
    for (header_name, value) in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        for (name, request) in attempts() {
            let res = request
                .header(header::COOKIE, &cookie)
                .header(header_name, value)
                .send()
                .await
                .unwrap();
            assert_eq!(
                res.status(),
                StatusCode::FORBIDDEN,
                "{name} with {header_name}"
            );
        }
    }
    // Nothing changed: still signed in, the car untouched, no new account.
    assert_eq!(who(&server, &cookie).await["username"], "alice");
    let car = client
        .get(server.url(&format!("/api/cars/{id}/")))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(car["model"], "Panda");
    assert_eq!(car["status"], "available");
    assert_eq!(
        login(&server, "mallory", "correct-horse-battery")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // The same request from our own pages goes through.
    let res = client
        .post(server.url("/rpc/cars/set_status"))
        .header(header::COOKIE, &cookie)
        .header("origin", server.base.as_str())
        .form(&[("id", id_text.as_str()), ("status", "pending")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = client
        .post(server.url("/rpc/cars/set_status"))
        .header(header::COOKIE, &cookie)
        .header("sec-fetch-site", "same-origin")
        .form(&[("id", id_text.as_str()), ("status", "available")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Reads are never refused, whoever links to them.
    let res = client
        .get(server.url("/cars"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn session_cookies_are_locked_down_and_over_https_take_the_host_prefix() {
    let plain = Server::start();
    let res = bare_client()
        .post(plain.url("/rpc/auth/register"))
        .form(&[("username", "alice"), ("password", "correct-horse-battery")])
        .send()
        .await
        .unwrap();
    let set_cookie = set_cookie_named(&res, "autonexus_session=");
    assert!(set_cookie.starts_with("autonexus_session="), "{set_cookie}");
    assert!(set_cookie.contains("HttpOnly"));
    assert!(set_cookie.contains("SameSite=Lax"));
    assert!(set_cookie.contains("Path=/"));
    let device = set_cookie_named(&res, "autonexus_device=");
    assert!(
        device.contains("HttpOnly") && device.contains("SameSite=Lax"),
        "{device}"
    );
    assert!(!device.contains("Secure"), "plain HTTP in development");

    let https = Server::start_with(&[("COOKIE_SECURE", "1")]);
    let res = bare_client()
        .post(https.url("/rpc/auth/register"))
        .form(&[("username", "alice"), ("password", "correct-horse-battery")])
        .send()
        .await
        .unwrap();
    let set_cookie = set_cookie_named(&res, "__Host-autonexus_session=");
    assert!(
        set_cookie.starts_with("__Host-autonexus_session="),
        "{set_cookie}"
    );
    assert!(set_cookie.contains("Secure"));
    assert!(set_cookie.contains("HttpOnly"));
    assert!(set_cookie.contains("Path=/"));
    assert!(!set_cookie.contains("Domain="));
    let device = set_cookie_named(&res, "__Host-autonexus_device=");
    assert!(
        device.contains("Secure") && device.contains("Path=/"),
        "{device}"
    );
    assert!(!device.contains("Domain="));
}

/// The response's `Set-Cookie` header that sets the cookie `name=` starts.
fn set_cookie_named(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(name))
        .unwrap_or_else(|| panic!("no {name} cookie set"))
        .to_owned()
}

#[tokio::test]
async fn logout_destroys_the_session_for_good() {
    let server = Server::start();
    let cookie = register(&server, "alice").await;
    assert_eq!(who(&server, &cookie).await["username"], "alice");
    let res = bare_client()
        .post(server.url("/rpc/auth/logout"))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success() || res.status().is_redirection());
    // Replaying the old cookie (say, copied before logout) gets nobody.
    assert_eq!(who(&server, &cookie).await, Value::Null);
}

#[tokio::test]
async fn sessions_end_after_idle_time_and_after_their_maximum_age() {
    let idle = Server::start_with(&[("SESSION_IDLE_SECS", "2")]);
    let cookie = register(&idle, "alice").await;
    assert_eq!(who(&idle, &cookie).await["username"], "alice");
    tokio::time::sleep(Duration::from_millis(3_200)).await;
    assert_eq!(who(&idle, &cookie).await, Value::Null, "idle expiry");

    let absolute = Server::start_with(&[("SESSION_MAX_AGE_SECS", "3")]);
    let cookie = register(&absolute, "bob").await;
    // Busy all along (never idle), yet signed out once the maximum age has passed.
    for _ in 0..3 {
        assert_eq!(who(&absolute, &cookie).await["username"], "bob");
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(
        who(&absolute, &cookie).await,
        Value::Null,
        "absolute expiry"
    );
}

#[tokio::test]
async fn failed_logins_are_throttled_per_account_with_a_clear_message() {
    let server = Server::start();
    register(&server, "alice").await;
    register(&server, "bob").await;
    for _ in 0..5 {
        let res = login(&server, "alice", "wrong-password-1").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // Locked: even the right password is not checked now.
    let res = login(&server, "alice", "correct-horse-battery").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("Too many failed log-in attempts for this account. Try again in 15 minutes."),
        "{body}"
    );
    let api = bare_client()
        .post(server.url("/api/auth/token/"))
        .json(&json!({"username": "alice", "password": "correct-horse-battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::TOO_MANY_REQUESTS);
    // An unknown account locks the same way (no hint that it does not exist).
    for _ in 0..5 {
        login(&server, "nobody", "wrong-password-1").await;
    }
    assert_eq!(
        login(&server, "nobody", "wrong-password-1").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Other accounts are unaffected.
    assert_eq!(
        login(&server, "bob", "correct-horse-battery")
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn registrations_and_new_listings_are_rate_limited() {
    let server = Server::start_with(&[("REGISTRATIONS_PER_HOUR", "2"), ("LISTINGS_PER_HOUR", "2")]);
    let cookie = register(&server, "alice").await;
    register(&server, "bob").await;
    let res = bare_client()
        .post(server.url("/rpc/auth/register"))
        .form(&[("username", "carol"), ("password", "correct-horse-battery")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("Too many new accounts from your network."));

    for model in ["One", "Two"] {
        let res = create_by_cookie(&server, &cookie, &car_json(model)).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = create_by_cookie(&server, &cookie, &car_json("Three")).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let mine = bare_client()
        .get(server.url("/api/cars/my_listings/"))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(
        mine.as_array().unwrap().len(),
        2,
        "the refused listing was not stored"
    );
}

#[tokio::test]
async fn an_unknown_username_costs_about_as_much_as_a_wrong_password() {
    let server = Server::start();
    register(&server, "alice").await;
    // Distinct usernames, so the per-account limit never kicks in.
    let mut wrong = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..4 {
        let start = Instant::now();
        login(&server, "alice", &format!("wrong-password-{i}")).await;
        wrong.push(start.elapsed());
        let start = Instant::now();
        login(&server, &format!("ghost{i}"), "wrong-password-1").await;
        unknown.push(start.elapsed());
    }
    wrong.sort();
    unknown.sort();
    let (wrong, unknown) = (wrong[2], unknown[2]);
    // Both run one argon2 verification; a shortcut for unknown names would be many times faster.
    assert!(
        unknown * 2 >= wrong,
        "unknown user {unknown:?} vs wrong password {wrong:?}"
    );
}

#[tokio::test]
async fn user_text_is_escaped_and_script_urls_are_refused() {
    let server = Server::start();
    let cookie = register(&server, "alice").await;
    let mut body = car_json("Panda");
    body["description"] = json!("<script>alert(1)</script><img src=x onerror=alert(2)>");
    body["model"] = json!("<b>Panda</b></title><script>alert(3)</script>");
    let res = create_by_cookie(&server, &cookie, &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    for path in [format!("/cars/{id}"), "/cars".to_owned()] {
        let html = bare_client()
            .get(server.url(&path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!html.contains("<script>alert(1)"), "{path}");
        assert!(!html.contains("<img src=x"), "{path}");
        assert!(!html.contains("<b>Panda</b>"), "{path}");
        assert!(!html.contains("<script>alert(3)"), "{path}: title or body");
        assert!(html.contains("&lt;b&gt;Panda&lt;/b&gt;"), "{path}");
    }
    let mut bad = car_json("Panda");
    bad["image_url"] = json!("javascript:alert(1)");
    let res = create_by_cookie(&server, &cookie, &bad).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn health_endpoints_request_ids_and_security_headers() {
    let server = Server::start();
    let res = bare_client()
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = bare_client()
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "ready");

    let res = bare_client().get(server.url("/cars")).send().await.unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    assert!(res.headers().contains_key("referrer-policy"));
    // A proxy's request id is kept, so one id follows the request through.
    let res = bare_client()
        .get(server.url("/healthz"))
        .header("x-request-id", "from-the-proxy-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "from-the-proxy-123");

    // Not ready when the photo store cannot take files: a broken directory, or a bucket
    // that does not exist.
    let broken_store;
    let server = if server.storage.s3_prefix.is_some() {
        broken_store = Server::start_with(&[("S3_BUCKET", "no-such-bucket-for-autonexus")]);
        &broken_store
    } else {
        std::fs::remove_dir_all(server.dir.path().join("media")).unwrap();
        std::fs::write(server.dir.path().join("media"), b"not a directory").unwrap();
        &server
    };
    let res = bare_client()
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[test]
fn production_mode_refuses_an_insecure_configuration_and_says_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_autonexus"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("AUTONEXUS_ENV", "production")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("p.db").display()),
        )
        .env("MEDIA_DIR", dir.path().join("media"))
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("DEMO_DATA", "1")
        .env_remove("COOKIE_SECURE")
        .env_remove("PUBLIC_URL")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for name in ["COOKIE_SECURE=1", "PUBLIC_URL", "DEMO_DATA"] {
        assert!(stderr.contains(name), "{name} not in: {stderr}");
    }
    assert!(
        !dir.path().join("p.db").exists(),
        "refused before touching the database"
    );
}

#[tokio::test]
async fn pages_carry_a_nonce_based_content_security_policy() {
    let server = Server::start_with(&[("COOKIE_SECURE", "1")]);
    let res = bare_client().get(server.url("/cars")).send().await.unwrap();
    let policy = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(res.headers()[header::STRICT_TRANSPORT_SECURITY]
        .to_str()
        .unwrap()
        .starts_with("max-age="));
    let html = res.text().await.unwrap();
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the policy")
        .to_owned();
    assert!(nonce.len() >= 16);
    assert!(policy.contains("frame-ancestors 'none'"));
    assert!(!policy.contains("unsafe-inline"));
    // Every script on the page carries this response's nonce.
    let scripts = html.matches("<script").count();
    assert!(scripts > 0);
    assert_eq!(
        html.matches(&format!("nonce=\"{nonce}\"")).count(),
        scripts,
        "{html}"
    );
    // The not-found page is a Leptos page too: its scripts carry its own response's nonce.
    let missing = bare_client()
        .get(server.url("/no-such-page"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let missing_policy = missing.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    let missing_nonce = missing_policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap()
        .to_owned();
    let missing_html = missing.text().await.unwrap();
    assert_eq!(
        missing_html
            .matches(&format!("nonce=\"{missing_nonce}\""))
            .count(),
        missing_html.matches("<script").count()
    );
    // A second response gets a different nonce.
    let again = bare_client().get(server.url("/cars")).send().await.unwrap();
    assert_ne!(
        again.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap(),
        policy
    );
    // Pages and API answers are compressed for clients that accept it (zstd, then gzip: see
    // `http::compress`; `http.rs` checks each encoding decodes to the answer).
    let compressed = bare_client()
        .get(server.url("/cars"))
        .header(header::ACCEPT_ENCODING, "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(compressed.headers()[header::CONTENT_ENCODING], "gzip");
    // Non-page responses allow no script at all.
    let api = bare_client()
        .get(server.url("/api/cars/"))
        .send()
        .await
        .unwrap();
    assert!(api.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .contains("script-src 'none'"));
}

/// Users, cars and tokens as stored, to prove a rejected call changed nothing.
async fn stored_state(pool: &sqlx::AnyPool) -> String {
    sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM users) || '#' || (SELECT COUNT(*) FROM api_tokens) || '#' || \
         COALESCE((SELECT string_agg(id || '|' || make || '|' || model || '|' || price_cents || '|' || status || '|' || \
         CAST(updated_at AS TEXT), ';' ORDER BY id) FROM cars), '')",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn random_server_function_calls_never_get_a_5xx_and_rejected_ones_change_nothing() {
    use crate::common::fuzz::{random_json, random_object, random_text, seed_and_cases, Rng};
    const KEYS: [&str; 12] = [
        "id", "status", "username", "password", "email", "next", "filters", "q", "page", "sort",
        "make", "junk",
    ];
    let (seed, cases) = seed_and_cases(300);
    let mut rng = Rng(seed);
    let server = Server::start_with(&[("REGISTRATIONS_PER_HOUR", "100000")]);
    let cookie = register(&server, "alice").await;
    let res = create_by_cookie(&server, &cookie, &car_json("Panda")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let pool = server.db().await;
    let mut state = stored_state(&pool).await;
    let endpoints = [
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
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for case in 0..cases {
        let endpoint = *rng.pick(&endpoints);
        let mut request = bare_client().post(server.url(endpoint));
        if rng.below(2) == 0 {
            request = request.header(header::COOKIE, &cookie);
        }
        let described;
        request = match rng.below(5) {
            0 => {
                let body = if rng.below(3) == 0 {
                    random_json(&mut rng, 0, &KEYS)
                } else {
                    random_object(&mut rng, 0, &KEYS)
                };
                described = body.to_string().chars().take(200).collect::<String>();
                request.json(&body)
            }
            1 => {
                described = "raw bytes".to_owned();
                request
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(random_text(&mut rng).into_bytes())
            }
            _ => {
                let pairs: Vec<(String, String)> = (0..rng.below(5))
                    .map(|_| {
                        let key = rng.pick(&KEYS).to_string();
                        let value = match rng.below(3) {
                            0 => rng
                                .pick(&["1", "2", "-1", "sold", "pending", "alice"])
                                .to_string(),
                            _ => random_text(&mut rng),
                        };
                        (key, value)
                    })
                    .collect();
                described = format!("{pairs:?}").chars().take(200).collect();
                request.form(&pairs)
            }
        };
        let response = request.send().await.unwrap();
        let status = response.status();
        let _ = response.bytes().await;
        *statuses.entry(status.as_u16()).or_default() += 1;
        assert!(
            !status.is_server_error(),
            "case {case} (FUZZ_SEED={seed}): {endpoint} with {described} -> {status}"
        );
        let now = stored_state(&pool).await;
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

#[tokio::test]
async fn logs_are_json_lines_carrying_the_request_id() {
    let server = Server::start_with(&[("LOG_FORMAT", "json"), ("RUST_LOG", "info")]);
    let res = bare_client()
        .get(server.url("/cars"))
        .header("x-request-id", "trace-me-4711")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = server.log();
    let line = log
        .lines()
        .find(|l| l.contains("trace-me-4711"))
        .unwrap_or_else(|| panic!("no log line with the request id in:\n{log}"));
    let entry: Value = serde_json::from_str(line).expect("each line is JSON");
    assert_eq!(entry["span"]["request_id"], "trace-me-4711");
    assert_eq!(entry["span"]["path"], "/cars");
}

#[tokio::test]
async fn expired_sessions_are_deleted_from_the_database() {
    let server = Server::start_with(&[("SESSION_IDLE_SECS", "1"), ("SESSION_CLEANUP_SECS", "1")]);
    register(&server, "alice").await;
    let pool = server.db().await;
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sessions")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert_eq!(count().await, 1);
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    assert_eq!(count().await, 0, "the expired session row was removed");
}

#[tokio::test]
async fn failed_logins_from_one_address_are_throttled_across_accounts() {
    let server = Server::start();
    register(&server, "alice").await;
    // 30 failures spread over 10 accounts (3 each: no single account is locked)...
    for i in 0..30 {
        let res = login(&server, &format!("guess{}", i % 10), "wrong-password-1").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // ...lock out the address, even for an account that never failed.
    let res = login(&server, "alice", "correct-horse-battery").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = res.text().await.unwrap();
    assert!(
        body.contains(
            "Too many failed log-in attempts from your network. Try again in 15 minutes."
        ),
        "{body}"
    );
}

/// True when the server closed `stream` (end of file or reset) within `within`.
async fn closed_by_server(stream: &mut tokio::net::TcpStream, within: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            // An error page or HTTP/2 settings: keep reading until the close.
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test]
async fn connections_that_send_nothing_are_closed_and_the_cap_keeps_the_server_serving() {
    let server = Server::start_with(&[("HEADER_TIMEOUT_SECS", "2"), ("MAX_CONNECTIONS", "8")]);
    let addr = server.base.trim_start_matches("http://").to_owned();
    let connect = || tokio::net::TcpStream::connect(addr.clone());

    // Opened, then nothing at all.
    let mut silent = connect().await.unwrap();
    let start = Instant::now();
    assert!(closed_by_server(&mut silent, Duration::from_secs(8)).await);
    assert!(
        start.elapsed() >= Duration::from_millis(1500),
        "not before the timeout"
    );

    // An HTTP/2 preface and SETTINGS, then nothing.
    use tokio::io::AsyncWriteExt;
    let mut h2 = connect().await.unwrap();
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .await
        .unwrap();
    assert!(closed_by_server(&mut h2, Duration::from_secs(8)).await);

    // A kept-alive connection that has had its answer and then goes quiet.
    let mut idle = connect().await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(closed_by_server(&mut idle, Duration::from_secs(8)).await);

    // Far more silent sockets than the cap: the server holds at most the cap of them
    // (its descriptors do not grow past it), and a real request is still answered.
    let before = server.open_files();
    let mut hoard = Vec::new();
    for _ in 0..60 {
        hoard.push(connect().await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let during = server.open_files();
    assert!(
        during <= before + 8 + 2,
        "{during} descriptors open with 60 idle clients (was {before}, cap 8)"
    );
    let start = Instant::now();
    let res = Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(start.elapsed() < Duration::from_secs(30));
    drop(hoard);
    assert!(server.log().contains("connection cap reached"));
}

#[tokio::test]
async fn simultaneous_wrong_passwords_get_no_more_tries_than_the_limit() {
    let server = Server::start();
    register(&server, "alice").await;
    let attempts = (0..15).map(|i| {
        let server = &server;
        async move {
            login(server, "alice", &format!("wrong-password-{i}"))
                .await
                .status()
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((checked, refused), (5, 10), "{statuses:?}");
}

/// A browser: keeps its cookies (session and device), follows no redirects.
fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Five wrong passwords for `username` from unknown clients: the account's limit.
async fn fail_five_logins(server: &Server, username: &str) {
    for i in 0..5 {
        let status = login(server, username, &format!("guess-{i}"))
            .await
            .status();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

async fn login_as(client: &Client, server: &Server, username: &str, password: &str) -> StatusCode {
    client
        .post(server.url("/rpc/auth/login"))
        .form(&[("username", username), ("password", password)])
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn a_stranger_cannot_lock_the_owner_out_of_a_browser_that_signed_in_before() {
    let server = Server::start();
    let owner = browser();
    let res = owner
        .post(server.url("/rpc/auth/register"))
        .form(&[("username", "alice"), ("password", "correct-horse-battery")])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let device = set_cookie_named(&res, "autonexus_device=");
    assert!(
        device.contains("HttpOnly") && device.contains("Max-Age="),
        "{device}"
    );
    owner
        .post(server.url("/rpc/auth/logout"))
        .send()
        .await
        .unwrap();

    // A stranger knows the public username and guesses until the account locks.
    fail_five_logins(&server, "alice").await;
    let status = login(&server, "alice", "correct-horse-battery")
        .await
        .status();
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "unknown clients are locked out"
    );

    // The owner's browser is known to the account: it still signs in.
    let status = login_as(&owner, &server, "alice", "correct-horse-battery").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        crate::common::current_user(&server, &owner).await["username"],
        "alice"
    );
    owner
        .post(server.url("/rpc/auth/logout"))
        .send()
        .await
        .unwrap();
    // Its own failures still count, against its own counter.
    for i in 0..5 {
        let status = login_as(&owner, &server, "alice", &format!("typo-{i}")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let status = login_as(&owner, &server, "alice", "correct-horse-battery").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // A device cookie of another account, or a made-up one, is no pass.
    let forged = bare_client()
        .post(server.url("/rpc/auth/login"))
        .header(
            header::COOKIE,
            format!("autonexus_device={}", "ab".repeat(20)),
        )
        .form(&[("username", "alice"), ("password", "correct-horse-battery")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_login_limit_counts_the_account_however_its_name_is_written() {
    let server = Server::start();
    register(&server, "alice").await;
    fail_five_logins(&server, "alice").await;
    let status = login(&server, "ALICE", "correct-horse-battery")
        .await
        .status();
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Fullwidth letters: PostgreSQL's case- and width-insensitive collation finds alice,
    // so the attempt must meet alice's counter; SQLite finds no such user.
    let status = login(&server, "ａｌｉｃｅ", "correct-horse-battery")
        .await
        .status();
    if server.storage.is_postgres() {
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    } else {
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn a_rejected_form_keeps_only_a_small_copy_in_the_session() {
    let server = Server::start();
    let client = server.user("alice").await;
    let huge = "x".repeat(8 * 1024 * 1024);
    let res = client
        .post(server.url("/sell"))
        .header(header::ACCEPT, "text/html")
        .multipart(
            multipart::Form::new()
                .text("make", "Fiat")
                .text("model", "Panda")
                .text("year", "2015")
                .text("price", "4000")
                .text("mileage", "60000")
                .text("description", huge),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let pool = server.db().await;
    let largest: i64 = sqlx::query_scalar("SELECT CAST(max(length(data)) AS BIGINT) FROM sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(largest < 64 * 1024, "a session row of {largest} bytes");
    // The form comes back with its error and what fits of the text.
    let html = server.page_text(&client, "/sell").await;
    assert!(html.contains("5,000"), "the description's error is shown");
    assert!(html.contains(&"x".repeat(5_000)));
    assert!(!html.contains(&"x".repeat(5_001)));
}

#[tokio::test]
async fn text_inside_a_textarea_cannot_break_out_of_it() {
    let server = Server::start();
    let cookie = register(&server, "alice").await;
    let mut body = car_json("Panda");
    let payload =
        r#"Fine car.</textarea><meta http-equiv="refresh" content="0;url=https://evil.example/">"#;
    body["description"] = json!(payload);
    let res = create_by_cookie(&server, &cookie, &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let html = bare_client()
        .get(server.url(&format!("/cars/{id}/edit")))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<textarea"), "the edit form is shown");
    assert!(!html.contains("<meta http-equiv=\"refresh\""));
    assert!(html.contains("Fine car.&lt;/textarea&gt;&lt;meta"));
}

#[tokio::test]
async fn error_messages_written_into_a_link_are_not_shown() {
    use base64::Engine;
    let server = Server::start();
    let forged = base64::engine::general_purpose::URL_SAFE.encode(
        json!({"Unauthorized": "Your account is suspended. Call +1 555 0100 to restore it."})
            .to_string(),
    );
    let html = server
        .page_text(
            &browser(),
            &format!("/login?__path=%2Frpc%2Fauth%2Flogin&__err={forged}"),
        )
        .await;
    assert!(html.contains("Log in"));
    assert!(!html.contains("suspended"), "a forged message was shown");

    // A real failed log-in posted without JavaScript still shows its message.
    let client = browser();
    let res = client
        .post(server.url("/rpc/auth/login"))
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, server.url("/login"))
        .form(&[("username", "nobody"), ("password", "wrong-password")])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection());
    let location = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert!(location.contains("__err="), "{location}");
    let html = client
        .get(&location)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("don&#x27;t match") || html.contains("don't match"),
        "{html}"
    );
    // The same link opened by anyone else shows nothing.
    let html = browser()
        .get(&location)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("match an account"));
}

#[tokio::test]
async fn a_token_header_does_not_exempt_cookie_requests_from_the_origin_check() {
    let server = Server::start();
    let cookie = register(&server, "alice").await;
    let res = bare_client()
        .post(server.url("/rpc/auth/logout"))
        .header(header::COOKIE, &cookie)
        .header("sec-fetch-site", "cross-site")
        .header(header::AUTHORIZATION, "Token 0123456789abcdef")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(who(&server, &cookie).await["username"], "alice");
    // The API itself, authenticated by a token, is still reachable cross-site.
    let token: Value = bare_client()
        .post(server.url("/api/auth/token/"))
        .json(&json!({"username": "alice", "password": "correct-horse-battery"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = bare_client()
        .post(server.url("/api/cars/"))
        .header("sec-fetch-site", "cross-site")
        .header(
            header::AUTHORIZATION,
            format!("Token {}", token["token"].as_str().unwrap()),
        )
        .json(&car_json("Panda"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn small_endpoints_refuse_large_bodies_before_reading_them() {
    let server = Server::start();
    // Over the 16 KB limit, under what the JSON reader would otherwise take (256 KB).
    let big = "x".repeat(64 * 1024);
    let res = bare_client()
        .post(server.url("/api/auth/token/"))
        .json(&json!({"username": "alice", "password": big}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let res = bare_client()
        .post(server.url("/rpc/auth/login"))
        .form(&[("username", "alice"), ("password", big.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let res = bare_client()
        .post(server.url("/rpc/cars/list"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // A listing still takes a long description and a photo.
    let cookie = register(&server, "alice").await;
    let mut body = car_json("Panda");
    body["description"] = json!("y".repeat(5_000));
    let res = create_by_cookie(&server, &cookie, &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

/// A PNG of `width` x `height` in one colour (compresses to almost nothing).
fn plain_png(width: u32, height: u32, color: image::ColorType) -> Vec<u8> {
    use image::ImageEncoder;
    let mut out = Vec::new();
    let channels = usize::from(color.channel_count())
        * usize::from(color.bytes_per_pixel() / color.channel_count());
    let pixels = vec![90u8; width as usize * height as usize * channels];
    image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::Sub,
    )
    .write_image(&pixels, width, height, color.into())
    .unwrap();
    out
}

async fn api_token(server: &Server, name: &str) -> String {
    register(server, name).await;
    let token: Value = bare_client()
        .post(server.url("/api/auth/token/"))
        .json(&json!({"username": name, "password": "correct-horse-battery"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    format!("Token {}", token["token"].as_str().unwrap())
}

fn car_with_photo(photo: Vec<u8>) -> multipart::Form {
    multipart::Form::new()
        .text("make", "Fiat")
        .text("model", "Panda")
        .text("year", "2015")
        .text("price", "4000")
        .text("mileage", "60000")
        .part(
            "primary_image",
            multipart::Part::bytes(photo).file_name("car.png"),
        )
}

/// Lists a car with a small photo through the API and returns its id.
async fn list_with_photo(server: &Server, token: &str) -> i64 {
    let res = bare_client()
        .post(server.url("/api/cars/"))
        .header(header::AUTHORIZATION, token)
        .multipart(car_with_photo(crate::common::png()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// A PATCH of listing `id` that replaces its photo.
fn replace_photo(server: &Server, token: &str, id: i64, photo: Vec<u8>) -> reqwest::RequestBuilder {
    bare_client()
        .patch(server.url(&format!("/api/cars/{id}/")))
        .header(header::AUTHORIZATION, token)
        .multipart(multipart::Form::new().part(
            "primary_image",
            multipart::Part::bytes(photo).file_name("car.png"),
        ))
}

#[tokio::test]
async fn photo_uploads_count_against_a_per_user_limit_before_decoding_on_create_and_edit() {
    let server = Server::start_with(&[("PHOTOS_PER_HOUR", "2")]);
    let token = api_token(&server, "alice").await;
    let id = list_with_photo(&server, &token).await;
    let res = replace_photo(&server, &token, id, crate::common::png())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // The third photo of the hour: refused before it is decoded, even one that is not an image.
    let res = replace_photo(&server, &token, id, b"not an image at all".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = res.text().await.unwrap();
    assert!(body.contains("uploaded many photos"), "{body}");
    let res = bare_client()
        .post(server.url("/api/cars/"))
        .header(header::AUTHORIZATION, &token)
        .multipart(car_with_photo(crate::common::png()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // Text-only edits are not photo uploads.
    let res = bare_client()
        .patch(server.url(&format!("/api/cars/{id}/")))
        .header(header::AUTHORIZATION, &token)
        .json(&json!({"price": "3900"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(server.media_files().await, 2, "one photo and its thumbnail");
}

#[tokio::test]
async fn three_simultaneous_worst_case_uploads_stay_within_the_memory_budget() {
    let server = Server::start_with(&[("PHOTOS_PER_HOUR", "100")]);
    let token = api_token(&server, "alice").await;
    // 8000 x 6000 with transparency at 8 bits: the largest photo the budget takes.
    let photo = plain_png(8_000, 6_000, image::ColorType::Rgba8);
    assert!(photo.len() < 10 * 1024 * 1024);
    let before = server.resident_mib();
    let uploads = (0..3).map(|_| {
        let request = bare_client()
            .post(server.url("/api/cars/"))
            .header(header::AUTHORIZATION, &token)
            .multipart(car_with_photo(photo.clone()));
        async move { request.send().await.unwrap() }
    });
    let answers = futures_util::future::join_all(uploads).await;
    let mut created = 0;
    for res in answers {
        match res.status() {
            StatusCode::CREATED => created += 1,
            // Waited too long for a decoding slot: told when to try again.
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(res.headers()[header::RETRY_AFTER], "5");
            }
            other => panic!("{other}: {}", res.text().await.unwrap()),
        }
    }
    assert!(created >= 2, "{created} of 3 stored");
    let peak = server.peak_resident_mib();
    // Two pipelines of at most 256 MiB at once, plus the three uploads' bytes.
    assert!(
        peak - before < 2.0 * 256.0 + 64.0,
        "peak {peak:.0} MiB, {before:.0} MiB before"
    );
    eprintln!("three 48 MP uploads: peak RSS {peak:.0} MiB ({before:.0} MiB before)");
    // The audit's photo: refused from its header, with a message saying why.
    let res = bare_client()
        .post(server.url("/api/cars/"))
        .header(header::AUTHORIZATION, &token)
        .multipart(car_with_photo(plain_png(
            6_900,
            6_900,
            image::ColorType::Rgba16,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = res.text().await.unwrap();
    assert!(body.contains("too much memory"), "{body}");
}

#[tokio::test]
async fn concurrent_photo_replacements_leave_no_orphaned_files() {
    let server = Server::start_with(&[("PHOTOS_PER_HOUR", "100")]);
    let token = api_token(&server, "alice").await;
    let id = list_with_photo(&server, &token).await;
    let edits = (0..8).map(|_| {
        let request = replace_photo(&server, &token, id, crate::common::png());
        async move { request.send().await.unwrap().status() }
    });
    for status in futures_util::future::join_all(edits).await {
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(
        server.media_files().await,
        2,
        "only the last photo and its thumbnail remain"
    );
}
