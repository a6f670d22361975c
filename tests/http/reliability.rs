//! Reliability against the real server binary: concurrent writers, a kill -9 during
//! writes, a clean shutdown on SIGTERM, memory after a burst of logins, and photo
//! replacements racing each other.

use crate::common::{
    api_token, create_with_photo, png, pooled_client, replace_photo, Server, TestData,
};
use reqwest::{header, StatusCode};
use serde_json::{json, Value};
use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

/// Skoda Octavia number `n` as API JSON (the model and mileage tell the cars apart).
fn numbered_car(n: usize) -> Value {
    json!({"make": "Skoda", "model": format!("Octavia {n}"), "year": 2016, "price": "7500", "mileage": 100000 + n})
}

/// A password hash works in 19 MiB (argon2), and a block that large goes back to the
/// system as soon as the hash is done. Before, each thread that had hashed kept its
/// block: a few logins left the server 40-60 MB larger until the threads exited.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_burst_of_logins_leaves_the_server_no_larger_than_a_hash() {
    let server = Server::start();
    let before = server.resident_mib();
    let logins: Vec<_> = ["ann", "ben", "cat", "dan", "eve", "fay"]
        .into_iter()
        .map(|name| {
            let server = &server;
            async move { api_token(server, name).await }
        })
        .collect();

    // Six sign-ups and six logins, as many at once as the server will hash.
    futures_util::future::join_all(logins).await;

    let grown = server.resident_mib() - before;
    assert!(
        grown < 19.0,
        "the server grew by {grown:.1} MiB over 12 password hashes"
    );
}

/// Limits high enough for writers listing as fast as they can.
const BUSY_WRITERS: [(&str, &str); 1] = [("LISTINGS_PER_HOUR", "100000")];

#[tokio::test]
async fn concurrent_writers_all_succeed_without_database_is_locked() {
    let server = Server::start_with(&BUSY_WRITERS);
    let mut tokens = Vec::new();
    for name in ["ann", "ben", "cat", "dan"] {
        tokens.push(api_token(&server, name).await);
    }

    let mut tasks = Vec::new();
    for worker in 0..32 {
        let token = tokens[worker % tokens.len()].clone();
        let url = server.url("/api/cars/");
        let id_url = server.base.clone();
        tasks.push(tokio::spawn(async move {
            let client = pooled_client();
            let mut statuses = Vec::new();
            let mut created = Vec::new();
            for i in 0..8 {
                let res = client
                    .post(&url)
                    .header(header::AUTHORIZATION, format!("Token {token}"))
                    .json(&numbered_car(worker * 100 + i))
                    .send()
                    .await
                    .unwrap();
                statuses.push(res.status());
                // Mix in updates of the same rows.
                if let Ok(body) = res.json::<Value>().await {
                    if let Some(id) = body["id"].as_i64() {
                        created.push((id, format!("Octavia {}", worker * 100 + i)));
                        let res = client
                            .patch(format!("{id_url}/api/cars/{id}/"))
                            .header(header::AUTHORIZATION, format!("Token {token}"))
                            .json(&json!({"price": "7000"}))
                            .send()
                            .await
                            .unwrap();
                        statuses.push(res.status());
                    }
                }
            }
            (statuses, created)
        }));
    }
    let mut created = std::collections::BTreeMap::new();
    for task in tasks {
        let (statuses, listings) = task.await.unwrap();
        for status in statuses {
            assert!(status.is_success(), "a concurrent write failed: {status}");
        }
        created.extend(listings);
    }

    assert_eq!(created.len(), 32 * 8, "every listing got its own id");
    let pool = server.db().await;
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cars WHERE price_cents = 700000")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 32 * 8);
    // Listings created at the same moment share commits (SQLite): each answer's id is
    // still the row holding that request's own fields.
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, model FROM cars")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(
        rows.into_iter()
            .collect::<std::collections::BTreeMap<_, _>>(),
        created
    );
}

#[tokio::test]
async fn a_kill_9_during_writes_loses_no_acknowledged_listing_and_corrupts_nothing() {
    let data = TestData::new();
    let mut server = data.start(&BUSY_WRITERS);
    let token = api_token(&server, "alice").await;
    let acknowledged = Arc::new(Mutex::new(Vec::<i64>::new()));
    let stop = Arc::new(AtomicBool::new(false));

    let mut writers = Vec::new();
    for worker in 0..8 {
        let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
        let (url, token) = (server.url("/api/cars/"), token.clone());
        writers.push(tokio::spawn(async move {
            let client = pooled_client();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let sent = client
                    .post(&url)
                    .header(header::AUTHORIZATION, format!("Token {token}"))
                    .json(&numbered_car(worker * 10_000 + n))
                    .send()
                    .await;
                // After the kill, requests fail: those were never acknowledged.
                let Ok(res) = sent else { break };
                if res.status() == StatusCode::CREATED {
                    if let Ok(body) = res.json::<Value>().await {
                        acknowledged
                            .lock()
                            .unwrap()
                            .push(body["id"].as_i64().unwrap());
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    server.kill_hard();
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.unwrap();
    }

    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 20,
        "the load reached the server: {} acknowledged",
        acknowledged.len()
    );

    // Restart on the same files: the database opens, checks clean, and has every acknowledged car.
    let server = data.start(&BUSY_WRITERS);
    let pool = server.db().await;
    if !server.storage.is_postgres() {
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(integrity, "ok");
    }
    let stored: Vec<i64> = sqlx::query_scalar("SELECT id FROM cars")
        .fetch_all(&pool)
        .await
        .unwrap();
    for id in &acknowledged {
        assert!(stored.contains(id), "acknowledged car {id} was lost");
    }
    // At most the requests in flight at the kill were stored without an answer.
    assert!(stored.len() <= acknowledged.len() + 8);
    let res = pooled_client()
        .get(server.url("/api/cars/?page_size=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["count"], stored.len());
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish_then_exits_cleanly() {
    let mut server = Server::start_with(&BUSY_WRITERS);
    let token = api_token(&server, "alice").await;
    // A request whose body arrives slowly is in flight when the signal comes.
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let body = reqwest::Body::wrap_stream(tokio_stream_from(receiver));
    let request = pooled_client()
        .post(server.url("/api/cars/"))
        .header(header::AUTHORIZATION, format!("Token {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .send();
    let in_flight = tokio::spawn(request);
    let json = numbered_car(1).to_string().into_bytes();
    let (first, rest) = json.split_at(10);
    sender.send(Ok(first.to_vec())).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    server.send_sigterm();
    tokio::time::sleep(Duration::from_millis(300)).await;
    sender.send(Ok(rest.to_vec())).await.unwrap();
    drop(sender);
    let res = in_flight.await.unwrap().unwrap();

    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "the in-flight write finished"
    );
    let status = server.wait_exit();
    assert!(status.success(), "clean exit: {status}");
    let pool = server.db().await;
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cars")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 1);
}

/// A stream of body chunks from a channel (what reqwest streams as the request body).
fn tokio_stream_from(
    mut receiver: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx))
}

#[tokio::test]
async fn concurrent_photo_replacements_leave_no_orphaned_files() {
    let server = Server::start_with(&[("PHOTOS_PER_HOUR", "100")]);
    let token = api_token(&server, "alice").await;
    let id = create_with_photo(&server, &token).await;

    let edits = (0..8).map(|_| {
        let request = replace_photo(&server, &token, id, png());
        async move { request.send().await.unwrap().status() }
    });
    let statuses = futures_util::future::join_all(edits).await;

    for status in statuses {
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(server.media_files().await, 1, "only the last photo remains");
    // And the listing's photo 1 is that last photo, its cover.
    let pool = server.db().await;
    let (covers, rows): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM cars c JOIN car_photos p ON p.name = c.photo \
         AND p.car_id = c.id AND p.position = 1 WHERE c.id = $1), \
         (SELECT count(*) FROM car_photos WHERE car_id = $1)",
    )
    .bind(id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((covers, rows), (1, 1));
}
