//! The pure state machine at the heart of the mock.
//!
//! The engine owns the messages, the schedule of due work, the DLQ and the event log. It
//! never reads a clock and never touches a socket: every call takes the current time as
//! an argument, and delivery is split in two halves: [`Engine::start_due`] hands out the
//! attempts that are due, and [`Engine::finish_attempt`] takes back what each produced.
//! The async shell around it (see `crate::server`) does the I/O in between.

mod attempt;
mod bulk_actions;
mod config;
mod dlq;
mod error;
mod events;
mod flow_control;
mod ids;
mod logs;
mod message;
mod publish;
mod queues;
mod quota;
mod schedules;
pub(crate) mod serde_util;
mod state;
mod timeline;
mod topics;

pub use attempt::{AttemptOutcome, CapturedResponse, OutgoingRequest};
pub use bulk_actions::BulkAction;
pub use config::{
    EngineConfig, Plan, SignatureTime, SigningKeys, DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY,
    DEV_TOKEN,
};
pub use dlq::{DlqEntry, DlqFilter, DlqPage, RecordedResponse};
pub use error::EngineError;
pub use events::{DlqReason, Event, EventKind, NextRetry};
pub use flow_control::{FlowControlAction, FlowControlInfo, GlobalParallelism};
pub use logs::{CancelledSpelling, LogEntry, LogFilter, LogPage, LogState, MAX_LOG_PAGE};
pub use message::{
    CallbackSpec, FlowControlSpec, Message, MessageKind, MessageState, OrderKey, Routing,
};
pub use publish::{PublishRequest, PublishSettings, Published};
pub use queues::{validate_name, Queue};
pub use quota::{LimitExceeded, RateLimits};
pub use schedules::{Schedule, ScheduleRequest, ScheduleRunState};
pub use state::{header_map, Attempt, Engine};
pub use timeline::{format_time, Timeline, TimelineEntry, TimelineStatus};
pub use topics::{Endpoint, RemoveEndpoint, UrlGroup};

#[cfg(test)]
mod tests;
