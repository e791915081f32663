//! Calendar months in an organisation's time zone: giving allowances reset
//! at local midnight on the 1st, whatever the UTC offset or DST does.

use crate::{Error, Result};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// One calendar month in one time zone, as a half-open UTC interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Month {
    /// `YYYY-MM`
    pub label: String,
    /// First instant of the month (local midnight on the 1st), UTC milliseconds.
    pub start_ms: i64,
    /// First instant of the next month, UTC milliseconds (exclusive).
    pub end_ms: i64,
}

fn zone(tz: &str) -> Result<TimeZone> {
    TimeZone::get(tz).map_err(|_| Error::invalid("timezone", format!("unknown time zone '{tz}'")))
}

fn local_midnight_ms(date: Date, tz: &TimeZone) -> Result<i64> {
    // A day may start at 01:00 where DST begins at midnight; jiff resolves
    // the gap forwards, to the first instant that exists.
    date.to_zoned_datetime(tz.clone())
        .map(|z| z.timestamp().as_millisecond())
        .map_err(|e| Error::internal(format!("cannot place {date} in a time zone: {e}")))
}

/// The month that contains the instant `at_ms` in time zone `tz`.
pub fn month_of(at_ms: i64, tz: &str) -> Result<Month> {
    let tz = zone(tz)?;
    let at = Timestamp::from_millisecond(at_ms).map_err(|_| Error::invalid("time", "time out of range"))?;
    let first = at.to_zoned_datetime(tz.clone()).date().first_of_month();
    month_starting(first, &tz)
}

/// The month labelled `YYYY-MM` in time zone `tz`.
pub fn month_named(label: &str, tz: &str) -> Result<Month> {
    let bad = || Error::invalid("month", format!("'{label}' is not a month like 2026-11"));
    let (y, m) = label.split_once('-').ok_or_else(bad)?;
    if y.len() != 4 || m.len() != 2 {
        return Err(bad());
    }
    let first = Date::new(y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?, 1).map_err(|_| bad())?;
    month_starting(first, &zone(tz)?)
}

fn month_starting(first: Date, tz: &TimeZone) -> Result<Month> {
    let next = first.last_of_month().tomorrow().map_err(|_| Error::invalid("time", "time out of range"))?;
    Ok(Month {
        label: format!("{:04}-{:02}", first.year(), first.month()),
        start_ms: local_midnight_ms(first, tz)?,
        end_ms: local_midnight_ms(next, tz)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(rfc3339_with_zone: &str) -> i64 {
        rfc3339_with_zone.parse::<jiff::ZonedDateTime>().unwrap().timestamp().as_millisecond()
    }

    #[test]
    fn the_last_millisecond_and_the_first_of_a_month() {
        for tz in ["America/Los_Angeles", "Europe/Oslo", "Asia/Tokyo"] {
            let before = ms(&format!("2026-11-30T23:59:59.999[{tz}]"));
            let after = ms(&format!("2026-12-01T00:00:00.000[{tz}]"));
            assert_eq!(after - before, 1);
            assert_eq!(month_of(before, tz).unwrap().label, "2026-11", "{tz}");
            let dec = month_of(after, tz).unwrap();
            assert_eq!((dec.label.as_str(), dec.start_ms), ("2026-12", after), "{tz}");
            assert_eq!(month_of(before, tz).unwrap().end_ms, after);
        }
    }

    #[test]
    fn the_same_instant_is_in_different_months_in_different_zones() {
        // 2026-12-01 05:00 UTC: December in Oslo and Tokyo, still November in Los Angeles.
        let t = ms("2026-12-01T05:00:00[UTC]");
        assert_eq!(month_of(t, "Europe/Oslo").unwrap().label, "2026-12");
        assert_eq!(month_of(t, "Asia/Tokyo").unwrap().label, "2026-12");
        assert_eq!(month_of(t, "America/Los_Angeles").unwrap().label, "2026-11");
    }

    #[test]
    fn months_with_a_dst_change_are_an_hour_short_or_long() {
        let hour = 3_600_000;
        let march = month_named("2026-03", "Europe/Oslo").unwrap(); // DST starts 29 March
        assert_eq!(march.end_ms - march.start_ms, 31 * 24 * hour - hour);
        let october = month_named("2026-10", "Europe/Oslo").unwrap(); // DST ends 25 October
        assert_eq!(october.end_ms - october.start_ms, 31 * 24 * hour + hour);
        let la = month_named("2026-03", "America/Los_Angeles").unwrap(); // DST starts 8 March
        assert_eq!(la.end_ms - la.start_ms, 31 * 24 * hour - hour);
        let tokyo = month_named("2026-03", "Asia/Tokyo").unwrap();
        assert_eq!(tokyo.end_ms - tokyo.start_ms, 31 * 24 * hour);
        assert_eq!(tokyo.start_ms, ms("2026-02-28T15:00:00[UTC]"));
    }

    #[test]
    fn bad_month_labels_are_refused() {
        for bad in ["2026-13", "2026-1", "26-01", "2026/01", ""] {
            assert_eq!(month_named(bad, "UTC").unwrap_err().field.as_deref(), Some("month"), "{bad}");
        }
    }
}
