//! Security properties, each proved against the real server: cross-site request refusal,
//! session cookies, the content security policy and other headers, escaping of user text,
//! brute-force and rate limits, defences against denial of service (silent or slow
//! connections, large bodies, photos that need too much memory), and the production
//! configuration check.

use crate::common::{
    api_token, bare_car_json, car_with_photo, create_by_cookie, create_with_photo, current_user,
    current_user_by_cookie, login, plain_client, png, pooled_client, register_for_cookie,
    replace_photo, Server,
};
use reqwest::{header, multipart, Client, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Every kind of write to Alice's car `id` as a cross-site attacker would send it: server
/// functions, multipart form posts, and the API (by cookie).
fn every_kind_of_write(server: &Server, id: i64) -> Vec<(&'static str, reqwest::RequestBuilder)> {
    let client = plain_client();
    let id_text = id.to_string();
    let form = || {
        multipart::Form::new()
            .text("make", "Fiat")
            .text("model", "Hacked")
            .text("year", "2015")
            .text("price", "1")
            .text("mileage", "1")
    };
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
                .json(&bare_car_json("Evil")),
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
}

/// Alice, signed in (her session cookie), with a Fiat Panda for sale (its id).
async fn alice_with_a_panda(server: &Server) -> (String, i64) {
    let cookie = register_for_cookie(server, "alice").await;
    let create = create_by_cookie(server, &cookie, &bare_car_json("Panda")).await;
    assert_eq!(create.status(), StatusCode::CREATED);
    let id = create.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    (cookie, id)
}

#[tokio::test]
async fn cross_site_writes_are_refused_on_every_route_and_change_nothing() {
    let server = Server::start();
    let (cookie, id) = alice_with_a_panda(&server).await;

    for (header_name, value) in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        for (name, request) in every_kind_of_write(&server, id) {
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
    assert_eq!(
        current_user_by_cookie(&server, &cookie).await["username"],
        "alice"
    );
    let car = plain_client()
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
}

#[tokio::test]
async fn same_site_writes_and_cross_site_reads_go_through() {
    let server = Server::start();
    let (cookie, id) = alice_with_a_panda(&server).await;
    let id_text = id.to_string();
    let client = plain_client();

    let from_our_origin = client
        .post(server.url("/rpc/cars/set_status"))
        .header(header::COOKIE, &cookie)
        .header("origin", server.base.as_str())
        .form(&[("id", id_text.as_str()), ("status", "pending")])
        .send()
        .await
        .unwrap();
    let same_origin = client
        .post(server.url("/rpc/cars/set_status"))
        .header(header::COOKIE, &cookie)
        .header("sec-fetch-site", "same-origin")
        .form(&[("id", id_text.as_str()), ("status", "available")])
        .send()
        .await
        .unwrap();
    let cross_site_read = client
        .get(server.url("/cars"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();

    assert_eq!(from_our_origin.status(), StatusCode::OK);
    assert_eq!(same_origin.status(), StatusCode::OK);
    // Reads are never refused, whoever links to them.
    assert_eq!(cross_site_read.status(), StatusCode::OK);
}

/// The nonce in a Content-Security-Policy header's value.
fn nonce_of(policy: &str) -> Option<String> {
    policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .map(str::to_owned)
}

#[tokio::test]
async fn pages_carry_a_nonce_based_content_security_policy() {
    let server = Server::start_with(&[("COOKIE_SECURE", "1")]);

    let res = plain_client()
        .get(server.url("/cars"))
        .send()
        .await
        .unwrap();
    let again = plain_client()
        .get(server.url("/cars"))
        .send()
        .await
        .unwrap();

    let policy = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(res.headers()[header::STRICT_TRANSPORT_SECURITY]
        .to_str()
        .unwrap()
        .starts_with("max-age="));
    let html = res.text().await.unwrap();
    let nonce = nonce_of(&policy).expect("a nonce in the policy");
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
    // A second response gets a different nonce.
    assert_ne!(
        again.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap(),
        policy
    );
}

#[tokio::test]
async fn the_not_found_pages_scripts_carry_its_own_nonce() {
    let server = Server::start_with(&[("COOKIE_SECURE", "1")]);

    let missing = plain_client()
        .get(server.url("/no-such-page"))
        .send()
        .await
        .unwrap();

    // The not-found page is a Leptos page too: its scripts carry its own response's nonce.
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let missing_policy = missing.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    let missing_nonce = nonce_of(&missing_policy).unwrap();
    let missing_html = missing.text().await.unwrap();
    assert_eq!(
        missing_html
            .matches(&format!("nonce=\"{missing_nonce}\""))
            .count(),
        missing_html.matches("<script").count()
    );
}

#[tokio::test]
async fn answers_that_are_not_pages_allow_no_script_at_all() {
    let server = Server::start_with(&[("COOKIE_SECURE", "1")]);

    let api = plain_client()
        .get(server.url("/api/cars/"))
        .send()
        .await
        .unwrap();

    assert!(api.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .contains("script-src 'none'"));
}

#[tokio::test]
async fn pages_forbid_framing_and_sniffing_and_set_a_referrer_policy() {
    let server = Server::start();

    let res = plain_client()
        .get(server.url("/cars"))
        .send()
        .await
        .unwrap();

    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    assert!(res.headers().contains_key("referrer-policy"));
}

#[tokio::test]
async fn a_token_header_does_not_exempt_cookie_requests_from_the_origin_check() {
    let server = Server::start();
    let cookie = register_for_cookie(&server, "alice").await;

    let res = plain_client()
        .post(server.url("/rpc/auth/logout"))
        .header(header::COOKIE, &cookie)
        .header("sec-fetch-site", "cross-site")
        .header(header::AUTHORIZATION, "Token 0123456789abcdef")
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        current_user_by_cookie(&server, &cookie).await["username"],
        "alice"
    );
}

#[tokio::test]
async fn the_api_called_with_a_token_is_still_reachable_cross_site() {
    let server = Server::start();
    register_for_cookie(&server, "alice").await;
    let token: Value = plain_client()
        .post(server.url("/api/auth/token/"))
        .json(&json!({"username": "alice", "password": "correct-horse-battery"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let res = plain_client()
        .post(server.url("/api/cars/"))
        .header("sec-fetch-site", "cross-site")
        .header(
            header::AUTHORIZATION,
            format!("Token {}", token["token"].as_str().unwrap()),
        )
        .json(&bare_car_json("Panda"))
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn session_cookies_are_http_only_and_same_site_lax() {
    let plain = Server::start();

    let res = plain_client()
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
}

#[tokio::test]
async fn over_https_cookies_are_secure_and_take_the_host_prefix() {
    let https = Server::start_with(&[("COOKIE_SECURE", "1")]);

    let res = plain_client()
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
async fn user_text_is_escaped_and_script_urls_are_refused() {
    let server = Server::start();
    let cookie = register_for_cookie(&server, "alice").await;
    let mut body = bare_car_json("Panda");
    body["description"] = json!("<script>alert(1)</script><img src=x onerror=alert(2)>");
    body["model"] = json!("<b>Panda</b></title><script>alert(3)</script>");
    let res = create_by_cookie(&server, &cookie, &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

    for path in [format!("/cars/{id}"), "/cars".to_owned()] {
        let html = plain_client()
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
    let mut bad = bare_car_json("Panda");
    bad["image_url"] = json!("javascript:alert(1)");
    let res = create_by_cookie(&server, &cookie, &bad).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn text_inside_a_textarea_cannot_break_out_of_it() {
    let server = Server::start();
    let cookie = register_for_cookie(&server, "alice").await;
    let mut body = bare_car_json("Panda");
    let payload =
        r#"Fine car.</textarea><meta http-equiv="refresh" content="0;url=https://evil.example/">"#;
    body["description"] = json!(payload);
    let res = create_by_cookie(&server, &cookie, &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

    let html = plain_client()
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
            &server.client(),
            &format!("/login?__path=%2Frpc%2Fauth%2Flogin&__err={forged}"),
        )
        .await;
    assert!(html.contains("Log in"));
    assert!(!html.contains("suspended"), "a forged message was shown");

    // A real failed log-in posted without JavaScript still shows its message.
    let client = server.client();
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
    let html = server
        .client()
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
async fn failed_logins_are_throttled_per_account_with_a_clear_message() {
    let server = Server::start();
    register_for_cookie(&server, "alice").await;
    register_for_cookie(&server, "bob").await;
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
    let api = plain_client()
        .post(server.url("/api/auth/token/"))
        .json(&json!({"username": "alice", "password": "correct-horse-battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::TOO_MANY_REQUESTS);
    // The API says when, in seconds: the lock's 15 minutes (less what has passed).
    let retry_after: u64 = api.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((840..=900).contains(&retry_after), "{retry_after}");
    // Other accounts are unaffected.
    assert_eq!(
        login(&server, "bob", "correct-horse-battery")
            .await
            .status(),
        StatusCode::OK
    );
}

/// No hint that the account does not exist.
#[tokio::test]
async fn an_unknown_account_locks_the_same_way_as_a_real_one() {
    let server = Server::start();
    for _ in 0..5 {
        login(&server, "nobody", "wrong-password-1").await;
    }

    let res = login(&server, "nobody", "wrong-password-1").await;

    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn failed_logins_from_one_address_are_throttled_across_accounts() {
    let server = Server::start();
    register_for_cookie(&server, "alice").await;
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

#[tokio::test]
async fn simultaneous_wrong_passwords_get_no_more_tries_than_the_limit() {
    let server = Server::start();
    register_for_cookie(&server, "alice").await;
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

/// Five wrong passwords for `username` from unknown clients: the account's limit.
async fn fail_five_logins(server: &Server, username: &str) {
    for i in 0..5 {
        let status = login(server, username, &format!("guess-{i}"))
            .await
            .status();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

/// Logs in as `client` (a browser with its cookies) and returns the status.
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
    let owner = server.client();
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
    assert_eq!(current_user(&server, &owner).await["username"], "alice");
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
    let forged = plain_client()
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
    register_for_cookie(&server, "alice").await;
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
async fn an_unknown_username_costs_about_as_much_as_a_wrong_password() {
    let server = Server::start();
    register_for_cookie(&server, "alice").await;
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
async fn registrations_from_one_network_are_rate_limited() {
    let server = Server::start_with(&[("REGISTRATIONS_PER_HOUR", "2"), ("LISTINGS_PER_HOUR", "2")]);
    register_for_cookie(&server, "alice").await;
    register_for_cookie(&server, "bob").await;

    let res = plain_client()
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
}

#[tokio::test]
async fn a_sellers_new_listings_are_rate_limited() {
    let server = Server::start_with(&[("REGISTRATIONS_PER_HOUR", "2"), ("LISTINGS_PER_HOUR", "2")]);
    let cookie = register_for_cookie(&server, "alice").await;
    for model in ["One", "Two"] {
        let res = create_by_cookie(&server, &cookie, &bare_car_json(model)).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }

    let res = create_by_cookie(&server, &cookie, &bare_car_json("Three")).await;

    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let mine = plain_client()
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
async fn photo_uploads_count_against_a_per_user_limit_before_decoding_on_create_and_edit() {
    let server = Server::start_with(&[("PHOTOS_PER_HOUR", "2")]);
    let token = api_token(&server, "alice").await;
    let id = create_with_photo(&server, &token).await;
    let res = replace_photo(&server, &token, id, png())
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
    let res = plain_client()
        .post(server.url("/api/cars/"))
        .header(header::AUTHORIZATION, format!("Token {token}"))
        .multipart(car_with_photo(png()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // Text-only edits are not photo uploads.
    let res = plain_client()
        .patch(server.url(&format!("/api/cars/{id}/")))
        .header(header::AUTHORIZATION, format!("Token {token}"))
        .json(&json!({"price": "3900"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(server.media_files().await, 1, "one photo");
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
    let res = pooled_client()
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
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = Server::start();
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    // Slowloris: the request line and one header, then nothing more.
    stream
        .write_all(b"GET /cars HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();

    let started = std::time::Instant::now();
    let mut buffer = [0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(_) => continue,
            }
        }
    })
    .await;

    assert!(closed.is_ok(), "the connection was still open after 20 s");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(8) && waited < Duration::from_secs(15),
        "closed after {waited:?}"
    );
    // Meanwhile the server kept serving everyone else.
    let res = pooled_client()
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn small_endpoints_refuse_large_bodies_before_reading_them() {
    let server = Server::start();
    // Over the 16 KB limit, under what the JSON reader would otherwise take (256 KB).
    let big = "x".repeat(64 * 1024);

    let res = plain_client()
        .post(server.url("/api/auth/token/"))
        .json(&json!({"username": "alice", "password": big}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // In the API's own shape, as every other refusal there.
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["detail"], "The request body is too large.");
    let res = plain_client()
        .post(server.url("/rpc/auth/login"))
        .form(&[("username", "alice"), ("password", big.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let res = plain_client()
        .post(server.url("/rpc/cars/list"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_listing_still_takes_a_description_of_the_longest_length_allowed() {
    let server = Server::start();
    let cookie = register_for_cookie(&server, "alice").await;
    let mut body = bare_car_json("Panda");
    body["description"] = json!("y".repeat(5_000));

    let res = create_by_cookie(&server, &cookie, &body).await;

    assert_eq!(res.status(), StatusCode::CREATED);
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

#[tokio::test]
async fn three_simultaneous_worst_case_uploads_stay_within_the_memory_budget() {
    let server = Server::start_with(&[("PHOTOS_PER_HOUR", "100")]);
    let token = api_token(&server, "alice").await;
    // 8000 x 6000 with transparency at 8 bits: the largest photo the budget takes.
    let photo = plain_png(8_000, 6_000, image::ColorType::Rgba8);
    assert!(photo.len() < 15 * 1024 * 1024);
    let before = server.resident_mib();

    let uploads = (0..3).map(|_| {
        let request = plain_client()
            .post(server.url("/api/cars/"))
            .header(header::AUTHORIZATION, format!("Token {token}"))
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
    // One memory budget of 256 MiB for every pipeline at once (each of these takes all of
    // it, so they are decoded one after the other), plus the three uploads' bytes.
    assert!(
        peak - before < 256.0 + 64.0,
        "peak {peak:.0} MiB, {before:.0} MiB before"
    );
    eprintln!("three 48 MP uploads: peak RSS {peak:.0} MiB ({before:.0} MiB before)");
}

#[tokio::test]
async fn a_photo_that_would_need_too_much_memory_is_refused_from_its_header_with_the_reason() {
    let server = Server::start_with(&[("PHOTOS_PER_HOUR", "100")]);
    let token = api_token(&server, "alice").await;
    // The audit's photo: 6900 x 6900 with transparency at 16 bits a channel.
    let photo = plain_png(6_900, 6_900, image::ColorType::Rgba16);

    let res = plain_client()
        .post(server.url("/api/cars/"))
        .header(header::AUTHORIZATION, format!("Token {token}"))
        .multipart(car_with_photo(photo))
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = res.text().await.unwrap();
    assert!(body.contains("too much memory"), "{body}");
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
