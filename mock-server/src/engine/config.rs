//! The settings an engine is built with: seed, plan limits, retention, keys.

use super::logs::CancelledSpelling;
use super::quota::RateLimits;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

const SECOND: u64 = 1_000;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;
const MEGABYTE: usize = 1024 * 1024;

/// A QStash plan: the limits the mock enforces and the DLQ retention it applies.
///
/// Figures follow Upstash's current pricing page. Where the page says "custom" the mock
/// picks the pay-as-you-go figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Plan {
    /// Free: 3 days of DLQ retention, 1 MiB bodies, 7 days of delay, 15 min attempts.
    Free,
    /// Pay as you go: 7 days of retention, 10 MiB bodies, a year of delay, 2 h attempts.
    Payg,
    /// Fixed 1M: 30 days of retention, 50 MiB bodies, unlimited delay.
    #[serde(rename = "fixed-1m")]
    Fixed1M,
    /// Fixed 10M: 90 days of retention, 50 MiB bodies, unlimited delay.
    #[serde(rename = "fixed-10m")]
    Fixed10M,
}

impl Plan {
    /// How long a DLQ entry is kept, in milliseconds.
    pub fn dlq_retention_ms(self) -> u64 {
        match self {
            Plan::Free => 3 * DAY,
            Plan::Payg => 7 * DAY,
            Plan::Fixed1M => 30 * DAY,
            Plan::Fixed10M => 90 * DAY,
        }
    }

    /// The largest body accepted, in bytes.
    pub fn max_body_bytes(self) -> usize {
        match self {
            Plan::Free => MEGABYTE,
            Plan::Payg => 10 * MEGABYTE,
            Plan::Fixed1M | Plan::Fixed10M => 50 * MEGABYTE,
        }
    }

    /// The longest `Upstash-Delay`, in milliseconds, or `None` when unlimited.
    pub fn max_delay_ms(self) -> Option<u64> {
        match self {
            Plan::Free => Some(7 * DAY),
            Plan::Payg => Some(365 * DAY),
            Plan::Fixed1M | Plan::Fixed10M => None,
        }
    }

    /// The longest an attempt may take, in milliseconds.
    pub fn max_attempt_ms(self) -> u64 {
        match self {
            Plan::Free => 15 * MINUTE,
            Plan::Payg | Plan::Fixed1M | Plan::Fixed10M => 2 * HOUR,
        }
    }

    /// The parallelism the plan allows across all flow-control keys. The pricing page
    /// gives none for Free, which gets the pay-as-you-go figure.
    pub fn max_parallelism(self) -> u32 {
        match self {
            Plan::Free | Plan::Payg => 100,
            Plan::Fixed1M => 200,
            Plan::Fixed10M => 1000,
        }
    }

    /// The name used on the command line and in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Payg => "payg",
            Plan::Fixed1M => "fixed-1m",
            Plan::Fixed10M => "fixed-10m",
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Plan {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "free" => Ok(Plan::Free),
            "payg" | "pay-as-you-go" => Ok(Plan::Payg),
            "fixed-1m" => Ok(Plan::Fixed1M),
            "fixed-10m" => Ok(Plan::Fixed10M),
            other => Err(format!(
                "unknown plan `{other}`, expected free, payg, fixed-1m or fixed-10m"
            )),
        }
    }
}

/// The pair of keys deliveries are signed with.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKeys {
    /// Deliveries are signed with this key.
    pub current: String,
    /// Receivers fall back to this key; it becomes current on rotation.
    pub next: String,
}

impl fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keys are secrets in real deployments; never print them.
        f.debug_struct("SigningKeys")
            .field("current", &"<redacted>")
            .field("next", &"<redacted>")
            .finish()
    }
}

/// The token Upstash's local development server accepts.
pub const DEV_TOKEN: &str =
    "eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=";
/// The current signing key of Upstash's local development server.
pub const DEV_CURRENT_SIGNING_KEY: &str = "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r";
/// The next signing key of Upstash's local development server.
pub const DEV_NEXT_SIGNING_KEY: &str = "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs";

impl SigningKeys {
    /// The keys Upstash's local development server publishes.
    pub fn dev() -> Self {
        SigningKeys {
            current: DEV_CURRENT_SIGNING_KEY.to_owned(),
            next: DEV_NEXT_SIGNING_KEY.to_owned(),
        }
    }
}

/// Which clock the `iat` and `exp` claims of a delivery's signature follow.
///
/// Receivers check those claims against their own wall clock, and the official Python
/// receiver refuses a token whose `iat` lies in its future. Once a test has moved the
/// mock's clock ahead, purely virtual claims would fail there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureTime {
    /// `iat` is the earlier and `exp` five minutes after the later of the mock's clock and
    /// the wall clock, so every official receiver accepts the token whichever way the
    /// mock's clock has moved. The default.
    #[default]
    ReceiverSafe,
    /// `iat` is the mock's clock and `exp` five minutes later: fully reproducible, but a
    /// receiver checking against its wall clock refuses tokens from a clock moved ahead.
    Virtual,
}

impl FromStr for SignatureTime {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "receiver-safe" => Ok(SignatureTime::ReceiverSafe),
            "virtual" => Ok(SignatureTime::Virtual),
            other => Err(format!(
                "unknown signature time `{other}`, expected receiver-safe or virtual"
            )),
        }
    }
}

/// Everything the engine needs to know before the first call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EngineConfig {
    /// Seeds every id the engine makes.
    pub seed: u64,
    /// Limits and default retention.
    pub plan: Plan,
    /// DLQ retention in ms; the plan's when `None`.
    pub retention_ms: Option<u64>,
    /// How long a deduplication id blocks a new publish, in ms.
    pub dedup_window_ms: u64,
    /// Retries when `Upstash-Retries` is absent.
    pub default_retries: u32,
    /// The keys at start.
    pub signing_keys: SigningKeys,
    /// Which clock signatures' `iat` and `exp` follow.
    #[serde(default)]
    pub signature_time: SignatureTime,
    /// How `/v2/logs` spells the cancelled state (`CANCELED` by default).
    #[serde(default)]
    pub cancelled_spelling: CancelledSpelling,
    /// Optional daily quota and burst limit, both off by default.
    #[serde(default)]
    pub rate_limits: RateLimits,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            seed: 0,
            plan: Plan::Payg,
            retention_ms: None,
            dedup_window_ms: 10 * MINUTE,
            default_retries: 3,
            signing_keys: SigningKeys::dev(),
            signature_time: SignatureTime::default(),
            cancelled_spelling: CancelledSpelling::default(),
            rate_limits: RateLimits::default(),
        }
    }
}

impl EngineConfig {
    /// The DLQ retention in force.
    pub fn effective_retention_ms(&self) -> u64 {
        self.retention_ms
            .unwrap_or_else(|| self.plan.dlq_retention_ms())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_keep_dlq_entries_for_their_documented_retention() {
        assert_eq!(Plan::Free.dlq_retention_ms(), 3 * DAY);
        assert_eq!(Plan::Payg.dlq_retention_ms(), 7 * DAY);
        assert_eq!(Plan::Fixed1M.dlq_retention_ms(), 30 * DAY);
        assert_eq!(Plan::Fixed10M.dlq_retention_ms(), 90 * DAY);
    }

    #[test]
    fn plan_names_round_trip() {
        for plan in [Plan::Free, Plan::Payg, Plan::Fixed1M, Plan::Fixed10M] {
            assert_eq!(plan.as_str().parse::<Plan>(), Ok(plan));
        }
        assert!("gold".parse::<Plan>().unwrap_err().contains("unknown plan"));
    }

    #[test]
    fn signing_keys_never_print_their_values() {
        let printed = format!("{:?}", SigningKeys::dev());

        assert!(!printed.contains("sig_"));
    }
}
