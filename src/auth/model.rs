//! Account types shared by server and browser, and their validation.

use serde::{Deserialize, Serialize};

pub const MIN_PASSWORD: usize = 8;
/// Long enough for any passphrase, short enough that hashing stays cheap.
pub const MAX_PASSWORD: usize = 256;

/// The signed-in user, as pages see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub username: String,
}

/// 3 to 30 letters, digits, `_`, `.` or `-`.
pub fn parse_username(raw: &str) -> Result<String, String> {
    let value = raw.trim();
    let len = value.chars().count();
    if !(3..=30).contains(&len) {
        return Err("Username must be 3 to 30 characters long.".into());
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        return Err("Username can only contain letters, digits, _ . and -.".into());
    }
    Ok(value.to_owned())
}

pub fn parse_password(raw: &str) -> Result<String, String> {
    let len = raw.chars().count();
    if len < MIN_PASSWORD {
        return Err(format!(
            "Password must be at least {MIN_PASSWORD} characters long."
        ));
    }
    if len > MAX_PASSWORD {
        return Err(format!(
            "Password must be at most {MAX_PASSWORD} characters long."
        ));
    }
    Ok(raw.to_owned())
}

/// Optional e-mail: empty is fine; otherwise something@domain, at most 254 characters.
pub fn parse_email(raw: &str) -> Result<Option<String>, String> {
    let value = raw.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let valid = value.len() <= 254
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(value.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !domain.contains('@'));
    if valid {
        Ok(Some(value.to_owned()))
    } else {
        Err("Enter an e-mail address like name@example.com, or leave it empty.".into())
    }
}

/// Where to go after logging in: only a local path, never another site.
pub fn safe_next(raw: Option<&str>) -> String {
    match raw.map(str::trim) {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && path.len() <= 512
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_rules() {
        for good in ["bob", "alice_1", "a.b-c", &"x".repeat(30)] {
            assert!(parse_username(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "ab",
            &"x".repeat(31),
            "bob smith",
            "bob!",
            "émile",
            "<script>",
        ] {
            assert!(parse_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_need_eight_characters() {
        assert!(parse_password("12345678").is_ok());
        assert!(parse_password("1234567").is_err());
        assert!(parse_password(&"p".repeat(257)).is_err());
    }

    #[test]
    fn email_is_optional_but_checked() {
        assert_eq!(parse_email(""), Ok(None));
        assert_eq!(
            parse_email("a@example.com"),
            Ok(Some("a@example.com".into()))
        );
        for bad in [
            "a",
            "a@b",
            "@example.com",
            "a b@example.com",
            "a@example.",
            "a@@example.com",
        ] {
            assert!(parse_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next(Some("/sell")), "/sell");
        assert_eq!(safe_next(Some("/cars?q=a")), "/cars?q=a");
        for bad in [
            "//evil.com",
            "https://evil.com",
            "javascript:alert(1)",
            "/\\evil.com",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
