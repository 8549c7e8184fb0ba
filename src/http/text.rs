//! Request texts as types: each kind carries its rule and its OpenAPI schema, so what the
//! server accepts and what the document promises are written once. Fields deserialize as any
//! string; the rule runs when the request is parsed, so one 422 can name every bad field.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use super::validate::{bounded_text, optional_text};

/// A mainland phone: a mobile (11 digits from 1, optionally +86/0086) or a landline with
/// its area code (0 and 9–11 more digits); spaces, dashes and brackets anywhere.
pub const PHONE: &str =
    r"^(\+86|0086)?[ ()-]{0,2}(1([ ()-]{0,2}[0-9]){10}|0([ ()-]{0,2}[0-9]){9,11})[ ()-]{0,2}$";
/// [`PHONE`] or blank, for a phone that may be left out.
pub const PHONE_OR_BLANK: &str = r"^ {0,40}$|^(\+86|0086)?[ ()-]{0,2}(1([ ()-]{0,2}[0-9]){10}|0([ ()-]{0,2}[0-9]){9,11})[ ()-]{0,2}$";
/// A mainland mobile for deliveries: 1[3-9] and nine more digits, optionally +86.
pub const MOBILE: &str = r"^(\+86)?[ -]?1[3-9]([ -]?[0-9]){9}$";

/// An email address: up to 64 characters before the `@`, a domain that neither starts nor
/// ends with a dot, no spaces or controls inside (a few around are dropped); at most 254
/// characters.
pub const EMAIL: &str = r"^ {0,8}[^@\s\u0000-\u001f\u007f-\u009f]{1,64}@[^@.\s\u0000-\u001f\u007f-\u009f]([^@\s\u0000-\u001f\u007f-\u009f]{0,187}[^@.\s\u0000-\u001f\u007f-\u009f])? {0,8}$";

pub(crate) static EMAIL_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(EMAIL).expect("EMAIL"));
static PHONE_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(PHONE).expect("PHONE"));
static MOBILE_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(MOBILE).expect("MOBILE"));

/// Characters no one-line text holds: C0, DEL and C1 controls.
const CONTROLS: &str = r"\u0000-\u001f\u007f-\u009f";
/// Characters no free text holds: the same, but tab, newline and carriage return are allowed.
const PROSE_CONTROLS: &str = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f";

/// The rule of [`Line`]: no control character, not starting with a space, `max` at most.
pub fn line_pattern(max: usize) -> String {
    format!(
        r"^[^\s{CONTROLS}][^{CONTROLS}]{{0,{}}}$",
        max.saturating_sub(1)
    )
}

/// The rule of [`Prose`]: no control character but tab and line breaks, `max` at most.
pub fn prose_pattern(max: usize) -> String {
    format!(r"^[^{PROSE_CONTROLS}]{{0,{max}}}$")
}

fn string_schema(pattern: &str, min: Option<usize>, max: usize, about: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .min_length(min)
        .max_length(Some(max))
        .description(Some(about))
        .into()
}

/// A one-line text of at most `MAX` characters (names, cities): no control characters, not
/// starting with a space; trailing spaces are dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Line<const MAX: usize>(pub String);

impl<const MAX: usize> From<String> for Line<MAX> {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl<const MAX: usize> From<&str> for Line<MAX> {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl<const MAX: usize> Line<MAX> {
    pub fn parse(&self) -> Result<String, String> {
        bounded_text(&self.0, MAX)
    }
}

impl<const MAX: usize> PartialSchema for Line<MAX> {
    fn schema() -> RefOr<Schema> {
        string_schema(
            &line_pattern(MAX),
            Some(1),
            MAX,
            "One line of text: no control characters, not starting with a space",
        )
    }
}

impl<const MAX: usize> ToSchema for Line<MAX> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("Line{MAX}"))
    }
}

/// Free text of at most `MAX` characters (descriptions, notes, reasons): line breaks and
/// tabs allowed, other control characters not; blank means absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Prose<const MAX: usize>(pub String);

impl<const MAX: usize> From<String> for Prose<MAX> {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl<const MAX: usize> From<&str> for Prose<MAX> {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl<const MAX: usize> Prose<MAX> {
    /// The text, or `None` when blank.
    pub fn parse(&self) -> Result<Option<String>, String> {
        optional_text(Some(&self.0), MAX)
    }

    /// An optional field: absent, null and blank all mean none.
    pub fn parse_opt(field: &Option<Self>) -> Result<Option<String>, String> {
        field.as_ref().map_or(Ok(None), Self::parse)
    }
}

impl<const MAX: usize> PartialSchema for Prose<MAX> {
    fn schema() -> RefOr<Schema> {
        string_schema(
            &prose_pattern(MAX),
            None,
            MAX,
            "Free text: line breaks allowed, other control characters not; blank means none",
        )
    }
}

impl<const MAX: usize> ToSchema for Prose<MAX> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("Prose{MAX}"))
    }
}

/// An email address as sent; [`crate::auth::domain::Email::parse`] checks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EmailText(pub String);

impl PartialSchema for EmailText {
    fn schema() -> RefOr<Schema> {
        string_schema(EMAIL, None, 254, "An email address (compared without case)")
    }
}

impl ToSchema for EmailText {}

/// A contact phone (mobile or landline), kept as written without surrounding spaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(pub String);

impl Phone {
    pub fn parse(&self) -> Result<String, &'static str> {
        if self.0.len() <= 40 && PHONE_RE.is_match(&self.0) {
            Ok(self.0.trim_matches(' ').to_owned())
        } else {
            Err("is not a phone number (mainland mobile like 13800138000, or 0754-88881234)")
        }
    }
}

impl PartialSchema for Phone {
    fn schema() -> RefOr<Schema> {
        string_schema(
            PHONE,
            None,
            40,
            "A mainland mobile (13800138000) or landline with area code (0754-88881234)",
        )
    }
}

impl ToSchema for Phone {}

/// An optional contact phone: absent, null or blank mean none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MaybePhone(pub String);

impl MaybePhone {
    pub fn parse_opt(field: &Option<Self>) -> Result<Option<String>, &'static str> {
        match field {
            Some(p) if p.0.len() > 40 => Err("must be at most 40 characters"),
            Some(p) if !p.0.trim_matches(' ').is_empty() => Phone(p.0.clone()).parse().map(Some),
            _ => Ok(None),
        }
    }
}

impl PartialSchema for MaybePhone {
    fn schema() -> RefOr<Schema> {
        string_schema(
            PHONE_OR_BLANK,
            None,
            40,
            "A mainland mobile or landline with area code; blank means none",
        )
    }
}

impl ToSchema for MaybePhone {}

/// A mainland mobile for a delivery, kept as its eleven digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Mobile(pub String);

impl Mobile {
    pub fn parse(&self) -> Result<String, &'static str> {
        if self.0.len() <= 40 && MOBILE_RE.is_match(&self.0) {
            let digits: String = self.0.chars().filter(char::is_ascii_digit).collect();
            Ok(digits[digits.len() - 11..].to_owned())
        } else {
            Err("must be a mainland mobile number like 13800138000")
        }
    }
}

impl From<&str> for Mobile {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl PartialSchema for Mobile {
    fn schema() -> RefOr<Schema> {
        string_schema(
            MOBILE,
            None,
            40,
            "A mainland mobile number (13800138000, +86 138 0013 8000)",
        )
    }
}

impl ToSchema for Mobile {}

/// A text whose whole rule is one pattern, stored as sent without trailing spaces.
macro_rules! pattern_text {
    ($(#[$doc:meta])* $name:ident, $pattern:expr, $max:expr, $message:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl $name {
            pub fn parse(&self) -> Result<String, &'static str> {
                static RE: LazyLock<Regex> =
                    LazyLock::new(|| Regex::new($pattern).expect(stringify!($name)));
                if RE.is_match(&self.0) {
                    Ok(self.0.trim_end_matches(' ').to_owned())
                } else {
                    Err($message)
                }
            }
        }

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                string_schema($pattern, Some(1), $max, $message)
            }
        }

        impl ToSchema for $name {}
    };
}

pattern_text!(
    /// A carrier's name: Chinese characters, letters, digits, spaces and dashes.
    Carrier,
    r"^[0-9A-Za-z\u3400-\u9fff][0-9A-Za-z\u3400-\u9fff -]{0,63}$",
    64,
    "must be 1 to 64 Chinese characters, letters, digits, spaces or dashes"
);

pattern_text!(
    /// A waybill number: letters, digits and dashes.
    TrackingNumber,
    r"^[0-9A-Za-z][0-9A-Za-z-]{0,63}$",
    64,
    "must be 1 to 64 letters, digits or dashes"
);

pattern_text!(
    /// A SKU code: letters, digits, `-`, `_` and `.`.
    SkuCode,
    r"^[0-9A-Za-z_.-]{1,64}$",
    64,
    "must be 1 to 64 letters, digits, '-', '_' or '.'"
);

pattern_text!(
    /// A lot (batch) code: letters, digits, `-`, `_` and `.`.
    LotCode,
    r"^[0-9A-Za-z_.-]{1,64}$",
    64,
    "must be 1 to 64 letters, digits, '-', '_' or '.'"
);

pattern_text!(
    /// A calendar date, `YYYY-MM-DD`.
    DateText,
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
    10,
    "must be a date written YYYY-MM-DD"
);

impl DateText {
    /// The date it names; the message when it names none (`2026-02-30`).
    pub fn date(&self) -> Result<chrono::NaiveDate, &'static str> {
        self.parse().and_then(|s| {
            chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                .map_err(|_| "must be a date written YYYY-MM-DD")
        })
    }
}

pattern_text!(
    /// An image address: http or https, a host name, an optional port and path; or one of
    /// the pictures this server serves itself (`/static/img/rice.svg`).
    ImageUrl,
    r"^(https?://([A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*(:[0-9]{1,4})?(/[A-Za-z0-9._~%/-]*)?|/static/img/[A-Za-z0-9_-]+\.(svg|png|jpg))$",
    500,
    "must be an http or https URL (host name, optional port and path) or /static/img/NAME"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        let ok = |s: &str| Phone(s.into()).parse().is_ok();
        assert!(ok("13800138000"));
        assert!(ok("+86 138 0013 8000"));
        assert!(ok("0754-88881234"));
        assert!(ok("(0754) 8888 1234"));
        assert!(!ok("12345"));
        assert!(!ok("\t13800138000"));
        assert_eq!(
            Mobile("+86 138-0013-8000".into()).parse().unwrap(),
            "13800138000"
        );
        assert!(Mobile("12800138000".into()).parse().is_err());
    }

    #[test]
    fn every_pattern_compiles_for_the_server() {
        // the statics' `expect`s cannot fire at run time once these have run
        assert!(Carrier("顺丰冷运".into()).parse().is_ok());
        assert!(TrackingNumber("SF1234-5678".into()).parse().is_ok());
        assert!(SkuCode("RICE-5KG".into()).parse().is_ok());
        assert!(LotCode("L2026-11.A".into()).parse().is_ok());
        assert!(DateText("2026-02-28".into()).date().is_ok());
        assert!(DateText("2026-02-30".into()).date().is_err());
        assert!(ImageUrl("https://img.example.cn/rice.jpg".into())
            .parse()
            .is_ok());
        assert!(ImageUrl("javascript:alert(1)".into()).parse().is_err());
        assert!(ImageUrl("/static/img/rice.svg".into()).parse().is_ok());
        assert!(ImageUrl("/static/img/../app.css".into()).parse().is_err());
        assert!(ImageUrl("//evil.example/x.svg".into()).parse().is_err());
        assert!(crate::auth::domain::Email::parse("lin@shantou.cn").is_ok());
        assert!(crate::cooperatives::domain::CommissionRate::parse_request("0.03").is_some());
        assert!(crate::cooperatives::domain::CommissionRate::parse_request("1.5").is_none());
    }

    #[test]
    fn the_document_patterns_are_the_rules() {
        assert_eq!(PHONE_OR_BLANK.strip_prefix(r"^ {0,40}$|"), Some(PHONE));
        // the patterns are also valid for the server's regex engine, and agree with it
        let line = Regex::new(&line_pattern(10)).unwrap();
        let prose = Regex::new(&prose_pattern(10)).unwrap();
        for s in [
            "有机大米 5kg",
            "有机大米  ",
            " 有机大米",
            "  ",
            "",
            "a\u{85}",
            "a\tb",
            "十一个字的名字一二三四",
            "第一行\n第二行",
            "x\u{7}",
        ] {
            assert_eq!(
                line.is_match(s),
                Line::<10>(s.into()).parse().is_ok(),
                "line {s:?}"
            );
            assert_eq!(
                prose.is_match(s),
                Prose::<10>(s.into()).parse().is_ok(),
                "prose {s:?}"
            );
        }
    }
}
