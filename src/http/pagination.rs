//! Cursor pagination: `?limit=&cursor=`, answered as `{items, next_cursor}`.
//! A cursor is the sort key of the last item shown, hex-encoded so clients treat it as opaque.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

#[derive(Debug, Deserialize, IntoParams)]
pub struct PageParams {
    /// Items per page (default 20, at most 100).
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// A validated page request.
#[derive(Debug, Clone)]
pub struct Page {
    pub limit: i64,
    pub after: Option<Vec<String>>,
}

impl Page {
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<Self, ApiError> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(n) if n < 1 => return Err(ApiError::field("limit", "must be at least 1")),
            Some(n) => n.min(MAX_LIMIT),
        };
        let after = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(decode_cursor(c)?),
        };
        Ok(Self { limit, after })
    }

    /// The `(time, id)` position of a cursor made by [`time_key`], for lists in time order.
    pub fn after_time(&self) -> Result<Option<(chrono::NaiveDateTime, String)>, ApiError> {
        let Some(after) = &self.after else {
            return Ok(None);
        };
        let bad = || ApiError::field("cursor", "is not a valid cursor");
        let [t, id] = <[String; 2]>::try_from(after.clone()).map_err(|_| bad())?;
        let t = chrono::NaiveDateTime::parse_from_str(&t, TIME_FORMAT).map_err(|_| bad())?;
        Ok(Some((t, id)))
    }

    /// Fetch one more than the page so we know whether another page follows.
    pub fn fetch_limit(&self) -> i64 {
        self.limit + 1
    }

    /// Trims the look-ahead row and builds the cursor from the last item shown.
    pub fn finish<T, F>(&self, mut rows: Vec<T>, key: F) -> Paginated<T>
    where
        F: Fn(&T) -> Vec<String>,
    {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next_cursor = if more {
            rows.last().map(|last| encode_cursor(&key(last)))
        } else {
            None
        };
        Paginated {
            items: rows,
            next_cursor,
        }
    }
}

impl TryFrom<PageParams> for Page {
    type Error = ApiError;
    fn try_from(p: PageParams) -> Result<Self, ApiError> {
        Page::parse(p.limit, p.cursor.as_deref())
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Paginated<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Paginated<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paginated<U> {
        Paginated {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

/// How cursor times are written: microseconds, as stored.
pub const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6f";

/// The cursor key of an item in a list ordered by (time, id).
pub fn time_key(t: chrono::NaiveDateTime, id: impl std::fmt::Display) -> Vec<String> {
    vec![t.format(TIME_FORMAT).to_string(), id.to_string()]
}

pub fn encode_cursor(parts: &[String]) -> String {
    hex::encode(parts.join("\u{1f}"))
}

pub fn decode_cursor(raw: &str) -> Result<Vec<String>, ApiError> {
    let bytes = hex::decode(raw).map_err(|_| ApiError::field("cursor", "is not a valid cursor"))?;
    let text =
        String::from_utf8(bytes).map_err(|_| ApiError::field("cursor", "is not a valid cursor"))?;
    let parts: Vec<String> = text.split('\u{1f}').map(str::to_owned).collect();
    // the separator is a control character; inside a part none may be
    if parts
        .iter()
        .any(|p| super::validate::has_forbidden_control(p))
    {
        return Err(ApiError::field("cursor", "is not a valid cursor"));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let parts = vec!["2026-11-24T03:10:00".to_string(), "abc".to_string()];
        assert_eq!(decode_cursor(&encode_cursor(&parts)).unwrap(), parts);
    }

    #[test]
    fn limit_is_capped_and_checked() {
        assert_eq!(Page::parse(Some(500), None).unwrap().limit, 100);
        assert_eq!(Page::parse(None, None).unwrap().limit, 20);
        assert!(Page::parse(Some(0), None).is_err());
        assert!(Page::parse(None, Some("zz")).is_err());
    }

    #[test]
    fn finish_sets_cursor_only_when_more() {
        let page = Page::parse(Some(2), None).unwrap();
        let p = page.finish(vec![1, 2, 3], |n| vec![n.to_string()]);
        assert_eq!(p.items, vec![1, 2]);
        assert_eq!(
            decode_cursor(p.next_cursor.as_deref().unwrap()).unwrap(),
            vec!["2"]
        );
        let p = page.finish(vec![1, 2], |n| vec![n.to_string()]);
        assert!(p.next_cursor.is_none());
    }
}
