//! Pure rules the engine applies: duration strings, `Upstash-Retry-Delay`
//! expressions, and the choice of the wait between delivery attempts.
//!
//! Nothing here performs I/O or reads a clock; the current time is passed in
//! as Unix milliseconds. Every error's `Display` text says what was wrong and
//! what was expected, without naming the field it came from, so the HTTP layer
//! can prefix the field: `{"error": "Upstash-Delay: invalid duration ..."}`.
//!
//! - [`duration`]: `Upstash-Delay`/`Upstash-Timeout`, Go and human durations,
//!   and the compact format used in reports.
//! - [`expr`]: the `Upstash-Retry-Delay` expression language.
//! - [`cron`]: `Upstash-Cron` expressions and their next firing.
//! - [`backoff`]: default backoff, retry-after style response headers, and
//!   [`choose_retry_delay`], which combines them with an expression.

#![warn(missing_docs)]

pub mod backoff;
pub mod cron;
pub mod duration;
pub mod expr;
pub mod header;

pub use self::{
    backoff::{
        choose_retry_delay, default_backoff_ms, DelayRule, IgnoredHeader, RetryDelay,
        MAX_RETRY_DELAY_MS, RETRY_AFTER_HEADERS, RETRY_DELAY_HEADER,
    },
    cron::{Cron, CronError},
    duration::{
        format_duration_ms, parse_go_duration, parse_human_duration, parse_upstash_duration,
        DurationError,
    },
    expr::{ExprError, RetryDelayExpr, MAX_NESTING},
    header::canonical_header_name,
};
