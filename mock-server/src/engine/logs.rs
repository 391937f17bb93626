//! QStash's logs (formerly "events"): the life of every message as a list of states,
//! read off the engine's event log, newest first.
//!
//! Each event expands to the states QStash reports for it: a publish is `CREATED`; an
//! attempt is `ACTIVE` followed by `DELIVERED`, or by `ERROR` and, when a retry is
//! scheduled, `RETRY`; a move to the DLQ is `FAILED`; a cancel is `CANCEL_REQUESTED`
//! then `CANCELLED`. The message's own fields come from the `published` event, which
//! carries the message as created.

use super::dlq::RecordedResponse;
use super::error::EngineError;
use super::events::EventKind;
use super::message::Message;
use super::state::Engine;
use serde::{Deserialize, Serialize};

/// The largest page `GET /v2/logs` returns, and its size when no `count` is given.
pub const MAX_LOG_PAGE: usize = 1000;

/// A state in a message's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogState {
    /// Accepted and stored, or put into a queue.
    Created,
    /// An attempt is being made.
    Active,
    /// A retry is scheduled.
    Retry,
    /// An attempt failed.
    Error,
    /// A 2xx answer arrived.
    Delivered,
    /// Retries are exhausted (or the error was not retryable); the message is in the DLQ.
    Failed,
    /// A cancel was asked for.
    CancelRequested,
    /// The cancel took effect.
    Cancelled,
}

/// How the cancelled state is spelled in logs: the docs write `CANCELLED`, the official
/// SDKs (TypeScript, Python, Go) expect `CANCELED`, which is the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CancelledSpelling {
    /// `CANCELED`, as the SDKs' enums have it.
    #[default]
    Canceled,
    /// `CANCELLED`, as the API docs have it.
    Cancelled,
}

impl std::str::FromStr for CancelledSpelling {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "CANCELED" => Ok(CancelledSpelling::Canceled),
            "CANCELLED" => Ok(CancelledSpelling::Cancelled),
            other => Err(format!(
                "unknown spelling `{other}`, expected CANCELED or CANCELLED"
            )),
        }
    }
}

impl LogState {
    /// The state's name in the API, with the configured spelling of the cancelled state.
    pub fn as_str(self, spelling: CancelledSpelling) -> &'static str {
        match self {
            LogState::Created => "CREATED",
            LogState::Active => "ACTIVE",
            LogState::Retry => "RETRY",
            LogState::Error => "ERROR",
            LogState::Delivered => "DELIVERED",
            LogState::Failed => "FAILED",
            LogState::CancelRequested => "CANCEL_REQUESTED",
            LogState::Cancelled => match spelling {
                CancelledSpelling::Canceled => "CANCELED",
                CancelledSpelling::Cancelled => "CANCELLED",
            },
        }
    }

    /// The states a `state` filter value selects: `IN_PROGRESS` means `ACTIVE`, `RETRY`
    /// or `ERROR`, and both spellings of the cancelled state are understood.
    ///
    /// # Errors
    /// [`EngineError::InvalidInput`] for an unknown state.
    pub fn parse_filter(value: &str) -> Result<Vec<LogState>, EngineError> {
        let states = match value.to_ascii_uppercase().as_str() {
            "CREATED" => vec![LogState::Created],
            "ACTIVE" => vec![LogState::Active],
            "RETRY" => vec![LogState::Retry],
            "ERROR" => vec![LogState::Error],
            "DELIVERED" => vec![LogState::Delivered],
            "FAILED" => vec![LogState::Failed],
            "CANCEL_REQUESTED" => vec![LogState::CancelRequested],
            "CANCELLED" | "CANCELED" => vec![LogState::Cancelled],
            "IN_PROGRESS" => vec![LogState::Active, LogState::Retry, LogState::Error],
            _ => {
                return Err(EngineError::invalid(
                    "state",
                    format!(
                        "`{value}` is not one of CREATED, ACTIVE, RETRY, ERROR, DELIVERED, \
                         FAILED, CANCEL_REQUESTED, CANCELED, CANCELLED or IN_PROGRESS"
                    ),
                ))
            }
        };
        Ok(states)
    }
}

/// One line of a message's log.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LogEntry {
    /// Unix ms.
    pub time: u64,
    /// The state the message reached.
    pub state: LogState,
    /// The message.
    pub message_id: String,
    /// Its destination.
    pub url: String,
    /// The message as created, when the log has it.
    pub message: Option<Message>,
    /// When the next attempt is due (`CREATED` and `RETRY`).
    pub next_delivery_time: Option<u64>,
    /// Timeout or connection error (`ERROR` without an answer).
    pub error: Option<String>,
    /// The answer (`ERROR` with an answer).
    pub response: Option<RecordedResponse>,
    /// The DLQ entry (`FAILED`).
    pub dlq_id: Option<String>,
}

/// Which log entries a query selects. Each list matches when empty or when the entry
/// has one of its values; the fields combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    /// Message ids.
    pub message_ids: Vec<String>,
    /// States (see [`LogState::parse_filter`]).
    pub states: Vec<LogState>,
    /// Destination URLs.
    pub urls: Vec<String>,
    /// URL group names.
    pub topic_names: Vec<String>,
    /// Schedule ids.
    pub schedule_ids: Vec<String>,
    /// Queue names.
    pub queue_names: Vec<String>,
    /// Labels; an entry matches when its message carries any of them.
    pub labels: Vec<String>,
    /// Flow-control keys.
    pub flow_control_keys: Vec<String>,
    /// Publisher addresses.
    pub caller_ips: Vec<String>,
    /// At or after this unix ms.
    pub from_date: Option<u64>,
    /// At or before this unix ms.
    pub to_date: Option<u64>,
}

impl LogFilter {
    /// Whether `entry` passes the filter.
    pub fn matches(&self, entry: &LogEntry) -> bool {
        let routing = entry.message.as_ref().map(|m| &m.routing);
        let in_list = |list: &[String], value: Option<&String>| {
            list.is_empty() || value.is_some_and(|v| list.contains(v))
        };
        in_list(&self.message_ids, Some(&entry.message_id))
            && (self.states.is_empty() || self.states.contains(&entry.state))
            && in_list(&self.urls, Some(&entry.url))
            && in_list(
                &self.topic_names,
                routing.and_then(|r| r.topic_name.as_ref()),
            )
            && in_list(
                &self.schedule_ids,
                routing.and_then(|r| r.schedule_id.as_ref()),
            )
            && in_list(
                &self.queue_names,
                routing.and_then(|r| r.queue_name.as_ref()),
            )
            && in_list(
                &self.flow_control_keys,
                routing.and_then(|r| r.flow_control.as_ref().map(|f| &f.key)),
            )
            && in_list(
                &self.caller_ips,
                entry.message.as_ref().and_then(|m| m.caller_ip.as_ref()),
            )
            && (self.labels.is_empty()
                || entry
                    .message
                    .as_ref()
                    .is_some_and(|m| m.labels.iter().any(|l| self.labels.contains(l))))
            && self.from_date.is_none_or(|from| entry.time >= from)
            && self.to_date.is_none_or(|to| entry.time <= to)
    }
}

/// One page of log entries, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct LogPage {
    /// The entries.
    pub entries: Vec<LogEntry>,
    /// Pass back for the next page; `None` on the last one.
    pub cursor: Option<String>,
}

/// Where a page starts: entries at or before `time`, after skipping `skip` entries of
/// exactly `time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    time: u64,
    skip: usize,
}

impl Cursor {
    /// Reads `<unix ms>-<skip>`, or a bare `<unix ms>` (entries at or before it).
    fn parse(text: &str) -> Result<Cursor, EngineError> {
        let invalid = || {
            EngineError::invalid(
                "cursor",
                format!("`{text}` is not a cursor this server handed out"),
            )
        };
        let (time, skip) = text.split_once('-').unwrap_or((text, "0"));
        Ok(Cursor {
            time: time.parse().map_err(|_| invalid())?,
            skip: skip.parse().map_err(|_| invalid())?,
        })
    }
}

impl Engine {
    /// A page of the log entries that pass `filter`, newest first, at most `count`.
    ///
    /// # Errors
    /// [`EngineError::InvalidInput`] for a cursor this engine did not hand out.
    pub fn logs(
        &self,
        filter: &LogFilter,
        cursor: Option<&str>,
        count: usize,
    ) -> Result<LogPage, EngineError> {
        let cursor = cursor.map(Cursor::parse).transpose()?;
        // The log is in time order, so newest first is sorted by time, descending.
        let matching: Vec<LogEntry> = self
            .log_entries()
            .into_iter()
            .rev()
            .filter(|entry| filter.matches(entry))
            .collect();
        let first_at = |time: u64| matching.partition_point(|entry| entry.time > time);
        let start = cursor.map_or(0, |c| (first_at(c.time) + c.skip).min(matching.len()));
        let end = start.saturating_add(count).min(matching.len());
        let cursor = matching.get(end).map(|next| {
            let skip = end - first_at(next.time);
            format!("{}-{skip}", next.time)
        });
        Ok(LogPage {
            entries: matching[start..end].to_vec(),
            cursor,
        })
    }

    /// Every log entry, oldest first.
    pub fn log_entries(&self) -> Vec<LogEntry> {
        let log = self.event_log();
        let mut entries = Vec::new();
        for event in self.events() {
            let Some(message_id) = event.message_id() else {
                continue;
            };
            let created = log.created(message_id);
            let base = LogEntry {
                time: event.time,
                state: LogState::Created,
                message_id: message_id.to_owned(),
                url: created.map(|m| m.url.clone()).unwrap_or_default(),
                message: created.cloned(),
                next_delivery_time: None,
                error: None,
                response: None,
                dlq_id: None,
            };
            let answer = match &event.kind {
                EventKind::AttemptFailed {
                    message_id,
                    retried,
                    ..
                } => log.answer(message_id, *retried).cloned(),
                _ => None,
            };
            expand(&event.kind, base, answer, &mut entries);
        }
        entries
    }
}

/// The log entries one event stands for, oldest first.
///
/// TODO: `ACTIVE` is derived from the attempt's outcome, so an attempt still in flight
/// shows no `ACTIVE` entry until it ends (on the virtual clock both share one instant).
fn expand(
    kind: &EventKind,
    base: LogEntry,
    answer: Option<RecordedResponse>,
    entries: &mut Vec<LogEntry>,
) {
    let with = |state: LogState| LogEntry {
        state,
        ..base.clone()
    };
    match kind {
        EventKind::Published {
            url, not_before, ..
        } => entries.push(LogEntry {
            url: url.clone(),
            next_delivery_time: Some(*not_before),
            ..with(LogState::Created)
        }),
        EventKind::AttemptSucceeded { .. } => {
            entries.push(with(LogState::Active));
            entries.push(with(LogState::Delivered));
        }
        EventKind::AttemptFailed {
            error, next_retry, ..
        } => {
            entries.push(with(LogState::Active));
            entries.push(LogEntry {
                error: error.clone(),
                response: answer,
                ..with(LogState::Error)
            });
            if let Some(retry) = next_retry {
                entries.push(LogEntry {
                    next_delivery_time: Some(retry.at),
                    ..with(LogState::Retry)
                });
            }
        }
        EventKind::MovedToDlq { dlq_id, .. } => entries.push(LogEntry {
            dlq_id: Some(dlq_id.clone()),
            ..with(LogState::Failed)
        }),
        EventKind::Cancelled { .. } => {
            entries.push(with(LogState::CancelRequested));
            entries.push(with(LogState::Cancelled));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_progress_selects_active_retry_and_error_and_both_spellings_mean_cancelled() {
        let in_progress = LogState::parse_filter("in_progress").unwrap();

        assert_eq!(
            in_progress,
            vec![LogState::Active, LogState::Retry, LogState::Error]
        );
        assert_eq!(
            LogState::parse_filter("CANCELLED").unwrap(),
            LogState::parse_filter("CANCELED").unwrap()
        );
        assert!(LogState::parse_filter("GONE").is_err());
    }

    #[test]
    fn a_cursor_is_a_time_with_an_optional_count_to_skip() {
        assert_eq!(Cursor::parse("17-3").unwrap(), Cursor { time: 17, skip: 3 });
        assert_eq!(Cursor::parse("17").unwrap(), Cursor { time: 17, skip: 0 });
        assert!(Cursor::parse("x-1").is_err());
    }

    #[test]
    fn the_cancelled_state_is_spelled_as_configured() {
        assert_eq!(
            LogState::Cancelled.as_str(CancelledSpelling::default()),
            "CANCELED"
        );
        assert_eq!(
            LogState::Cancelled.as_str(CancelledSpelling::Cancelled),
            "CANCELLED"
        );
    }
}
