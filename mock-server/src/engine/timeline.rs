//! Per-message timelines: what happened to one message and why, read off the event log.

use super::events::{DlqReason, Event, EventKind};
use super::state::Engine;
use crate::rules::format_duration_ms;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Where a message stands, as far as the log tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TimelineStatus {
    /// Waiting for its first attempt.
    Pending,
    /// Failed at least once and waiting for a retry.
    Retrying,
    /// A 2xx answer arrived.
    Delivered,
    /// In the DLQ.
    InDlq,
    /// Republished from the DLQ under another id.
    RetriedFromDlq,
    /// Deleted from the DLQ.
    DeletedFromDlq,
    /// Removed from the DLQ by retention.
    Expired,
    /// Cancelled.
    Cancelled,
}

/// One line of a timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEntry {
    /// Unix ms.
    pub time: u64,
    /// The same instant, RFC 3339.
    pub at: String,
    /// Time since the message was published, compact (`2m28s`).
    pub since_publish: String,
    /// The event's name.
    pub event: String,
    /// What happened and why, in one sentence.
    pub summary: String,
}

/// The story of one message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Timeline {
    /// The message.
    pub message_id: String,
    /// Where it stands.
    pub status: TimelineStatus,
    /// Attempts made.
    pub attempts: u32,
    /// Unix ms of the next attempt, while one is scheduled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<u64>,
    /// Its DLQ entry, once it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dlq_id: Option<String>,
    /// When retention removes (or removed) the DLQ entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// The message that republished it from the DLQ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retried_as: Option<String>,
    /// Every event about the message, oldest first.
    pub entries: Vec<TimelineEntry>,
}

/// Formats unix ms as RFC 3339 (UTC, millisecond precision).
pub fn format_time(ms: u64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| format!("{ms}ms"))
}

impl Engine {
    /// The timeline of a message, or `None` when the log never mentions it.
    pub fn timeline(&self, message_id: &str) -> Option<Timeline> {
        let events: Vec<&Event> = self
            .events()
            .filter(|event| event.message_id() == Some(message_id))
            .collect();
        let published_at = events.first()?.time;
        let mut timeline = Timeline {
            message_id: message_id.to_owned(),
            status: TimelineStatus::Pending,
            attempts: 0,
            next_attempt_at: None,
            dlq_id: None,
            expires_at: None,
            retried_as: None,
            entries: Vec::new(),
        };
        for event in events {
            let summary = apply(&mut timeline, event);
            timeline.entries.push(TimelineEntry {
                time: event.time,
                at: format_time(event.time),
                since_publish: format_duration_ms(event.time.saturating_sub(published_at)),
                event: event.name().to_owned(),
                summary,
            });
        }
        Some(timeline)
    }
}

/// Folds one event into the timeline and says what it means.
fn apply(timeline: &mut Timeline, event: &Event) -> String {
    match &event.kind {
        EventKind::Published {
            url,
            not_before,
            max_retries,
            from_dlq_id,
            ..
        } => {
            timeline.next_attempt_at = Some(*not_before);
            let origin = from_dlq_id
                .as_ref()
                .map(|id| format!(" (republished from DLQ entry {id})"))
                .unwrap_or_default();
            format!(
                "published to {url}{origin}; first attempt at {}, up to {max_retries} retries",
                format_time(*not_before)
            )
        }
        EventKind::Deduplicated {
            deduplication_id, ..
        } => {
            format!("a later publish with deduplication id `{deduplication_id}` was answered with this message")
        }
        EventKind::AttemptSucceeded {
            retried, status, ..
        } => {
            timeline.attempts += 1;
            timeline.status = TimelineStatus::Delivered;
            timeline.next_attempt_at = None;
            format!(
                "attempt {} (Upstash-Retried: {retried}) delivered with status {status}",
                retried + 1
            )
        }
        EventKind::AttemptFailed {
            retried,
            status,
            error,
            next_retry,
            ..
        } => {
            timeline.attempts += 1;
            let cause = match (status, error) {
                (Some(status), _) => format!("status {status}"),
                (None, Some(error)) => error.clone(),
                (None, None) => "an unknown error".to_owned(),
            };
            let head = format!(
                "attempt {} (Upstash-Retried: {retried}) failed with {cause}",
                retried + 1
            );
            match next_retry {
                Some(next) => {
                    timeline.status = TimelineStatus::Retrying;
                    timeline.next_attempt_at = Some(next.at);
                    let ignored: String = next
                        .ignored()
                        .iter()
                        .map(|h| format!("; ignored {}: {} ({})", h.header, h.value, h.reason))
                        .collect();
                    format!(
                        "{head}; next attempt at {} after {}{ignored}",
                        format_time(next.at),
                        next.explanation
                    )
                }
                None => {
                    timeline.next_attempt_at = None;
                    format!("{head}; no retries left")
                }
            }
        }
        EventKind::MovedToDlq {
            dlq_id,
            reason,
            expires_at,
            ..
        } => {
            timeline.status = TimelineStatus::InDlq;
            timeline.dlq_id = Some(dlq_id.clone());
            timeline.expires_at = Some(*expires_at);
            let why = match reason {
                DlqReason::RetriesExhausted => "its retries ran out",
                DlqReason::NonRetryable => {
                    "the destination answered 489 with Upstash-NonRetryable-Error"
                }
            };
            format!(
                "moved to the DLQ as {dlq_id} because {why}; retention removes it at {} ({} later)",
                format_time(*expires_at),
                format_duration_ms(expires_at.saturating_sub(event.time))
            )
        }
        EventKind::CallbackPublished {
            callback_message_id,
            role,
            url,
            ..
        } => {
            format!("{role} {callback_message_id} published to {url}")
        }
        EventKind::DlqRetried {
            dlq_id,
            new_message_id,
            ..
        } => {
            timeline.status = TimelineStatus::RetriedFromDlq;
            timeline.retried_as = Some(new_message_id.clone());
            format!("DLQ entry {dlq_id} republished as {new_message_id} and removed")
        }
        EventKind::DlqDeleted { dlq_id, .. } => {
            timeline.status = TimelineStatus::DeletedFromDlq;
            format!("DLQ entry {dlq_id} deleted")
        }
        EventKind::DlqExpired { dlq_id, .. } => {
            timeline.status = TimelineStatus::Expired;
            format!("DLQ entry {dlq_id} expired at the end of its retention")
        }
        EventKind::Cancelled { .. } => {
            timeline.status = TimelineStatus::Cancelled;
            timeline.next_attempt_at = None;
            "cancelled; no further attempts and no DLQ entry".to_owned()
        }
        EventKind::KeysRotated => "signing keys rotated".to_owned(),
    }
}
