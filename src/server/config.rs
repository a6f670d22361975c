//! Configuration from environment variables, read once at start-up.

use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct Config {
    /// `sqlite://PATH` (the default is `sqlite://autonexus.db`).
    pub database_url: String,
    /// Where uploaded photos are stored.
    pub media_dir: PathBuf,
    /// Seed demo listings into an empty database at start-up.
    pub demo_data: bool,
    /// Send the session cookie with `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
    /// Largest photo upload accepted, in bytes.
    pub max_upload_bytes: usize,
    /// `https://cars.example.com`: the base of absolute URLs in API responses
    /// (behind a proxy); unset, the request's Host header is used.
    pub public_url: Option<String>,
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
        if !database_url.starts_with("sqlite:") {
            return Err(ConfigError(format!(
                "DATABASE_URL must start with sqlite: (for example sqlite://autonexus.db), got {database_url:?}"
            )));
        }
        Ok(Config {
            database_url,
            media_dir: get("MEDIA_DIR")
                .filter(|v| !v.trim().is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("media")),
            demo_data: flag("DEMO_DATA")?,
            secure_cookies: flag("COOKIE_SECURE")?,
            max_upload_bytes: 10 * 1024 * 1024,
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
    fn bad_values_fail_fast_with_the_variable_name() {
        let err =
            Config::from_lookup(|k| (k == "DEMO_DATA").then(|| "maybe".to_owned())).unwrap_err();
        assert!(err.to_string().contains("DEMO_DATA"));
        let err = Config::from_lookup(|k| (k == "DATABASE_URL").then(|| "mysql://x".to_owned()))
            .unwrap_err();
        assert!(err.to_string().contains("DATABASE_URL"));
    }
}
