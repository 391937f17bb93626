//! Messages: what was published, how it is to be delivered, and where it stands.

use crate::rules::RetryDelayExpr;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// Where a message sits in the deterministic order of work.
///
/// `origin` counts the API calls that created messages; `derived` counts the callbacks
/// and failure callbacks that descend from that call. Ordering work by this key rather
/// than by creation order keeps the log independent of delivery timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OrderKey {
    /// The API call that started this chain of messages.
    pub origin: u64,
    /// 0 for the published message, then 1, 2, … for messages derived from it.
    pub derived: u32,
}

/// Why a message exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum MessageKind {
    /// Published through the API, or republished from the DLQ.
    Published,
    /// The callback of an attempt of `source_message_id`.
    #[serde(rename_all = "camelCase")]
    Callback {
        /// The message whose attempt this callback reports.
        source_message_id: String,
    },
    /// The failure callback of `source_message_id`, sent when it moved to the DLQ.
    #[serde(rename_all = "camelCase")]
    FailureCallback {
        /// The message that failed.
        source_message_id: String,
    },
}

/// How a callback or failure callback is to be delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallbackSpec {
    /// Where the callback goes.
    pub url: String,
    /// `Upstash-Callback-Method`, POST when absent.
    pub method: Option<String>,
    /// `Upstash-Callback-Retries`; the message's own retries when absent.
    pub retries: Option<u32>,
    /// `Upstash-Callback-Retry-Delay`.
    pub retry_delay: Option<RetryDelayExpr>,
    /// `Upstash-Callback-Timeout`, in milliseconds.
    pub timeout_ms: Option<u64>,
    /// `Upstash-Callback-Forward-*` headers, prefix removed.
    pub forward_headers: Vec<(String, String)>,
}

/// The lifecycle state of a message that the engine still holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MessageState {
    /// Waiting for its first attempt.
    Created,
    /// An attempt is being made.
    Active,
    /// Waiting for a retry after a failed attempt.
    Retry,
    /// A cancel arrived while an attempt was in flight; the outcome will be dropped.
    CancelRequested,
}

/// A message the engine holds until it is delivered, cancelled or moved to the DLQ.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// `msg_…`.
    pub message_id: String,
    /// Its place in the order of work.
    pub order: OrderKey,
    /// Why it exists.
    pub kind: MessageKind,
    /// The destination URL, as published.
    pub url: String,
    /// The HTTP method of every attempt.
    pub method: String,
    /// Headers forwarded to the destination (prefix removed), `Content-Type` included.
    pub headers: Vec<(String, String)>,
    /// The body, sent unchanged.
    #[serde(with = "crate::engine::serde_util::b64")]
    pub body: Bytes,
    /// The body's SHA-256 as signatures carry it, computed at the first attempt and kept
    /// for the retries; empty until then.
    #[serde(skip)]
    pub body_hash: String,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// `Upstash-Retry-Delay`, when given.
    pub retry_delay: Option<RetryDelayExpr>,
    /// Per-attempt timeout, milliseconds.
    pub timeout_ms: u64,
    /// Unix ms before which no attempt is made.
    pub not_before: u64,
    /// Unix ms of creation, on the mock's clock.
    pub created_at: u64,
    /// Called after every attempt.
    pub callback: Option<CallbackSpec>,
    /// Called once the message moves to the DLQ.
    pub failure_callback: Option<CallbackSpec>,
    /// `Upstash-Label` values.
    pub labels: Vec<String>,
    /// The deduplication key, explicit or content based.
    pub deduplication_id: Option<String>,
    /// The publisher's address, when known.
    pub caller_ip: Option<String>,
    /// Attempts made so far; also the next attempt's `Upstash-Retried`.
    pub retried: u32,
    /// Where it stands.
    pub state: MessageState,
    /// Unix ms of the next attempt, while one is scheduled.
    pub next_delivery_at: Option<u64>,
    /// The URL group, queue, schedule and flow control the message came through.
    #[serde(flatten, default)]
    pub routing: Routing,
}

/// Where a message came from beyond its URL: a URL group, a queue, a schedule, and the
/// flow control it is subject to. Every field is absent for a plain publish.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Routing {
    /// The URL group it was published to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic_name: Option<String>,
    /// The name of the group's endpoint it goes to, when the endpoint has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_name: Option<String>,
    /// The queue it waits in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_name: Option<String>,
    /// The schedule that created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_id: Option<String>,
    /// `Upstash-Flow-Control-Key` and `-Value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_control: Option<FlowControlSpec>,
}

/// A flow-control key with the limits one publish asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowControlSpec {
    /// `Upstash-Flow-Control-Key`.
    pub key: String,
    /// At most this many attempts of the key in flight at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u32>,
    /// At most this many attempts of the key start per period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<u32>,
    /// The rate's period in ms (one second unless given).
    pub period_ms: u64,
}

impl Message {
    /// The labels joined for the deprecated single `label` field.
    pub fn first_label(&self) -> Option<&str> {
        self.labels.first().map(String::as_str)
    }

    /// The content type given at publish time, if any.
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
            .map(|(_, value)| value.as_str())
    }
}
