//! Optional plan limits: a daily message quota and a per-second burst limit on the
//! non-publishing routes, counted on the virtual clock. Both are off by default.

use super::state::Engine;
use serde::{Deserialize, Serialize};

const SECOND_MS: u64 = 1_000;
const DAY_MS: u64 = 24 * 60 * 60 * SECOND_MS;

/// Limits a plan imposes on API calls. `None` means unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimits {
    /// Messages that may be published per UTC day (publish, enqueue, batch, URL-group
    /// fan-out and schedule firings all count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_messages: Option<u64>,
    /// Requests per second on the routes other than publish, enqueue and batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst_per_second: Option<u64>,
}

/// Which limit refused a call, with the figures its headers carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitExceeded {
    /// The daily quota: answered with `RateLimit-Limit`, `-Remaining` and `-Reset`.
    Daily {
        /// The quota.
        limit: u64,
        /// Unix seconds when the quota renews (the next UTC midnight).
        reset: u64,
    },
    /// The burst limit: answered with `Burst-RateLimit-Limit`, `-Remaining` and `-Reset`.
    Burst {
        /// Requests per second.
        limit: u64,
        /// Unix seconds when the next second starts.
        reset: u64,
    },
}

/// What the engine counted towards the limits.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QuotaUsage {
    day: u64,
    messages: u64,
    second: u64,
    requests: u64,
}

impl QuotaUsage {
    /// Counts one new message on the day of `now`.
    pub(crate) fn count_message(&mut self, now: u64) {
        let day = now / DAY_MS;
        if day != self.day {
            self.day = day;
            self.messages = 0;
        }
        self.messages += 1;
    }

    fn messages_on(&self, now: u64) -> u64 {
        if now / DAY_MS == self.day {
            self.messages
        } else {
            0
        }
    }
}

impl Engine {
    /// Checks that the daily quota leaves room for another message at `now`.
    ///
    /// # Errors
    /// [`LimitExceeded::Daily`] when the quota is used up.
    pub fn check_daily_quota(&self, now: u64) -> Result<(), LimitExceeded> {
        let Some(limit) = self.config().rate_limits.daily_messages else {
            return Ok(());
        };
        if self.quota.messages_on(now) < limit {
            return Ok(());
        }
        Err(LimitExceeded::Daily {
            limit,
            reset: (now / DAY_MS + 1) * DAY_MS / SECOND_MS,
        })
    }

    /// Counts a request against the burst limit at `now`.
    ///
    /// # Errors
    /// [`LimitExceeded::Burst`] when this second's requests are used up; the refused
    /// request does not count.
    pub fn take_burst(&mut self, now: u64) -> Result<(), LimitExceeded> {
        let Some(limit) = self.config().rate_limits.burst_per_second else {
            return Ok(());
        };
        let second = now / SECOND_MS;
        if second != self.quota.second {
            self.quota.second = second;
            self.quota.requests = 0;
        }
        if self.quota.requests >= limit {
            return Err(LimitExceeded::Burst {
                limit,
                reset: second + 1,
            });
        }
        self.quota.requests += 1;
        Ok(())
    }
}
