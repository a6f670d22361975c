//! `autonexus backup PATH`: a consistent copy of a running SQLite marketplace.
//!
//! - `PATH/autonexus.db`: the database as of one moment, made by SQLite's `VACUUM INTO`
//!   inside one read transaction. Writers carry on meanwhile (WAL mode); nothing written
//!   after that moment is in the copy, and nothing half-written is.
//! - `PATH/media/`: every photo (and thumbnail) that the copied listings point at, read
//!   from the photo store the configuration names (a directory or S3).
//! - `PATH/manifest.json`: what was copied, with each file's size and SHA-256, and any
//!   photo the store no longer had (a listing edited or deleted after the snapshot).
//!
//! Photos are never changed in place (each upload gets a new name), so a photo copied
//! after the snapshot is the one the snapshot names. Restore: point `DATABASE_URL` at
//! the copy and `MEDIA_DIR` at its `media/` folder (README: Backups).
//! PostgreSQL has its own tools for this (`pg_dump`), which the command points to.

use crate::{config::Config, media};
use serde::Serialize;
use sqlx::{sqlite::SqliteConnectOptions, ConnectOptions, Connection};
use std::{path::Path, str::FromStr};

/// One copied file.
#[derive(Debug, Serialize)]
pub struct CopiedFile {
    pub name: String,
    pub bytes: usize,
    pub sha256: String,
}

/// What `PATH/manifest.json` holds.
#[derive(Debug, Serialize)]
pub struct Manifest {
    /// When the snapshot was taken (UTC, RFC 3339).
    pub created_at: String,
    pub database: &'static str,
    /// Listings in the copied database.
    pub listings: i64,
    /// Where the photos were read from (a directory or `s3://bucket/prefix`).
    pub photo_store: String,
    pub files: Vec<CopiedFile>,
    /// Photos the copied listings name that the store no longer had.
    pub missing: Vec<String>,
}

const DATABASE_FILE: &str = "autonexus.db";

/// Makes the backup in `target` (a new or empty directory) and returns its manifest.
pub async fn run(config: &Config, target: &Path) -> Result<Manifest, String> {
    if crate::db::is_postgres_url(&config.database_url) {
        return Err(
            "this database is PostgreSQL: back it up with pg_dump (README: Backups), \
             and the photo bucket with its own versioning or replication"
                .into(),
        );
    }
    std::fs::create_dir_all(target.join("media"))
        .map_err(|e| format!("cannot create {}: {e}", target.display()))?;
    let copy = target.join(DATABASE_FILE);
    if copy.exists() || target.join("manifest.json").exists() {
        return Err(format!(
            "{} already holds a backup: choose a new directory",
            target.display()
        ));
    }
    let created_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let failed = |what: &str, e: &dyn std::fmt::Display| format!("{what}: {e}");

    // The snapshot: one statement, one read transaction on the live database.
    let mut source = SqliteConnectOptions::from_str(&config.database_url)
        .map_err(|e| failed("cannot read DATABASE_URL", &e))?
        .create_if_missing(false)
        .busy_timeout(std::time::Duration::from_secs(30))
        .connect()
        .await
        .map_err(|e| failed("cannot open the database", &e))?;
    let copy_path = copy
        .to_str()
        .ok_or_else(|| format!("{} is not a UTF-8 path", copy.display()))?;
    sqlx::query("VACUUM INTO $1")
        .bind(copy_path)
        .execute(&mut source)
        .await
        .map_err(|e| failed("the snapshot failed", &e))?;
    let _ = source.close().await;

    // The photos the snapshot names.
    let mut snapshot = SqliteConnectOptions::new()
        .filename(&copy)
        .read_only(true)
        .connect()
        .await
        .map_err(|e| failed("cannot open the snapshot", &e))?;
    let listings: i64 = sqlx::query_scalar("SELECT count(*) FROM cars")
        .fetch_one(&mut snapshot)
        .await
        .map_err(|e| failed("cannot read the snapshot", &e))?;
    let photos: Vec<String> = sqlx::query_scalar("SELECT name FROM car_photos ORDER BY id")
        .fetch_all(&mut snapshot)
        .await
        .map_err(|e| failed("cannot read the snapshot", &e))?;
    let _ = snapshot.close().await;

    let store = media::MediaStore::open(config).await?;
    let mut files = Vec::new();
    let mut missing = Vec::new();
    for photo in photos {
        // The photo and whichever of its sizes were made (a small photo has fewer).
        for name in media::files_of(&photo) {
            let is_photo = name == photo;
            match store.get(&name).await {
                Some(bytes) => {
                    std::fs::write(target.join("media").join(&name), &bytes)
                        .map_err(|e| failed("cannot write a photo", &e))?;
                    files.push(CopiedFile {
                        sha256: {
                            use sha2::{Digest, Sha256};
                            crate::http::security::to_hex(&Sha256::digest(&bytes))
                        },
                        bytes: bytes.len(),
                        name,
                    });
                }
                None if is_photo => missing.push(name),
                None => {}
            }
        }
    }
    let manifest = Manifest {
        created_at,
        database: DATABASE_FILE,
        listings,
        photo_store: store.location().to_owned(),
        files,
        missing,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| failed("manifest", &e))?;
    std::fs::write(target.join("manifest.json"), json)
        .map_err(|e| failed("cannot write the manifest", &e))?;
    Ok(manifest)
}
