//! A parcel's temperature readings as a small inline SVG, drawn on the server: the storage
//! class's safe band shaded green, readings joined by a line, excursions marked red. Only
//! numbers and fixed words go into the markup, so nothing a user typed can reach it.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use crate::catalogue::Storage;
use crate::fulfilment::domain::safe_band;

const W: f64 = 400.0;
const H: f64 = 200.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 30.0;

/// One reading: when, how cold, and whether it was outside the band.
pub struct Reading {
    pub at: DateTime<Utc>,
    pub celsius: f64,
    pub excursion: bool,
}

/// The chart, or `None` without readings.
pub fn temperature_svg(storage: Storage, readings: &[Reading]) -> Option<String> {
    if readings.is_empty() {
        return None;
    }
    let band = safe_band(storage);
    let mut lo = readings
        .iter()
        .map(|r| r.celsius)
        .fold(f64::INFINITY, f64::min);
    let mut hi = readings
        .iter()
        .map(|r| r.celsius)
        .fold(f64::NEG_INFINITY, f64::max);
    if let Some((b_lo, b_hi)) = band {
        hi = hi.max(b_hi);
        if b_lo.is_finite() {
            lo = lo.min(b_lo);
        }
    }
    lo = (lo - 2.0).floor();
    hi = (hi + 2.0).ceil();
    // readings in time order, evenly spaced: a parcel's readings are a handful, often minutes
    // apart then hours apart, and even spacing keeps each one visible
    let mut order: Vec<&Reading> = readings.iter().collect();
    order.sort_by_key(|r| r.at);
    let first = order.first()?.at;
    let last = order.last()?.at;
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let steps = (order.len().max(2) - 1) as f64;
    let x = |i: usize| {
        if order.len() == 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * (i as f64 / steps)
        }
    };
    let y = |c: f64| TOP + plot_h * ((hi - c) / (hi - lo));
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="运输温度曲线" xmlns="http://www.w3.org/2000/svg">"##
    );
    let _ = write!(
        s,
        r##"<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fafcfa" stroke="#dfe6e1"/>"##
    );
    if let Some((b_lo, b_hi)) = band {
        let top = y(b_hi.min(hi));
        let bottom = y(if b_lo.is_finite() { b_lo.max(lo) } else { lo });
        let _ = write!(
            s,
            r##"<rect x="{LEFT}" y="{top:.1}" width="{plot_w}" height="{:.1}" fill="#d7efdf"><title>安全温度区间</title></rect>"##,
            (bottom - top).max(0.0)
        );
    }
    // gridlines: four steps across the range
    for i in 0..=4 {
        let c = lo + (hi - lo) * f64::from(i) / 4.0;
        let yy = y(c);
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" x2="{:.1}" y1="{yy:.1}" y2="{yy:.1}" stroke="#e4e9e5"/><text x="{:.1}" y="{:.1}" font-size="12" text-anchor="end" fill="#5c6b63">{c:.0}°C</text>"##,
            W - RIGHT,
            LEFT - 4.0,
            yy + 4.0
        );
    }
    let points: Vec<String> = order
        .iter()
        .enumerate()
        .map(|(i, r)| format!("{:.1},{:.1}", x(i), y(r.celsius)))
        .collect();
    let _ = write!(
        s,
        r##"<polyline points="{}" fill="none" stroke="#1565c0" stroke-width="2"/>"##,
        points.join(" ")
    );
    for (i, r) in order.iter().enumerate() {
        let colour = if r.excursion { "#b3261e" } else { "#1565c0" };
        let _ = write!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="{}" fill="{colour}"><title>{:.1}°C</title></circle>"##,
            x(i),
            y(r.celsius),
            if r.excursion { 5 } else { 3 },
            r.celsius
        );
    }
    let china = chrono::FixedOffset::east_opt(8 * 3600)?;
    for (at, anchor, xx) in [(first, "start", LEFT), (last, "end", W - RIGHT)] {
        let _ = write!(
            s,
            r##"<text x="{xx}" y="{:.1}" font-size="12" text-anchor="{anchor}" fill="#5c6b63">{}</text>"##,
            H - 10.0,
            at.with_timezone(&china).format("%m-%d %H:%M")
        );
    }
    s.push_str("</svg>");
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32) -> DateTime<Utc> {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 20)
            .and_then(|d| d.and_hms_opt(h, 0, 0))
            .map(|t| t.and_utc())
            .unwrap_or_default()
    }

    #[test]
    fn frozen_parcel_shades_its_band_and_marks_the_warm_reading() {
        let readings = [
            Reading {
                at: at(1),
                celsius: -20.0,
                excursion: false,
            },
            Reading {
                at: at(5),
                celsius: -12.5,
                excursion: true,
            },
            Reading {
                at: at(9),
                celsius: -19.0,
                excursion: false,
            },
        ];
        let svg = temperature_svg(Storage::Frozen, &readings).unwrap_or_default();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("安全温度区间"), "the band is drawn");
        assert_eq!(svg.matches("<circle").count(), 3);
        assert_eq!(svg.matches("#b3261e").count(), 1, "one excursion in red");
        assert!(svg.contains("-12.5°C"));
    }

    #[test]
    fn ambient_parcels_have_no_band_and_no_readings_no_chart() {
        let one = [Reading {
            at: at(1),
            celsius: 21.0,
            excursion: false,
        }];
        let svg = temperature_svg(Storage::Ambient, &one).unwrap_or_default();
        assert!(!svg.contains("安全温度区间"));
        assert!(temperature_svg(Storage::Chilled, &[]).is_none());
    }
}

/// Revenue by day as bars (one per day of the period, empty days included), drawn small
/// enough to read at 360 px; amounts in yuan.
pub fn daily_bars(days: &[(chrono::NaiveDate, crate::money::Money)]) -> String {
    const BW: f64 = 640.0;
    const BH: f64 = 240.0;
    const BL: f64 = 56.0;
    let plot_w = BW - BL - RIGHT;
    let plot_h = BH - TOP - BOTTOM;
    let top = days
        .iter()
        .map(|(_, m)| m.fen())
        .max()
        .unwrap_or(0)
        .max(100);
    // a round ceiling: 1, 2 or 5 × a power of ten yuan
    let mut ceiling: i64 = 100;
    while ceiling < top {
        ceiling = match ceiling.to_string().chars().next() {
            Some('1') => ceiling * 2,
            Some('2') => ceiling / 2 * 5,
            _ => ceiling * 2,
        };
    }
    let n = days.len().max(1) as f64;
    let slot = plot_w / n;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg class="chart chart-wide" viewBox="0 0 {BW} {BH}" role="img" aria-label="每日销售额" xmlns="http://www.w3.org/2000/svg">"##
    );
    for i in 0..=4 {
        let v = ceiling as f64 * f64::from(i) / 4.0;
        let y = TOP + plot_h * (1.0 - f64::from(i) / 4.0);
        let _ = write!(
            s,
            r##"<line x1="{BL}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="#e4e9e5"/><text x="{:.1}" y="{:.1}" font-size="12" text-anchor="end" fill="#5c6b63">¥{:.0}</text>"##,
            BW - RIGHT,
            BL - 4.0,
            y + 4.0,
            v / 100.0
        );
    }
    for (i, (day, amount)) in days.iter().enumerate() {
        let h = plot_h * (amount.fen() as f64 / ceiling as f64);
        let x = BL + slot * i as f64 + slot * 0.15;
        let _ = write!(
            s,
            r##"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="#1f6f4a"><title>{} ¥{}</title></rect>"##,
            TOP + plot_h - h,
            (slot * 0.7).max(1.0),
            day.format("%m-%d"),
            amount
        );
    }
    if let (Some((first, _)), Some((last, _))) = (days.first(), days.last()) {
        for (d, anchor, x) in [(first, "start", BL), (last, "end", BW - RIGHT)] {
            let _ = write!(
                s,
                r##"<text x="{x}" y="{:.1}" font-size="12" text-anchor="{anchor}" fill="#5c6b63">{}</text>"##,
                BH - 10.0,
                d.format("%m-%d")
            );
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod bar_tests {
    use super::*;
    use crate::money::Money;

    #[test]
    fn one_bar_a_day_scaled_to_a_round_ceiling() {
        let d = |n: u32| chrono::NaiveDate::from_ymd_opt(2026, 11, n).unwrap_or_default();
        let days = [
            (d(1), Money::from_fen(0)),
            (d(2), Money::from_fen(33_150)),
            (d(3), Money::from_fen(12_000)),
        ];
        let svg = daily_bars(&days);
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(
            svg.contains("¥500"),
            "331.50 rounds up to a ¥500 ceiling: {svg}"
        );
        assert!(svg.contains("11-02 ¥331.50"));
    }
}
