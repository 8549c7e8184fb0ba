//! Account rules: what an email, a password, a display name and a phone may be.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "customer" => Some(Role::Customer),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// An email address, stored lower-cased so uniqueness ignores case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, &'static str> {
        let s = raw.trim().to_lowercase();
        if s.len() > 254 {
            return Err("must be at most 254 characters");
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err("is not an email address");
        };
        let ok = !local.is_empty()
            && local.len() <= 64
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(Email(s))
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

/// A trimmed, non-empty text of bounded length (names, titles).
pub fn bounded_text(raw: &str, max: usize) -> Result<String, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if s.chars().any(|c| c.is_control()) {
        return Err("must not contain control characters".into());
    }
    Ok(s.to_owned())
}

/// A phone number: a mainland mobile (optionally +86) or a landline with area code.
pub fn phone(raw: &str) -> Result<String, &'static str> {
    let s = raw.trim();
    let digits: String = s
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    let national = digits
        .strip_prefix("+86")
        .or_else(|| digits.strip_prefix("0086"))
        .unwrap_or(&digits);
    let ok = national.chars().all(|c| c.is_ascii_digit())
        && ((national.len() == 11 && national.starts_with('1'))
            || (national.starts_with('0') && (10..=12).contains(&national.len())));
    if ok {
        Ok(s.to_owned())
    } else {
        Err("is not a phone number (mainland mobile like 13800138000, or 0754-88881234)")
    }
}

/// A mainland mobile number, 11 digits starting with 1 (optionally +86).
pub fn mobile(raw: &str) -> Result<String, &'static str> {
    let s: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    let national = s.strip_prefix("+86").unwrap_or(&s);
    let ok = national.len() == 11
        && national.starts_with('1')
        && national
            .chars()
            .nth(1)
            .is_some_and(|c| ('3'..='9').contains(&c))
        && national.chars().all(|c| c.is_ascii_digit());
    if ok {
        Ok(national.to_owned())
    } else {
        Err("must be a mainland mobile number like 13800138000")
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
        for bad in ["", "a", "a@b", "@b.cn", "a b@c.cn", "a@.cn", "a@b.cn."] {
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

    #[test]
    fn phones() {
        assert!(phone("13800138000").is_ok());
        assert!(phone("+86 138 0013 8000").is_ok());
        assert!(phone("0754-88881234").is_ok());
        assert!(phone("12345").is_err());
        assert_eq!(mobile("+86 13800138000").unwrap(), "13800138000");
        assert!(mobile("12800138000").is_err());
    }
}
