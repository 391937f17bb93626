//! `Upstash-Cron`: five-field cron expressions with an optional `CRON_TZ=Area/City`
//! prefix, and the next firing after a given instant.
//!
//! Fields are minute, hour, day of month, month and day of week. Each takes `*`, a
//! value, a range `a-b`, a step `*/n`, `a-b/n` or `a/n`, and comma-separated lists of
//! those; months and weekdays also take three-letter names, and 7 is Sunday like 0.
//! When both day fields are restricted, a day matches either, as in classic cron. The
//! macros `@yearly`, `@monthly`, `@weekly`, `@daily` and `@hourly` are accepted too.
//! Without a prefix the expression runs in UTC. Time zones come from the IANA database
//! bundled into the binary, so every machine computes the same firings.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use std::fmt;

/// Why a cron expression was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronError(String);

impl fmt::Display for CronError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CronError {}

fn error(message: impl Into<String>) -> CronError {
    CronError(message.into())
}

/// A parsed cron expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Cron {
    zone: TimeZone,
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    any_day: bool,
    any_weekday: bool,
}

struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const MINUTE: Field = Field {
    name: "minute",
    min: 0,
    max: 59,
    names: &[],
};
const HOUR: Field = Field {
    name: "hour",
    min: 0,
    max: 23,
    names: &[],
};
const DAY: Field = Field {
    name: "day of month",
    min: 1,
    max: 31,
    names: &[],
};
const MONTH: Field = Field {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ],
};
const WEEKDAY: Field = Field {
    name: "day of week",
    min: 0,
    max: 7,
    names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
};

/// How far ahead a next firing is looked for before giving up (e.g. `0 0 30 2 *`).
const SEARCH_YEARS: i16 = 8;

impl Cron {
    /// Parses an expression such as `*/5 * * * *` or `CRON_TZ=Europe/Berlin 0 9 * * MON`.
    ///
    /// # Errors
    /// A [`CronError`] naming the field and the part that is wrong.
    pub fn parse(expression: &str) -> Result<Cron, CronError> {
        let trimmed = expression.trim();
        let (zone, rest) = match trimmed.strip_prefix("CRON_TZ=") {
            Some(rest) => {
                let (name, rest) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                let zone = TimeZone::get(name)
                    .map_err(|_| error(format!("`{name}` is not a known time zone")))?;
                (zone, rest.trim())
            }
            None => (TimeZone::UTC, trimmed),
        };
        let expanded = expand_macro(rest)?;
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        let [minute, hour, day, month, weekday] = fields[..] else {
            return Err(error(format!(
                "`{rest}` has {} fields; expected 5 (minute hour day-of-month month \
                 day-of-week)",
                fields.len()
            )));
        };
        let mut weekdays = parse_field(&WEEKDAY, weekday)?;
        // 7 is another name for Sunday.
        if weekdays & (1 << 7) != 0 {
            weekdays = (weekdays | 1) & !(1 << 7);
        }
        Ok(Cron {
            zone,
            minutes: parse_field(&MINUTE, minute)?,
            hours: parse_field(&HOUR, hour)?,
            days: parse_field(&DAY, day)?,
            months: parse_field(&MONTH, month)?,
            weekdays,
            any_day: day == "*" || day == "?",
            any_weekday: weekday == "*" || weekday == "?",
        })
    }

    /// The first firing strictly after `unix_ms`, in unix ms, or `None` when there is
    /// none in the next eight years.
    pub fn next_after(&self, unix_ms: u64) -> Option<u64> {
        let minute_ms = 60_000;
        let start = (unix_ms / minute_ms + 1) * minute_ms;
        let mut at = Timestamp::from_millisecond(i64::try_from(start).ok()?).ok()?;
        let horizon = at.to_zoned(self.zone.clone()).year() + SEARCH_YEARS;
        loop {
            let local = at.to_zoned(self.zone.clone());
            if local.year() > horizon {
                return None;
            }
            let date = local.date();
            at = if !has(self.months, local.month() as u32) {
                self.midnight(first_of_next_month(date)?)?
            } else if !self.day_matches(date) {
                self.midnight(date.tomorrow().ok()?)?
            } else if !has(self.hours, local.hour() as u32) {
                let left = 60 - i64::from(local.minute());
                at.checked_add(left.minutes()).ok()?
            } else if !has(self.minutes, local.minute() as u32) {
                at.checked_add(1.minute()).ok()?
            } else {
                return u64::try_from(at.as_millisecond()).ok();
            };
        }
    }

    fn day_matches(&self, date: Date) -> bool {
        let day = has(self.days, date.day() as u32);
        let weekday = has(self.weekdays, date.weekday().to_sunday_zero_offset() as u32);
        match (self.any_day, self.any_weekday) {
            (true, true) => true,
            (true, false) => weekday,
            (false, true) => day,
            (false, false) => day || weekday,
        }
    }

    /// The first instant of `date` in the expression's zone (after a gap at midnight,
    /// the first instant that exists).
    fn midnight(&self, date: Date) -> Option<Timestamp> {
        let local = DateTime::from(date);
        local
            .to_zoned(self.zone.clone())
            .ok()
            .map(|zoned| zoned.timestamp())
    }
}

fn first_of_next_month(date: Date) -> Option<Date> {
    date.first_of_month().checked_add(1.month()).ok()
}

fn has(set: u64, value: u32) -> bool {
    set & (1 << value) != 0
}

fn expand_macro(expression: &str) -> Result<String, CronError> {
    if !expression.starts_with('@') {
        return Ok(expression.to_owned());
    }
    let fields = match expression.to_ascii_lowercase().as_str() {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        _ => {
            return Err(error(format!(
                "`{expression}` is not one of @yearly, @monthly, @weekly, @daily or @hourly"
            )))
        }
    };
    Ok(fields.to_owned())
}

fn parse_field(field: &Field, text: &str) -> Result<u64, CronError> {
    let mut set = 0u64;
    for part in text.split(',') {
        set |= parse_part(field, part)?;
    }
    Ok(set)
}

fn parse_part(field: &Field, part: &str) -> Result<u64, CronError> {
    let (range, step) = match part.split_once('/') {
        Some((range, step)) => {
            let step: u32 = step.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                error(format!(
                    "{}: step `{step}` in `{part}` is not a whole number above 0",
                    field.name
                ))
            })?;
            (range, step)
        }
        None => (part, 1),
    };
    let (low, high) = match range {
        "*" | "?" => (field.min, field.max),
        _ => match range.split_once('-') {
            Some((low, high)) => (value(field, low)?, value(field, high)?),
            // `a/n` runs from a to the end of the field.
            None if part.contains('/') => (value(field, range)?, field.max),
            None => {
                let single = value(field, range)?;
                (single, single)
            }
        },
    };
    if low > high {
        return Err(error(format!(
            "{}: range `{range}` runs backwards",
            field.name
        )));
    }
    Ok((low..=high)
        .step_by(step as usize)
        .fold(0u64, |set, v| set | (1 << v)))
}

fn value(field: &Field, text: &str) -> Result<u32, CronError> {
    let upper = text.to_ascii_uppercase();
    let named = field
        .names
        .iter()
        .position(|name| *name == upper)
        .map(|index| index as u32 + field.min);
    let parsed = named.or_else(|| text.parse().ok());
    match parsed {
        Some(v) if (field.min..=field.max).contains(&v) => Ok(v),
        _ => Err(error(format!(
            "{}: `{text}` is not a value from {} to {}",
            field.name, field.min, field.max
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2030-01-01T00:00:00Z, a Tuesday.
    const NEW_YEAR_2030: u64 = 1_893_456_000_000;
    const MINUTE_MS: u64 = 60_000;
    const HOUR_MS: u64 = 60 * MINUTE_MS;
    const DAY_MS: u64 = 24 * HOUR_MS;

    fn next(expression: &str, after: u64) -> u64 {
        Cron::parse(expression).unwrap().next_after(after).unwrap()
    }

    #[test]
    fn every_minute_fires_at_the_next_whole_minute() {
        assert_eq!(next("* * * * *", NEW_YEAR_2030), NEW_YEAR_2030 + MINUTE_MS);
        assert_eq!(
            next("* * * * *", NEW_YEAR_2030 + 1),
            NEW_YEAR_2030 + MINUTE_MS
        );
    }

    #[test]
    fn a_daily_expression_fires_once_a_day_at_its_hour() {
        let first = next("30 9 * * *", NEW_YEAR_2030);

        assert_eq!(first, NEW_YEAR_2030 + 9 * HOUR_MS + 30 * MINUTE_MS);
        assert_eq!(next("30 9 * * *", first), first + DAY_MS);
    }

    #[test]
    fn steps_ranges_lists_and_names_are_understood() {
        assert_eq!(
            next("*/15 * * * *", NEW_YEAR_2030),
            NEW_YEAR_2030 + 15 * MINUTE_MS
        );
        assert_eq!(
            next("0 8-10/2 * * *", NEW_YEAR_2030),
            NEW_YEAR_2030 + 8 * HOUR_MS
        );
        // The first Friday after Tuesday 2030-01-01 is the 4th.
        assert_eq!(
            next("0 0 * * FRI", NEW_YEAR_2030),
            NEW_YEAR_2030 + 3 * DAY_MS
        );
        assert_eq!(
            next("0 0 1 feb *", NEW_YEAR_2030),
            NEW_YEAR_2030 + 31 * DAY_MS
        );
        assert_eq!(
            next("0 12 * * 7", NEW_YEAR_2030),
            next("0 12 * * 0", NEW_YEAR_2030)
        );
    }

    #[test]
    fn both_day_fields_restricted_match_either_day() {
        // The 3rd (a Thursday) comes before the first Monday, the 7th.
        assert_eq!(
            next("0 0 3 * MON", NEW_YEAR_2030),
            NEW_YEAR_2030 + 2 * DAY_MS
        );
    }

    #[test]
    fn a_time_zone_prefix_moves_the_firing_to_local_time() {
        // Berlin is UTC+1 in January: 09:00 local is 08:00 UTC.
        let berlin = next("CRON_TZ=Europe/Berlin 0 9 * * *", NEW_YEAR_2030);

        assert_eq!(berlin, NEW_YEAR_2030 + 8 * HOUR_MS);
    }

    #[test]
    fn macros_expand_to_their_fields() {
        assert_eq!(next("@daily", NEW_YEAR_2030), NEW_YEAR_2030 + DAY_MS);
        assert_eq!(next("@hourly", NEW_YEAR_2030), NEW_YEAR_2030 + HOUR_MS);
    }

    #[test]
    fn a_date_that_never_comes_has_no_next_firing() {
        assert_eq!(
            Cron::parse("0 0 30 2 *").unwrap().next_after(NEW_YEAR_2030),
            None
        );
    }

    #[test]
    fn malformed_expressions_say_which_field_is_wrong() {
        let cases = [
            ("* * * *", "has 4 fields"),
            ("61 * * * *", "minute: `61`"),
            ("* 5-2 * * *", "hour: range `5-2` runs backwards"),
            ("* * * * */0", "day of week: step `0`"),
            (
                "CRON_TZ=Mars/Olympus 0 * * * *",
                "`Mars/Olympus` is not a known time zone",
            ),
            ("@sometimes", "`@sometimes` is not one of"),
        ];

        for (expression, expected) in cases {
            let message = Cron::parse(expression).unwrap_err().to_string();
            assert!(message.contains(expected), "{expression}: {message}");
        }
    }
}
