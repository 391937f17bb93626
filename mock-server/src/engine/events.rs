//! The event log: everything the engine did, in a deterministic order.

use super::dlq::RecordedResponse;
use super::message::{Message, OrderKey};
use crate::rules::{IgnoredHeader, RetryDelay};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// One thing that happened, at one instant of the mock's clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Unix ms on the mock's clock.
    pub time: u64,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

impl Event {
    /// The message the event is about, if any.
    pub fn message_id(&self) -> Option<&str> {
        match &self.kind {
            EventKind::Published { message_id, .. }
            | EventKind::Deduplicated { message_id, .. }
            | EventKind::AttemptSucceeded { message_id, .. }
            | EventKind::AttemptFailed { message_id, .. }
            | EventKind::MovedToDlq { message_id, .. }
            | EventKind::CallbackPublished { message_id, .. }
            | EventKind::DlqRetried { message_id, .. }
            | EventKind::DlqDeleted { message_id, .. }
            | EventKind::DlqExpired { message_id, .. }
            | EventKind::Cancelled { message_id, .. } => Some(message_id),
            EventKind::KeysRotated => None,
        }
    }

    /// The event's name as it appears in JSON, e.g. `attemptFailed`.
    pub fn name(&self) -> &'static str {
        match &self.kind {
            EventKind::Published { .. } => "published",
            EventKind::Deduplicated { .. } => "deduplicated",
            EventKind::AttemptSucceeded { .. } => "attemptSucceeded",
            EventKind::AttemptFailed { .. } => "attemptFailed",
            EventKind::MovedToDlq { .. } => "movedToDlq",
            EventKind::CallbackPublished { .. } => "callbackPublished",
            EventKind::DlqRetried { .. } => "dlqRetried",
            EventKind::DlqDeleted { .. } => "dlqDeleted",
            EventKind::DlqExpired { .. } => "dlqExpired",
            EventKind::Cancelled { .. } => "cancelled",
            EventKind::KeysRotated => "keysRotated",
        }
    }
}

/// Why a message moved to the DLQ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DlqReason {
    /// Every retry failed.
    RetriesExhausted,
    /// The destination answered 489 with `Upstash-NonRetryable-Error: true`.
    NonRetryable,
}

/// What happened, with the facts that explain it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum EventKind {
    /// A message was accepted.
    #[serde(rename_all = "camelCase")]
    Published {
        /// The new message.
        message_id: String,
        /// Its destination.
        url: String,
        /// When its first attempt is due.
        not_before: u64,
        /// Its retry limit.
        max_retries: u32,
        /// Set when it republishes a DLQ entry.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        from_dlq_id: Option<String>,
    },
    /// A publish matched an earlier message's deduplication id and was not enqueued.
    #[serde(rename_all = "camelCase")]
    Deduplicated {
        /// The earlier message, which the caller got back.
        message_id: String,
        /// The key that matched.
        deduplication_id: String,
    },
    /// An attempt got a 2xx answer; the message is delivered.
    #[serde(rename_all = "camelCase")]
    AttemptSucceeded {
        /// The message.
        message_id: String,
        /// `Upstash-Retried` of the attempt.
        retried: u32,
        /// The answer's status.
        status: u16,
    },
    /// An attempt failed.
    #[serde(rename_all = "camelCase")]
    AttemptFailed {
        /// The message.
        message_id: String,
        /// `Upstash-Retried` of the attempt.
        retried: u32,
        /// The answer's status, when there was an answer.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        status: Option<u16>,
        /// Timeout or connection error, when there was no answer.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        error: Option<String>,
        /// When the next attempt is due and why, if there is one.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        next_retry: Option<NextRetry>,
    },
    /// The message left the queue for the DLQ.
    #[serde(rename_all = "camelCase")]
    MovedToDlq {
        /// The message.
        message_id: String,
        /// Its DLQ entry.
        dlq_id: String,
        /// Why.
        reason: DlqReason,
        /// When the entry expires under the retention in force.
        expires_at: u64,
    },
    /// A callback or failure callback message was created.
    #[serde(rename_all = "camelCase")]
    CallbackPublished {
        /// The message whose attempt or failure it reports.
        message_id: String,
        /// The new callback message.
        callback_message_id: String,
        /// `callback` or `failureCallback`.
        role: String,
        /// Where it goes.
        url: String,
    },
    /// A DLQ entry was republished under a new id and removed.
    #[serde(rename_all = "camelCase")]
    DlqRetried {
        /// The entry.
        dlq_id: String,
        /// The message the entry held.
        message_id: String,
        /// The republished message.
        new_message_id: String,
    },
    /// A DLQ entry was deleted through the API.
    #[serde(rename_all = "camelCase")]
    DlqDeleted {
        /// The entry.
        dlq_id: String,
        /// The message the entry held.
        message_id: String,
    },
    /// A DLQ entry reached the end of its retention and is gone.
    #[serde(rename_all = "camelCase")]
    DlqExpired {
        /// The entry.
        dlq_id: String,
        /// The message the entry held.
        message_id: String,
    },
    /// A message was cancelled; it will not be attempted again nor reach the DLQ.
    #[serde(rename_all = "camelCase")]
    Cancelled {
        /// The message.
        message_id: String,
    },
    /// The signing keys were rotated.
    KeysRotated,
}

/// The retry a failed attempt scheduled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NextRetry {
    /// Unix ms of the next attempt.
    pub at: u64,
    /// The delay and the rule that chose it.
    #[serde(flatten)]
    pub delay: RetryDelay,
    /// One line for people: the rule and the numbers.
    pub explanation: String,
}

impl NextRetry {
    /// Headers that were present but not used for the delay.
    pub fn ignored(&self) -> &[IgnoredHeader] {
        &self.delay.ignored
    }
}

/// Where an event sits in the log: by time, then by the order of the work that caused it,
/// then by the order in which that work recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct EventKey {
    time: u64,
    order: OrderKey,
    n: u64,
}

/// The events, kept sorted by [`EventKey`] whatever order they were recorded in.
///
/// Beside the events, the log keeps what `/v2/logs` shows but the events leave out to
/// stay small and free of wall-clock noise: each message as created, and the answer of
/// each failed attempt.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct EventLog {
    #[serde(with = "crate::engine::serde_util::pairs")]
    entries: BTreeMap<EventKey, Event>,
    recorded: u64,
    #[serde(default, with = "crate::engine::serde_util::sorted")]
    created: HashMap<String, Message>,
    /// By message id, then `Upstash-Retried` of the attempt.
    #[serde(default, with = "crate::engine::serde_util::sorted")]
    answers: HashMap<String, BTreeMap<u32, RecordedResponse>>,
}

impl EventLog {
    pub(crate) fn record(&mut self, order: OrderKey, event: Event) {
        self.recorded += 1;
        let key = EventKey {
            time: event.time,
            order,
            n: self.recorded,
        };
        self.entries.insert(key, event);
    }

    /// How many events were recorded so far; a mark for [`EventLog::since`].
    pub(crate) fn mark(&self) -> u64 {
        self.recorded
    }

    /// The events recorded after `mark`, in log order.
    pub(crate) fn since(&self, mark: u64) -> Vec<Event> {
        self.entries
            .iter()
            .filter(|(key, _)| key.n > mark)
            .map(|(_, event)| event.clone())
            .collect()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Event> {
        self.entries.values()
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Keeps a message as it was created.
    pub(crate) fn remember_created(&mut self, message: &Message) {
        self.created
            .insert(message.message_id.clone(), message.clone());
    }

    /// A message as it was created.
    pub(crate) fn created(&self, message_id: &str) -> Option<&Message> {
        self.created.get(message_id)
    }

    /// Keeps the answer of a failed attempt.
    pub(crate) fn remember_answer(
        &mut self,
        message_id: &str,
        retried: u32,
        answer: RecordedResponse,
    ) {
        match self.answers.get_mut(message_id) {
            Some(answers) => {
                answers.insert(retried, answer);
            }
            None => {
                let answers = BTreeMap::from([(retried, answer)]);
                self.answers.insert(message_id.to_owned(), answers);
            }
        }
    }

    /// The answer of a failed attempt, when there was one.
    pub(crate) fn answer(&self, message_id: &str, retried: u32) -> Option<&RecordedResponse> {
        self.answers.get(message_id)?.get(&retried)
    }
}
