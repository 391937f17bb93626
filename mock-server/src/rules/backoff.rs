//! Choosing the wait before the next delivery attempt, and saying why.
//!
//! After a failed attempt the delay comes from, in order of precedence:
//!
//! 1. the destination's response headers `Retry-After`, `X-RateLimit-Reset`,
//!    `X-RateLimit-Reset-Requests` and `X-RateLimit-Reset-Tokens`, when one
//!    holds a usable value of at most one day;
//! 2. the message's `Upstash-Retry-Delay` expression;
//! 3. QStash's default backoff, `min(86400, e^(2.5·n))` seconds.
//!
//! The result, a [`RetryDelay`], records the rule that decided and every
//! header that was present but not used, so reports can explain each wait.

use serde::{Deserialize, Serialize};
use std::time::UNIX_EPOCH;

use super::duration::{format_duration_ms, parse_go_duration};
use super::expr::RetryDelayExpr;

/// The longest delay a response header may ask for: one day, in milliseconds.
///
/// The default backoff is capped at the same value. `Upstash-Retry-Delay`
/// expressions are not: whether QStash caps them is unconfirmed.
pub const MAX_RETRY_DELAY_MS: u64 = 86_400_000;

/// The response headers that can set the delay, in order of precedence.
pub const RETRY_AFTER_HEADERS: [&str; 4] = [
    "Retry-After",
    "X-RateLimit-Reset",
    "X-RateLimit-Reset-Requests",
    "X-RateLimit-Reset-Tokens",
];

/// The header name under which a failing expression is reported in
/// [`RetryDelay::ignored`].
pub const RETRY_DELAY_HEADER: &str = "Upstash-Retry-Delay";

/// QStash's default backoff before retry number `n`, in milliseconds.
///
/// The formula is `min(86400, e^(2.5·n))` seconds, where `n` is 1 for the
/// first retry. The seconds are truncated to a whole number before
/// multiplying by 1000, which reproduces QStash's published table: 12 s,
/// 2 m 28 s, 30 m 8 s, 6 h 7 m 6 s, then one day from `n = 5` on. `n = 0`
/// gives one second; large `n` saturates at [`MAX_RETRY_DELAY_MS`].
///
/// # Examples
///
/// ```
/// use qstash_mock::rules::default_backoff_ms;
///
/// assert_eq!(default_backoff_ms(2), 148_000);
/// assert_eq!(default_backoff_ms(u32::MAX), 86_400_000);
/// ```
pub fn default_backoff_ms(n: u32) -> u64 {
    let seconds = (2.5 * f64::from(n)).exp().min(86_400.0);
    // `seconds` lies in 1.0..=86400.0, so the cast is exact after truncation.
    seconds.trunc() as u64 * 1_000
}

/// Why a retry delay was chosen.
///
/// Serialized with a `rule` tag, for example
/// `{"rule":"expression","expression":"1000","retried":0}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "rule",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
#[non_exhaustive]
pub enum DelayRule {
    /// QStash's default formula, for retry number `n` (1 for the first).
    DefaultBackoff {
        /// The retry number fed into the formula.
        n: u32,
    },

    /// The message's `Upstash-Retry-Delay` expression.
    Expression {
        /// The expression's source text.
        expression: String,
        /// The `retried` value it was evaluated with.
        retried: u32,
    },

    /// A delay the destination asked for in a response header.
    ResponseHeader {
        /// The header name, spelled as in [`RETRY_AFTER_HEADERS`].
        header: String,
        /// The header value, trimmed.
        value: String,
    },
}

impl DelayRule {
    /// A one-line explanation of how this rule gave `delay_ms`.
    ///
    /// # Examples
    ///
    /// ```
    /// use qstash_mock::rules::DelayRule;
    ///
    /// let rule = DelayRule::DefaultBackoff { n: 2 };
    ///
    /// assert_eq!(rule.explain(148_000), "default backoff min(86400, e^(2.5*2)) s = 2m28s");
    /// ```
    pub fn explain(&self, delay_ms: u64) -> String {
        let delay = format_duration_ms(delay_ms);
        match self {
            DelayRule::DefaultBackoff { n } => {
                format!("default backoff min(86400, e^(2.5*{n})) s = {delay}")
            }
            DelayRule::Expression {
                expression,
                retried,
            } => format!("{RETRY_DELAY_HEADER} `{expression}` with retried={retried} = {delay}"),
            DelayRule::ResponseHeader { header, value } => {
                format!("response header {header}: {value} = {delay}")
            }
        }
    }
}

/// A delay source that was present but not used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IgnoredHeader {
    /// The header name, spelled as in [`RETRY_AFTER_HEADERS`], or
    /// [`RETRY_DELAY_HEADER`] for an expression that failed to evaluate.
    pub header: String,
    /// The value as received (trimmed), or the expression's source text.
    pub value: String,
    /// Why it was not used, in words.
    pub reason: String,
}

/// The wait before the next attempt, the rule that chose it, and what was
/// passed over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryDelay {
    /// How long to wait, in milliseconds.
    pub delay_ms: u64,
    /// The rule that chose `delay_ms`.
    pub rule: DelayRule,
    /// Delay sources that were present but not used, in the order tried.
    pub ignored: Vec<IgnoredHeader>,
}

impl RetryDelay {
    /// A one-line explanation of this delay; see [`DelayRule::explain`].
    pub fn explain(&self) -> String {
        self.rule.explain(self.delay_ms)
    }
}

/// Chooses the delay after a failed attempt.
///
/// `retried` is the failed attempt's `Upstash-Retried` value (0 for the first
/// attempt), `expression` the message's `Upstash-Retry-Delay`, and
/// `response_headers` the destination's response headers as name/value pairs.
/// `now_ms` is the current time in Unix milliseconds, used for HTTP dates.
///
/// The precedence:
///
/// 1. The first header of [`RETRY_AFTER_HEADERS`] (names compared without
///    regard to case, every occurrence tried in the order received) whose
///    value parses and asks for at most [`MAX_RETRY_DELAY_MS`]. A value is
///    integer seconds (`0` means at once), an HTTP date (the wait is the date
///    minus `now_ms`, never below zero; RFC 1123 and the two obsolete HTTP
///    forms are read), or a Go duration such as `6m5s`. Longer or unreadable
///    values are recorded in [`RetryDelay::ignored`] and the next is tried.
/// 2. The expression evaluated with `retried`. It is not capped at one day,
///    because whether QStash caps it is unconfirmed. If it fails to evaluate,
///    the failure is recorded under [`RETRY_DELAY_HEADER`] and step 3 applies.
/// 3. [`default_backoff_ms`]`(retried + 1)`.
///
/// # Examples
///
/// ```
/// use qstash_mock::rules::{choose_retry_delay, DelayRule};
///
/// let headers = [("retry-after".to_owned(), "30".to_owned())];
///
/// let delay = choose_retry_delay(0, None, &headers, 0);
///
/// assert_eq!(delay.delay_ms, 30_000);
/// assert_eq!(delay.explain(), "response header Retry-After: 30 = 30s");
/// ```
pub fn choose_retry_delay(
    retried: u32,
    expression: Option<&RetryDelayExpr>,
    response_headers: &[(String, String)],
    now_ms: u64,
) -> RetryDelay {
    let mut ignored = Vec::new();

    for header in RETRY_AFTER_HEADERS {
        let values = response_headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case(header))
            .map(|(_, value)| value.trim());
        for value in values {
            match header_delay_ms(value, now_ms) {
                Ok(delay_ms) => {
                    let rule = DelayRule::ResponseHeader {
                        header: header.to_owned(),
                        value: value.to_owned(),
                    };
                    return RetryDelay {
                        delay_ms,
                        rule,
                        ignored,
                    };
                }
                Err(reason) => ignored.push(IgnoredHeader {
                    header: header.to_owned(),
                    value: value.to_owned(),
                    reason,
                }),
            }
        }
    }

    if let Some(expression) = expression {
        match expression.eval(retried) {
            Ok(delay_ms) => {
                let rule = DelayRule::Expression {
                    expression: expression.as_str().to_owned(),
                    retried,
                };
                return RetryDelay {
                    delay_ms,
                    rule,
                    ignored,
                };
            }
            Err(err) => ignored.push(IgnoredHeader {
                header: RETRY_DELAY_HEADER.to_owned(),
                value: expression.as_str().to_owned(),
                reason: format!("{err}; the default backoff was used"),
            }),
        }
    }

    let n = retried.saturating_add(1);
    RetryDelay {
        delay_ms: default_backoff_ms(n),
        rule: DelayRule::DefaultBackoff { n },
        ignored,
    }
}

/// Reads one retry-after style header value as a delay in milliseconds, or
/// says why it cannot be used.
fn header_delay_ms(value: &str, now_ms: u64) -> Result<u64, String> {
    let delay_ms = parse_header_value(value, now_ms).ok_or_else(|| {
        "unparsable, expected integer seconds, an HTTP date or a Go duration such as `6m5s`"
            .to_owned()
    })?;
    if delay_ms > MAX_RETRY_DELAY_MS {
        return Err(format!(
            "{} is over one day, the longest delay a response header may set",
            format_duration_ms(delay_ms)
        ));
    }
    Ok(delay_ms)
}

/// Parses integer seconds, an HTTP date or a Go duration; `None` if it is
/// none of them. Integer seconds too large for `u64` milliseconds saturate,
/// which is over one day either way.
fn parse_header_value(value: &str, now_ms: u64) -> Option<u64> {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(seconds.saturating_mul(1_000));
    }
    if let Ok(date) = httpdate::parse_http_date(value) {
        let date_ms = date.duration_since(UNIX_EPOCH).map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        });
        return Some(date_ms.saturating_sub(now_ms));
    }
    parse_go_duration(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-05-01T00:00:00Z in Unix milliseconds.
    const NOW_MS: u64 = 1_714_521_600_000;

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    fn expr(source: &str) -> RetryDelayExpr {
        RetryDelayExpr::parse(source).expect("test expression should parse")
    }

    #[test]
    fn default_backoff_matches_the_published_table() {
        assert_eq!(default_backoff_ms(1), 12_000);
        assert_eq!(default_backoff_ms(2), 148_000);
        assert_eq!(default_backoff_ms(3), 1_808_000);
        assert_eq!(default_backoff_ms(4), 22_026_000);
        assert_eq!(default_backoff_ms(5), MAX_RETRY_DELAY_MS);
        assert_eq!(default_backoff_ms(6), MAX_RETRY_DELAY_MS);
    }

    #[test]
    fn default_backoff_for_zero_is_one_second() {
        assert_eq!(default_backoff_ms(0), 1_000);
    }

    #[test]
    fn default_backoff_saturates_for_huge_retry_numbers() {
        assert_eq!(default_backoff_ms(1_000), MAX_RETRY_DELAY_MS);
        assert_eq!(default_backoff_ms(u32::MAX), MAX_RETRY_DELAY_MS);
    }

    #[test]
    fn without_headers_or_expression_the_default_backoff_is_used() {
        let delay = choose_retry_delay(0, None, &[], NOW_MS);

        assert_eq!(
            delay,
            RetryDelay {
                delay_ms: 12_000,
                rule: DelayRule::DefaultBackoff { n: 1 },
                ignored: vec![],
            }
        );
    }

    #[test]
    fn the_default_backoff_counts_retries_from_one() {
        let delay = choose_retry_delay(1, None, &[], NOW_MS);

        assert_eq!(delay.delay_ms, 148_000);
        assert_eq!(
            delay.explain(),
            "default backoff min(86400, e^(2.5*2)) s = 2m28s"
        );
    }

    #[test]
    fn the_default_backoff_does_not_overflow_at_the_last_retry_number() {
        let delay = choose_retry_delay(u32::MAX, None, &[], NOW_MS);

        assert_eq!(delay.rule, DelayRule::DefaultBackoff { n: u32::MAX });
        assert_eq!(delay.delay_ms, MAX_RETRY_DELAY_MS);
    }

    #[test]
    fn an_expression_replaces_the_default_backoff() {
        let expression = expr("1000 * (1 + retried)");

        let delay = choose_retry_delay(1, Some(&expression), &[], NOW_MS);

        assert_eq!(delay.delay_ms, 2_000);
        assert_eq!(
            delay.rule,
            DelayRule::Expression {
                expression: "1000 * (1 + retried)".to_owned(),
                retried: 1,
            }
        );
        assert_eq!(
            delay.explain(),
            "Upstash-Retry-Delay `1000 * (1 + retried)` with retried=1 = 2s"
        );
    }

    #[test]
    fn an_expression_is_not_capped_at_one_day() {
        let expression = expr("2 * 86400000");

        let delay = choose_retry_delay(0, Some(&expression), &[], NOW_MS);

        assert_eq!(delay.delay_ms, 2 * MAX_RETRY_DELAY_MS);
    }

    #[test]
    fn a_failing_expression_falls_back_to_the_default_backoff_and_says_why() {
        let expression = expr("1000 - retried * 2000");

        let delay = choose_retry_delay(2, Some(&expression), &[], NOW_MS);

        assert_eq!(delay.delay_ms, 1_808_000);
        assert_eq!(delay.rule, DelayRule::DefaultBackoff { n: 3 });
        assert_eq!(
            delay.ignored,
            vec![IgnoredHeader {
                header: "Upstash-Retry-Delay".to_owned(),
                value: "1000 - retried * 2000".to_owned(),
                reason: "`1000 - retried * 2000` is -3000 when retried=2, expected zero or \
                         more milliseconds; the default backoff was used"
                    .to_owned(),
            }]
        );
    }

    #[test]
    fn retry_after_in_integer_seconds_wins_over_the_expression() {
        let expression = expr("1000");
        let response = headers(&[("Content-Type", "text/plain"), ("Retry-After", "30")]);

        let delay = choose_retry_delay(0, Some(&expression), &response, NOW_MS);

        assert_eq!(delay.delay_ms, 30_000);
        assert_eq!(
            delay.rule,
            DelayRule::ResponseHeader {
                header: "Retry-After".to_owned(),
                value: "30".to_owned(),
            }
        );
        assert_eq!(delay.explain(), "response header Retry-After: 30 = 30s");
        assert!(delay.ignored.is_empty());
    }

    #[test]
    fn zero_seconds_means_retry_at_once() {
        let response = headers(&[("Retry-After", "0")]);

        let delay = choose_retry_delay(0, None, &response, NOW_MS);

        assert_eq!(delay.delay_ms, 0);
    }

    #[test]
    fn header_names_are_matched_without_regard_to_case() {
        let response = headers(&[("x-ratelimit-reset-TOKENS", "6m5s")]);

        let delay = choose_retry_delay(0, None, &response, NOW_MS);

        assert_eq!(delay.delay_ms, 365_000);
        assert_eq!(
            delay.rule,
            DelayRule::ResponseHeader {
                header: "X-RateLimit-Reset-Tokens".to_owned(),
                value: "6m5s".to_owned(),
            }
        );
    }

    #[test]
    fn headers_are_tried_in_the_documented_order_not_the_received_order() {
        let response = headers(&[
            ("X-RateLimit-Reset-Tokens", "4s"),
            ("X-RateLimit-Reset-Requests", "3s"),
            ("X-RateLimit-Reset", "2"),
            ("Retry-After", "1"),
        ]);

        let delay = choose_retry_delay(0, None, &response, NOW_MS);

        assert_eq!(delay.delay_ms, 1_000);
        let later = choose_retry_delay(0, None, &response[..3], NOW_MS);
        assert_eq!(later.delay_ms, 2_000);
        let last = choose_retry_delay(0, None, &response[..1], NOW_MS);
        assert_eq!(last.delay_ms, 4_000);
    }

    #[test]
    fn an_http_date_gives_the_time_until_that_date() {
        let response = headers(&[("Retry-After", "Wed, 01 May 2024 00:02:00 GMT")]);

        let delay = choose_retry_delay(0, None, &response, NOW_MS + 500);

        assert_eq!(delay.delay_ms, 119_500);
    }

    #[test]
    fn an_http_date_in_the_past_means_retry_at_once() {
        let response = headers(&[("Retry-After", "Tue, 30 Apr 2024 23:00:00 GMT")]);

        let delay = choose_retry_delay(0, None, &response, NOW_MS);

        assert_eq!(delay.delay_ms, 0);
        assert!(delay.ignored.is_empty());
    }

    #[test]
    fn a_go_duration_is_truncated_to_milliseconds() {
        let response = headers(&[("X-RateLimit-Reset-Requests", "1.5s"), ("Retry-After", "")]);

        let delay = choose_retry_delay(0, None, &response, NOW_MS);

        assert_eq!(delay.delay_ms, 1_500);
        assert_eq!(delay.ignored.len(), 1);
    }

    #[test]
    fn surrounding_whitespace_in_a_value_is_trimmed() {
        let response = headers(&[("Retry-After", "  45 ")]);

        let delay = choose_retry_delay(0, None, &response, NOW_MS);

        assert_eq!(delay.delay_ms, 45_000);
        assert_eq!(delay.explain(), "response header Retry-After: 45 = 45s");
    }

    #[test]
    fn exactly_one_day_is_accepted() {
        let response = headers(&[("Retry-After", "86400")]);

        let delay = choose_retry_delay(0, None, &response, NOW_MS);

        assert_eq!(delay.delay_ms, MAX_RETRY_DELAY_MS);
    }

    #[test]
    fn a_value_over_one_day_is_ignored_and_the_next_candidate_is_tried() {
        let response = headers(&[("Retry-After", "86401"), ("X-RateLimit-Reset", "10")]);

        let delay = choose_retry_delay(0, None, &response, NOW_MS);

        assert_eq!(delay.delay_ms, 10_000);
        assert_eq!(
            delay.ignored,
            vec![IgnoredHeader {
                header: "Retry-After".to_owned(),
                value: "86401".to_owned(),
                reason: "1d1s is over one day, the longest delay a response header may set"
                    .to_owned(),
            }]
        );
    }

    #[test]
    fn an_unparsable_value_is_ignored_with_the_expected_forms() {
        let expression = expr("500");
        let response = headers(&[("Retry-After", "soon")]);

        let delay = choose_retry_delay(0, Some(&expression), &response, NOW_MS);

        assert_eq!(delay.delay_ms, 500);
        assert!(matches!(delay.rule, DelayRule::Expression { .. }));
        assert_eq!(
            delay.ignored[0].reason,
            "unparsable, expected integer seconds, an HTTP date or a Go duration such as `6m5s`"
        );
    }

    #[test]
    fn negative_and_fractional_seconds_are_unparsable() {
        let response = headers(&[("Retry-After", "-5"), ("X-RateLimit-Reset", "1.5")]);

        let delay = choose_retry_delay(0, None, &response, NOW_MS);

        assert_eq!(delay.rule, DelayRule::DefaultBackoff { n: 1 });
        assert_eq!(delay.ignored.len(), 2);
        assert_eq!(delay.ignored[1].header, "X-RateLimit-Reset");
    }

    #[test]
    fn a_unix_timestamp_in_seconds_reads_as_far_beyond_one_day() {
        let response = headers(&[("X-RateLimit-Reset", "1714521660")]);

        let delay = choose_retry_delay(0, None, &response, NOW_MS);

        assert_eq!(delay.rule, DelayRule::DefaultBackoff { n: 1 });
        assert!(delay.ignored[0].reason.contains("is over one day"));
    }

    #[test]
    fn huge_integer_seconds_are_over_one_day_rather_than_an_overflow() {
        let response = headers(&[("Retry-After", "99999999999999999999999")]);

        let delay = choose_retry_delay(0, None, &response, NOW_MS);

        assert_eq!(delay.delay_ms, 12_000);
        assert!(delay.ignored[0]
            .reason
            .ends_with("is over one day, the longest delay a response header may set"));
    }

    #[test]
    fn a_far_future_http_date_is_over_one_day() {
        let response = headers(&[("Retry-After", "Fri, 03 May 2024 00:00:00 GMT")]);

        let delay = choose_retry_delay(0, None, &response, NOW_MS);

        assert_eq!(delay.rule, DelayRule::DefaultBackoff { n: 1 });
        assert_eq!(
            delay.ignored[0].reason,
            "2d is over one day, the longest delay a response header may set"
        );
    }

    #[test]
    fn every_ignored_header_and_a_failing_expression_are_all_recorded_in_order() {
        let expression = expr("1 / 0");
        let response = headers(&[
            ("X-RateLimit-Reset-Tokens", "bad"),
            ("Retry-After", "2d"),
            ("Retry-After", "90000"),
        ]);

        let delay = choose_retry_delay(0, Some(&expression), &response, NOW_MS);

        let names: Vec<&str> = delay.ignored.iter().map(|i| i.header.as_str()).collect();
        assert_eq!(
            names,
            [
                "Retry-After",
                "Retry-After",
                "X-RateLimit-Reset-Tokens",
                "Upstash-Retry-Delay"
            ]
        );
        assert_eq!(delay.rule, DelayRule::DefaultBackoff { n: 1 });
    }

    #[test]
    fn a_later_occurrence_of_the_same_header_is_used_when_the_first_is_ignored() {
        let response = headers(&[("Retry-After", "later"), ("retry-after", "7")]);

        let delay = choose_retry_delay(0, None, &response, NOW_MS);

        assert_eq!(delay.delay_ms, 7_000);
        assert_eq!(delay.ignored.len(), 1);
    }

    #[test]
    fn unrelated_headers_are_neither_used_nor_recorded() {
        let response = headers(&[("Upstash-Retry-After", "5"), ("RateLimit-Reset", "5")]);

        let delay = choose_retry_delay(0, None, &response, NOW_MS);

        assert_eq!(delay.rule, DelayRule::DefaultBackoff { n: 1 });
        assert!(delay.ignored.is_empty());
    }

    #[test]
    fn explanations_cover_each_rule() {
        let header = DelayRule::ResponseHeader {
            header: "X-RateLimit-Reset-Requests".to_owned(),
            value: "1.5s".to_owned(),
        };

        assert_eq!(
            header.explain(1_500),
            "response header X-RateLimit-Reset-Requests: 1.5s = 1s500ms"
        );
        assert_eq!(
            DelayRule::DefaultBackoff { n: 5 }.explain(MAX_RETRY_DELAY_MS),
            "default backoff min(86400, e^(2.5*5)) s = 1d"
        );
        assert_eq!(
            DelayRule::Expression {
                expression: "0".to_owned(),
                retried: 3
            }
            .explain(0),
            "Upstash-Retry-Delay `0` with retried=3 = 0s"
        );
    }

    #[test]
    fn the_rule_serializes_with_a_camel_case_tag() {
        let rules = [
            DelayRule::DefaultBackoff { n: 2 },
            DelayRule::Expression {
                expression: "1000".to_owned(),
                retried: 0,
            },
            DelayRule::ResponseHeader {
                header: "Retry-After".to_owned(),
                value: "3".to_owned(),
            },
        ];

        let json: Vec<String> = rules
            .iter()
            .map(|r| serde_json::to_string(r).unwrap())
            .collect();

        assert_eq!(
            json,
            [
                r#"{"rule":"defaultBackoff","n":2}"#,
                r#"{"rule":"expression","expression":"1000","retried":0}"#,
                r#"{"rule":"responseHeader","header":"Retry-After","value":"3"}"#,
            ]
        );
    }

    #[test]
    fn a_retry_delay_round_trips_through_json_with_camel_case_fields() {
        let response = headers(&[("Retry-After", "nope")]);
        let delay = choose_retry_delay(0, None, &response, NOW_MS);

        let json = serde_json::to_value(&delay).unwrap();
        let back: RetryDelay = serde_json::from_value(json.clone()).unwrap();

        assert_eq!(json["delayMs"], 12_000);
        assert_eq!(json["rule"]["rule"], "defaultBackoff");
        assert_eq!(json["ignored"][0]["header"], "Retry-After");
        assert_eq!(back, delay);
    }
}
