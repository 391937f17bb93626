//! A checked scenario: what the runner plays, with every name and duration resolved.

use serde_json::Value;
use std::collections::BTreeMap;

/// The statuses a message's timeline can be in, as the control plane names them.
pub(crate) const TIMELINE_STATUSES: &[&str] = &[
    "pending",
    "retrying",
    "delivered",
    "inDlq",
    "retriedFromDlq",
    "deletedFromDlq",
    "expired",
    "cancelled",
];

/// A scenario ready to play: settings, sinks, steps and expectations.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Its name (the file's `name`, or the file name without `.toml`).
    pub name: String,
    /// What it shows, in a sentence or two.
    pub description: Option<String>,
    /// The file it came from, as named when it was loaded.
    pub file: String,
    pub(crate) mock: MockSettings,
    pub(crate) sinks: Vec<SinkDecl>,
    pub(crate) steps: Vec<Step>,
    pub(crate) checks: Vec<Check>,
}

/// The settings of `POST /__mock/reset`.
#[derive(Debug, Clone)]
pub(crate) struct MockSettings {
    pub(crate) seed: u64,
    pub(crate) plan: String,
    pub(crate) retention: Option<String>,
    pub(crate) dedup_window: Option<String>,
    pub(crate) default_retries: Option<u32>,
    pub(crate) start: String,
}

/// A sink and the script it is created with (the control plane's JSON).
#[derive(Debug, Clone)]
pub(crate) struct SinkDecl {
    pub(crate) name: String,
    pub(crate) script: Value,
}

/// One action and the checks made right after it.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub(crate) line: usize,
    pub(crate) action: Action,
    pub(crate) checks: Vec<Check>,
}

/// Where a publish goes.
#[derive(Debug, Clone)]
pub(crate) enum Destination {
    /// A declared sink, with an optional path below it (`/orders?x=1`).
    Sink { name: String, path: String },
    /// Any other URL, used as written.
    Url(String),
}

/// An instant to move the clock to.
#[derive(Debug, Clone)]
pub(crate) enum TimePoint {
    /// Milliseconds after the scenario's start.
    Offset(u64),
    /// An RFC 3339 time, passed to the mock as written.
    Instant(String),
}

/// What a step does.
///
/// TODO: no steps yet for the bulk forms (`DELETE /v2/dlq`, `POST /v2/dlq/retry`,
/// `DELETE /v2/messages` with filters) nor checks of `GET /v2/messages/{id}`; scenarios
/// reach single entries and messages only.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    Publish {
        destination: Destination,
        alias: Option<String>,
        body: String,
        headers: Vec<(String, String)>,
    },
    Advance {
        ms: u64,
    },
    AdvanceTo {
        to: TimePoint,
    },
    Next {
        times: u32,
    },
    RunUntilIdle {
        max_steps: Option<u32>,
    },
    Settle,
    DlqRetry {
        of: String,
        alias: Option<String>,
        headers: Vec<(String, String)>,
    },
    DlqDelete {
        of: String,
    },
    Cancel {
        of: String,
    },
    RotateKeys,
}

/// What an expectation is about.
#[derive(Debug, Clone)]
pub(crate) enum Subject {
    /// A message's timeline.
    Message(String),
    /// The DLQ entry of a message.
    Dlq(String),
    /// The whole DLQ: exactly these messages, oldest first.
    DlqEntries(Vec<String>),
    /// What a sink received.
    Sink(String),
    /// The API's answer to the step that named this message.
    Response(String),
    /// Events in the log, optionally about one message.
    Event { name: String, of: Option<String> },
}

/// One claim about a subject.
#[derive(Debug, Clone)]
pub(crate) enum Assert {
    Status(String),
    Attempts(u32),
    AttemptedAt(Vec<u64>),
    RetryDelays(Vec<u64>),
    ExpiresAfter(u64),
    RetriedAs(String),
    SameAs(String),
    Present(bool),
    Fields(Value),
    Requests(u32),
    Statuses(Vec<u16>),
    Retried(Vec<u32>),
    ReceivedAt(Vec<u64>),
    Headers {
        nth: Option<u32>,
        headers: BTreeMap<String, String>,
    },
    JsonBody {
        nth: Option<u32>,
        expected: Value,
    },
    Body {
        nth: Option<u32>,
        expected: String,
    },
    HttpStatus(u16),
    Json(Value),
    Count(u32),
}

/// An expectation: a subject and the claims about it, from one table of the file.
#[derive(Debug, Clone)]
pub(crate) struct Check {
    pub(crate) line: usize,
    pub(crate) subject: Subject,
    pub(crate) asserts: Vec<Assert>,
}
