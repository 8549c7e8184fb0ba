//! Cold-truck timetables and the dates they give a parcel. A co-op's truck leaves on fixed
//! weekdays; an order placed before a departure's cut-off (China time) and fitting in what is
//! left of its capacity ships on it. The booked weight lives in `departure_bookings`, taken
//! with one conditional upsert, so concurrent orders never overfill a truck.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;
use diesel::upsert::excluded;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::departure_bookings;
use crate::db::DbConn;
use crate::http::error::ApiError;
use crate::http::validate::Fields;
use crate::ids::CooperativeId;

/// China Standard Time is UTC+8 all year.
pub fn china_time(utc: NaiveDateTime) -> NaiveDateTime {
    utc + Duration::hours(8)
}

/// How far ahead a parcel looks for a truck with room.
pub const HORIZON_DAYS: i64 = 56;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DepartureEntry {
    /// ISO weekday: Monday = 1 … Sunday = 7
    #[schema(minimum = 1, maximum = 7)]
    pub weekday: i64,
    /// Orders placed before this time (China time) on that day ship on it
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub cutoff: String,
    /// What the truck takes, in kg of goods
    #[schema(minimum = 1, maximum = 100_000)]
    pub capacity_kg: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Timetable {
    #[schema(max_items = 28)]
    pub departures: Vec<DepartureEntry>,
}

/// One checked departure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Departure {
    pub weekday: u32,
    pub cutoff: NaiveTime,
    pub capacity_grams: i64,
}

impl Departure {
    pub fn cutoff_text(&self) -> String {
        self.cutoff.format("%H:%M").to_string()
    }
}

/// Checks a timetable: 422 naming each bad entry's field.
pub fn parse(t: &Timetable) -> Result<Vec<Departure>, ApiError> {
    let mut f = Fields::default();
    if t.departures.len() > 28 {
        f.push("departures", "at most 28 departures a week");
    }
    let mut out: Vec<Departure> = Vec::new();
    for (i, d) in t.departures.iter().enumerate() {
        let at = |k: &str| format!("departures[{i}].{k}");
        let weekday = (1..=7).contains(&d.weekday).then_some(d.weekday as u32);
        if weekday.is_none() {
            f.push(at("weekday"), "must be 1 (Monday) to 7 (Sunday)");
        }
        let cutoff = parse_cutoff(&d.cutoff);
        if cutoff.is_none() {
            f.push(at("cutoff"), "must be a time HH:MM (China time)");
        }
        if !(1..=100_000).contains(&d.capacity_kg) {
            f.push(
                at("capacity_kg"),
                "must be a whole number of kg from 1 to 100000",
            );
        }
        if let (Some(weekday), Some(cutoff)) = (weekday, cutoff) {
            if out
                .iter()
                .any(|o| o.weekday == weekday && o.cutoff == cutoff)
            {
                f.push(
                    format!("departures[{i}]"),
                    "the same weekday and cut-off twice",
                );
            }
            out.push(Departure {
                weekday,
                cutoff,
                capacity_grams: d.capacity_kg.clamp(1, 100_000) * 1000,
            });
        }
    }
    let mut out = f.finish(Some(out))?;
    out.sort_by_key(|d| (d.weekday, d.cutoff));
    Ok(out)
}

fn parse_cutoff(raw: &str) -> Option<NaiveTime> {
    let (h, m) = raw.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

/// The timetable as stored on the co-op (its JSON); a malformed one reads as none, since it
/// was checked when written.
pub fn from_stored(raw: Option<&str>) -> Vec<Departure> {
    raw.and_then(|r| serde_json::from_str::<Timetable>(r).ok())
        .and_then(|t| parse(&t).ok())
        .unwrap_or_default()
}

/// Departures whose cut-off is after `now` (China time), soonest first, for `days` days.
pub fn upcoming(
    timetable: &[Departure],
    now: NaiveDateTime,
    days: i64,
) -> Vec<(NaiveDate, Departure)> {
    let mut out = Vec::new();
    for offset in 0..days {
        let date = now.date() + Duration::days(offset);
        for d in timetable {
            if d.weekday == date.weekday().number_from_monday() && date.and_time(d.cutoff) > now {
                out.push((date, *d));
            }
        }
    }
    out.sort_by_key(|(date, d)| (*date, d.cutoff));
    out
}

/// Without a timetable a parcel ships the next day.
pub fn next_day(now: NaiveDateTime) -> NaiveDate {
    now.date() + Duration::days(1)
}

/// Where a fulfilment's goods ride: the date, and the departure's cut-off when weight is held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub ship_by: NaiveDate,
    pub cutoff: Option<String>,
}

fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn no_room(weight_grams: i64) -> ApiError {
    ApiError::Conflict(format!(
        "no departure in the next {} days has room for {} kg",
        HORIZON_DAYS,
        (weight_grams + 999) / 1000
    ))
}

/// The departure `weight_grams` of a co-op's goods get after `now`: booked (taking the
/// capacity with the caller's transaction) or only looked up (a checkout preview). Without a
/// timetable, the next day.
pub fn slot_for(
    conn: &mut DbConn,
    cooperative_id: CooperativeId,
    timetable: &[Departure],
    now: NaiveDateTime,
    weight_grams: i64,
    booking: bool,
) -> Result<Slot, ApiError> {
    if timetable.is_empty() {
        Ok(Slot {
            ship_by: next_day(now),
            cutoff: None,
        })
    } else if booking {
        book(conn, cooperative_id, timetable, now, weight_grams)
    } else {
        peek(conn, cooperative_id, timetable, now, weight_grams)
    }
}

/// Books `weight_grams` on the first departure with room, taking the capacity atomically.
fn book(
    conn: &mut DbConn,
    cooperative_id: CooperativeId,
    timetable: &[Departure],
    now: NaiveDateTime,
    weight_grams: i64,
) -> Result<Slot, ApiError> {
    for (date, d) in upcoming(timetable, now, HORIZON_DAYS) {
        if weight_grams > d.capacity_grams {
            continue;
        }
        let cutoff = d.cutoff_text();
        let values = (
            departure_bookings::cooperative_id.eq(cooperative_id),
            departure_bookings::departs_on.eq(date_text(date)),
            departure_bookings::cutoff.eq(cutoff.clone()),
            departure_bookings::capacity_grams.eq(d.capacity_grams),
            departure_bookings::booked_grams.eq(weight_grams),
        );
        // one statement either way: the update happens only while the truck still has room
        // (the multi-backend has no ON CONFLICT, so the same statement on each connection)
        macro_rules! take {
            ($c:expr) => {
                diesel::query_dsl::methods::FilterDsl::filter(
                    diesel::insert_into(departure_bookings::table)
                        .values(values)
                        .on_conflict((
                            departure_bookings::cooperative_id,
                            departure_bookings::departs_on,
                            departure_bookings::cutoff,
                        ))
                        .do_update()
                        .set(
                            departure_bookings::booked_grams.eq(departure_bookings::booked_grams
                                + excluded(departure_bookings::booked_grams)),
                        ),
                    (departure_bookings::booked_grams + excluded(departure_bookings::booked_grams))
                        .le(departure_bookings::capacity_grams),
                )
                .execute($c)?
            };
        }
        let taken = match conn {
            DbConn::Pg(c) => take!(c),
            DbConn::Sqlite(c) => take!(c),
        };
        if taken == 1 {
            return Ok(Slot {
                ship_by: date,
                cutoff: Some(cutoff),
            });
        }
    }
    Err(no_room(weight_grams))
}

/// The departure a fulfilment would get now, without booking (checkout preview).
fn peek(
    conn: &mut DbConn,
    cooperative_id: CooperativeId,
    timetable: &[Departure],
    now: NaiveDateTime,
    weight_grams: i64,
) -> Result<Slot, ApiError> {
    let booked: Vec<(String, String, i64)> = departure_bookings::table
        .filter(departure_bookings::cooperative_id.eq(cooperative_id))
        .filter(departure_bookings::departs_on.ge(date_text(now.date())))
        .select((
            departure_bookings::departs_on,
            departure_bookings::cutoff,
            departure_bookings::booked_grams,
        ))
        .load(conn)?;
    for (date, d) in upcoming(timetable, now, HORIZON_DAYS) {
        let cutoff = d.cutoff_text();
        let day = date_text(date);
        let used = booked
            .iter()
            .find(|(on, c, _)| *on == day && *c == cutoff)
            .map_or(0, |b| b.2);
        if used + weight_grams <= d.capacity_grams {
            return Ok(Slot {
                ship_by: date,
                cutoff: Some(cutoff),
            });
        }
    }
    Err(no_room(weight_grams))
}

/// Gives a cancelled fulfilment's weight back to its truck.
pub fn release(
    conn: &mut DbConn,
    cooperative_id: CooperativeId,
    ship_by: &str,
    cutoff: &str,
    weight_grams: i64,
) -> Result<(), ApiError> {
    diesel::update(
        departure_bookings::table
            .filter(departure_bookings::cooperative_id.eq(cooperative_id))
            .filter(departure_bookings::departs_on.eq(ship_by))
            .filter(departure_bookings::cutoff.eq(cutoff))
            .filter(departure_bookings::booked_grams.ge(weight_grams)),
    )
    .set(departure_bookings::booked_grams.eq(departure_bookings::booked_grams - weight_grams))
    .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn dep(weekday: u32, cutoff: &str) -> Departure {
        Departure {
            weekday,
            cutoff: parse_cutoff(cutoff).unwrap(),
            capacity_grams: 1000,
        }
    }

    fn days(t: &[Departure], now: &str, n: usize) -> Vec<String> {
        upcoming(t, at(now), 28)
            .into_iter()
            .take(n)
            .map(|(d, dep)| format!("{} {}", d, dep.cutoff_text()))
            .collect()
    }

    #[test]
    fn the_first_departure_whose_cutoff_has_not_passed() {
        // 2026-12-01 is a Tuesday
        let t = [dep(2, "18:00"), dep(5, "18:00")];
        assert_eq!(days(&t, "2026-12-01 17:59", 1), ["2026-12-01 18:00"]);
        assert_eq!(days(&t, "2026-12-01 18:00", 1), ["2026-12-04 18:00"]);
        assert_eq!(
            days(&t, "2026-12-04 18:30", 2),
            ["2026-12-08 18:00", "2026-12-11 18:00"]
        );
    }

    #[test]
    fn late_evening_cutoffs_and_the_day_after() {
        // a Saturday 23:30 departure; an order at 00:10 on Sunday waits a week
        let t = [dep(6, "23:30")];
        assert_eq!(days(&t, "2026-12-05 23:29", 1), ["2026-12-05 23:30"]);
        assert_eq!(days(&t, "2026-12-06 00:10", 1), ["2026-12-12 23:30"]);
        // Sunday to Monday wraps the week
        let t = [dep(1, "09:00")];
        assert_eq!(days(&t, "2026-12-06 12:00", 1), ["2026-12-07 09:00"]);
        // 23:50 UTC on Saturday is 07:50 on Sunday in China
        assert_eq!(china_time(at("2026-12-05 23:50")), at("2026-12-06 07:50"));
    }

    #[test]
    fn a_single_weekday_repeats_weekly() {
        let t = [dep(3, "12:00")];
        assert_eq!(
            days(&t, "2026-12-02 12:01", 3),
            ["2026-12-09 12:00", "2026-12-16 12:00", "2026-12-23 12:00"]
        );
        assert_eq!(next_day(at("2026-12-31 23:00")).to_string(), "2027-01-01");
    }

    #[test]
    fn bad_entries_are_named() {
        let t = Timetable {
            departures: vec![
                DepartureEntry {
                    weekday: 8,
                    cutoff: "18:00".into(),
                    capacity_kg: 10,
                },
                DepartureEntry {
                    weekday: 2,
                    cutoff: "24:00".into(),
                    capacity_kg: 0,
                },
            ],
        };
        let ApiError::Validation(e) = parse(&t).unwrap_err() else {
            panic!()
        };
        let fields: Vec<_> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "departures[0].weekday",
                "departures[1].cutoff",
                "departures[1].capacity_kg"
            ]
        );
    }
}
