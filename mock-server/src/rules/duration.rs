//! Duration strings: parsing the three syntaxes the mock accepts and
//! formatting milliseconds for reports.
//!
//! | Syntax | Used for | Example |
//! |---|---|---|
//! | [`parse_upstash_duration`] | `Upstash-Delay`, `Upstash-Timeout` | `1d10h30m`, `60` |
//! | [`parse_go_duration`] | delays in a destination's response headers | `6m5s`, `1.5h` |
//! | [`parse_human_duration`] | the control plane (`{"by": "1h30m"}`) | `1w2d`, `250ms` |
//!
//! All three return whole milliseconds. None of them trims whitespace: header
//! values arrive trimmed from the HTTP layer, and a stray space inside a value
//! is more likely a mistake than an intent.

/// Milliseconds in one second.
const SECOND_MS: u64 = 1_000;

/// Nanoseconds in one millisecond.
const MILLISECOND_NS: u128 = 1_000_000;

/// The largest duration Go's `time.Duration` can hold, in nanoseconds.
///
/// [`parse_go_duration`] and [`parse_human_duration`] reject anything longer,
/// as Go's `time.ParseDuration` does.
const GO_MAX_NS: u128 = i64::MAX as u128;

/// Fraction digits beyond this many cannot change the result by a whole
/// nanosecond, even for the largest unit (a week), so they are skipped.
const MAX_FRACTION_DIGITS: usize = 18;

/// Why a duration string was rejected.
///
/// The `Display` text names the input and says what was expected, ready to be
/// shown to API users after the name of the field it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DurationError {
    /// The input was the empty string.
    #[error("empty duration, expected a number with a unit such as `30s`")]
    Empty,

    /// The input started with `-`.
    #[error(
        "invalid duration `{input}`: negative durations are not allowed, expected zero or more"
    )]
    Negative {
        /// The rejected input.
        input: String,
    },

    /// A character appeared where it cannot.
    #[error("invalid duration `{input}`: unexpected `{found}` at position {position}, expected {expected}")]
    Unexpected {
        /// The rejected input.
        input: String,
        /// The offending character.
        found: char,
        /// Its 1-based character position in `input`.
        position: usize,
        /// What was allowed there.
        expected: &'static str,
    },

    /// The input stopped where more was needed.
    #[error("invalid duration `{input}`: unexpected end, expected {expected}")]
    UnexpectedEnd {
        /// The rejected input.
        input: String,
        /// What was needed at the end.
        expected: &'static str,
    },

    /// A number had a fractional part in a syntax that allows whole numbers only.
    #[error("invalid duration `{input}`: fractions are not allowed, expected whole numbers such as `90s`")]
    Fraction {
        /// The rejected input.
        input: String,
    },

    /// A number was not followed by a unit.
    #[error("invalid duration `{input}`: missing unit after `{number}`, expected {expected}")]
    MissingUnit {
        /// The rejected input.
        input: String,
        /// The number that lacks a unit, as written.
        number: String,
        /// The units of this syntax.
        expected: &'static str,
    },

    /// A unit was not one of the units of this syntax.
    #[error("invalid duration `{input}`: unknown unit `{unit}`, expected {expected}")]
    UnknownUnit {
        /// The rejected input.
        input: String,
        /// The unit as written.
        unit: String,
        /// The units of this syntax.
        expected: &'static str,
    },

    /// The duration is longer than this syntax can represent.
    #[error("invalid duration `{input}`: too large, expected at most {max}")]
    Overflow {
        /// The rejected input.
        input: String,
        /// The largest duration this syntax accepts, in words.
        max: &'static str,
    },
}

/// Parses the `Upstash-Delay` / `Upstash-Timeout` form into milliseconds.
///
/// The input is one or more `<integer><unit>` parts with units `s`, `m`, `h`
/// and `d`, summed: `50s`, `1d10h30m`, `0s`. A bare non-negative integer means
/// seconds, so `60` is one minute, as the official SDKs send it. Parts may
/// repeat or come in any order (`30m1h` is 90 minutes); units are lower case.
///
/// # Errors
///
/// Returns a [`DurationError`] for empty input, a leading `-`, fractions,
/// missing or unknown units, any other stray character, and totals that do not
/// fit in a `u64` of milliseconds.
///
/// # Examples
///
/// ```
/// use qstash_mock::rules::parse_upstash_duration;
///
/// assert_eq!(parse_upstash_duration("1d10h30m"), Ok(124_200_000));
/// assert_eq!(parse_upstash_duration("60"), Ok(60_000));
/// assert!(parse_upstash_duration("1.5h").is_err());
/// ```
pub fn parse_upstash_duration(input: &str) -> Result<u64, DurationError> {
    check_start(input)?;
    if input.bytes().all(|b| b.is_ascii_digit()) {
        let seconds = parse_integer(input).ok_or_else(|| upstash_overflow(input))?;
        return seconds
            .checked_mul(SECOND_MS)
            .ok_or_else(|| upstash_overflow(input));
    }

    let mut scanner = Scanner::new(input);
    let mut total_ms: u64 = 0;
    while !scanner.at_end() {
        let number = scanner.take_while(|c| c.is_ascii_digit());
        if number.is_empty() {
            return Err(scanner.unexpected("a digit"));
        }
        if scanner.peek() == Some('.') {
            return Err(DurationError::Fraction {
                input: input.to_owned(),
            });
        }
        let unit_ms = match scanner.take_unit(Syntax::Upstash, number)? {
            "s" => SECOND_MS,
            "m" => 60 * SECOND_MS,
            "h" => 3_600 * SECOND_MS,
            "d" => 86_400 * SECOND_MS,
            unit => return Err(unknown_unit(input, unit, Syntax::Upstash)),
        };
        total_ms = parse_integer(number)
            .and_then(|n| n.checked_mul(unit_ms))
            .and_then(|part| total_ms.checked_add(part))
            .ok_or_else(|| upstash_overflow(input))?;
    }
    Ok(total_ms)
}

/// Parses Go's `time.ParseDuration` syntax into whole milliseconds.
///
/// The input is one or more `<decimal><unit>` parts, summed, with units `ns`,
/// `us`, `µs` (micro sign), `μs` (Greek mu), `ms`, `s`, `m` and `h`: `6m5s`,
/// `1.5h`, `300ms`, `.5s`. A lone `0` is allowed and a leading `+` is ignored,
/// as in Go. The sum is taken in nanoseconds and then truncated to whole
/// milliseconds, so `1999us` is 1 ms.
///
/// # Errors
///
/// Returns a [`DurationError`] for empty input, a leading `-` (a negative wait
/// makes no sense here), numbers without a unit, unknown units, any other stray
/// character, and durations beyond Go's limit of about 292 years.
///
/// # Examples
///
/// ```
/// use qstash_mock::rules::parse_go_duration;
///
/// assert_eq!(parse_go_duration("6m5s"), Ok(365_000));
/// assert_eq!(parse_go_duration("1.5h"), Ok(5_400_000));
/// assert!(parse_go_duration("-1s").is_err());
/// ```
pub fn parse_go_duration(input: &str) -> Result<u64, DurationError> {
    parse_decimal_duration(input, Syntax::Go)
}

/// Parses the control plane's human form into whole milliseconds.
///
/// This is Go's syntax (see [`parse_go_duration`]) plus two longer units: `d`
/// (24 hours) and `w` (7 days). Examples: `2d`, `1w2d`, `1h30m`, `90s`,
/// `250ms`. Every string produced by [`format_duration_ms`] parses back to the
/// same value.
///
/// # Errors
///
/// The same as [`parse_go_duration`], with `d` and `w` counted as known units.
///
/// # Examples
///
/// ```
/// use qstash_mock::rules::parse_human_duration;
///
/// assert_eq!(parse_human_duration("1w2d"), Ok(777_600_000));
/// assert_eq!(parse_human_duration("250ms"), Ok(250));
/// ```
pub fn parse_human_duration(input: &str) -> Result<u64, DurationError> {
    parse_decimal_duration(input, Syntax::Human)
}

/// Formats milliseconds compactly for reports and explanations.
///
/// The rule: write days (`d`), hours (`h`), minutes (`m`), seconds (`s`) and
/// milliseconds (`ms`), largest first, leaving out every component that is
/// zero; zero itself is `0s`. So 148 000 is `2m28s`, 86 400 000 is `1d`,
/// 86 401 000 is `1d1s` and 12 500 is `12s500ms`. The output parses back with
/// [`parse_human_duration`].
///
/// # Examples
///
/// ```
/// use qstash_mock::rules::format_duration_ms;
///
/// assert_eq!(format_duration_ms(22_026_000), "6h7m6s");
/// assert_eq!(format_duration_ms(500), "500ms");
/// assert_eq!(format_duration_ms(0), "0s");
/// ```
pub fn format_duration_ms(ms: u64) -> String {
    if ms == 0 {
        return "0s".to_owned();
    }

    const COMPONENTS: [(u64, &str); 5] = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1_000, "s"),
        (1, "ms"),
    ];
    let mut out = String::new();
    let mut rest = ms;
    for (size, unit) in COMPONENTS {
        let count = rest / size;
        rest %= size;
        if count > 0 {
            out.push_str(&count.to_string());
            out.push_str(unit);
        }
    }
    out
}

/// Which of the three duration syntaxes is being parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    Upstash,
    Go,
    Human,
}

impl Syntax {
    /// The units of this syntax, as shown in error messages.
    fn units(self) -> &'static str {
        match self {
            Syntax::Upstash => "s, m, h or d",
            Syntax::Go => "ns, us, µs, ms, s, m or h",
            Syntax::Human => "ns, us, µs, ms, s, m, h, d or w",
        }
    }

    /// The length of `unit` in nanoseconds, if this syntax knows it.
    fn unit_ns(self, unit: &str) -> Option<u128> {
        const SECOND_NS: u128 = 1_000_000_000;
        let go = match unit {
            "ns" => Some(1),
            "us" | "µs" | "μs" => Some(1_000),
            "ms" => Some(MILLISECOND_NS),
            "s" => Some(SECOND_NS),
            "m" => Some(60 * SECOND_NS),
            "h" => Some(3_600 * SECOND_NS),
            _ => None,
        };
        match (self, unit) {
            (Syntax::Human, "d") => Some(86_400 * SECOND_NS),
            (Syntax::Human, "w") => Some(7 * 86_400 * SECOND_NS),
            _ => go,
        }
    }
}

/// Shared parser for the Go and human syntaxes.
fn parse_decimal_duration(input: &str, syntax: Syntax) -> Result<u64, DurationError> {
    check_start(input)?;
    if input == "0" {
        return Ok(0);
    }

    let mut scanner = Scanner::new(input);
    if scanner.peek() == Some('+') {
        scanner.bump();
    }
    if scanner.at_end() {
        return Err(scanner.unexpected_end("a number"));
    }

    let mut total_ns: u128 = 0;
    while !scanner.at_end() {
        let start = scanner.offset();
        let whole = scanner.take_while(|c| c.is_ascii_digit());
        let fraction = if scanner.peek() == Some('.') {
            scanner.bump();
            scanner.take_while(|c| c.is_ascii_digit())
        } else {
            ""
        };
        if whole.is_empty() && fraction.is_empty() {
            return Err(scanner.unexpected("a digit"));
        }
        let number = &input[start..scanner.offset()];
        let unit = scanner.take_unit(syntax, number)?;
        let unit_ns = syntax
            .unit_ns(unit)
            .ok_or_else(|| unknown_unit(input, unit, syntax))?;

        total_ns = decimal_part_ns(whole, fraction, unit_ns)
            .and_then(|part| total_ns.checked_add(part))
            .filter(|&total| total <= GO_MAX_NS)
            .ok_or_else(|| DurationError::Overflow {
                input: input.to_owned(),
                max: "about 292 years (2562047h)",
            })?;
    }
    let total_ms = total_ns / MILLISECOND_NS;
    Ok(u64::try_from(total_ms).expect("GO_MAX_NS in milliseconds fits in u64"))
}

/// `whole.fraction` units in nanoseconds, truncated; `None` on overflow.
fn decimal_part_ns(whole: &str, fraction: &str, unit_ns: u128) -> Option<u128> {
    let mut ns: u128 = 0;
    for digit in whole.bytes() {
        ns = ns.checked_mul(10)?.checked_add(u128::from(digit - b'0'))?;
        // Stop early: later digits only make it larger.
        if ns > GO_MAX_NS {
            return None;
        }
    }
    ns = ns.checked_mul(unit_ns)?;

    let fraction = &fraction[..fraction.len().min(MAX_FRACTION_DIGITS)];
    let mut numerator: u128 = 0;
    let mut scale: u128 = 1;
    for digit in fraction.bytes() {
        numerator = numerator * 10 + u128::from(digit - b'0');
        scale *= 10;
    }
    ns.checked_add(numerator * unit_ns / scale)
}

/// Rejects the empty string and a leading `-`, common to every syntax.
fn check_start(input: &str) -> Result<(), DurationError> {
    if input.is_empty() {
        return Err(DurationError::Empty);
    }
    if input.starts_with('-') {
        return Err(DurationError::Negative {
            input: input.to_owned(),
        });
    }
    Ok(())
}

/// Parses ASCII digits as a `u64`; `None` on overflow.
fn parse_integer(digits: &str) -> Option<u64> {
    digits.bytes().try_fold(0u64, |n, digit| {
        n.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
    })
}

fn unknown_unit(input: &str, unit: &str, syntax: Syntax) -> DurationError {
    DurationError::UnknownUnit {
        input: input.to_owned(),
        unit: unit.to_owned(),
        expected: syntax.units(),
    }
}

fn upstash_overflow(input: &str) -> DurationError {
    DurationError::Overflow {
        input: input.to_owned(),
        max: "18446744073709551615 milliseconds",
    }
}

/// A cursor over the characters of a duration string.
#[derive(Debug)]
struct Scanner<'a> {
    input: &'a str,
    offset: usize,
}

impl<'a> Scanner<'a> {
    fn new(input: &'a str) -> Self {
        Self { input, offset: 0 }
    }

    fn at_end(&self) -> bool {
        self.offset == self.input.len()
    }

    fn offset(&self) -> usize {
        self.offset
    }

    fn peek(&self) -> Option<char> {
        self.input[self.offset..].chars().next()
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.offset += c.len_utf8();
        }
    }

    /// Consumes the longest run of characters matching `keep`.
    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let start = self.offset;
        while self.peek().is_some_and(&keep) {
            self.bump();
        }
        &self.input[start..self.offset]
    }

    /// Consumes the unit after `number`: a run of letters, which must be
    /// followed by the end or by the next number.
    fn take_unit(&mut self, syntax: Syntax, number: &str) -> Result<&'a str, DurationError> {
        let unit = self.take_while(char::is_alphabetic);
        if unit.is_empty() {
            if self.at_end() {
                return Err(DurationError::MissingUnit {
                    input: self.input.to_owned(),
                    number: number.to_owned(),
                    expected: syntax.units(),
                });
            }
            return Err(self.unexpected("a unit"));
        }

        let next_starts_number = match self.peek() {
            None => true,
            Some(c) => c.is_ascii_digit() || (c == '.' && syntax != Syntax::Upstash),
        };
        if !next_starts_number {
            return Err(self.unexpected("a digit or the end"));
        }
        Ok(unit)
    }

    /// The error for the character under the cursor.
    fn unexpected(&self, expected: &'static str) -> DurationError {
        match self.peek() {
            None => self.unexpected_end(expected),
            Some(found) => DurationError::Unexpected {
                input: self.input.to_owned(),
                found,
                position: self.input[..self.offset].chars().count() + 1,
                expected,
            },
        }
    }

    /// The error for input that stops too early.
    fn unexpected_end(&self, expected: &'static str) -> DurationError {
        DurationError::UnexpectedEnd {
            input: self.input.to_owned(),
            expected,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000;
    const MINUTE: u64 = 60 * SECOND;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;

    fn message(result: Result<u64, DurationError>) -> String {
        result.expect_err("input should be rejected").to_string()
    }

    #[test]
    fn upstash_form_reads_single_parts_in_each_unit() {
        assert_eq!(parse_upstash_duration("50s"), Ok(50 * SECOND));
        assert_eq!(parse_upstash_duration("5m"), Ok(5 * MINUTE));
        assert_eq!(parse_upstash_duration("2h"), Ok(2 * HOUR));
        assert_eq!(parse_upstash_duration("3d"), Ok(3 * DAY));
        assert_eq!(parse_upstash_duration("0s"), Ok(0));
    }

    #[test]
    fn upstash_form_sums_combined_parts() {
        let result = parse_upstash_duration("1d10h30m");

        assert_eq!(result, Ok(DAY + 10 * HOUR + 30 * MINUTE));
    }

    #[test]
    fn upstash_form_accepts_repeated_and_unordered_parts() {
        assert_eq!(parse_upstash_duration("30m1h"), Ok(90 * MINUTE));
        assert_eq!(parse_upstash_duration("1s1s"), Ok(2 * SECOND));
    }

    #[test]
    fn upstash_form_reads_a_bare_integer_as_seconds() {
        assert_eq!(parse_upstash_duration("60"), Ok(60 * SECOND));
        assert_eq!(parse_upstash_duration("0"), Ok(0));
        assert_eq!(parse_upstash_duration("007"), Ok(7 * SECOND));
    }

    #[test]
    fn upstash_form_rejects_empty_input() {
        assert_eq!(parse_upstash_duration(""), Err(DurationError::Empty));
        assert_eq!(
            message(parse_upstash_duration("")),
            "empty duration, expected a number with a unit such as `30s`"
        );
    }

    #[test]
    fn upstash_form_rejects_negative_values() {
        assert_eq!(
            message(parse_upstash_duration("-5s")),
            "invalid duration `-5s`: negative durations are not allowed, expected zero or more"
        );
        assert!(matches!(
            parse_upstash_duration("-5"),
            Err(DurationError::Negative { .. })
        ));
    }

    #[test]
    fn upstash_form_rejects_fractions() {
        assert_eq!(
            message(parse_upstash_duration("1.5h")),
            "invalid duration `1.5h`: fractions are not allowed, expected whole numbers such as `90s`"
        );
        assert!(parse_upstash_duration("1.5").is_err());
    }

    #[test]
    fn upstash_form_rejects_units_it_does_not_know() {
        assert_eq!(
            message(parse_upstash_duration("5x")),
            "invalid duration `5x`: unknown unit `x`, expected s, m, h or d"
        );
        assert!(parse_upstash_duration("300ms").is_err());
        assert!(parse_upstash_duration("1w").is_err());
        assert!(parse_upstash_duration("5S").is_err());
    }

    #[test]
    fn upstash_form_rejects_a_number_without_unit_after_a_part() {
        assert_eq!(
            message(parse_upstash_duration("1m30")),
            "invalid duration `1m30`: missing unit after `30`, expected s, m, h or d"
        );
    }

    #[test]
    fn upstash_form_rejects_trailing_garbage_and_inner_spaces() {
        assert_eq!(
            message(parse_upstash_duration("5s!")),
            "invalid duration `5s!`: unexpected `!` at position 3, expected a digit or the end"
        );
        assert!(parse_upstash_duration("1d 10h").is_err());
        assert!(parse_upstash_duration(" 5s").is_err());
        assert!(parse_upstash_duration("5s ").is_err());
        assert!(parse_upstash_duration("5 s").is_err());
        assert!(parse_upstash_duration("s").is_err());
        assert!(parse_upstash_duration("+5s").is_err());
    }

    #[test]
    fn upstash_form_rejects_totals_that_overflow() {
        let huge_seconds = "18446744073709552";
        let too_many_digits = "99999999999999999999999s";
        let sum_overflows = "213503982334d213503982334d";

        assert!(matches!(
            parse_upstash_duration(huge_seconds),
            Err(DurationError::Overflow { .. })
        ));
        assert!(matches!(
            parse_upstash_duration(too_many_digits),
            Err(DurationError::Overflow { .. })
        ));
        assert!(matches!(
            parse_upstash_duration(sum_overflows),
            Err(DurationError::Overflow { .. })
        ));
        assert_eq!(
            parse_upstash_duration("18446744073709551s"),
            Ok(18_446_744_073_709_551_000)
        );
    }

    #[test]
    fn go_form_reads_every_unit() {
        assert_eq!(parse_go_duration("3000000ns"), Ok(3));
        assert_eq!(parse_go_duration("2000us"), Ok(2));
        assert_eq!(parse_go_duration("2000µs"), Ok(2));
        assert_eq!(parse_go_duration("2000μs"), Ok(2));
        assert_eq!(parse_go_duration("300ms"), Ok(300));
        assert_eq!(parse_go_duration("45s"), Ok(45 * SECOND));
        assert_eq!(parse_go_duration("6m"), Ok(6 * MINUTE));
        assert_eq!(parse_go_duration("2h"), Ok(2 * HOUR));
    }

    #[test]
    fn go_form_sums_combined_parts() {
        assert_eq!(parse_go_duration("6m5s"), Ok(6 * MINUTE + 5 * SECOND));
        assert_eq!(
            parse_go_duration("1h2m3s4ms"),
            Ok(HOUR + 2 * MINUTE + 3 * SECOND + 4)
        );
        assert_eq!(parse_go_duration("6m0s"), Ok(6 * MINUTE));
    }

    #[test]
    fn go_form_reads_fractions() {
        assert_eq!(parse_go_duration("1.5h"), Ok(90 * MINUTE));
        assert_eq!(parse_go_duration(".5s"), Ok(500));
        assert_eq!(parse_go_duration("1.s"), Ok(SECOND));
        assert_eq!(parse_go_duration("1h.5m"), Ok(HOUR + 30 * SECOND));
        assert_eq!(parse_go_duration("0.333333333333333333333333s"), Ok(333));
    }

    #[test]
    fn go_form_truncates_to_whole_milliseconds() {
        assert_eq!(parse_go_duration("1999us"), Ok(1));
        assert_eq!(parse_go_duration("999999ns"), Ok(0));
        assert_eq!(parse_go_duration("1.9999ms"), Ok(1));
    }

    #[test]
    fn go_form_accepts_a_lone_zero_and_a_leading_plus() {
        assert_eq!(parse_go_duration("0"), Ok(0));
        assert_eq!(parse_go_duration("+5s"), Ok(5 * SECOND));
    }

    #[test]
    fn go_form_rejects_a_leading_minus() {
        assert!(matches!(
            parse_go_duration("-1s"),
            Err(DurationError::Negative { .. })
        ));
        assert!(parse_go_duration("-0").is_err());
    }

    #[test]
    fn go_form_rejects_numbers_without_units() {
        assert_eq!(
            message(parse_go_duration("30")),
            "invalid duration `30`: missing unit after `30`, expected ns, us, µs, ms, s, m or h"
        );
        assert!(parse_go_duration("1.5").is_err());
        assert!(parse_go_duration("00").is_err());
    }

    #[test]
    fn go_form_rejects_units_of_the_other_syntaxes() {
        assert_eq!(
            message(parse_go_duration("2d")),
            "invalid duration `2d`: unknown unit `d`, expected ns, us, µs, ms, s, m or h"
        );
        assert!(parse_go_duration("1w").is_err());
        assert!(parse_go_duration("1H").is_err());
    }

    #[test]
    fn go_form_rejects_malformed_input() {
        assert_eq!(parse_go_duration(""), Err(DurationError::Empty));
        assert_eq!(
            message(parse_go_duration("+")),
            "invalid duration `+`: unexpected end, expected a number"
        );
        assert_eq!(
            message(parse_go_duration("5s.")),
            "invalid duration `5s.`: unexpected end, expected a digit"
        );
        assert_eq!(
            message(parse_go_duration("1.2.3s")),
            "invalid duration `1.2.3s`: unexpected `.` at position 4, expected a unit"
        );
        assert!(parse_go_duration(".s").is_err());
        assert!(parse_go_duration("5s 3m").is_err());
        assert!(parse_go_duration("s").is_err());
        assert!(parse_go_duration("++5s").is_err());
    }

    #[test]
    fn go_form_counts_positions_in_characters() {
        let result = parse_go_duration("5µs!");

        assert_eq!(
            result,
            Err(DurationError::Unexpected {
                input: "5µs!".to_owned(),
                found: '!',
                position: 4,
                expected: "a digit or the end",
            })
        );
    }

    #[test]
    fn go_form_rejects_durations_beyond_the_go_limit() {
        assert_eq!(parse_go_duration("2562047h"), Ok(2_562_047 * HOUR));
        assert_eq!(
            message(parse_go_duration("2562048h")),
            "invalid duration `2562048h`: too large, expected at most about 292 years (2562047h)"
        );
        assert!(parse_go_duration("99999999999999999999999999999999999999999ns").is_err());
        assert!(parse_go_duration("2562047h2562047h").is_err());
    }

    #[test]
    fn human_form_adds_days_and_weeks_to_go_syntax() {
        assert_eq!(parse_human_duration("2d"), Ok(2 * DAY));
        assert_eq!(parse_human_duration("1w2d"), Ok(9 * DAY));
        assert_eq!(parse_human_duration("1h30m"), Ok(90 * MINUTE));
        assert_eq!(parse_human_duration("90s"), Ok(90 * SECOND));
        assert_eq!(parse_human_duration("250ms"), Ok(250));
        assert_eq!(parse_human_duration("1.5d"), Ok(36 * HOUR));
        assert_eq!(parse_human_duration("0"), Ok(0));
    }

    #[test]
    fn human_form_rejects_bad_input_with_its_own_unit_list() {
        assert_eq!(
            message(parse_human_duration("3y")),
            "invalid duration `3y`: unknown unit `y`, expected ns, us, µs, ms, s, m, h, d or w"
        );
        assert!(parse_human_duration("-1h").is_err());
        assert!(parse_human_duration("").is_err());
        assert!(parse_human_duration("1h 30m").is_err());
    }

    #[test]
    fn formatting_zero_gives_zero_seconds() {
        assert_eq!(format_duration_ms(0), "0s");
    }

    #[test]
    fn formatting_matches_the_default_backoff_table() {
        assert_eq!(format_duration_ms(12_000), "12s");
        assert_eq!(format_duration_ms(148_000), "2m28s");
        assert_eq!(format_duration_ms(1_808_000), "30m8s");
        assert_eq!(format_duration_ms(22_026_000), "6h7m6s");
        assert_eq!(format_duration_ms(86_400_000), "1d");
    }

    #[test]
    fn formatting_omits_zero_components_and_keeps_milliseconds() {
        assert_eq!(format_duration_ms(500), "500ms");
        assert_eq!(format_duration_ms(12_500), "12s500ms");
        assert_eq!(format_duration_ms(86_401_000), "1d1s");
        assert_eq!(format_duration_ms(3 * DAY + 2 * HOUR), "3d2h");
        assert_eq!(format_duration_ms(HOUR + 1), "1h1ms");
    }

    #[test]
    fn formatting_handles_the_largest_value() {
        assert_eq!(format_duration_ms(u64::MAX), "213503982334d14h25m51s615ms");
    }

    #[test]
    fn formatted_durations_parse_back_to_the_same_value() {
        let samples = [
            1,
            999,
            1_000,
            12_500,
            148_000,
            86_400_000,
            86_401_001,
            987_654_321_012,
        ];

        for ms in samples {
            let text = format_duration_ms(ms);

            assert_eq!(parse_human_duration(&text), Ok(ms), "round trip of {text}");
        }
    }
}
