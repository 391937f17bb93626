//! Black-box tests of the SDK against a wiremock server: request shapes,
//! answer decoding, errors and retries, and signature verification.
//!
//! The modules live in `tests/api/` so that Cargo builds one test binary.

#[path = "api/support.rs"]
mod support;

#[path = "api/dlq.rs"]
mod dlq;
#[path = "api/errors.rs"]
mod errors;
#[path = "api/logs.rs"]
mod logs;
#[path = "api/messages.rs"]
mod messages;
#[path = "api/publish.rs"]
mod publish;
#[path = "api/queues.rs"]
mod queues;
#[path = "api/receiver.rs"]
mod receiver;
#[path = "api/schedules.rs"]
mod schedules;
#[path = "api/signing_keys.rs"]
mod signing_keys;
#[path = "api/url_groups.rs"]
mod url_groups;
