//! Running the marketplace: compression, health and readiness endpoints, request ids,
//! JSON logs, and backups taken while sellers keep listing (`autonexus backup`).

use crate::common::{api_token, car_form, plain_client, png, pooled_client, sell, Server, Storage};
use reqwest::{header, multipart, Client, StatusCode};
use serde_json::{json, Value};
use std::{
    path::{Path, PathBuf},
    process::Output,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

/// The body of `path` as sent for `accept_encoding`: (content-encoding, decoded text).
async fn fetch_encoded(server: &Server, path: &str, accept_encoding: &str) -> (String, String) {
    use std::io::Read;
    let res = Client::new()
        .get(server.url(path))
        .header(header::ACCEPT_ENCODING, accept_encoding)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    let vary = res
        .headers()
        .get(header::VARY)
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(vary.as_deref(), Some("accept-encoding"), "{path}");
    let encoding = res
        .headers()
        .get(header::CONTENT_ENCODING)
        .map_or("identity", |v| v.to_str().unwrap())
        .to_owned();
    let bytes = res.bytes().await.unwrap();
    let mut text = String::new();
    match encoding.as_str() {
        "gzip" => flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap(),
        "br" => brotli::Decompressor::new(&bytes[..], 4096)
            .read_to_string(&mut text)
            .unwrap(),
        "zstd" => zstd::Decoder::new(&bytes[..])
            .unwrap()
            .read_to_string(&mut text)
            .unwrap(),
        _ => std::str::from_utf8(&bytes)
            .map(|t| text.push_str(t))
            .map(|()| 0)
            .unwrap(),
    };
    (encoding, text)
}

#[tokio::test]
async fn pages_and_json_arrive_compressed_in_an_encoding_the_client_accepts() {
    let server = Server::start();
    let seller = server.user("sam").await;
    for _ in 0..4 {
        let form = car_form("Toyota", "Corolla", "2015", "9500", "84000");
        sell(&server, &seller, form).await;
    }

    for path in ["/cars", "/api/cars/"] {
        let (encoding, plain) = fetch_encoded(&server, path, "identity").await;
        assert_eq!(encoding, "identity", "{path}");
        assert!(plain.contains("Corolla"), "{path}: {plain}");
        for (accepted, expected) in [
            ("gzip, deflate, br, zstd", "zstd"),
            ("gzip, deflate, br", "gzip"),
            ("br", "br"),
            ("gzip;q=0, br", "br"),
            ("br;q=0, gzip;q=0", "identity"),
        ] {
            let (encoding, text) = fetch_encoded(&server, path, accepted).await;
            assert_eq!(encoding, expected, "{path} with {accepted}");
            assert!(text.contains("Corolla"), "{path} with {accepted}");
            if path.starts_with("/api") {
                let json: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(json, serde_json::from_str::<Value>(&plain).unwrap());
            } else {
                // Whole, to the end of the document (Leptos appends its scripts after it).
                assert!(
                    text.contains("</footer></body></html>"),
                    "{path} with {accepted}"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_short_answer_is_not_worth_compressing() {
    let server = Server::start();

    let res = Client::new()
        .get(server.url("/api/cars/?search=nothing-matches-this"))
        .header(header::ACCEPT_ENCODING, "gzip, br")
        .send()
        .await
        .unwrap();

    // Not by either layer.
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers().get(header::CONTENT_ENCODING), None);
}

#[tokio::test]
async fn a_client_that_accepts_brotli_and_gzip_gets_gzip() {
    // The production headers are on (as in `security`'s content-security-policy tests).
    let server = Server::start_with(&[("COOKIE_SECURE", "1")]);

    let compressed = plain_client()
        .get(server.url("/cars"))
        .header(header::ACCEPT_ENCODING, "br, gzip")
        .send()
        .await
        .unwrap();

    // Pages and API answers are compressed for clients that accept it (zstd, then gzip: see
    // `http::compress`; `pages_and_json_arrive_compressed_in_an_encoding_the_client_accepts`
    // checks each encoding decodes to the answer).
    assert_eq!(compressed.headers()[header::CONTENT_ENCODING], "gzip");
}

#[tokio::test]
async fn health_endpoints_say_the_server_is_alive_and_ready() {
    let server = Server::start();

    let alive = plain_client()
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    let ready = plain_client()
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap();

    assert_eq!(alive.status(), StatusCode::OK);
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(ready.json::<Value>().await.unwrap()["status"], "ready");
}

#[tokio::test]
async fn every_answer_carries_a_request_id_or_keeps_the_proxys() {
    let server = Server::start();

    let own = plain_client()
        .get(server.url("/cars"))
        .send()
        .await
        .unwrap();
    // A proxy's request id is kept, so one id follows the request through.
    let proxied = plain_client()
        .get(server.url("/healthz"))
        .header("x-request-id", "from-the-proxy-123")
        .send()
        .await
        .unwrap();

    let id = own.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert_eq!(proxied.headers()["x-request-id"], "from-the-proxy-123");
}

#[tokio::test]
async fn the_server_is_not_ready_when_the_photo_store_cannot_take_files() {
    // A broken directory, or a bucket that does not exist.
    let server = Server::start();
    let broken_store;
    let server = if server.storage.s3_prefix.is_some() {
        broken_store = Server::start_with(&[("S3_BUCKET", "no-such-bucket-for-autonexus")]);
        &broken_store
    } else {
        std::fs::remove_dir_all(server.dir.path().join("media")).unwrap();
        std::fs::write(server.dir.path().join("media"), b"not a directory").unwrap();
        &server
    };

    let res = plain_client()
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn logs_are_json_lines_carrying_the_request_id() {
    let server = Server::start_with(&[("LOG_FORMAT", "json"), ("RUST_LOG", "info")]);
    let res = plain_client()
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

/// `autonexus backup DIR` for this storage, as an operator runs it beside the server.
fn run_backup(storage: &Storage, target: &Path) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_autonexus"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .envs(storage.env())
        .env("RUST_LOG", "warn")
        .arg("backup")
        .arg(target)
        .output()
        .unwrap()
}

/// Limits high enough for four sellers listing cars with photos as fast as they can.
const BUSY_SELLERS: [(&str, &str); 2] = [
    ("LISTINGS_PER_HOUR", "100000"),
    ("PHOTOS_PER_HOUR", "100000"),
];

/// A backup taken while four sellers keep listing cars with photos.
struct BackupDuringWrites {
    /// What the backup command said.
    out: Output,
    /// The listings acknowledged before the backup began.
    before: Vec<i64>,
    /// Where the backup went (inside `_dir`).
    target: PathBuf,
    _dir: tempfile::TempDir,
}

/// Four sellers list cars with photos for 1.5 s, then a backup runs while they go on.
async fn backup_during_writes(server: &Server) -> BackupDuringWrites {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("copy");
    let token = api_token(server, "ann").await;
    let acknowledged = Arc::new(Mutex::new(Vec::<i64>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut sellers = Vec::new();
    for seller in 0..4 {
        let (url, token) = (server.url("/api/cars/"), token.clone());
        let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
        sellers.push(tokio::spawn(async move {
            let client = pooled_client();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let form = multipart::Form::new()
                    .text("make", "Skoda")
                    .text("model", format!("Fabia {seller}-{n}"))
                    .text("year", "2017")
                    .text("price", "6500")
                    .text("mileage", "80000")
                    .part(
                        "primary_image",
                        multipart::Part::bytes(png()).file_name("car.png"),
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
    eprintln!(
        "backup: {} listings acknowledged before it began, {during} while it ran",
        before.len()
    );
    BackupDuringWrites {
        out,
        before,
        target,
        _dir: dir,
    }
}

#[tokio::test]
async fn on_postgresql_the_backup_command_points_to_pg_dump() {
    let server = Server::start_with(&BUSY_SELLERS);
    if !server.storage.is_postgres() {
        return; // SQLite: the tests below.
    }
    let backup = tempfile::tempdir().unwrap();

    // PostgreSQL has its own tools; the command says which instead of half-doing it.
    let out = run_backup(&server.storage, &backup.path().join("copy"));

    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
}

#[tokio::test]
async fn a_backup_taken_during_writes_lists_every_listing_acknowledged_before_it_with_its_photos() {
    let server = Server::start_with(&BUSY_SELLERS);
    if server.storage.is_postgres() {
        return; // See on_postgresql_the_backup_command_points_to_pg_dump.
    }

    let backup = backup_during_writes(&server).await;

    assert!(
        backup.out.status.success(),
        "{}",
        String::from_utf8_lossy(&backup.out.stderr)
    );
    assert!(
        backup.before.len() >= 4,
        "{} listings before the backup",
        backup.before.len()
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(backup.target.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["missing"], json!([]));
    let listings = manifest["listings"].as_i64().unwrap();
    assert!(listings >= backup.before.len() as i64);
    assert_eq!(
        manifest["files"].as_array().unwrap().len() as i64,
        listings,
        "each listing's photo (too small to have smaller sizes)"
    );
}

#[tokio::test]
async fn a_second_backup_into_the_same_place_is_refused() {
    let server = Server::start_with(&BUSY_SELLERS);
    if server.storage.is_postgres() {
        return; // See on_postgresql_the_backup_command_points_to_pg_dump.
    }
    let backup = backup_during_writes(&server).await;
    assert!(backup.out.status.success());

    let again = run_backup(&server.storage, &backup.target);

    // Refused rather than mixed with the first.
    assert!(!again.status.success());
}

#[tokio::test]
async fn a_backup_taken_during_writes_restores_every_acknowledged_listing_with_its_photo() {
    let server = Server::start_with(&BUSY_SELLERS);
    if server.storage.is_postgres() {
        return; // See on_postgresql_the_backup_command_points_to_pg_dump.
    }
    let backup = backup_during_writes(&server).await;
    assert!(backup.out.status.success());
    drop(server);

    // Restore: a server on the copied database and photos, nothing else.
    let restored = Server::start_on(
        tempfile::tempdir().unwrap(),
        Storage {
            database_url: format!("sqlite://{}", backup.target.join("autonexus.db").display()),
            postgres_database: None,
            media_dir: backup.target.join("media"),
            s3_prefix: None,
        },
        &[],
    );

    let client = pooled_client();
    for id in backup.before {
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
