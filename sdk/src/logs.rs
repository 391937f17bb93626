//! Logs (formerly events): what happened to each message, state by state.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use futures_util::stream::Stream;
use serde::{Deserialize, Deserializer};
use time::OffsetDateTime;

use crate::client::{ApiCall, Client};
use crate::de;
use crate::dlq::{non_empty_cursor, unix_millis};
use crate::encoding::Query;
use crate::error::Result;
use crate::messages::decode_body;
use crate::pages;

/// The state a log entry records.
///
/// QStash's docs spell the cancelled state `CANCELLED`, its SDKs
/// `CANCELED`; both read as [`LogState::Cancelled`]. Filters send
/// `CANCELLED`. States this crate does not know are kept in
/// [`LogState::Other`].
///
/// ```
/// use qstash_sdk::LogState;
///
/// assert_eq!(LogState::Delivered.as_str(), "DELIVERED");
/// assert_eq!(LogState::from("CANCELED"), LogState::Cancelled);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LogState {
    /// Accepted and stored, or put into a queue.
    Created,
    /// Delivery is in progress.
    Active,
    /// A retry is scheduled.
    Retry,
    /// The last attempt failed.
    Error,
    /// A 2xx answer was received.
    Delivered,
    /// Retries ran out, or the failure was not retryable; the message is in
    /// the DLQ.
    Failed,
    /// A cancel was requested.
    CancelRequested,
    /// The cancel took effect.
    Cancelled,
    /// A filter value only: matches `ACTIVE`, `RETRY` or `ERROR`.
    InProgress,
    /// A state this crate does not know, as QStash spelled it.
    Other(String),
}

impl LogState {
    /// The state as QStash writes it.
    ///
    /// ```
    /// assert_eq!(qstash_sdk::LogState::CancelRequested.as_str(), "CANCEL_REQUESTED");
    /// ```
    pub fn as_str(&self) -> &str {
        match self {
            LogState::Created => "CREATED",
            LogState::Active => "ACTIVE",
            LogState::Retry => "RETRY",
            LogState::Error => "ERROR",
            LogState::Delivered => "DELIVERED",
            LogState::Failed => "FAILED",
            LogState::CancelRequested => "CANCEL_REQUESTED",
            LogState::Cancelled => "CANCELLED",
            LogState::InProgress => "IN_PROGRESS",
            LogState::Other(other) => other,
        }
    }
}

impl From<&str> for LogState {
    fn from(state: &str) -> Self {
        match state {
            "CREATED" => LogState::Created,
            "ACTIVE" => LogState::Active,
            "RETRY" => LogState::Retry,
            "ERROR" => LogState::Error,
            "DELIVERED" => LogState::Delivered,
            "FAILED" => LogState::Failed,
            "CANCEL_REQUESTED" => LogState::CancelRequested,
            "CANCELLED" | "CANCELED" => LogState::Cancelled,
            "IN_PROGRESS" => LogState::InProgress,
            other => LogState::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for LogState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for LogState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let state = String::deserialize(deserializer)?;
        Ok(LogState::from(state.as_str()))
    }
}

/// One step in a message's life.
///
/// ```no_run
/// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
/// let page = client.logs().list().send().await?;
/// for entry in page.logs {
///     println!("{} {} {:?}", entry.message_id, entry.state, entry.response_status);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "LogEntryWire")]
#[non_exhaustive]
pub struct LogEntry {
    /// When this state was recorded.
    pub time: Option<OffsetDateTime>,
    /// The message id.
    pub message_id: String,
    /// The state recorded.
    pub state: LogState,
    /// The error text, for failed attempts.
    pub error: Option<String>,
    /// When the next delivery is due.
    pub next_delivery_time: Option<OffsetDateTime>,
    /// The destination URL.
    pub url: Option<String>,
    /// The URL group (`topicName`).
    pub url_group: Option<String>,
    /// The endpoint name within the URL group.
    pub endpoint_name: Option<String>,
    /// The schedule that created the message.
    pub schedule_id: Option<String>,
    /// The queue of the message.
    pub queue_name: Option<String>,
    /// The headers of the message.
    pub header: BTreeMap<String, Vec<String>>,
    /// The body of the message, in base64.
    pub body: Option<String>,
    /// The status of the destination's answer, on `ERROR` entries.
    pub response_status: Option<u16>,
    /// The destination's answer body in base64, on `ERROR` entries.
    pub response_body: Option<String>,
    /// The destination's answer headers (`responseHeaders`, or
    /// `responseHeader`), on `ERROR` entries.
    pub response_headers: BTreeMap<String, Vec<String>>,
    /// The per-attempt HTTP timeout.
    pub timeout: Option<Duration>,
    /// The HTTP method used to call the destination.
    pub method: Option<String>,
    /// The callback URL.
    pub callback: Option<String>,
    /// The failure-callback URL.
    pub failure_callback: Option<String>,
    /// Headers forwarded to the callback.
    pub callback_headers: BTreeMap<String, Vec<String>>,
    /// Headers forwarded to the failure callback.
    pub failure_callback_headers: BTreeMap<String, Vec<String>>,
    /// How many retries the message gets.
    pub max_retries: Option<u32>,
    /// The retry-delay expression (`retryDelayExpression`, or `retryDelayExpr`).
    pub retry_delay_expression: Option<String>,
    /// The message's labels.
    pub labels: Vec<String>,
    /// The flow-control key.
    pub flow_control_key: Option<String>,
    /// The flow-control rate.
    pub rate: Option<u32>,
    /// The flow-control period.
    pub period: Option<Duration>,
    /// The flow-control parallelism.
    pub parallelism: Option<u32>,
}

impl LogEntry {
    /// The message body, decoded from base64.
    ///
    /// Returns `None` when there is no body or it is not valid base64.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let page = client.logs().list().send().await?;
    /// let body = page.logs[0].body_bytes().unwrap_or_default();
    /// # Ok(())
    /// # }
    /// ```
    pub fn body_bytes(&self) -> Option<Vec<u8>> {
        decode_body(None, self.body.as_deref())
    }

    /// The destination's answer body, decoded from base64.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let page = client.logs().list().send().await?;
    /// let answer = page.logs[0].response_body_bytes().unwrap_or_default();
    /// # Ok(())
    /// # }
    /// ```
    pub fn response_body_bytes(&self) -> Option<Vec<u8>> {
        decode_body(None, self.response_body.as_deref())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogEntryWire {
    #[serde(default, deserialize_with = "de::millis")]
    time: Option<OffsetDateTime>,
    message_id: String,
    state: LogState,
    #[serde(default)]
    error: Option<String>,
    #[serde(default, deserialize_with = "de::millis")]
    next_delivery_time: Option<OffsetDateTime>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    topic_name: Option<String>,
    #[serde(default)]
    endpoint_name: Option<String>,
    #[serde(default)]
    schedule_id: Option<String>,
    #[serde(default)]
    queue_name: Option<String>,
    #[serde(default, deserialize_with = "de::header_map")]
    header: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default, deserialize_with = "de::integer")]
    response_status: Option<u16>,
    #[serde(default)]
    response_body: Option<String>,
    #[serde(default, deserialize_with = "de::header_map")]
    response_headers: BTreeMap<String, Vec<String>>,
    #[serde(default, deserialize_with = "de::header_map")]
    response_header: BTreeMap<String, Vec<String>>,
    #[serde(default, deserialize_with = "de::integer")]
    timeout: Option<u64>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    callback: Option<String>,
    #[serde(default)]
    failure_callback: Option<String>,
    #[serde(default, deserialize_with = "de::header_map")]
    callback_headers: BTreeMap<String, Vec<String>>,
    #[serde(default, deserialize_with = "de::header_map")]
    failure_callback_headers: BTreeMap<String, Vec<String>>,
    #[serde(default, deserialize_with = "de::integer")]
    max_retries: Option<u32>,
    #[serde(default)]
    retry_delay_expression: Option<String>,
    #[serde(default)]
    retry_delay_expr: Option<String>,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    labels: Option<Vec<String>>,
    #[serde(default)]
    flow_control_key: Option<String>,
    #[serde(default, deserialize_with = "de::integer")]
    rate: Option<u32>,
    #[serde(default, deserialize_with = "de::period")]
    period: Option<Duration>,
    #[serde(default, deserialize_with = "de::integer")]
    parallelism: Option<u32>,
}

impl From<LogEntryWire> for LogEntry {
    fn from(wire: LogEntryWire) -> Self {
        let labels = match (wire.labels, wire.label) {
            (Some(labels), _) => labels,
            (None, Some(label)) if !label.is_empty() => vec![label],
            (None, _) => Vec::new(),
        };
        let response_headers = match wire.response_headers.is_empty() {
            true => wire.response_header,
            false => wire.response_headers,
        };
        LogEntry {
            time: wire.time,
            message_id: wire.message_id,
            state: wire.state,
            error: de::non_empty(wire.error),
            next_delivery_time: wire.next_delivery_time,
            url: de::non_empty(wire.url),
            url_group: de::non_empty(wire.topic_name),
            endpoint_name: de::non_empty(wire.endpoint_name),
            schedule_id: de::non_empty(wire.schedule_id),
            queue_name: de::non_empty(wire.queue_name),
            header: wire.header,
            body: de::non_empty(wire.body),
            response_status: wire.response_status,
            response_body: de::non_empty(wire.response_body),
            response_headers,
            timeout: wire.timeout.map(Duration::from_millis),
            method: de::non_empty(wire.method),
            callback: de::non_empty(wire.callback),
            failure_callback: de::non_empty(wire.failure_callback),
            callback_headers: wire.callback_headers,
            failure_callback_headers: wire.failure_callback_headers,
            max_retries: wire.max_retries,
            retry_delay_expression: de::non_empty(
                wire.retry_delay_expression.or(wire.retry_delay_expr),
            ),
            labels,
            flow_control_key: de::non_empty(wire.flow_control_key),
            rate: wire.rate,
            period: wire.period,
            parallelism: wire.parallelism,
        }
    }
}

/// One page of log entries.
///
/// ```no_run
/// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
/// let page = client.logs().list().count(100).send().await?;
/// println!("{} entries, more: {}", page.logs.len(), page.cursor.is_some());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "LogPageWire")]
#[non_exhaustive]
pub struct LogPage {
    /// The entries of this page.
    pub logs: Vec<LogEntry>,
    /// The cursor of the next page; `None` on the last page.
    pub cursor: Option<String>,
}

/// The SDKs read `events`, the OpenAPI spec says `logs`; a server may send
/// both, so both are read separately rather than as aliases.
#[derive(Deserialize)]
struct LogPageWire {
    #[serde(default)]
    events: Option<Vec<LogEntry>>,
    #[serde(default)]
    logs: Option<Vec<LogEntry>>,
    #[serde(default, deserialize_with = "non_empty_cursor")]
    cursor: Option<String>,
}

impl From<LogPageWire> for LogPage {
    fn from(wire: LogPageWire) -> Self {
        let logs = match (wire.events, wire.logs) {
            (Some(events), _) if !events.is_empty() => events,
            (_, Some(logs)) => logs,
            (events, None) => events.unwrap_or_default(),
        };
        LogPage {
            logs,
            cursor: wire.cursor,
        }
    }
}

/// Which log entries to list.
///
/// ```
/// use qstash_sdk::{LogFilter, LogState};
///
/// let filter = LogFilter::new()
///     .state(LogState::Failed)
///     .url("https://example.com/hook")
///     .label("billing");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct LogFilter {
    message_id: Option<String>,
    state: Option<LogState>,
    url: Option<String>,
    url_group: Option<String>,
    schedule_id: Option<String>,
    queue_name: Option<String>,
    labels: Vec<String>,
    flow_control_key: Option<String>,
    from_date: Option<OffsetDateTime>,
    to_date: Option<OffsetDateTime>,
}

impl LogFilter {
    /// A filter that matches every entry.
    ///
    /// ```
    /// let filter = qstash_sdk::LogFilter::new();
    /// ```
    pub fn new() -> Self {
        LogFilter::default()
    }

    /// Only entries of this message.
    ///
    /// ```
    /// let filter = qstash_sdk::LogFilter::new().message_id("msg_123");
    /// ```
    pub fn message_id(mut self, message_id: impl Into<String>) -> Self {
        self.message_id = Some(message_id.into());
        self
    }

    /// Only entries in this state.
    ///
    /// ```
    /// let filter = qstash_sdk::LogFilter::new().state(qstash_sdk::LogState::Delivered);
    /// ```
    pub fn state(mut self, state: impl Into<LogState>) -> Self {
        self.state = Some(state.into());
        self
    }

    /// Only entries for this destination URL.
    ///
    /// ```
    /// let filter = qstash_sdk::LogFilter::new().url("https://example.com/hook");
    /// ```
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// Only entries published through this URL group (`topicName`).
    ///
    /// ```
    /// let filter = qstash_sdk::LogFilter::new().url_group("workers");
    /// ```
    pub fn url_group(mut self, name: impl Into<String>) -> Self {
        self.url_group = Some(name.into());
        self
    }

    /// Only entries created by this schedule.
    ///
    /// ```
    /// let filter = qstash_sdk::LogFilter::new().schedule_id("scd_1");
    /// ```
    pub fn schedule_id(mut self, schedule_id: impl Into<String>) -> Self {
        self.schedule_id = Some(schedule_id.into());
        self
    }

    /// Only entries of this queue.
    ///
    /// ```
    /// let filter = qstash_sdk::LogFilter::new().queue_name("emails");
    /// ```
    pub fn queue_name(mut self, queue: impl Into<String>) -> Self {
        self.queue_name = Some(queue.into());
        self
    }

    /// Only entries with this label.
    ///
    /// ```
    /// let filter = qstash_sdk::LogFilter::new().label("nightly");
    /// ```
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.labels.push(label.into());
        self
    }

    /// Only entries with this flow-control key.
    ///
    /// ```
    /// let filter = qstash_sdk::LogFilter::new().flow_control_key("tenant-1");
    /// ```
    pub fn flow_control_key(mut self, key: impl Into<String>) -> Self {
        self.flow_control_key = Some(key.into());
        self
    }

    /// Only entries at or after this time.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    ///
    /// let filter = qstash_sdk::LogFilter::new().from_date(SystemTime::now() - Duration::from_secs(60));
    /// ```
    pub fn from_date(mut self, from: impl Into<OffsetDateTime>) -> Self {
        self.from_date = Some(from.into());
        self
    }

    /// Only entries at or before this time.
    ///
    /// ```
    /// let filter = qstash_sdk::LogFilter::new().to_date(std::time::SystemTime::now());
    /// ```
    pub fn to_date(mut self, to: impl Into<OffsetDateTime>) -> Self {
        self.to_date = Some(to.into());
        self
    }

    fn write_query(&self, query: &mut Query) {
        query
            .push_opt("messageId", self.message_id.as_deref())
            .push_opt("state", self.state.as_ref().map(LogState::as_str))
            .push_opt("url", self.url.as_deref())
            .push_opt("topicName", self.url_group.as_deref())
            .push_opt("scheduleId", self.schedule_id.as_deref())
            .push_opt("queueName", self.queue_name.as_deref())
            .push_all("label", &self.labels)
            .push_opt("flowControlKey", self.flow_control_key.as_deref())
            .push_opt("fromDate", self.from_date.map(unix_millis))
            .push_opt("toDate", self.to_date.map(unix_millis));
    }
}

/// A logs list call; finish with [`send`](ListLogs::send) for one page or
/// [`into_stream`](ListLogs::into_stream) for every entry.
///
/// ```no_run
/// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
/// use qstash_sdk::{LogFilter, LogState};
///
/// let page = client
///     .logs()
///     .list()
///     .filter(LogFilter::new().state(LogState::Error))
///     .count(50)
///     .send()
///     .await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ListLogs<'c> {
    client: &'c Client,
    filter: LogFilter,
    cursor: Option<String>,
    count: Option<u32>,
}

impl ListLogs<'_> {
    /// Lists only entries matching `filter`.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let page = client.logs().list().filter(qstash_sdk::LogFilter::new().message_id("msg_1")).send().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn filter(mut self, filter: LogFilter) -> Self {
        self.filter = filter;
        self
    }

    /// Starts at the page this cursor points to.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client, cursor: String) -> Result<(), qstash_sdk::Error> {
    /// let page = client.logs().list().cursor(cursor).send().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }

    /// The page size. Sources disagree on the maximum (100 or 1000).
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let page = client.logs().list().count(100).send().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn count(mut self, count: u32) -> Self {
        self.count = Some(count);
        self
    }

    /// Fetches one page (`GET /v2/events`, the path every official SDK uses).
    ///
    /// # Errors
    ///
    /// The errors of any call (see [`Error`](crate::Error)).
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let page = client.logs().list().send().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send(self) -> Result<LogPage> {
        fetch_page(self.client, &self.filter, self.count, self.cursor).await
    }

    /// Walks every page, yielding one entry at a time. The stream ends
    /// after the first error.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    ///
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let mut entries = std::pin::pin!(client.logs().list().into_stream());
    /// while let Some(entry) = entries.try_next().await? {
    ///     println!("{} {}", entry.message_id, entry.state);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn into_stream(self) -> impl Stream<Item = Result<LogEntry>> + Send + 'static {
        let client = self.client.clone();
        let filter = self.filter;
        let count = self.count;

        pages::walk(self.cursor, move |cursor| {
            let client = client.clone();
            let filter = filter.clone();
            async move {
                let page = fetch_page(&client, &filter, count, cursor).await?;
                Ok((page.logs, page.cursor))
            }
        })
    }
}

async fn fetch_page(
    client: &Client,
    filter: &LogFilter,
    count: Option<u32>,
    cursor: Option<String>,
) -> Result<LogPage> {
    let mut query = Query::new();
    filter.write_query(&mut query);
    query.push_opt("count", count).push_opt("cursor", cursor);

    client
        .execute_json(ApiCall::get("/v2/events").query(query))
        .await
}

/// Logs API: `client.logs()`.
///
/// ```no_run
/// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
/// let page = client.logs().list().send().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Logs<'c> {
    client: &'c Client,
}

impl Client {
    /// The logs API.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let page = client.logs().list().count(10).send().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn logs(&self) -> Logs<'_> {
        Logs { client: self }
    }
}

impl<'c> Logs<'c> {
    /// Starts a list call over the logs.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let page = client.logs().list().send().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn list(&self) -> ListLogs<'c> {
        ListLogs {
            client: self.client,
            filter: LogFilter::default(),
            cursor: None,
            count: None,
        }
    }
}
