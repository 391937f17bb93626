//! A typed client for [Upstash QStash](https://upstash.com/docs/qstash), and a
//! verifier for the signatures QStash puts on the requests it delivers.
//!
//! # Quick start
//!
//! Publish a JSON message, then look at what ended up in the dead-letter
//! queue:
//!
//! ```no_run
//! use std::time::Duration;
//! use futures_util::TryStreamExt;
//! use qstash_sdk::{Client, Destination, DlqFilter, PublishRequest};
//!
//! # async fn run() -> Result<(), qstash_sdk::Error> {
//! // QSTASH_TOKEN, and QSTASH_URL to point at a local mock.
//! let client = Client::from_env()?;
//!
//! let request = PublishRequest::new(Destination::url("https://example.com/jobs"))
//!     .json(&serde_json::json!({ "job": "resize", "id": 7 }))
//!     .retries(3)
//!     .delay(Duration::from_secs(10));
//! let published = client.publish(request).await?;
//! println!("published {:?}", published.message_ids());
//!
//! let failed: Vec<_> = client
//!     .dlq()
//!     .list()
//!     .filter(DlqFilter::new().url("https://example.com/jobs"))
//!     .into_stream()
//!     .try_collect()
//!     .await?;
//! let ids: Vec<_> = failed.iter().map(|entry| entry.dlq_id.clone()).collect();
//! if !ids.is_empty() {
//!     let retried = client.dlq().retry_many(ids).await?;
//!     println!("retried as {:?}", retried);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! On the receiving side, check the `Upstash-Signature` header against the
//! raw body:
//!
//! ```no_run
//! # fn handle(signature: &str, raw_body: &[u8]) -> Result<(), qstash_sdk::Error> {
//! let receiver = qstash_sdk::Receiver::from_env()?;
//! match receiver.verify(signature, raw_body, Some("https://example.com/jobs")) {
//!     Ok(_claims) => { /* handle the message */ }
//!     Err(err) => eprintln!("refused: {err}"),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//!
//! - [`Client`] and [`ClientBuilder`]: base URL, token, timeout and
//!   [`RetryPolicy`] for the client's own calls. Transport is hyper 1 with
//!   rustls and the Mozilla roots, so `https` works without setup.
//! - Publishing: [`PublishRequest`] with [`Client::publish`] and
//!   [`Client::batch`].
//! - One handle per API area: [`Client::messages`], [`Client::dlq`],
//!   [`Client::logs`], [`Client::queues`], [`Client::schedules`],
//!   [`Client::url_groups`], [`Client::signing_keys`].
//! - [`Receiver`]: signature verification for your endpoints.
//! - [`Error`]: one opaque error with `is_*()` predicates; [`VerifyError`]
//!   for the receiver.
//!
//! # Where QStash's sources disagree
//!
//! This crate reads every documented variant of an answer: a URL-group
//! publish as a bare array or wrapped in `messages`; logs under `events` or
//! `logs`; `CANCELLED` or `CANCELED`; `responseHeader` or
//! `responseHeaders`; `retryDelayExpression` or `retryDelayExpr`; and
//! timestamps as numbers or numeric strings. It calls `/v2/events` for logs
//! and PATCH for pausing schedules, as the official SDKs do.
//!
//! # Logging
//!
//! Calls are logged with [`tracing`](https://docs.rs/tracing) at `debug`
//! under the target `qstash_sdk::http`. Tokens, signing keys and the query
//! strings of destination URLs are never logged.
#![warn(missing_docs)]

mod client;
mod de;
mod dlq;
mod encoding;
mod error;
mod logs;
mod messages;
mod pages;
mod publish;
mod queues;
mod receiver;
mod retry;
mod schedules;
mod signing_keys;
mod transport;
mod url_groups;

pub use client::{Client, ClientBuilder, DEFAULT_BASE_URL};
pub use dlq::{Dlq, DlqFilter, DlqMessage, DlqPage, ListDlq};
pub use error::{Error, RateLimit, RateLimitScope, Result};
pub use logs::{ListLogs, LogEntry, LogFilter, LogPage, LogState, Logs};
pub use messages::{Message, Messages};
pub use publish::{
    BatchOutcome, Callback, Destination, FlowControl, PublishRequest, PublishResponse,
    PublishedMessage,
};
pub use queues::{Queue, QueueSettings, Queues};
pub use receiver::{Receiver, SignatureClaims, VerifyError, VerifyFailure};
pub use retry::RetryPolicy;
pub use schedules::{Schedule, ScheduleRequest, Schedules};
pub use signing_keys::{SigningKeys, SigningKeysApi};
pub use url_groups::{Endpoint, UrlGroup, UrlGroups};

/// The HTTP method type used by [`PublishRequest::method`] and
/// [`Callback::method`], re-exported from the `http` crate.
///
/// ```
/// let request = qstash_sdk::PublishRequest::new(qstash_sdk::Destination::url("https://example.com"))
///     .method(qstash_sdk::Method::PUT);
/// ```
pub use http::Method;
