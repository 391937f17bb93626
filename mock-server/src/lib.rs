//! A deterministic emulator of Upstash QStash with a controllable clock.
//!
//! `qstash-mock` accepts QStash API calls, delivers messages to real HTTP endpoints,
//! retries them with QStash's backoff, moves failures to the dead letter queue and expires
//! them after the plan's retention, all on a virtual clock that tests move. It runs
//! embedded in Rust tests ([`MockServer`]) or as the `qstash-mock` binary for any language.
//!
//! # Quick start
//!
//! ```
//! # async fn run() {
//! use qstash_mock::MockServer;
//! use std::time::Duration;
//!
//! let mock = MockServer::start().await;
//! let app = mock.sink("app").statuses(&[500]).create();
//! // Publish to `app` through `mock.uri()` with any QStash client, then:
//! let report = mock.advance(Duration::from_secs(24 * 3600)).await;
//! assert_eq!(report.count("attemptFailed"), 0); // nothing was published here
//! # let _ = app;
//! # }
//! ```
//!
//! # Layout
//!
//! - [`engine`]: the pure state machine: messages, due work, DLQ, event log. Time is an
//!   argument; it has no socket and no clock.
//! - [`rules`]: durations, `Upstash-Retry-Delay` expressions and the backoff rules.
//! - [`clock`]: the virtual clock, frozen or running.
//! - [`delivery`]: the HTTP client that makes attempts, with host mapping and extra CAs.
//! - [`signing`]: the `Upstash-Signature` JWT.
//! - [`sinks`]: scripted destinations served by the mock itself.
//! - `server` and `api` (private): the async shell, the HTTP routes and the control plane.
//! - `console` (private): the DLQ console, a web page at `/__console`.

#![warn(missing_docs)]

mod api;
pub mod clock;
mod console;
pub mod delivery;
pub mod engine;
pub mod rules;
mod server;
pub mod signing;
pub mod sinks;

pub use clock::ClockMode;
pub use engine::{
    CancelledSpelling, Plan, SignatureTime, SigningKeys, DEV_CURRENT_SIGNING_KEY,
    DEV_NEXT_SIGNING_KEY, DEV_TOKEN,
};
pub use server::{
    AdvanceReport, MockServer, MockServerBuilder, ResetOptions, SinkBuilder, StartError,
    DEFAULT_IDLE_STEP_LIMIT,
};
pub use sinks::{ReceivedRequest, ScriptIndex, SinkResponse, SinkScript};
