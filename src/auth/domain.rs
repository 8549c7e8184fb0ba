//! Account rules: what an email, a password, a display name and a phone may be.

use crate::vocabulary;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

vocabulary! {
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Role as "user role (users.role)" {
        Customer = "customer",
        Admin = "admin",
    }
}

/// An email address, stored lower-cased so uniqueness ignores case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, &'static str> {
        if raw.chars().count() > 254 {
            return Err("must be at most 254 characters");
        }
        if crate::http::text::EMAIL_RE.is_match(raw) {
            Ok(Email(raw.trim_matches(' ').to_lowercase()))
        } else {
            Err("is not an email address")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password that meets the rules: 10–128 characters and not the email itself.
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str, email: Option<&str>) -> Result<Password, &'static str> {
        let n = raw.chars().count();
        if n < 10 {
            return Err("must be at least 10 characters");
        }
        if n > 128 {
            return Err("must be at most 128 characters");
        }
        if email.is_some_and(|e| raw.trim().eq_ignore_ascii_case(e)) {
            return Err("must not be the email address");
        }
        Ok(Password(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised() {
        assert_eq!(
            Email::parse(" Li.Wei@Example.COM ").unwrap().as_str(),
            "li.wei@example.com"
        );
        for bad in [
            "", "a", "a@", "@b.cn", "a b@c.cn", "a@.cn", "a@b.cn.", "a@b@c.cn",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn password_rules() {
        assert!(Password::parse("short", None).is_err());
        assert!(Password::parse(&"x".repeat(129), None).is_err());
        assert!(Password::parse("a@b.cn.com", Some("a@b.cn.com")).is_err());
        assert!(Password::parse("黑土地的有机大米好吃", None).is_ok());
    }
}
