//! Reliability under concurrency, crashes and shutdown, against the real server binary.

use crate::common::{Server, TestData};
use reqwest::{header, Client, StatusCode};
use serde_json::{json, Value};
use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn token(server: &Server, name: &str) -> String {
    server.user(name).await;
    let res = client()
        .post(server.url("/api/auth/token/"))
        .json(&json!({"username": name, "password": "correct-horse-battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn car(n: usize) -> Value {
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
            async move { token(server, name).await }
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

const BUSY_WRITERS: [(&str, &str); 1] = [("LISTINGS_PER_HOUR", "100000")];

#[tokio::test]
async fn concurrent_writers_all_succeed_without_database_is_locked() {
    let server = Server::start_with(&BUSY_WRITERS);
    let mut tokens = Vec::new();
    for name in ["ann", "ben", "cat", "dan"] {
        tokens.push(token(&server, name).await);
    }
    let mut tasks = Vec::new();
    for worker in 0..32 {
        let token = tokens[worker % tokens.len()].clone();
        let url = server.url("/api/cars/");
        let id_url = server.base.clone();
        tasks.push(tokio::spawn(async move {
            let client = client();
            let mut statuses = Vec::new();
            let mut created = Vec::new();
            for i in 0..8 {
                let res = client
                    .post(&url)
                    .header(header::AUTHORIZATION, format!("Token {token}"))
                    .json(&car(worker * 100 + i))
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
    let token = token(&server, "alice").await;
    let acknowledged = Arc::new(Mutex::new(Vec::<i64>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for worker in 0..8 {
        let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
        let (url, token) = (server.url("/api/cars/"), token.clone());
        writers.push(tokio::spawn(async move {
            let client = client();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let sent = client
                    .post(&url)
                    .header(header::AUTHORIZATION, format!("Token {token}"))
                    .json(&car(worker * 10_000 + n))
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
    let res = client()
        .get(server.url("/api/cars/?page_size=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["count"], stored.len());
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish_then_exits_cleanly() {
    let mut server = Server::start_with(&BUSY_WRITERS);
    let token = token(&server, "alice").await;
    // A request whose body arrives slowly is in flight when the signal comes.
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let body = reqwest::Body::wrap_stream(tokio_stream_from(receiver));
    let request = client()
        .post(server.url("/api/cars/"))
        .header(header::AUTHORIZATION, format!("Token {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .send();
    let in_flight = tokio::spawn(request);
    let json = car(1).to_string().into_bytes();
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
    let res = client().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

/// `autonexus backup DIR` for this storage, as an operator runs it beside the server.
fn run_backup(storage: &crate::common::Storage, target: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_autonexus"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .envs(storage.env())
        .env("RUST_LOG", "warn")
        .arg("backup")
        .arg(target)
        .output()
        .unwrap()
}

#[tokio::test]
async fn a_backup_taken_during_writes_restores_every_acknowledged_listing_with_its_photo() {
    let server = Server::start_with(&[
        ("LISTINGS_PER_HOUR", "100000"),
        ("PHOTOS_PER_HOUR", "100000"),
    ]);
    let backup = tempfile::tempdir().unwrap();
    let target = backup.path().join("copy");
    if server.storage.is_postgres() {
        // PostgreSQL has its own tools; the command says which instead of half-doing it.
        let out = run_backup(&server.storage, &target);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
        return;
    }
    let token = token(&server, "ann").await;
    let acknowledged = Arc::new(Mutex::new(Vec::<i64>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut sellers = Vec::new();
    for seller in 0..4 {
        let (url, token) = (server.url("/api/cars/"), token.clone());
        let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
        sellers.push(tokio::spawn(async move {
            let client = client();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let form = reqwest::multipart::Form::new()
                    .text("make", "Skoda")
                    .text("model", format!("Fabia {seller}-{n}"))
                    .text("year", "2017")
                    .text("price", "6500")
                    .text("mileage", "80000")
                    .part(
                        "primary_image",
                        reqwest::multipart::Part::bytes(crate::common::png()).file_name("car.png"),
                    );
                let res = client
                    .post(&url)
                    .header(header::AUTHORIZATION, format!("Token {token}"))
                    .multipart(form)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), StatusCode::CREATED);
                let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
                acknowledged.lock().unwrap().push(id);
                n += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Everything acknowledged by now must be in the backup; writes go on while it runs.
    let before: Vec<i64> = acknowledged.lock().unwrap().clone();
    let storage = server.storage.clone();
    let copy_dir = target.clone();
    let out = tokio::task::spawn_blocking(move || run_backup(&storage, &copy_dir))
        .await
        .unwrap();
    let during = acknowledged.lock().unwrap().len() - before.len();
    stop.store(true, Ordering::Relaxed);
    for seller in sellers {
        seller.await.unwrap();
    }
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        before.len() >= 4,
        "{} listings before the backup",
        before.len()
    );
    eprintln!(
        "backup: {} listings acknowledged before it began, {during} while it ran",
        before.len()
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(target.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["missing"], json!([]));
    let listings = manifest["listings"].as_i64().unwrap();
    assert!(listings >= before.len() as i64);
    assert_eq!(
        manifest["files"].as_array().unwrap().len() as i64,
        listings * 2,
        "each listing's photo and thumbnail"
    );
    // A second backup into the same place is refused rather than mixed with the first.
    assert!(!run_backup(&server.storage, &target).status.success());
    drop(server);

    // Restore: a server on the copied database and photos, nothing else.
    let restored = Server::start_on(
        tempfile::tempdir().unwrap(),
        crate::common::Storage {
            database_url: format!("sqlite://{}", target.join("autonexus.db").display()),
            postgres_database: None,
            media_dir: target.join("media"),
            s3_prefix: None,
        },
        &[],
    );
    let client = client();
    for id in before {
        let res = client
            .get(restored.url(&format!("/api/cars/{id}/")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "listing {id} missing");
        let car: Value = res.json().await.unwrap();
        let photo = car["primary_image"].as_str().expect("a photo");
        let res = client.get(photo).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "photo of listing {id}");
        let bytes = res.bytes().await.unwrap();
        assert!(
            image::load_from_memory(&bytes).is_ok(),
            "photo of {id} is an image"
        );
    }
}
