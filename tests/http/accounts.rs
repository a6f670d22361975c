//! Accounts: registering, logging in and out, and how long a session lasts (idle and
//! maximum age, across a restart, and its row removed once expired).

use crate::common::{
    current_user, current_user_by_cookie, plain_client, register_for_cookie, Server, TestData,
};
use reqwest::{header, StatusCode};
use serde_json::Value;
use std::time::Duration;

#[tokio::test]
async fn a_failed_login_says_the_same_for_an_unknown_user_and_a_wrong_password() {
    let server = Server::start();
    let _ = server.user("alice").await;
    let client = server.client();

    let wrong = client
        .post(server.url("/rpc/auth/login"))
        .form(&[("username", "alice"), ("password", "wrong-password")])
        .send()
        .await
        .unwrap();
    let unknown = client
        .post(server.url("/rpc/auth/login"))
        .form(&[("username", "nobody"), ("password", "wrong-password")])
        .send()
        .await
        .unwrap();

    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let wrong_body = wrong.text().await.unwrap();
    assert_eq!(
        unknown.text().await.unwrap(),
        wrong_body,
        "same message for unknown user and wrong password"
    );
}

#[tokio::test]
async fn registering_refuses_a_taken_name_in_any_case_and_a_short_password() {
    let server = Server::start();
    let _ = server.user("alice").await;
    let client = server.client();

    let taken = client
        .post(server.url("/rpc/auth/register"))
        .form(&[("username", "ALICE"), ("password", "correct-horse-battery")])
        .send()
        .await
        .unwrap();
    let short = client
        .post(server.url("/rpc/auth/register"))
        .form(&[("username", "carol"), ("password", "short")])
        .send()
        .await
        .unwrap();

    assert_eq!(taken.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(taken.text().await.unwrap().contains("taken"));
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn logging_in_issues_a_new_session_and_never_redirects_off_site() {
    let server = Server::start();
    let _ = server.user("alice").await;
    let client = server.client();
    let _ = client.get(server.url("/cars")).send().await.unwrap();

    let res = client
        .post(server.url("/rpc/auth/login"))
        .form(&[
            ("username", "Alice"),
            ("password", "correct-horse-battery"),
            ("next", "https://evil.example"),
        ])
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()[header::LOCATION],
        "/",
        "never redirect off-site"
    );
    let cookie = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("autonexus_session="))
        .unwrap_or_default();
    assert!(cookie.starts_with("autonexus_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let me = current_user(&server, &client).await;
    assert_eq!(me["username"], "alice");
}

#[tokio::test]
async fn logging_out_signs_the_browser_out() {
    let server = Server::start();
    let _ = server.user("alice").await;
    let client = server.client();
    let res = client
        .post(server.url("/rpc/auth/login"))
        .form(&[("username", "alice"), ("password", "correct-horse-battery")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(current_user(&server, &client).await["username"], "alice");

    client
        .post(server.url("/rpc/auth/logout"))
        .send()
        .await
        .unwrap();

    let me = current_user(&server, &client).await;
    assert!(me.is_null());
}

#[tokio::test]
async fn logout_destroys_the_session_for_good() {
    let server = Server::start();
    let cookie = register_for_cookie(&server, "alice").await;
    assert_eq!(
        current_user_by_cookie(&server, &cookie).await["username"],
        "alice"
    );

    let res = plain_client()
        .post(server.url("/rpc/auth/logout"))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();

    assert!(res.status().is_success() || res.status().is_redirection());
    // Replaying the old cookie (say, copied before logout) gets nobody.
    assert_eq!(current_user_by_cookie(&server, &cookie).await, Value::Null);
}

#[tokio::test]
async fn a_session_ends_after_its_idle_time() {
    let server = Server::start_with(&[("SESSION_IDLE_SECS", "2")]);
    let cookie = register_for_cookie(&server, "alice").await;
    assert_eq!(
        current_user_by_cookie(&server, &cookie).await["username"],
        "alice"
    );

    tokio::time::sleep(Duration::from_millis(3_200)).await;

    assert_eq!(
        current_user_by_cookie(&server, &cookie).await,
        Value::Null,
        "idle expiry"
    );
}

#[tokio::test]
async fn a_busy_session_still_ends_at_its_maximum_age() {
    let server = Server::start_with(&[("SESSION_MAX_AGE_SECS", "3")]);
    let cookie = register_for_cookie(&server, "bob").await;

    // Busy all along (never idle), yet signed out once the maximum age has passed.
    for _ in 0..3 {
        assert_eq!(
            current_user_by_cookie(&server, &cookie).await["username"],
            "bob"
        );
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;

    assert_eq!(
        current_user_by_cookie(&server, &cookie).await,
        Value::Null,
        "absolute expiry"
    );
}

#[tokio::test]
async fn expired_sessions_are_deleted_from_the_database() {
    let server = Server::start_with(&[("SESSION_IDLE_SECS", "1"), ("SESSION_CLEANUP_SECS", "1")]);
    register_for_cookie(&server, "alice").await;
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
async fn sessions_survive_a_restart() {
    let data = TestData::new();
    let first = data.start(&[]);
    let client = first.user("alice").await;

    drop(first);
    let second = data.start(&[]);

    // Same cookie jar, new server process and port: cookies are per host, not per port.
    let me = current_user(&second, &client).await;
    assert_eq!(me["username"], "alice");
}
