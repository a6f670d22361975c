//! Shared by the HTTP test files: the real server binary on a random port,
//! with its own temporary SQLite database and media directory.
#![allow(dead_code)] // Each test file uses a different part of this.

pub mod fuzz;

use reqwest::{redirect::Policy, Client};
use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

pub struct Server {
    child: Child,
    pub base: String,
    pub dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    pub fn start_with(env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_owned();
        Self::start_in(dir, &data, env)
    }

    /// A server on data kept in `data` (so a test can restart on the same database).
    pub fn start_in(dir: tempfile::TempDir, data: &std::path::Path, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_autonexus"));
        command
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env(
                "DATABASE_URL",
                format!("sqlite://{}", data.join("test.db").display()),
            )
            .env("MEDIA_DIR", data.join("media"))
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
            let line = lines.next().expect("server printed its address").unwrap();
            if let Some(addr) = line.strip_prefix("listening on ") {
                break addr.trim().to_owned();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, base, dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn media_files(&self) -> usize {
        let dir: PathBuf = self.dir.path().join("media");
        std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
    }

    pub fn client(&self) -> Client {
        Client::builder()
            .cookie_store(true)
            .pool_max_idle_per_host(0)
            .redirect(Policy::none())
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap()
    }

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

pub fn png() -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(40, 25, image::Rgb([10, 90, 200]))
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

impl Server {
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

    /// The test database's path, to check what was (not) stored.
    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("test.db")
    }
}
