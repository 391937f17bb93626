//! The dead letter queue: entries, filters and pages.

use super::events::DlqReason;
use super::message::Message;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// The last answer (or failure) before a message moved to the DLQ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedResponse {
    /// The status, or 0 when there was no answer (timeout or connection error).
    pub status: u16,
    /// Response headers, names in canonical form (`Retry-After`).
    pub headers: Vec<(String, String)>,
    /// The response body, or the error text when there was no answer.
    #[serde(with = "crate::engine::serde_util::b64")]
    pub body: Bytes,
}

/// A message in the dead letter queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DlqEntry {
    /// `<unix ms>-<n>`, as QStash writes them.
    pub dlq_id: String,
    /// The failed message as it was at its last attempt.
    pub message: Message,
    /// Unix ms when it entered the DLQ.
    pub entered_at: u64,
    /// Unix ms when retention removes it.
    pub expires_at: u64,
    /// Why it is here.
    pub reason: DlqReason,
    /// The last answer.
    pub response: RecordedResponse,
}

/// Which DLQ entries a list, delete or retry applies to.
///
/// Each list field matches when it is empty or when the entry equals one of its values;
/// the fields combine with AND, as QStash documents for its multi-value filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DlqFilter {
    /// Exact DLQ ids; when given, every other field is ignored.
    pub dlq_ids: Vec<String>,
    /// The failed message's id.
    pub message_id: Option<String>,
    /// Destination URLs.
    pub urls: Vec<String>,
    /// Last response statuses.
    pub response_statuses: Vec<u16>,
    /// Labels; an entry matches when it carries any of them.
    pub labels: Vec<String>,
    /// Publisher addresses.
    pub caller_ips: Vec<String>,
    /// URL group names.
    pub topic_names: Vec<String>,
    /// Queue names.
    pub queue_names: Vec<String>,
    /// Schedule ids.
    pub schedule_ids: Vec<String>,
    /// Flow-control keys.
    pub flow_control_keys: Vec<String>,
    /// Entered the DLQ at or after this unix ms.
    pub from_date: Option<u64>,
    /// Entered the DLQ at or before this unix ms.
    pub to_date: Option<u64>,
}

impl DlqFilter {
    /// Whether the filter selects every entry.
    pub fn is_empty(&self) -> bool {
        *self == DlqFilter::default()
    }

    /// Whether `entry` passes the filter.
    pub fn matches(&self, entry: &DlqEntry) -> bool {
        if !self.dlq_ids.is_empty() {
            return self.dlq_ids.contains(&entry.dlq_id);
        }
        let message = &entry.message;
        let in_list =
            |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v == value);
        let optional_in_list = |list: &[String], value: Option<&String>| {
            list.is_empty() || value.is_some_and(|v| list.contains(v))
        };
        let routing = &message.routing;

        self.message_id
            .as_ref()
            .is_none_or(|id| *id == message.message_id)
            && in_list(&self.urls, &message.url)
            && (self.response_statuses.is_empty()
                || self.response_statuses.contains(&entry.response.status))
            && (self.labels.is_empty() || message.labels.iter().any(|l| self.labels.contains(l)))
            && (self.caller_ips.is_empty()
                || message
                    .caller_ip
                    .as_ref()
                    .is_some_and(|ip| self.caller_ips.contains(ip)))
            && optional_in_list(&self.topic_names, routing.topic_name.as_ref())
            && optional_in_list(&self.queue_names, routing.queue_name.as_ref())
            && optional_in_list(&self.schedule_ids, routing.schedule_id.as_ref())
            && optional_in_list(
                &self.flow_control_keys,
                routing.flow_control.as_ref().map(|f| &f.key),
            )
            && self.from_date.is_none_or(|from| entry.entered_at >= from)
            && self.to_date.is_none_or(|to| entry.entered_at <= to)
    }
}

/// One page of DLQ entries.
#[derive(Debug, Clone, PartialEq)]
pub struct DlqPage {
    /// The entries, oldest first.
    pub entries: Vec<DlqEntry>,
    /// Pass back to get the next page; `None` on the last page.
    pub cursor: Option<String>,
}
