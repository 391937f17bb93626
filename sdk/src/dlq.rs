//! The dead-letter queue: list, get, delete and retry failed messages.

use std::collections::BTreeMap;

use futures_util::stream::Stream;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::client::{ApiCall, Client};
use crate::de;
use crate::encoding::Query;
use crate::error::Result;
use crate::messages::{decode_body, id_segment, non_empty_ids, Message};
use crate::pages;
use crate::publish::PublishedMessage;

/// How many entries `delete_all` removes per call.
const DELETE_ALL_PAGE: u32 = 100;

/// A message whose retries ran out, with the last failed answer.
///
/// ```no_run
/// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
/// let entry = client.dlq().get("1725323658779-0").await?;
/// println!(
///     "{} failed with {:?}: {:?}",
///     entry.message.message_id, entry.response_status, entry.response_body
/// );
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "DlqMessageWire")]
#[non_exhaustive]
pub struct DlqMessage {
    /// The id of the DLQ entry, used to get, delete or retry it.
    pub dlq_id: String,
    /// The message that failed.
    pub message: Message,
    /// The status of the last failed attempt.
    pub response_status: Option<u16>,
    /// The headers of the last failed answer (`responseHeader`, or
    /// `responseHeaders`).
    pub response_headers: BTreeMap<String, Vec<String>>,
    /// The body of the last failed answer, when it is UTF-8 text.
    pub response_body: Option<String>,
    /// The body of the last failed answer in base64, when it is not text.
    pub response_body_base64: Option<String>,
}

impl DlqMessage {
    /// The last failed answer's body as bytes.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let entry = client.dlq().get("1725323658779-0").await?;
    /// let body = entry.response_body_bytes().unwrap_or_default();
    /// # Ok(())
    /// # }
    /// ```
    pub fn response_body_bytes(&self) -> Option<Vec<u8>> {
        decode_body(
            self.response_body.as_deref(),
            self.response_body_base64.as_deref(),
        )
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DlqMessageWire {
    dlq_id: String,
    #[serde(flatten)]
    message: Message,
    #[serde(default, deserialize_with = "de::integer")]
    response_status: Option<u16>,
    #[serde(default, deserialize_with = "de::header_map")]
    response_header: BTreeMap<String, Vec<String>>,
    #[serde(default, deserialize_with = "de::header_map")]
    response_headers: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    response_body: Option<String>,
    #[serde(default)]
    response_body_base64: Option<String>,
}

impl From<DlqMessageWire> for DlqMessage {
    fn from(wire: DlqMessageWire) -> Self {
        let response_headers = match wire.response_header.is_empty() {
            true => wire.response_headers,
            false => wire.response_header,
        };
        DlqMessage {
            dlq_id: wire.dlq_id,
            message: wire.message,
            response_status: wire.response_status,
            response_headers,
            response_body: wire.response_body,
            response_body_base64: de::non_empty(wire.response_body_base64),
        }
    }
}

/// One page of DLQ entries.
///
/// ```no_run
/// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
/// let page = client.dlq().list().count(50).send().await?;
/// if let Some(cursor) = page.cursor {
///     let next = client.dlq().list().cursor(cursor).send().await?;
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct DlqPage {
    /// The entries of this page.
    #[serde(default)]
    pub messages: Vec<DlqMessage>,
    /// The cursor of the next page; `None` on the last page.
    #[serde(default, deserialize_with = "non_empty_cursor")]
    pub cursor: Option<String>,
}

pub(crate) fn non_empty_cursor<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Option::<String>::deserialize(deserializer).map(de::non_empty)
}

/// Which DLQ entries a list or bulk call applies to.
///
/// Fields given several values match any of them; different fields must all
/// match.
///
/// ```
/// use time::macros::datetime;
/// use qstash_sdk::DlqFilter;
///
/// let filter = DlqFilter::new()
///     .url("https://example.com/hook")
///     .response_status(500)
///     .response_status(503)
///     .label("billing")
///     .from_date(datetime!(2025-01-01 0:00 UTC));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct DlqFilter {
    message_id: Option<String>,
    urls: Vec<String>,
    url_groups: Vec<String>,
    schedule_ids: Vec<String>,
    queue_names: Vec<String>,
    response_statuses: Vec<u16>,
    caller_ips: Vec<String>,
    labels: Vec<String>,
    flow_control_keys: Vec<String>,
    from_date: Option<OffsetDateTime>,
    to_date: Option<OffsetDateTime>,
}

impl DlqFilter {
    /// A filter that matches every entry.
    ///
    /// ```
    /// let filter = qstash_sdk::DlqFilter::new();
    /// ```
    pub fn new() -> Self {
        DlqFilter::default()
    }

    /// Only entries of this message.
    ///
    /// ```
    /// let filter = qstash_sdk::DlqFilter::new().message_id("msg_123");
    /// ```
    pub fn message_id(mut self, message_id: impl Into<String>) -> Self {
        self.message_id = Some(message_id.into());
        self
    }

    /// Only entries for this destination URL.
    ///
    /// ```
    /// let filter = qstash_sdk::DlqFilter::new().url("https://example.com/hook");
    /// ```
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.urls.push(url.into());
        self
    }

    /// Only entries published through this URL group (`topicName`).
    ///
    /// ```
    /// let filter = qstash_sdk::DlqFilter::new().url_group("workers");
    /// ```
    pub fn url_group(mut self, name: impl Into<String>) -> Self {
        self.url_groups.push(name.into());
        self
    }

    /// Only entries created by this schedule.
    ///
    /// ```
    /// let filter = qstash_sdk::DlqFilter::new().schedule_id("scd_1");
    /// ```
    pub fn schedule_id(mut self, schedule_id: impl Into<String>) -> Self {
        self.schedule_ids.push(schedule_id.into());
        self
    }

    /// Only entries enqueued in this queue.
    ///
    /// ```
    /// let filter = qstash_sdk::DlqFilter::new().queue_name("emails");
    /// ```
    pub fn queue_name(mut self, queue: impl Into<String>) -> Self {
        self.queue_names.push(queue.into());
        self
    }

    /// Only entries whose last attempt got this status.
    ///
    /// ```
    /// let filter = qstash_sdk::DlqFilter::new().response_status(500);
    /// ```
    pub fn response_status(mut self, status: u16) -> Self {
        self.response_statuses.push(status);
        self
    }

    /// Only entries published from this IP address.
    ///
    /// ```
    /// let filter = qstash_sdk::DlqFilter::new().caller_ip("203.0.113.7");
    /// ```
    pub fn caller_ip(mut self, ip: impl Into<String>) -> Self {
        self.caller_ips.push(ip.into());
        self
    }

    /// Only entries with this label.
    ///
    /// ```
    /// let filter = qstash_sdk::DlqFilter::new().label("nightly");
    /// ```
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.labels.push(label.into());
        self
    }

    /// Only entries with this flow-control key.
    ///
    /// ```
    /// let filter = qstash_sdk::DlqFilter::new().flow_control_key("tenant-1");
    /// ```
    pub fn flow_control_key(mut self, key: impl Into<String>) -> Self {
        self.flow_control_keys.push(key.into());
        self
    }

    /// Only entries created at or after this time.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    ///
    /// let filter = qstash_sdk::DlqFilter::new().from_date(SystemTime::now() - Duration::from_secs(3600));
    /// ```
    pub fn from_date(mut self, from: impl Into<OffsetDateTime>) -> Self {
        self.from_date = Some(from.into());
        self
    }

    /// Only entries created at or before this time.
    ///
    /// ```
    /// let filter = qstash_sdk::DlqFilter::new().to_date(std::time::SystemTime::now());
    /// ```
    pub fn to_date(mut self, to: impl Into<OffsetDateTime>) -> Self {
        self.to_date = Some(to.into());
        self
    }

    fn write_query(&self, query: &mut Query) {
        query
            .push_opt("messageId", self.message_id.as_deref())
            .push_all("url", &self.urls)
            .push_all("topicName", &self.url_groups)
            .push_all("scheduleId", &self.schedule_ids)
            .push_all("queueName", &self.queue_names)
            .push_all("responseStatus", &self.response_statuses)
            .push_all("callerIp", &self.caller_ips)
            .push_all("label", &self.labels)
            .push_all("flowControlKey", &self.flow_control_keys)
            .push_opt("fromDate", self.from_date.map(unix_millis))
            .push_opt("toDate", self.to_date.map(unix_millis));
    }
}

/// A time as milliseconds since the epoch, as QStash filters take it.
pub(crate) fn unix_millis(at: OffsetDateTime) -> i128 {
    at.unix_timestamp_nanos() / 1_000_000
}

/// A DLQ list call; finish with [`send`](ListDlq::send) for one page or
/// [`into_stream`](ListDlq::into_stream) for every entry.
///
/// ```no_run
/// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
/// use qstash_sdk::DlqFilter;
///
/// let page = client
///     .dlq()
///     .list()
///     .filter(DlqFilter::new().response_status(500))
///     .count(25)
///     .send()
///     .await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ListDlq<'c> {
    client: &'c Client,
    filter: DlqFilter,
    cursor: Option<String>,
    count: Option<u32>,
}

impl<'c> ListDlq<'c> {
    /// Lists only entries matching `filter`.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let page = client.dlq().list().filter(qstash_sdk::DlqFilter::new().label("x")).send().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn filter(mut self, filter: DlqFilter) -> Self {
        self.filter = filter;
        self
    }

    /// Starts at the page this cursor points to.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client, cursor: String) -> Result<(), qstash_sdk::Error> {
    /// let page = client.dlq().list().cursor(cursor).send().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }

    /// The page size; QStash allows up to 100 and defaults to 100.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let page = client.dlq().list().count(10).send().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn count(mut self, count: u32) -> Self {
        self.count = Some(count);
        self
    }

    /// Fetches one page (`GET /v2/dlq`).
    ///
    /// # Errors
    ///
    /// The errors of any call (see [`Error`](crate::Error)).
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let page = client.dlq().list().send().await?;
    /// println!("{} entries", page.messages.len());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send(self) -> Result<DlqPage> {
        fetch_page(self.client, &self.filter, self.count, self.cursor).await
    }

    /// Walks every page, yielding one entry at a time. The stream ends
    /// after the first error.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    ///
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let entries: Vec<_> = client.dlq().list().into_stream().try_collect().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn into_stream(self) -> impl Stream<Item = Result<DlqMessage>> + Send + 'static {
        let client = self.client.clone();
        let filter = self.filter;
        let count = self.count;

        pages::walk(self.cursor, move |cursor| {
            let client = client.clone();
            let filter = filter.clone();
            async move {
                let page = fetch_page(&client, &filter, count, cursor).await?;
                Ok((page.messages, page.cursor))
            }
        })
    }
}

async fn fetch_page(
    client: &Client,
    filter: &DlqFilter,
    count: Option<u32>,
    cursor: Option<String>,
) -> Result<DlqPage> {
    let mut query = Query::new();
    filter.write_query(&mut query);
    query.push_opt("count", count).push_opt("cursor", cursor);

    client
        .execute_json(ApiCall::get("/v2/dlq").query(query))
        .await
}

#[derive(Deserialize)]
struct Deleted {
    deleted: u64,
    #[serde(default, deserialize_with = "non_empty_cursor")]
    cursor: Option<String>,
}

#[derive(Deserialize)]
struct Retried {
    #[serde(default)]
    responses: Vec<PublishedMessage>,
}

/// Dead-letter queue API: `client.dlq()`.
///
/// ```no_run
/// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
/// let dlq = client.dlq();
/// let page = dlq.list().send().await?;
/// let ids: Vec<_> = page.messages.iter().map(|m| m.dlq_id.clone()).collect();
/// if !ids.is_empty() {
///     let new_messages = dlq.retry_many(ids).await?;
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Dlq<'c> {
    client: &'c Client,
}

impl Client {
    /// The dead-letter queue API.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let page = client.dlq().list().send().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn dlq(&self) -> Dlq<'_> {
        Dlq { client: self }
    }
}

impl<'c> Dlq<'c> {
    /// Starts a list call over the DLQ.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let page = client.dlq().list().count(20).send().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn list(&self) -> ListDlq<'c> {
        ListDlq {
            client: self.client,
            filter: DlqFilter::default(),
            cursor: None,
            count: None,
        }
    }

    /// Gets one entry (`GET /v2/dlq/{dlqId}`); `404` once it was deleted,
    /// retried or expired.
    ///
    /// # Errors
    ///
    /// Invalid input for an empty id; otherwise the errors of any call.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let entry = client.dlq().get("1725323658779-0").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get(&self, dlq_id: &str) -> Result<DlqMessage> {
        let path = format!("/v2/dlq/{}", id_segment("dlq id", dlq_id)?);

        self.client.execute_json(ApiCall::get(path)).await
    }

    /// Deletes one entry (`DELETE /v2/dlq/{dlqId}`).
    ///
    /// # Errors
    ///
    /// Invalid input for an empty id; otherwise the errors of any call.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// client.dlq().delete("1725323658779-0").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete(&self, dlq_id: &str) -> Result<()> {
        let path = format!("/v2/dlq/{}", id_segment("dlq id", dlq_id)?);

        self.client.execute(ApiCall::delete(path)).await?;
        Ok(())
    }

    /// Deletes the given entries and returns how many were deleted
    /// (`DELETE /v2/dlq?dlqIds=…`).
    ///
    /// # Errors
    ///
    /// An empty list is refused before sending, since QStash would delete
    /// every entry; use [`delete_all`](Dlq::delete_all) for that.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let deleted = client.dlq().delete_many(["1725323658779-0", "1725323658779-1"]).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete_many<I>(&self, dlq_ids: I) -> Result<u64>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let ids = non_empty_ids("dlq ids", dlq_ids)?;
        let mut query = Query::new();
        query.push_all("dlqIds", ids);

        let call = ApiCall::delete("/v2/dlq").query(query);
        let answer: Deleted = self.client.execute_json(call).await?;
        Ok(answer.deleted)
    }

    /// Deletes every DLQ entry, 100 per call, and returns how many were
    /// deleted.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let deleted = client.dlq().delete_all().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete_all(&self) -> Result<u64> {
        let mut total = 0;
        let mut cursor: Option<String> = None;
        loop {
            let mut query = Query::new();
            query
                .push("count", DELETE_ALL_PAGE)
                .push_opt("cursor", cursor.as_deref());
            let call = ApiCall::delete("/v2/dlq").query(query);
            let answer: Deleted = self.client.execute_json(call).await?;
            total += answer.deleted;

            // A repeated cursor with nothing deleted means no progress.
            let stuck = answer.deleted == 0 && answer.cursor == cursor;
            match answer.cursor {
                Some(next) if !stuck => cursor = Some(next),
                _ => return Ok(total),
            }
        }
    }

    /// Publishes the entry again as a new message and removes it from the
    /// DLQ (`POST /v2/dlq/retry/{dlqId}`). Returns the new message.
    ///
    /// # Errors
    ///
    /// Invalid input for an empty id; otherwise the errors of any call.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let retried = client.dlq().retry("1725323658779-0").await?;
    /// println!("new message {}", retried.message_id);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn retry(&self, dlq_id: &str) -> Result<PublishedMessage> {
        let path = format!("/v2/dlq/retry/{}", id_segment("dlq id", dlq_id)?);

        self.client.execute_json(ApiCall::post(path)).await
    }

    /// Retries the given entries (`POST /v2/dlq/retry?dlqIds=…`) and returns
    /// the new messages, in QStash's order.
    ///
    /// # Errors
    ///
    /// An empty list is refused before sending, since QStash would retry
    /// every entry. QStash answers `404` when some ids do not exist.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let retried = client.dlq().retry_many(["1725323658779-0"]).await?;
    /// let ids: Vec<_> = retried.iter().map(|m| &m.message_id).collect();
    /// # Ok(())
    /// # }
    /// ```
    pub async fn retry_many<I>(&self, dlq_ids: I) -> Result<Vec<PublishedMessage>>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let ids = non_empty_ids("dlq ids", dlq_ids)?;
        let mut query = Query::new();
        query.push_all("dlqIds", ids);

        let call = ApiCall::post("/v2/dlq/retry").query(query);
        let answer: Retried = self.client.execute_json(call).await?;
        Ok(answer.responses)
    }
}
