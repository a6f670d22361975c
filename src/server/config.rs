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
    /// A session unused this long ends (idle expiry). `SESSION_IDLE_SECS`, default 14 days.
    pub session_idle_secs: i64,
    /// A sign-in lasts at most this long, however active (absolute expiry).
    /// `SESSION_MAX_AGE_SECS`, default 30 days.
    pub session_max_age_secs: i64,
    /// How often expired sessions are deleted. `SESSION_CLEANUP_SECS`, default one hour.
    pub session_cleanup_secs: i64,
    /// Rate limits (`REGISTRATIONS_PER_HOUR`, `LISTINGS_PER_HOUR` override two of them).
    pub limits: super::limits::Limits,
    /// `TRUST_PROXY=1`: the server is only reachable through a reverse proxy, so the client
    /// address is the last one in `X-Forwarded-For`.
    pub trust_proxy: bool,
    /// `AUTONEXUS_ENV=production`: refuse to start with an insecure configuration.
    pub production: bool,
    /// The log filter in force (`RUST_LOG`), checked by the deploy check.
    pub log_filter: Option<String>,
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
        let per_hour = |key: &str,
                        default: super::limits::Limit|
         -> Result<super::limits::Limit, ConfigError> {
            match get(key).filter(|v| !v.trim().is_empty()) {
                None => Ok(default),
                Some(raw) => raw
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|v| *v >= 1)
                    .map(|max| super::limits::Limit::per_minutes(max, 60))
                    .ok_or_else(|| {
                        ConfigError(format!(
                            "{key} must be a whole number of at least 1, got {raw:?}"
                        ))
                    }),
            }
        };
        let defaults = super::limits::Limits::default();
        let limits = super::limits::Limits {
            registrations_per_address: per_hour(
                "REGISTRATIONS_PER_HOUR",
                defaults.registrations_per_address,
            )?,
            listings_per_seller: per_hour("LISTINGS_PER_HOUR", defaults.listings_per_seller)?,
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
    }
}
