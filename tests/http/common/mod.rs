//! Shared by the HTTP test files: the real server binary on a random port, with its own
//! fresh database and photo store. Request helpers are in `requests`, request bodies
//! (cars, forms, photos) in `bodies`, random inputs in `fuzz`.
//!
//! The engine and store come from the environment, so the same tests run on each:
//! - SQLite and a local photo directory by default;
//! - `AUTONEXUS_TEST_POSTGRES=postgres://user@host:port/db` (an account that may create
//!   databases): each server gets a new PostgreSQL database, dropped afterwards;
//! - `AUTONEXUS_TEST_S3_ENDPOINT` and `AUTONEXUS_TEST_S3_BUCKET`: photos go to that
//!   S3-compatible store, under a new prefix per server.
//!
//! `AUTONEXUS_TEST_RUN` names the run; every database it creates starts with
//! `autonexus_t_<run>_`, so a test command can remove whatever a crashed test left.
#![allow(dead_code)] // Not every helper is used by every run (Linux-only tests).

pub mod bodies;
pub mod fuzz;
pub mod requests;

pub use bodies::*;
pub use requests::*;

use object_store::ObjectStore;
use reqwest::{redirect::Policy, Client};
use sqlx::Connection;
use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

/// The server binary running on a random port; killed (and its data removed) when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    pub dir: tempfile::TempDir,
    pub storage: Storage,
    /// The server was started on its own data (not a test's, reused across restarts).
    owns_data: bool,
}

/// Where one server's data lives: the same for every server started on the same data dir.
#[derive(Clone, Debug)]
pub struct Storage {
    pub database_url: String,
    /// The PostgreSQL database's name, when on PostgreSQL.
    pub postgres_database: Option<String>,
    pub media_dir: PathBuf,
    /// The prefix inside the test bucket, when photos go to S3.
    pub s3_prefix: Option<String>,
}

/// A test's own data (database and photos) that outlives the servers started on it, so
/// a test can restart a server or run two; removed when dropped.
pub struct TestData {
    pub dir: tempfile::TempDir,
    pub storage: Storage,
}

impl TestData {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::for_data(dir.path());
        TestData { dir, storage }
    }

    /// A server on this data.
    pub fn start(&self, env: &[(&str, &str)]) -> Server {
        Server::start_on(tempfile::tempdir().unwrap(), self.storage.clone(), env)
    }
}

impl Drop for TestData {
    fn drop(&mut self) {
        self.storage.remove();
    }
}

/// Runs a future to completion on a thread of its own (setup and clean-up happen in
/// sync code, which may itself run inside a test's runtime).
fn block_on<F>(future: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(future)
            })
            .join()
            .unwrap()
    })
}

fn env_var(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.trim().is_empty())
}

/// The PostgreSQL admin URL, when the tests run on PostgreSQL.
pub fn postgres_admin_url() -> Option<String> {
    env_var("AUTONEXUS_TEST_POSTGRES")
}

/// The test S3 endpoint and bucket, when photos go to S3.
pub fn s3_target() -> Option<(String, String)> {
    Some((
        env_var("AUTONEXUS_TEST_S3_ENDPOINT")?,
        env_var("AUTONEXUS_TEST_S3_BUCKET")?,
    ))
}

/// `admin` with its database replaced by `database`.
pub fn postgres_url(admin: &str, database: &str) -> String {
    let mut url = url::Url::parse(admin).expect("AUTONEXUS_TEST_POSTGRES is a URL");
    url.set_path(&format!("/{database}"));
    url.to_string()
}

/// Creates an empty PostgreSQL database, named with the run's prefix, and returns its name.
pub fn create_postgres_database(admin: &str) -> String {
    let run = env_var("AUTONEXUS_TEST_RUN").unwrap_or_else(|| "local".into());
    let run: String = run
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(20)
        .collect();
    let name = format!(
        "autonexus_t_{}_{}",
        run.to_lowercase(),
        uuid::Uuid::new_v4().simple()
    );
    block_on(async {
        let mut admin = sqlx::PgConnection::connect(admin)
            .await
            .expect("AUTONEXUS_TEST_POSTGRES accepts connections");
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .expect("may create a database");
    });
    name
}

/// Drops a database `create_postgres_database` made (disconnecting whoever is on it).
pub fn drop_postgres_database(admin: &str, name: &str) {
    block_on(async {
        if let Ok(mut admin) = sqlx::PgConnection::connect(admin).await {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut admin)
                .await;
        }
    });
}

impl Storage {
    /// The storage for a data directory: created on first use, found again on the next.
    pub fn for_data(data: &Path) -> Storage {
        std::fs::create_dir_all(data).unwrap();
        let saved = data.join("storage.txt");
        let (postgres_database, s3_prefix) = match std::fs::read_to_string(&saved) {
            Ok(text) => {
                let mut lines = text
                    .lines()
                    .map(|l| Some(l.to_owned()).filter(|l| !l.is_empty()));
                (lines.next().flatten(), lines.next().flatten())
            }
            Err(_) => {
                let database = postgres_admin_url().map(|admin| create_postgres_database(&admin));
                let prefix = s3_target().map(|_| uuid::Uuid::new_v4().simple().to_string());
                std::fs::write(
                    &saved,
                    format!(
                        "{}\n{}\n",
                        database.clone().unwrap_or_default(),
                        prefix.clone().unwrap_or_default()
                    ),
                )
                .unwrap();
                (database, prefix)
            }
        };
        let database_url = match (&postgres_database, postgres_admin_url()) {
            (Some(name), Some(admin)) => postgres_url(&admin, name),
            _ => format!("sqlite://{}", data.join("test.db").display()),
        };
        Storage {
            database_url,
            postgres_database,
            media_dir: data.join("media"),
            s3_prefix,
        }
    }

    /// The environment a server needs to use this storage.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("DATABASE_URL".to_owned(), self.database_url.clone()),
            ("MEDIA_DIR".to_owned(), self.media_dir.display().to_string()),
        ];
        if let (Some(prefix), Some((endpoint, bucket))) = (&self.s3_prefix, s3_target()) {
            env.extend([
                ("S3_ENDPOINT".to_owned(), endpoint),
                ("S3_BUCKET".to_owned(), bucket),
                ("S3_PREFIX".to_owned(), prefix.clone()),
            ]);
        }
        env
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres_database.is_some()
    }

    /// A connection pool on the server's database, to check what was (not) stored.
    pub async fn db(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        let url = if self.is_postgres() {
            self.database_url.clone()
        } else {
            format!("{}?mode=ro", self.database_url)
        };
        sqlx::pool::PoolOptions::<sqlx::Any>::new()
            .max_connections(2)
            .connect(&url)
            .await
            .unwrap()
    }

    /// A writable pool on the server's database, for tests that plant data in bulk.
    pub async fn db_rw(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::pool::PoolOptions::<sqlx::Any>::new()
            .max_connections(1)
            .connect(&self.database_url)
            .await
            .unwrap()
    }

    /// How many photo files (photos and their sizes) the store holds.
    pub async fn media_files(&self) -> usize {
        match (&self.s3_prefix, s3_target()) {
            (Some(prefix), Some((endpoint, bucket))) => {
                use futures_util::StreamExt;
                let store = test_bucket(&endpoint, &bucket);
                let prefix = object_store::path::Path::from(prefix.as_str());
                store.list(Some(&prefix)).count().await
            }
            _ => std::fs::read_dir(&self.media_dir)
                .map(|d| d.count())
                .unwrap_or(0),
        }
    }

    /// Removes one file from the photo store, as if it had never been written.
    pub async fn delete_media(&self, name: &str) {
        match (&self.s3_prefix, s3_target()) {
            (Some(prefix), Some((endpoint, bucket))) => {
                use object_store::ObjectStore;
                let path = object_store::path::Path::from(prefix.as_str()).child(name);
                test_bucket(&endpoint, &bucket).delete(&path).await.unwrap();
            }
            _ => std::fs::remove_file(self.media_dir.join(name)).unwrap(),
        }
    }

    /// Removes the database this storage created (its photos go with the test's bucket).
    pub fn remove(&self) {
        if let (Some(name), Some(admin)) = (&self.postgres_database, postgres_admin_url()) {
            drop_postgres_database(&admin, name);
        }
    }
}

/// The test bucket, as the server sees it.
pub fn test_bucket(endpoint: &str, bucket: &str) -> object_store::aws::AmazonS3 {
    object_store::aws::AmazonS3Builder::from_env()
        .with_endpoint(endpoint)
        .with_allow_http(true)
        .with_bucket_name(bucket)
        .with_region("us-east-1")
        .build()
        .unwrap()
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if self.owns_data {
            self.storage.remove();
        }
        // A failing test shows what the server logged.
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- server log (last lines) ---");
            for line in tail.into_iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

impl Server {
    /// A server on its own fresh data, with the default configuration.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// A server on its own fresh data, with `env` added to its environment.
    pub fn start_with(env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::for_data(dir.path());
        let mut server = Self::start_on(dir, storage, env);
        server.owns_data = true;
        server
    }

    /// A server on the given storage (several servers may share one).
    pub fn start_on(dir: tempfile::TempDir, storage: Storage, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_autonexus"));
        command
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .envs(storage.env())
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .env("LEPTOS_OUTPUT_NAME", "autonexus")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.path().join("server.log")).unwrap());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("server binary starts");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            let Some(Ok(line)) = lines.next() else {
                let log =
                    std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
                panic!("the server exited before listening:\n{log}");
            };
            if let Some(addr) = line.strip_prefix("listening on ") {
                break addr.trim().to_owned();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            base,
            dir,
            storage,
            owns_data: false,
        }
    }

    /// The absolute URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// GETs `path` as `client` and returns the body (a page's HTML, usually).
    pub async fn page_text(&self, client: &Client, path: &str) -> String {
        client
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// How many photo files (originals and thumbnails) the server has stored.
    pub async fn media_files(&self) -> usize {
        self.storage.media_files().await
    }

    /// The server's database, to check what was (not) stored.
    pub async fn db(&self) -> sqlx::AnyPool {
        self.storage.db().await
    }

    /// A browser-like client: keeps its cookies, follows no redirects, gives up after 60 s.
    pub fn client(&self) -> Client {
        Client::builder()
            .cookie_store(true)
            .pool_max_idle_per_host(0)
            .redirect(Policy::none())
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap()
    }

    /// Registers `name` (password `correct-horse-battery`) and returns the signed-in browser.
    pub async fn user(&self, name: &str) -> Client {
        let client = self.client();
        let res = client
            .post(self.url("/rpc/auth/register"))
            .form(&[
                ("username", name),
                ("password", "correct-horse-battery"),
                ("email", ""),
            ])
            .send()
            .await
            .unwrap();
        assert!(
            res.status().is_success() || res.status().is_redirection(),
            "register {name}: {}",
            res.status()
        );
        client
    }
}

impl Server {
    /// A memory figure of the server process from /proc/PID/status (`VmRSS`, `VmHWM`), in MiB.
    fn status_mib(&self, field: &str) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kib: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("{field} in /proc/PID/status"));
        kib / 1024.0
    }

    /// The server process's resident memory now, in MiB.
    pub fn resident_mib(&self) -> f64 {
        self.status_mib("VmRSS")
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server process's peak resident memory so far, in MiB.
    pub fn peak_resident_mib(&self) -> f64 {
        self.status_mib("VmHWM")
    }

    /// How many file descriptors the server process holds open now (Linux: /proc).
    pub fn open_files(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .unwrap()
            .count()
    }

    /// Kills the process at once (SIGKILL), as a crash or power cut to the process would.
    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks the server to stop (SIGTERM), as an orchestrator does; `wait_exit` waits for it.
    pub fn send_sigterm(&self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Waits for the process to exit by itself.
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        self.child.wait().unwrap()
    }

    /// Everything the server wrote to stderr (its log) so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}
