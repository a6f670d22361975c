//! Signing in to the REST API: tokens (issued, checked, stored as hashes, revoked) at
//! /api/auth/token/, and browser sessions on the API for same-site requests only.

use crate::common::{
    api_token, api_token_and_id, call, car_json, send, stored_cars_and_tokens, Server,
};
use reqwest::{header, Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn an_issued_token_signs_in_and_only_its_hash_is_stored() {
    let server = Server::start();

    // Checks the token at /api/auth/me/.
    let (token, _) = api_token_and_id(&server, "alice").await;

    assert_eq!(token.len(), 40);
    let pool = server.db().await;
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM api_tokens")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], token);
    assert!(!stored[0].contains(&token));
}

#[tokio::test]
async fn a_token_request_without_credentials_names_both_missing_fields() {
    let server = Server::start();

    let missing = call(
        &server,
        Method::POST,
        "/api/auth/token/",
        None,
        Some(json!({})),
    )
    .await;

    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.body["username"][0], "This field is required.");
    assert_eq!(missing.body["password"][0], "This field is required.");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_no_token_and_the_same_message() {
    let server = Server::start();
    api_token(&server, "alice").await;

    for (username, password) in [
        ("alice", "wrong-password-1"),
        ("nobody", "correct-horse-battery"),
    ] {
        let wrong = call(
            &server,
            Method::POST,
            "/api/auth/token/",
            None,
            Some(json!({"username": username, "password": password})),
        )
        .await;

        assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            wrong.body["non_field_errors"][0],
            "Unable to log in with provided credentials."
        );
    }
}

#[tokio::test]
async fn a_revoked_token_no_longer_works() {
    let server = Server::start();
    let token = api_token(&server, "alice").await;

    let anonymous = call(&server, Method::DELETE, "/api/auth/token/", None, None).await;
    let revoked = call(
        &server,
        Method::DELETE,
        "/api/auth/token/",
        Some(&token),
        None,
    )
    .await;
    let after = call(&server, Method::GET, "/api/auth/me/", Some(&token), None).await;

    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(after.body["detail"], "Invalid token.");
}

#[tokio::test]
async fn browser_sessions_work_for_same_site_requests_only() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let me = send(alice.get(server.url("/api/auth/me/"))).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["username"], "alice");
    let body = car_json("Fiat", "Panda", 2015, "4000", 60_000);
    let same_site = send(
        alice
            .post(server.url("/api/cars/"))
            .header("sec-fetch-site", "same-origin")
            .json(&body),
    )
    .await;
    assert_eq!(same_site.status, StatusCode::CREATED, "{}", same_site.body);
    let pool = server.db().await;
    let before = stored_cars_and_tokens(&pool).await;

    let cross_site = send(
        alice
            .post(server.url("/api/cars/"))
            .header("sec-fetch-site", "cross-site")
            .json(&body),
    )
    .await;
    let other_origin = send(
        alice
            .delete(server.url(&format!("/api/cars/{}/", same_site.body["id"])))
            .header(header::ORIGIN, "https://evil.example"),
    )
    .await;

    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);
    assert_eq!(other_origin.status, StatusCode::FORBIDDEN);
    assert_eq!(stored_cars_and_tokens(&pool).await, before);
}
