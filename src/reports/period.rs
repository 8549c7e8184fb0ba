//! Calendar days and months in China Standard Time, as UTC ranges the database can compare.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};

/// China Standard Time is UTC+8 all year.
pub const CST_OFFSET_HOURS: i64 = 8;

/// The UTC instant at which a CST calendar day starts.
pub fn day_start_utc(day: NaiveDate) -> NaiveDateTime {
    day.and_hms_opt(0, 0, 0).unwrap_or_default() - Duration::hours(CST_OFFSET_HOURS)
}

/// The CST calendar day a stored UTC time falls on.
pub fn cst_day(t: NaiveDateTime) -> NaiveDate {
    (t + Duration::hours(CST_OFFSET_HOURS)).date()
}

pub fn parse_day(raw: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()
}

/// `[start, end)` in UTC for a `YYYY-MM` month in CST.
pub fn month_range(raw: &str) -> Option<(NaiveDateTime, NaiveDateTime)> {
    let first = NaiveDate::parse_from_str(&format!("{raw}-01"), "%Y-%m-%d").ok()?;
    if raw.len() != 7 {
        return None;
    }
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)?
    };
    Some((day_start_utc(first), day_start_utc(next)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cst_days_start_at_16_utc() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        assert_eq!(day_start_utc(d).to_string(), "2026-11-23 16:00:00");
        let late_utc = NaiveDate::from_ymd_opt(2026, 11, 23)
            .unwrap()
            .and_hms_opt(17, 0, 0)
            .unwrap();
        assert_eq!(cst_day(late_utc), d);
    }

    #[test]
    fn months() {
        let (a, b) = month_range("2026-12").unwrap();
        assert_eq!(a.to_string(), "2026-11-30 16:00:00");
        assert_eq!(b.to_string(), "2026-12-31 16:00:00");
        assert!(month_range("2026-13").is_none());
        assert!(month_range("2026-1").is_none());
    }
}
