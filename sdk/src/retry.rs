//! How the client retries its own calls to QStash.
//!
//! This is about the SDK's calls (publish, list the DLQ, ...), not about how
//! QStash retries deliveries to your endpoints.

use std::time::Duration;

use http::HeaderMap;
use time::OffsetDateTime;

use crate::error::Error;

/// When and how long the client waits before repeating a failed call.
///
/// A call is repeated after a `429 Too Many Requests`, any `5xx` answer, or
/// a connection error. Timeouts, other error statuses and invalid input are
/// returned at once. Between attempts the client waits
/// `initial_backoff * 2^n`, capped at `max_backoff`; after a `429` it waits
/// at least until the reset time QStash sent (`Burst-RateLimit-Reset`,
/// `RateLimit-Reset` or `Retry-After`). When that reset is further away
/// than `max_wait`, as with a used-up daily quota, the error is returned
/// instead of waiting.
///
/// The default makes up to 3 retries, starting at 100 ms and waiting at most
/// 10 s between attempts.
///
/// A publish that failed with a connection error or a `5xx` may still have
/// been accepted, so a retry can publish twice; give such messages a
/// [`deduplication_id`](crate::PublishRequest::deduplication_id) when that
/// matters.
///
/// ```
/// use std::time::Duration;
/// use qstash_sdk::{Client, RetryPolicy};
///
/// let policy = RetryPolicy::default()
///     .max_retries(5)
///     .initial_backoff(Duration::from_millis(50))
///     .max_wait(Duration::from_secs(30));
/// let client = Client::builder().token("token").retry_policy(policy).build()?;
/// # Ok::<(), qstash_sdk::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
            max_wait: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries: every failure is returned at once.
    ///
    /// ```
    /// use qstash_sdk::{Client, RetryPolicy};
    ///
    /// let client = Client::builder().token("token").retry_policy(RetryPolicy::none()).build()?;
    /// # Ok::<(), qstash_sdk::Error>(())
    /// ```
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// How many times a failed call is repeated; `0` turns retries off.
    ///
    /// ```
    /// let policy = qstash_sdk::RetryPolicy::default().max_retries(5);
    /// ```
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// The wait before the first retry; each further retry waits twice as long.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let policy = qstash_sdk::RetryPolicy::default().initial_backoff(Duration::from_millis(20));
    /// ```
    pub fn initial_backoff(mut self, backoff: impl Into<Duration>) -> Self {
        self.initial_backoff = backoff.into();
        self
    }

    /// The longest computed wait between two attempts.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let policy = qstash_sdk::RetryPolicy::default().max_backoff(Duration::from_secs(2));
    /// ```
    pub fn max_backoff(mut self, backoff: impl Into<Duration>) -> Self {
        self.max_backoff = backoff.into();
        self
    }

    /// The longest the client waits for a rate limit to reset.
    ///
    /// A `429` whose reset lies further away is returned without retrying.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let policy = qstash_sdk::RetryPolicy::default().max_wait(Duration::from_secs(60));
    /// ```
    pub fn max_wait(mut self, wait: impl Into<Duration>) -> Self {
        self.max_wait = wait.into();
        self
    }

    /// The wait before retry number `retry` (0 for the first retry), or
    /// `None` when the failure should be returned.
    ///
    /// `now` is passed in so that this stays a pure function.
    pub(crate) fn delay_before_retry(
        &self,
        retry: u32,
        failure: &Failure<'_>,
        now: OffsetDateTime,
    ) -> Option<Duration> {
        if retry >= self.max_retries {
            return None;
        }
        let backoff = self.backoff(retry);

        match failure {
            Failure::Retryable => Some(backoff),
            Failure::Final => None,
            Failure::RateLimited(error, headers) => {
                let until_reset = reset_delay(error, headers, now).unwrap_or_default();
                let wait = backoff.max(until_reset);
                (wait <= self.max_wait).then_some(wait)
            }
        }
    }

    fn backoff(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry);
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// How a failed attempt is classified for retrying.
#[derive(Debug)]
pub(crate) enum Failure<'a> {
    /// A 5xx answer or a connection error.
    Retryable,
    /// A 429 answer, with its headers.
    RateLimited(&'a Error, &'a HeaderMap),
    /// Anything that retrying cannot fix.
    Final,
}

/// How long until the limit in a 429 answer resets.
fn reset_delay(error: &Error, headers: &HeaderMap, now: OffsetDateTime) -> Option<Duration> {
    let reset = error.reset_at().or_else(|| retry_after(headers, now))?;
    let remaining = reset - now;

    Some(Duration::try_from(remaining).unwrap_or_default())
}

/// Reads `Retry-After` as seconds or as an HTTP date.
fn retry_after(headers: &HeaderMap, now: OffsetDateTime) -> Option<OffsetDateTime> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u32>() {
        return Some(now + Duration::from_secs(seconds.into()));
    }

    let date = httpdate::parse_http_date(value).ok()?;
    Some(OffsetDateTime::from(date))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RateLimit;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
    }

    fn rate_limited(headers: &[(&'static str, &str)]) -> (Error, HeaderMap) {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, value.parse().unwrap());
        }
        let error = Error::rate_limited(RateLimit::from_headers(&map), String::new());
        (error, map)
    }

    #[test]
    fn backoff_doubles_and_stops_at_the_maximum() {
        let policy = RetryPolicy::default()
            .max_retries(10)
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(500));

        let waits: Vec<_> = (0..5)
            .map(|retry| policy.delay_before_retry(retry, &Failure::Retryable, now()))
            .collect();

        let ms = |n| Some(Duration::from_millis(n));
        assert_eq!(waits, vec![ms(100), ms(200), ms(400), ms(500), ms(500)]);
    }

    #[test]
    fn no_retry_is_made_once_the_retries_are_used_up() {
        let policy = RetryPolicy::default().max_retries(2);

        let wait = policy.delay_before_retry(2, &Failure::Retryable, now());

        assert_eq!(wait, None);
    }

    #[test]
    fn a_policy_of_none_never_retries() {
        let policy = RetryPolicy::none();

        let wait = policy.delay_before_retry(0, &Failure::Retryable, now());

        assert_eq!(wait, None);
    }

    #[test]
    fn a_final_failure_is_not_retried() {
        let policy = RetryPolicy::default();

        let wait = policy.delay_before_retry(0, &Failure::Final, now());

        assert_eq!(wait, None);
    }

    #[test]
    fn a_burst_limit_waits_until_its_reset_time() {
        let policy = RetryPolicy::default();
        let (error, headers) = rate_limited(&[("burst-ratelimit-reset", "1700000003")]);

        let wait = policy.delay_before_retry(0, &Failure::RateLimited(&error, &headers), now());

        assert_eq!(wait, Some(Duration::from_secs(3)));
    }

    #[test]
    fn a_reset_in_the_past_waits_only_the_backoff() {
        let policy = RetryPolicy::default().initial_backoff(Duration::from_millis(100));
        let (error, headers) = rate_limited(&[("burst-ratelimit-reset", "1699999990")]);

        let wait = policy.delay_before_retry(0, &Failure::RateLimited(&error, &headers), now());

        assert_eq!(wait, Some(Duration::from_millis(100)));
    }

    #[test]
    fn a_daily_limit_resetting_beyond_the_maximum_wait_is_returned() {
        let policy = RetryPolicy::default().max_wait(Duration::from_secs(10));
        let (error, headers) = rate_limited(&[
            ("ratelimit-limit", "1000"),
            ("ratelimit-reset", "1700086400"),
        ]);

        let wait = policy.delay_before_retry(0, &Failure::RateLimited(&error, &headers), now());

        assert_eq!(wait, None);
    }

    #[test]
    fn retry_after_seconds_are_honoured_when_no_reset_header_is_sent() {
        let policy = RetryPolicy::default();
        let (error, headers) = rate_limited(&[("retry-after", "4")]);

        let wait = policy.delay_before_retry(0, &Failure::RateLimited(&error, &headers), now());

        assert_eq!(wait, Some(Duration::from_secs(4)));
    }

    #[test]
    fn retry_after_as_an_http_date_is_honoured() {
        let policy = RetryPolicy::default();
        let date = httpdate::fmt_http_date(
            std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_002),
        );
        let (error, headers) = rate_limited(&[("retry-after", date.as_str())]);

        let wait = policy.delay_before_retry(0, &Failure::RateLimited(&error, &headers), now());

        assert_eq!(wait, Some(Duration::from_secs(2)));
    }
}
