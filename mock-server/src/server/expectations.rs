//! Sinks created from Rust, and the expectations checked when the mock is dropped.

use super::MockServer;
use crate::sinks::{ReceivedRequest, SinkResponse, SinkScript};
use std::time::Duration;

/// What a test expects a sink to receive.
#[derive(Debug, Clone)]
pub(crate) struct Expectation {
    pub(crate) sink: String,
    requests: Option<usize>,
    offsets: Option<Vec<Duration>>,
}

impl Expectation {
    /// `None` when met; otherwise what is wrong, with what was received.
    pub(crate) fn check(&self, received: &[ReceivedRequest]) -> Option<String> {
        let first = received.first().map_or(0, |r| r.time);
        let offsets: Vec<Duration> = received
            .iter()
            .map(|r| Duration::from_millis(r.time - first))
            .collect();
        let wrong_count = self.requests.is_some_and(|n| n != received.len());
        let wrong_offsets = self.offsets.as_ref().is_some_and(|o| *o != offsets);
        if !wrong_count && !wrong_offsets {
            return None;
        }
        let mut message = format!("sink `{}`:", self.sink);
        if let Some(expected) = self.requests {
            message += &format!(
                " expected {expected} requests, received {};",
                received.len()
            );
        }
        if let Some(expected) = &self.offsets {
            message +=
                &format!(" expected requests at {expected:?} after the first, got {offsets:?};");
        }
        for request in received {
            let body = request.body.as_deref().unwrap_or("<binary>");
            let cut: String = body.chars().take(80).collect();
            message += &format!(
                "\n  - t={} {} {} retried={} answered {} body={cut:?}",
                request.time, request.method, request.path, request.retried, request.status
            );
        }
        Some(message)
    }
}

/// Creates a sink on a [`MockServer`] and sets what it should receive.
///
/// ```
/// # async fn run() {
/// use qstash_mock::MockServer;
///
/// let mock = MockServer::start().await;
/// let url = mock.sink("app").statuses(&[500, 200]).expect_requests(0).create();
/// assert!(url.ends_with("/__sinks/app"));
/// # }
/// ```
#[derive(Debug)]
#[must_use]
pub struct SinkBuilder<'a> {
    server: &'a MockServer,
    name: String,
    script: SinkScript,
    expectation: Expectation,
}

impl<'a> SinkBuilder<'a> {
    pub(super) fn new(server: &'a MockServer, name: String) -> Self {
        SinkBuilder {
            server,
            expectation: Expectation {
                sink: name.clone(),
                requests: None,
                offsets: None,
            },
            name,
            script: SinkScript::default(),
        }
    }

    /// Answers from this script.
    pub fn respond_with(mut self, script: SinkScript) -> Self {
        self.script = script;
        self
    }

    /// Answers attempt `n` with `statuses[n]`, repeating the last.
    pub fn statuses(mut self, statuses: &[u16]) -> Self {
        self.script = SinkScript::statuses(statuses);
        self
    }

    /// Answers every request with `response`.
    pub fn always(mut self, response: SinkResponse) -> Self {
        self.script = SinkScript {
            responses: vec![response],
            ..SinkScript::default()
        };
        self
    }

    /// Expects exactly `count` requests by the time the mock is dropped.
    pub fn expect_requests(mut self, count: usize) -> Self {
        self.expectation.requests = Some(count);
        self
    }

    /// Expects requests at exactly these virtual-time offsets from the first one.
    pub fn expect_request_offsets(mut self, offsets: Vec<Duration>) -> Self {
        self.expectation.offsets = Some(offsets);
        self
    }

    /// Creates (or re-scripts) the sink and returns its URL.
    ///
    /// # Panics
    /// When the name is not 1 to 64 letters, digits, `-`, `_` or `.`.
    pub fn create(self) -> String {
        if let Err(reason) = crate::sinks::validate_sink_name(&self.name) {
            panic!("{reason}");
        }
        self.server.shared().sinks().upsert(&self.name, self.script);
        if self.expectation.requests.is_some() || self.expectation.offsets.is_some() {
            self.server.add_expectation(self.expectation);
        }
        self.server.sink_url(&self.name)
    }
}
