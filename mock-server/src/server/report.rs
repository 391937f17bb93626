//! What a clock operation did.

use crate::engine::format_time;
use crate::engine::{Event, EventKind};
use serde::{Deserialize, Serialize};

/// The report of an advance, a jump to the next event or a run until idle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdvanceReport {
    /// Unix ms before the operation.
    pub from: u64,
    /// Unix ms after it.
    pub to: u64,
    /// `from` as RFC 3339.
    pub from_iso: String,
    /// `to` as RFC 3339.
    pub to_iso: String,
    /// Batches of due work that ran.
    pub steps: u32,
    /// Delivery attempts made.
    pub attempts: u32,
    /// Every event recorded since the previous report, in log order.
    pub events: Vec<Event>,
    /// Unix ms of the next scheduled work, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_due_at: Option<u64>,
    /// Whether nothing at all is scheduled any more.
    pub idle: bool,
    /// Whether the step limit stopped the operation before it was done.
    pub step_limit_reached: bool,
}

impl AdvanceReport {
    pub(crate) fn new(from: u64, to: u64, progress: Progress, events: Vec<Event>) -> Self {
        AdvanceReport {
            from,
            to,
            from_iso: format_time(from),
            to_iso: format_time(to),
            steps: progress.steps,
            attempts: progress.attempts,
            events,
            next_due_at: progress.next_due_at,
            idle: progress.next_due_at.is_none(),
            step_limit_reached: progress.step_limit_reached,
        }
    }

    /// How many events of the report are of the given name (e.g. `attemptFailed`).
    pub fn count(&self, name: &str) -> usize {
        self.events.iter().filter(|e| e.name() == name).count()
    }

    /// The DLQ ids of the entries that expired during the operation.
    pub fn expired_dlq_ids(&self) -> Vec<&str> {
        self.events
            .iter()
            .filter_map(|event| match &event.kind {
                EventKind::DlqExpired { dlq_id, .. } => Some(dlq_id.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// How far a run of due work got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Progress {
    pub(crate) steps: u32,
    pub(crate) attempts: u32,
    pub(crate) next_due_at: Option<u64>,
    pub(crate) step_limit_reached: bool,
}
