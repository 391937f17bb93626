//! Messages that are waiting for delivery or being retried: get and cancel.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::client::{ApiCall, Client};
use crate::de;
use crate::encoding::{path_segment, Query};
use crate::error::{Error, Result};

/// A message as QStash stores it while delivery is pending.
///
/// Also the common part of a [`DlqMessage`](crate::DlqMessage).
///
/// ```no_run
/// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
/// let message = client.messages().get("msg_123").await?;
/// println!("{} to {:?}, {:?} retries", message.message_id, message.url, message.max_retries);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "MessageWire")]
#[non_exhaustive]
pub struct Message {
    /// The message id.
    pub message_id: String,
    /// The destination URL.
    pub url: Option<String>,
    /// The URL group the message was published to (`topicName`).
    pub url_group: Option<String>,
    /// The endpoint name within the URL group.
    pub endpoint_name: Option<String>,
    /// The HTTP method used to call the destination.
    pub method: Option<String>,
    /// The headers sent to the destination.
    pub header: BTreeMap<String, Vec<String>>,
    /// The body, when it is UTF-8 text.
    pub body: Option<String>,
    /// The body in standard base64, when it is not UTF-8 text.
    pub body_base64: Option<String>,
    /// How many retries the message gets.
    pub max_retries: Option<u32>,
    /// The retry-delay expression (`retryDelayExpression`, or `retryDelayExpr`).
    pub retry_delay_expression: Option<String>,
    /// The earliest delivery time.
    pub not_before: Option<OffsetDateTime>,
    /// When the message was published.
    pub created_at: Option<OffsetDateTime>,
    /// The callback URL.
    pub callback: Option<String>,
    /// The failure-callback URL.
    pub failure_callback: Option<String>,
    /// Headers forwarded to the callback.
    pub callback_header: BTreeMap<String, Vec<String>>,
    /// Headers forwarded to the failure callback.
    pub failure_callback_header: BTreeMap<String, Vec<String>>,
    /// The queue the message was enqueued in.
    pub queue_name: Option<String>,
    /// The schedule that created the message.
    pub schedule_id: Option<String>,
    /// The publisher's IP address (`callerIP`).
    pub caller_ip: Option<String>,
    /// The message's labels (`labels`, or the older single `label`).
    pub labels: Vec<String>,
    /// The flow-control key.
    pub flow_control_key: Option<String>,
    /// The flow-control parallelism.
    pub parallelism: Option<u32>,
    /// The flow-control rate (`rate`, or the older `ratePerSecond`).
    pub rate: Option<u32>,
    /// The flow-control period.
    pub period: Option<Duration>,
}

impl Message {
    /// The body as bytes, decoded from base64 when QStash sent it that way.
    ///
    /// Returns `None` when there is no body, or the base64 is malformed.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let message = client.messages().get("msg_123").await?;
    /// let bytes = message.body_bytes().unwrap_or_default();
    /// # Ok(())
    /// # }
    /// ```
    pub fn body_bytes(&self) -> Option<Vec<u8>> {
        decode_body(self.body.as_deref(), self.body_base64.as_deref())
    }
}

/// Picks the text body or decodes the base64 one.
pub(crate) fn decode_body(text: Option<&str>, base64: Option<&str>) -> Option<Vec<u8>> {
    if let Some(encoded) = base64.filter(|encoded| !encoded.is_empty()) {
        return base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok();
    }
    text.map(|text| text.as_bytes().to_vec())
}

/// The message fields as sent, with every spelling QStash's sources use.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageWire {
    message_id: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    topic_name: Option<String>,
    #[serde(default)]
    url_group: Option<String>,
    #[serde(default)]
    endpoint_name: Option<String>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default, deserialize_with = "de::header_map")]
    header: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    body_base64: Option<String>,
    #[serde(default, deserialize_with = "de::integer")]
    max_retries: Option<u32>,
    #[serde(default)]
    retry_delay_expression: Option<String>,
    #[serde(default)]
    retry_delay_expr: Option<String>,
    #[serde(default, deserialize_with = "de::millis")]
    not_before: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "de::millis")]
    created_at: Option<OffsetDateTime>,
    #[serde(default)]
    callback: Option<String>,
    #[serde(default)]
    failure_callback: Option<String>,
    #[serde(default, deserialize_with = "de::header_map")]
    callback_header: BTreeMap<String, Vec<String>>,
    #[serde(default, deserialize_with = "de::header_map")]
    failure_callback_header: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    queue_name: Option<String>,
    #[serde(default)]
    schedule_id: Option<String>,
    #[serde(default, rename = "callerIP")]
    caller_ip_upper: Option<String>,
    #[serde(default)]
    caller_ip: Option<String>,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    labels: Option<Vec<String>>,
    #[serde(default)]
    flow_control_key: Option<String>,
    #[serde(default, deserialize_with = "de::integer")]
    parallelism: Option<u32>,
    #[serde(default, deserialize_with = "de::integer")]
    rate: Option<u32>,
    #[serde(default, deserialize_with = "de::integer")]
    rate_per_second: Option<u32>,
    #[serde(default, deserialize_with = "de::period")]
    period: Option<Duration>,
}

impl From<MessageWire> for Message {
    fn from(wire: MessageWire) -> Self {
        let labels = match (wire.labels, wire.label) {
            (Some(labels), _) => labels,
            (None, Some(label)) if !label.is_empty() => vec![label],
            (None, _) => Vec::new(),
        };
        Message {
            message_id: wire.message_id,
            url: de::non_empty(wire.url),
            url_group: de::non_empty(wire.topic_name.or(wire.url_group)),
            endpoint_name: de::non_empty(wire.endpoint_name),
            method: de::non_empty(wire.method),
            header: wire.header,
            body: wire.body,
            body_base64: de::non_empty(wire.body_base64),
            max_retries: wire.max_retries,
            retry_delay_expression: de::non_empty(
                wire.retry_delay_expression.or(wire.retry_delay_expr),
            ),
            not_before: wire.not_before,
            created_at: wire.created_at,
            callback: de::non_empty(wire.callback),
            failure_callback: de::non_empty(wire.failure_callback),
            callback_header: wire.callback_header,
            failure_callback_header: wire.failure_callback_header,
            queue_name: de::non_empty(wire.queue_name),
            schedule_id: de::non_empty(wire.schedule_id),
            caller_ip: de::non_empty(wire.caller_ip_upper.or(wire.caller_ip)),
            labels,
            flow_control_key: de::non_empty(wire.flow_control_key),
            parallelism: wire.parallelism,
            rate: wire.rate.or(wire.rate_per_second),
            period: wire.period,
        }
    }
}

/// The answer of a bulk cancel.
#[derive(Deserialize)]
struct Cancelled {
    cancelled: u64,
}

/// Checks an id and encodes it as a path segment. An empty id would turn a
/// call on one item into a call on all of them, so it is refused.
pub(crate) fn id_segment(what: &str, id: &str) -> Result<String> {
    match id.is_empty() {
        true => Err(Error::invalid_input(format!(
            "the {what} must not be empty"
        ))),
        false => Ok(path_segment(id)),
    }
}

/// Collects ids for a bulk call, refusing an empty list (which QStash would
/// read as "all").
pub(crate) fn non_empty_ids<I>(what: &str, ids: I) -> Result<Vec<String>>
where
    I: IntoIterator,
    I::Item: Into<String>,
{
    let ids: Vec<String> = ids.into_iter().map(Into::into).collect();
    if ids.is_empty() {
        return Err(Error::invalid_input(format!(
            "the list of {what} is empty; QStash would apply the call to every entry"
        )));
    }
    if ids.iter().any(String::is_empty) {
        return Err(Error::invalid_input(format!(
            "the list of {what} holds an empty id"
        )));
    }
    Ok(ids)
}

/// Messages API: `client.messages()`.
///
/// ```no_run
/// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
/// let messages = client.messages();
/// let message = messages.get("msg_123").await?;
/// messages.cancel(&message.message_id).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Messages<'c> {
    client: &'c Client,
}

impl Client {
    /// The messages API.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let cancelled = client.messages().cancel_many(["msg_1", "msg_2"]).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn messages(&self) -> Messages<'_> {
        Messages { client: self }
    }
}

impl Messages<'_> {
    /// Gets a message that is still pending or being retried
    /// (`GET /v2/messages/{id}`). Delivered messages answer `404`.
    ///
    /// # Errors
    ///
    /// Invalid input for an empty id; otherwise the errors of any call.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let message = client.messages().get("msg_123").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get(&self, message_id: &str) -> Result<Message> {
        let path = format!("/v2/messages/{}", id_segment("message id", message_id)?);

        self.client.execute_json(ApiCall::get(path)).await
    }

    /// Cancels one message (`DELETE /v2/messages/{id}`). A delivery already
    /// in flight may still arrive.
    ///
    /// # Errors
    ///
    /// Invalid input for an empty id; otherwise the errors of any call.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// client.messages().cancel("msg_123").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn cancel(&self, message_id: &str) -> Result<()> {
        let path = format!("/v2/messages/{}", id_segment("message id", message_id)?);

        // Older servers answer `202 OK` in plain text, newer ones
        // `{"cancelled":1}`; neither is needed.
        self.client.execute(ApiCall::delete(path)).await?;
        Ok(())
    }

    /// Cancels the given messages and returns how many were cancelled
    /// (`DELETE /v2/messages?messageIds=…`).
    ///
    /// # Errors
    ///
    /// An empty list is refused before sending, since QStash would cancel
    /// every message; use [`cancel_all`](Messages::cancel_all) for that.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let cancelled = client.messages().cancel_many(["msg_1", "msg_2"]).await?;
    /// println!("{cancelled} cancelled");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn cancel_many<I>(&self, message_ids: I) -> Result<u64>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let ids = non_empty_ids("message ids", message_ids)?;
        let mut query = Query::new();
        query.push_all("messageIds", ids);

        let call = ApiCall::delete("/v2/messages").query(query);
        let answer: Cancelled = self.client.execute_json(call).await?;
        Ok(answer.cancelled)
    }

    /// Cancels every pending message and returns how many were cancelled.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let cancelled = client.messages().cancel_all().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn cancel_all(&self) -> Result<u64> {
        let answer: Cancelled = self
            .client
            .execute_json(ApiCall::delete("/v2/messages"))
            .await?;
        Ok(answer.cancelled)
    }
}
