//! What a publish (or a DLQ retry) asks for, already parsed from headers.

use super::message::CallbackSpec;
use crate::rules::RetryDelayExpr;
use bytes::Bytes;

/// The settings a publish request can carry. Every field is optional so the same type
/// serves as the overrides sent with a retry from the DLQ.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PublishSettings {
    /// `Upstash-Method`.
    pub method: Option<String>,
    /// `Upstash-Retries`.
    pub retries: Option<u32>,
    /// `Upstash-Retry-Delay`.
    pub retry_delay: Option<RetryDelayExpr>,
    /// `Upstash-Delay`, in ms.
    pub delay_ms: Option<u64>,
    /// `Upstash-Not-Before`, in unix ms; wins over the delay.
    pub not_before_ms: Option<u64>,
    /// `Upstash-Timeout`, in ms.
    pub timeout_ms: Option<u64>,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Upstash-Forward-*` headers with the prefix removed.
    pub forward_headers: Vec<(String, String)>,
    /// `Upstash-Callback` and its settings.
    pub callback: Option<CallbackSpec>,
    /// `Upstash-Failure-Callback` and its settings.
    pub failure_callback: Option<CallbackSpec>,
    /// `Upstash-Deduplication-Id`.
    pub deduplication_id: Option<String>,
    /// `Upstash-Content-Based-Deduplication: true`.
    pub content_based_deduplication: bool,
    /// `Upstash-Label`, split at commas.
    pub labels: Vec<String>,
}

/// A publish to a URL destination.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishRequest {
    /// The destination URL, query string included.
    pub destination: String,
    /// The body, delivered unchanged.
    pub body: Bytes,
    /// Everything the headers said.
    pub settings: PublishSettings,
    /// The publisher's address, when known.
    pub caller_ip: Option<String>,
}

/// The answer to a publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The new message, or the earlier one when deduplicated.
    pub message_id: String,
    /// The destination URL.
    pub url: String,
    /// Whether an earlier message with the same deduplication key was returned instead.
    pub deduplicated: bool,
}
