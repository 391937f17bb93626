//! Lenient decoders for fields whose JSON type differs between sources.
//!
//! QStash documents timestamps as numbers of milliseconds, but some examples
//! quote them as strings; both are accepted everywhere.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use time::OffsetDateTime;

/// An integer that may arrive as a JSON number or as a numeric string.
struct LenientInteger;

impl<'de> Visitor<'de> for LenientInteger {
    type Value = Option<i128>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer, a numeric string or null")
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(Some(value.into()))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(Some(value.into()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        // Saturating float-to-int conversion is what is wanted here.
        Ok(Some(value as i128))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Ok(None);
        }
        trimmed
            .parse::<i128>()
            .map(Some)
            .map_err(|_| E::invalid_value(de::Unexpected::Str(value), &self))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(LenientInteger)
    }
}

/// Milliseconds since the epoch, as a number or a string, into a time.
pub(crate) fn millis<'de, D>(deserializer: D) -> Result<Option<OffsetDateTime>, D::Error>
where
    D: Deserializer<'de>,
{
    let Some(ms) = deserializer.deserialize_any(LenientInteger)? else {
        return Ok(None);
    };
    OffsetDateTime::from_unix_timestamp_nanos(ms * 1_000_000)
        .map(Some)
        .map_err(de::Error::custom)
}

/// A count or limit, as a number or a string.
pub(crate) fn integer<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i128>,
{
    let Some(value) = deserializer.deserialize_any(LenientInteger)? else {
        return Ok(None);
    };
    T::try_from(value)
        .map(Some)
        .map_err(|_| de::Error::custom(format!("{value} is out of range")))
}

/// A header value list that some sources send as a single string.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// A header map, `{name: [values]}` or `{name: value}`, or null.
pub(crate) fn header_map<'de, D>(deserializer: D) -> Result<BTreeMap<String, Vec<String>>, D::Error>
where
    D: Deserializer<'de>,
{
    let raw: Option<BTreeMap<String, OneOrMany>> = Option::deserialize(deserializer)?;
    let map = raw
        .unwrap_or_default()
        .into_iter()
        .map(|(name, values)| match values {
            OneOrMany::One(value) => (name, vec![value]),
            OneOrMany::Many(values) => (name, values),
        })
        .collect();
    Ok(map)
}

/// A period: a number of seconds, or a text such as `60s` or `1h30m`.
pub(crate) fn period<'de, D>(deserializer: D) -> Result<Option<Duration>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Seconds(u64),
        Text(String),
    }

    let Some(raw) = Option::<Raw>::deserialize(deserializer)? else {
        return Ok(None);
    };
    match raw {
        Raw::Seconds(seconds) => Ok(Some(Duration::from_secs(seconds))),
        Raw::Text(text) => parse_period(&text)
            .map(Some)
            .ok_or_else(|| de::Error::custom(format!("{text:?} is not a period"))),
    }
}

/// Parses `<n><unit>` groups with units `s`, `m`, `h`, `d`; a bare number is seconds.
fn parse_period(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let mut total = 0u64;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            _ => return None,
        };
        let amount: u64 = digits.parse().ok()?;
        total = total.checked_add(amount.checked_mul(unit)?)?;
        digits.clear();
    }
    digits.is_empty().then_some(Duration::from_secs(total))
}

/// An empty string means "not set" in several QStash answers; an empty
/// cursor, for one, marks the last page like a missing one.
pub(crate) fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use time::OffsetDateTime;

    #[derive(Deserialize)]
    struct Stamp {
        #[serde(default, deserialize_with = "super::millis")]
        at: Option<OffsetDateTime>,
    }

    fn at(json: &str) -> Option<i128> {
        let stamp: Stamp = serde_json::from_str(json).unwrap();
        stamp.at.map(|at| at.unix_timestamp_nanos() / 1_000_000)
    }

    #[test]
    fn a_timestamp_is_read_from_a_number_or_a_string() {
        assert_eq!(at(r#"{"at":1701198458025}"#), Some(1_701_198_458_025));
        assert_eq!(at(r#"{"at":"1701198458025"}"#), Some(1_701_198_458_025));
        assert_eq!(at(r#"{"at":null}"#), None);
        assert_eq!(at(r#"{}"#), None);
    }

    #[test]
    fn a_period_is_read_from_seconds_or_unit_text() {
        assert_eq!(
            super::parse_period("60"),
            Some(std::time::Duration::from_secs(60))
        );
        assert_eq!(
            super::parse_period("1h30m"),
            Some(std::time::Duration::from_secs(5400))
        );
        assert_eq!(super::parse_period("1w"), None);
    }

    #[test]
    fn a_timestamp_that_is_not_a_number_is_an_error() {
        let result = serde_json::from_str::<Stamp>(r#"{"at":"yesterday"}"#);

        assert!(result.is_err());
    }
}
