//! Field parsing shared by every domain: bounded texts and the collector that lets
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

/// Optional free text (line breaks and tabs allowed): blank means absent.
pub fn optional_text(raw: Option<&str>, max: usize) -> Result<Option<String>, String> {
    let Some(raw) = raw else { return Ok(None) };
    if raw
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(CONTROL_MESSAGE.into());
    }
    if raw.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    let s = raw.trim();
    Ok((!s.is_empty()).then(|| s.to_owned()))
}

/// A one-line text of bounded length (names, titles): no control character, not blank, not
/// starting with a space; trailing spaces are dropped.
pub fn bounded_text(raw: &str, max: usize) -> Result<String, String> {
    if raw.chars().any(char::is_control) {
        return Err(CONTROL_MESSAGE.into());
    }
    if raw.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if raw.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if raw.starts_with(char::is_whitespace) {
        return Err("must not start with a space".into());
    }
    Ok(raw.trim_end().to_owned())
}

/// An optional word of a query (a status filter): absent or blank is none, anything else must
/// parse, or 422 naming `field` with `message`.
pub fn optional_word<T>(
    field: &str,
    raw: Option<&str>,
    parse: impl Fn(&str) -> Option<T>,
    message: &str,
) -> Result<Option<T>, ApiError> {
    match raw.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse(s)
            .map(Some)
            .ok_or_else(|| ApiError::field(field, message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts() {
        assert_eq!(bounded_text("有机大米 ", 10).unwrap(), "有机大米");
        assert!(bounded_text(" 有机大米", 10).is_err());
        assert!(bounded_text(" ", 10).is_err());
        assert!(bounded_text("有机大米", 3).is_err());
        assert_eq!(optional_text(Some("  "), 5).unwrap(), None);
    }
}
