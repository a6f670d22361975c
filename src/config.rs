//! Configuration from environment variables, read once at start-up.

use std::{path::PathBuf, time::Duration};

#[derive(Clone, Debug)]
pub struct Config {
    /// `sqlite://PATH` (the default is `sqlite://autonexus.db`) or `postgres://…`.
    pub database_url: String,
    /// Where uploaded photos are stored when no S3 bucket is configured.
    pub media_dir: PathBuf,
    /// `S3_BUCKET` and friends: photos in an S3-compatible store that several app servers share.
    pub s3: Option<S3Config>,
    /// Seed demo listings into an empty database at start-up.
    pub demo_data: bool,
    /// Send the session cookie with `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
    /// Largest photo upload accepted, in bytes.
    pub max_upload_bytes: usize,
    /// `https://cars.example.com`: the base of absolute URLs in API responses
    /// (behind a proxy); unset, the request's Host header is used.
    pub public_url: Option<String>,
    /// A session unused this long ends (idle expiry). `SESSION_IDLE_SECS`, default 14 days.
    pub session_idle_secs: i64,
    /// A sign-in lasts at most this long, however active (absolute expiry).
    /// `SESSION_MAX_AGE_SECS`, default 30 days.
    pub session_max_age_secs: i64,
    /// How often expired sessions are deleted. `SESSION_CLEANUP_SECS`, default one hour.
    pub session_cleanup_secs: i64,
    /// Photos uploaded ahead (with JavaScript, while a form is filled in) that no listing
    /// took are deleted this long after the upload. `UPLOAD_KEEP_SECS`, default one day.
    pub upload_keep_secs: i64,
    /// How often such photos are looked for. `UPLOAD_SWEEP_SECS`, default ten minutes.
    pub upload_sweep_secs: i64,
    /// Rate limits (`REGISTRATIONS_PER_HOUR`, `LISTINGS_PER_HOUR`, `PHOTOS_PER_HOUR` override three).
    pub limits: Limits,
    /// `TRUST_PROXY=1`: the server is only reachable through a reverse proxy, so the client
    /// address is the last one in `X-Forwarded-For`.
    pub trust_proxy: bool,
    /// `AUTONEXUS_ENV=production`: refuse to start with an insecure configuration.
    pub production: bool,
    /// The log filter in force (`RUST_LOG`), checked by the deploy check.
    pub log_filter: Option<String>,
    /// `MAX_CONNECTIONS`: open client connections at most; past it, new ones wait in the
    /// listen queue until one closes. Unset: three quarters of the open-file limit, at most 10,000.
    pub max_connections: Option<usize>,
    /// `HEADER_TIMEOUT_SECS`, default 10: a connection whose next request has not fully
    /// arrived this long after it opened (or after its last answer) is closed.
    pub header_timeout_secs: i64,
}

/// An S3-compatible photo store. Credentials come from the usual `AWS_ACCESS_KEY_ID` and
/// `AWS_SECRET_ACCESS_KEY` variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Config {
    /// `S3_BUCKET`: the bucket, which must exist.
    pub bucket: String,
    /// `S3_ENDPOINT`: for S3-compatible servers (MinIO, Ceph, moto…); unset means AWS.
    pub endpoint: Option<String>,
    /// `S3_REGION`, default `us-east-1`.
    pub region: String,
    /// `S3_PREFIX`: a folder inside the bucket, so one bucket can serve several sites.
    pub prefix: String,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(String);

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Builds the config from any key lookup, so tests need not touch the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let flag = |key: &str| -> Result<bool, ConfigError> {
            match get(key).as_deref().map(str::trim) {
                None | Some("") | Some("0") | Some("false") | Some("no") => Ok(false),
                Some("1") | Some("true") | Some("yes") => Ok(true),
                Some(other) => Err(ConfigError(format!("{key} must be 1 or 0, not {other:?}"))),
            }
        };
        let database_url = get("DATABASE_URL")
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| "sqlite://autonexus.db".into());
        if !database_url.starts_with("sqlite:") && !crate::db::is_postgres_url(&database_url) {
            return Err(ConfigError(format!(
                "DATABASE_URL must start with sqlite: (for example sqlite://autonexus.db) or postgres://, got {:?}",
                redact_url(&database_url)
            )));
        }
        let text = |key: &str| {
            get(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let s3 = match text("S3_BUCKET") {
            None => None,
            Some(bucket) => Some(S3Config {
                bucket,
                endpoint: match text("S3_ENDPOINT") {
                    None => None,
                    Some(raw) => match url::Url::parse(&raw) {
                        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
                            Some(raw.trim_end_matches('/').to_owned())
                        }
                        _ => {
                            return Err(ConfigError(format!(
                                "S3_ENDPOINT must be an http(s) URL such as https://s3.example.com, got {raw:?}"
                            )))
                        }
                    },
                },
                region: text("S3_REGION").unwrap_or_else(|| "us-east-1".into()),
                prefix: text("S3_PREFIX")
                    .map(|p| p.trim_matches('/').to_owned())
                    .unwrap_or_default(),
            }),
        };
        let seconds = |key: &str, default: i64| -> Result<i64, ConfigError> {
            match get(key).filter(|v| !v.trim().is_empty()) {
                None => Ok(default),
                Some(raw) => raw
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|v| (1..=366 * 24 * 3600).contains(v))
                    .ok_or_else(|| {
                        ConfigError(format!(
                            "{key} must be a number of seconds between 1 and one year, got {raw:?}"
                        ))
                    }),
            }
        };
        let per_hour = |key: &str, default: Limit| -> Result<Limit, ConfigError> {
            match get(key).filter(|v| !v.trim().is_empty()) {
                None => Ok(default),
                Some(raw) => raw
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|v| *v >= 1)
                    .map(|max| Limit::per_minutes(max, 60))
                    .ok_or_else(|| {
                        ConfigError(format!(
                            "{key} must be a whole number of at least 1, got {raw:?}"
                        ))
                    }),
            }
        };
        let defaults = Limits::default();
        let limits = Limits {
            registrations_per_address: per_hour(
                "REGISTRATIONS_PER_HOUR",
                defaults.registrations_per_address,
            )?,
            listings_per_seller: per_hour("LISTINGS_PER_HOUR", defaults.listings_per_seller)?,
            photo_uploads_per_user: per_hour("PHOTOS_PER_HOUR", defaults.photo_uploads_per_user)?,
            ..defaults
        };
        let production = match get("AUTONEXUS_ENV").as_deref().map(str::trim) {
            None | Some("") | Some("development") => false,
            Some("production") => true,
            Some(other) => {
                return Err(ConfigError(format!(
                    "AUTONEXUS_ENV must be production or development, not {other:?}"
                )))
            }
        };
        Ok(Config {
            production,
            log_filter: get("RUST_LOG"),
            limits,
            trust_proxy: flag("TRUST_PROXY")?,
            session_idle_secs: seconds("SESSION_IDLE_SECS", 14 * 24 * 3600)?,
            session_max_age_secs: seconds("SESSION_MAX_AGE_SECS", 30 * 24 * 3600)?,
            session_cleanup_secs: seconds("SESSION_CLEANUP_SECS", 3600)?,
            upload_keep_secs: seconds("UPLOAD_KEEP_SECS", 24 * 3600)?,
            upload_sweep_secs: seconds("UPLOAD_SWEEP_SECS", 600)?,
            header_timeout_secs: seconds("HEADER_TIMEOUT_SECS", 10)?,
            max_connections: match text("MAX_CONNECTIONS") {
                None => None,
                Some(raw) => Some(raw.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(
                    || {
                        ConfigError(format!(
                            "MAX_CONNECTIONS must be a whole number of at least 1, got {raw:?}"
                        ))
                    },
                )?),
            },
            database_url,
            s3,
            media_dir: get("MEDIA_DIR")
                .filter(|v| !v.trim().is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("media")),
            demo_data: flag("DEMO_DATA")?,
            secure_cookies: flag("COOKIE_SECURE")?,
            max_upload_bytes: 15 * 1024 * 1024,
            public_url: match get("PUBLIC_URL").filter(|v| !v.trim().is_empty()) {
                None => None,
                Some(raw) => match url::Url::parse(raw.trim()) {
                    Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
                        Some(raw.trim().trim_end_matches('/').to_owned())
                    }
                    _ => {
                        return Err(ConfigError(format!(
                            "PUBLIC_URL must be an http(s) URL such as https://cars.example.com, got {raw:?}"
                        )))
                    }
                },
            },
        })
    }
}

/// The URL with any password replaced, for messages and logs.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("****"));
            url.to_string()
        }
        _ => raw.to_owned(),
    }
}

impl Config {
    /// What makes this configuration unfit to face the internet, each with its fix
    /// (like Django's `check --deploy`). The server refuses to start in production
    /// mode while any remains; `autonexus check-deploy` prints them.
    pub fn deploy_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !self.secure_cookies {
            problems.push(
                "COOKIE_SECURE is off: session cookies would travel over plain HTTP. Serve over HTTPS and set COOKIE_SECURE=1."
                    .to_owned(),
            );
        }
        match &self.public_url {
            None => problems.push(
                "PUBLIC_URL is not set: absolute links would trust the request's Host header. Set PUBLIC_URL=https://your.domain."
                    .to_owned(),
            ),
            Some(url) if !url.starts_with("https://") => problems.push(format!(
                "PUBLIC_URL is {url}: use the https:// address the site is served on."
            )),
            Some(_) => {}
        }
        if self.demo_data {
            problems.push(
                "DEMO_DATA is on: it creates demo accounts with a published password. Unset DEMO_DATA."
                    .to_owned(),
            );
        }
        if let Some(filter) = &self.log_filter {
            let lower = filter.to_ascii_lowercase();
            if lower.contains("debug") || lower.contains("trace") {
                problems.push(format!(
                    "RUST_LOG={filter} logs at debug/trace level, which can record request data. Use info or warn."
                ));
            }
        }
        problems
    }
}

/// At most `max` events per `window`.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub max: usize,
    pub window: Duration,
}

impl Limit {
    pub const fn per_minutes(max: usize, minutes: u64) -> Self {
        Limit {
            max,
            window: Duration::from_secs(minutes * 60),
        }
    }
}

/// The limits in force (configurable so tests and benchmarks can set their own).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub login_failures_per_account: Limit,
    pub login_failures_per_address: Limit,
    pub registrations_per_address: Limit,
    pub listings_per_seller: Limit,
    /// Photos a user may upload (each is decoded, the costly part), on create and edit.
    pub photo_uploads_per_user: Limit,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            login_failures_per_account: Limit::per_minutes(5, 15),
            login_failures_per_address: Limit::per_minutes(30, 15),
            registrations_per_address: Limit::per_minutes(10, 60),
            listings_per_seller: Limit::per_minutes(60, 60),
            photo_uploads_per_user: Limit::per_minutes(60, 60),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_a_local_sqlite_file_and_media_folder() {
        let config = Config::from_lookup(|_| None).unwrap();
        assert_eq!(config.database_url, "sqlite://autonexus.db");
        assert_eq!(config.media_dir, PathBuf::from("media"));
        assert!(!config.demo_data);
        assert!(!config.secure_cookies);
    }

    #[test]
    fn the_deploy_check_names_each_insecure_setting_and_passes_a_good_one() {
        let dev = Config::from_lookup(|k| match k {
            "DEMO_DATA" => Some("1".into()),
            "RUST_LOG" => Some("debug".into()),
            _ => None,
        })
        .unwrap();
        let problems = dev.deploy_problems().join("\n");
        for name in ["COOKIE_SECURE", "PUBLIC_URL", "DEMO_DATA", "RUST_LOG"] {
            assert!(problems.contains(name), "{name} missing from {problems}");
        }
        let prod = Config::from_lookup(|k| match k {
            "AUTONEXUS_ENV" => Some("production".into()),
            "COOKIE_SECURE" => Some("1".into()),
            "PUBLIC_URL" => Some("https://cars.example.com".into()),
            "RUST_LOG" => Some("info".into()),
            _ => None,
        })
        .unwrap();
        assert!(prod.production);
        assert_eq!(prod.deploy_problems(), Vec::<String>::new());
    }

    #[test]
    fn bad_values_fail_fast_with_the_variable_name() {
        let err =
            Config::from_lookup(|k| (k == "DEMO_DATA").then(|| "maybe".to_owned())).unwrap_err();
        assert!(err.to_string().contains("DEMO_DATA"));
        let err = Config::from_lookup(|k| (k == "DATABASE_URL").then(|| "mysql://x".to_owned()))
            .unwrap_err();
        assert!(err.to_string().contains("DATABASE_URL"));
        let err = Config::from_lookup(|k| match k {
            "S3_BUCKET" => Some("photos".into()),
            "S3_ENDPOINT" => Some("localhost:9000".into()),
            _ => None,
        })
        .unwrap_err();
        assert!(err.to_string().contains("S3_ENDPOINT"));
    }

    #[test]
    fn postgres_and_s3_are_chosen_by_configuration() {
        let config = Config::from_lookup(|k| match k {
            "DATABASE_URL" => Some("postgres://app:secret@db.internal/autonexus".into()),
            "S3_BUCKET" => Some("photos".into()),
            "S3_ENDPOINT" => Some("http://127.0.0.1:9000/".into()),
            "S3_PREFIX" => Some("/site-a/".into()),
            _ => None,
        })
        .unwrap();
        assert!(crate::db::is_postgres_url(&config.database_url));
        assert_eq!(
            config.s3,
            Some(S3Config {
                bucket: "photos".into(),
                endpoint: Some("http://127.0.0.1:9000".into()),
                region: "us-east-1".into(),
                prefix: "site-a".into(),
            })
        );
        assert_eq!(
            redact_url(&config.database_url),
            "postgres://app:****@db.internal/autonexus"
        );
        assert_eq!(Config::from_lookup(|_| None).unwrap().s3, None);
    }
}
