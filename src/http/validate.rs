//! Field parsing shared by every domain: bounded texts, phones, and the collector that lets
//! one 422 name every bad field at once.

use super::error::{ApiError, FieldError};

/// Control characters no text this marketplace stores may hold (NUL, which PostgreSQL
/// refuses, and the rest of C0 and DEL); tab, newline and carriage return are kept for
/// free text.
pub fn is_forbidden_control(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) && (c <= '\u{1f}' || c == '\u{7f}')
}

pub fn has_forbidden_control(s: &str) -> bool {
    s.chars().any(is_forbidden_control)
}

/// The message every refused control character gets.
pub const CONTROL_MESSAGE: &str = "must not contain control characters";

/// Collects field errors while a request is parsed, so one response names them all.
#[derive(Default)]
pub struct Fields {
    errors: Vec<FieldError>,
}

impl Fields {
    pub fn check<T, E: ToString>(&mut self, field: &str, r: Result<T, E>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(FieldError::new(field, e.to_string()));
                None
            }
        }
    }

    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Ends parsing: `Ok(value)` when nothing was wrong, else every error at once.
    pub fn finish<T>(self, value: Option<T>) -> Result<T, ApiError> {
        match value {
            Some(v) if self.errors.is_empty() => Ok(v),
            _ => Err(ApiError::Validation(self.errors)),
        }
    }
}

/// Optional free text: blank means absent.
pub fn optional_text(raw: Option<&str>, max: usize) -> Result<Option<String>, String> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => bounded_text(s, max).map(Some),
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
    fn phones() {
        assert!(phone("13800138000").is_ok());
        assert!(phone("+86 138 0013 8000").is_ok());
        assert!(phone("0754-88881234").is_ok());
        assert!(phone("12345").is_err());
        assert_eq!(mobile("+86 13800138000").unwrap(), "13800138000");
        assert!(mobile("12800138000").is_err());
    }

    #[test]
    fn texts() {
        assert_eq!(bounded_text("  有机大米 ", 10).unwrap(), "有机大米");
        assert!(bounded_text(" ", 10).is_err());
        assert!(bounded_text("有机大米", 3).is_err());
        assert_eq!(optional_text(Some("  "), 5).unwrap(), None);
    }
}
