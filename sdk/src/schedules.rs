//! Schedules: publish a message on a cron.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use time::OffsetDateTime;

use crate::client::{header_value, ApiCall, Client};
use crate::de;
use crate::error::{Error, Result};
use crate::messages::{decode_body, id_segment};
use crate::publish::{validate_name, PublishRequest};

/// A schedule to create: a cron expression and the message to publish.
///
/// The message's settings (retries, callbacks, headers, ...) apply to every
/// message the schedule publishes; a queue set on it becomes the
/// schedule's queue.
///
/// ```
/// use qstash_sdk::{Destination, PublishRequest, ScheduleRequest};
///
/// let schedule = ScheduleRequest::new(
///     "CRON_TZ=Europe/Berlin 0 6 * * *",
///     PublishRequest::new(Destination::url("https://example.com/report")).retries(2),
/// )
/// .schedule_id("daily-report");
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ScheduleRequest {
    cron: String,
    message: PublishRequest,
    schedule_id: Option<String>,
}

impl ScheduleRequest {
    /// A schedule publishing `message` on `cron` (five fields, optionally
    /// prefixed with `CRON_TZ=Area/City`).
    ///
    /// ```
    /// use qstash_sdk::{Destination, PublishRequest, ScheduleRequest};
    ///
    /// let schedule = ScheduleRequest::new("*/5 * * * *", PublishRequest::new(Destination::url("https://example.com")));
    /// ```
    pub fn new(cron: impl Into<String>, message: PublishRequest) -> Self {
        ScheduleRequest {
            cron: cron.into(),
            message,
            schedule_id: None,
        }
    }

    /// A schedule id of your choosing; creating with an existing id
    /// replaces that schedule.
    ///
    /// ```
    /// use qstash_sdk::{Destination, PublishRequest, ScheduleRequest};
    ///
    /// let schedule = ScheduleRequest::new("0 * * * *", PublishRequest::new(Destination::url("https://example.com")))
    ///     .schedule_id("hourly");
    /// ```
    pub fn schedule_id(mut self, id: impl Into<String>) -> Self {
        self.schedule_id = Some(id.into());
        self
    }

    fn call(&self) -> Result<ApiCall> {
        if self.cron.trim().is_empty() {
            return Err(Error::invalid_input("a schedule needs a cron expression"));
        }
        let destination = self.message.destination().validated()?;
        let mut headers = self.message.headers()?;
        headers.insert("upstash-cron", header_value("Upstash-Cron", &self.cron)?);
        if let Some(id) = &self.schedule_id {
            validate_name("schedule id", id)?;
            headers.insert(
                "upstash-schedule-id",
                header_value("Upstash-Schedule-Id", id)?,
            );
        }
        if let Some(queue) = self.message.queue_name() {
            validate_name("queue name", queue)?;
            headers.insert(
                "upstash-queue-name",
                header_value("Upstash-Queue-Name", queue)?,
            );
        }

        let call = ApiCall::post(format!("/v2/schedules/{destination}"))
            .headers(headers)
            .body(None, self.message.body_bytes()?);
        Ok(call)
    }
}

/// A schedule as QStash reports it.
///
/// ```no_run
/// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
/// let schedule = client.schedules().get("scd_123").await?;
/// println!("{} next at {:?}", schedule.cron, schedule.next_schedule_time);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "ScheduleWire")]
#[non_exhaustive]
pub struct Schedule {
    /// The schedule id.
    pub schedule_id: String,
    /// The cron expression.
    pub cron: String,
    /// The URL or URL group messages are published to.
    pub destination: String,
    /// The HTTP method used to call the destination.
    pub method: Option<String>,
    /// The headers sent with each message.
    pub header: BTreeMap<String, Vec<String>>,
    /// The body of each message, when it is UTF-8 text.
    pub body: Option<String>,
    /// The body in base64, when it is not UTF-8 text.
    pub body_base64: Option<String>,
    /// Retries for each message.
    pub retries: Option<u32>,
    /// The delay of each message.
    pub delay: Option<Duration>,
    /// The callback URL.
    pub callback: Option<String>,
    /// The failure-callback URL.
    pub failure_callback: Option<String>,
    /// The IP address the schedule was created from.
    pub caller_ip: Option<String>,
    /// True while the schedule is paused.
    pub is_paused: bool,
    /// The queue messages are enqueued in.
    pub queue_name: Option<String>,
    /// The retry-delay expression (`retryDelayExpression`, or `retryDelayExpr`).
    pub retry_delay_expression: Option<String>,
    /// The schedule's labels.
    pub labels: Vec<String>,
    /// The flow-control key.
    pub flow_control_key: Option<String>,
    /// The flow-control parallelism.
    pub parallelism: Option<u32>,
    /// The flow-control rate.
    pub rate: Option<u32>,
    /// The flow-control period.
    pub period: Option<Duration>,
    /// When the schedule last published.
    pub last_schedule_time: Option<OffsetDateTime>,
    /// When the schedule publishes next.
    pub next_schedule_time: Option<OffsetDateTime>,
    /// The states of the messages from the last run, by message id.
    pub last_schedule_states: BTreeMap<String, String>,
    /// When the schedule was created.
    pub created_at: Option<OffsetDateTime>,
}

impl Schedule {
    /// The body as bytes, decoded from base64 when QStash sent it that way.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let body = client.schedules().get("scd_1").await?.body_bytes().unwrap_or_default();
    /// # Ok(())
    /// # }
    /// ```
    pub fn body_bytes(&self) -> Option<Vec<u8>> {
        decode_body(self.body.as_deref(), self.body_base64.as_deref())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScheduleWire {
    schedule_id: String,
    #[serde(default)]
    cron: String,
    #[serde(default)]
    destination: String,
    #[serde(default)]
    method: Option<String>,
    #[serde(default, deserialize_with = "de::header_map")]
    header: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    body_base64: Option<String>,
    #[serde(default, deserialize_with = "de::integer")]
    retries: Option<u32>,
    #[serde(default, deserialize_with = "de::period")]
    delay: Option<Duration>,
    #[serde(default)]
    callback: Option<String>,
    #[serde(default)]
    failure_callback: Option<String>,
    #[serde(default)]
    caller_ip: Option<String>,
    #[serde(default, rename = "callerIP")]
    caller_ip_upper: Option<String>,
    #[serde(default)]
    is_paused: bool,
    #[serde(default)]
    queue_name: Option<String>,
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
    parallelism: Option<u32>,
    #[serde(default, deserialize_with = "de::integer")]
    rate: Option<u32>,
    #[serde(default, deserialize_with = "de::period")]
    period: Option<Duration>,
    #[serde(default, deserialize_with = "de::millis")]
    last_schedule_time: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "de::millis")]
    next_schedule_time: Option<OffsetDateTime>,
    #[serde(default)]
    last_schedule_states: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "de::millis")]
    created_at: Option<OffsetDateTime>,
}

impl From<ScheduleWire> for Schedule {
    fn from(wire: ScheduleWire) -> Self {
        let labels = match (wire.labels, wire.label) {
            (Some(labels), _) => labels,
            (None, Some(label)) if !label.is_empty() => vec![label],
            (None, _) => Vec::new(),
        };
        Schedule {
            schedule_id: wire.schedule_id,
            cron: wire.cron,
            destination: wire.destination,
            method: de::non_empty(wire.method),
            header: wire.header,
            body: wire.body,
            body_base64: de::non_empty(wire.body_base64),
            retries: wire.retries,
            delay: wire.delay,
            callback: de::non_empty(wire.callback),
            failure_callback: de::non_empty(wire.failure_callback),
            caller_ip: de::non_empty(wire.caller_ip.or(wire.caller_ip_upper)),
            is_paused: wire.is_paused,
            queue_name: de::non_empty(wire.queue_name),
            retry_delay_expression: de::non_empty(
                wire.retry_delay_expression.or(wire.retry_delay_expr),
            ),
            labels,
            flow_control_key: de::non_empty(wire.flow_control_key),
            parallelism: wire.parallelism,
            rate: wire.rate,
            period: wire.period,
            last_schedule_time: wire.last_schedule_time,
            next_schedule_time: wire.next_schedule_time,
            last_schedule_states: wire.last_schedule_states.unwrap_or_default(),
            created_at: wire.created_at,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    schedule_id: String,
}

/// Schedules API: `client.schedules()`.
///
/// ```no_run
/// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
/// use qstash_sdk::{Destination, PublishRequest, ScheduleRequest};
///
/// let message = PublishRequest::new(Destination::url("https://example.com/tick"));
/// let id = client.schedules().create(ScheduleRequest::new("* * * * *", message)).await?;
/// client.schedules().pause(&id).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Schedules<'c> {
    client: &'c Client,
}

impl Client {
    /// The schedules API.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let schedules = client.schedules().list().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn schedules(&self) -> Schedules<'_> {
        Schedules { client: self }
    }
}

fn schedule_path(id: &str, suffix: &str) -> Result<String> {
    Ok(format!(
        "/v2/schedules/{}{suffix}",
        id_segment("schedule id", id)?
    ))
}

impl Schedules<'_> {
    /// Creates (or, with a known schedule id, replaces) a schedule and
    /// returns its id (`POST /v2/schedules/{destination}`).
    ///
    /// # Errors
    ///
    /// Invalid input for an empty cron, a bad destination, schedule id or
    /// header; QStash answers `412` above the plan's schedule limit.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// use qstash_sdk::{Destination, PublishRequest, ScheduleRequest};
    ///
    /// let message = PublishRequest::new(Destination::url("https://example.com/tick")).body("tick");
    /// let id = client.schedules().create(ScheduleRequest::new("*/10 * * * *", message)).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create(&self, schedule: ScheduleRequest) -> Result<String> {
        let created: Created = self.client.execute_json(schedule.call()?).await?;
        Ok(created.schedule_id)
    }

    /// Gets one schedule (`GET /v2/schedules/{id}`).
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let schedule = client.schedules().get("scd_123").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get(&self, schedule_id: &str) -> Result<Schedule> {
        let call = ApiCall::get(schedule_path(schedule_id, "")?);

        self.client.execute_json(call).await
    }

    /// Lists every schedule (`GET /v2/schedules`).
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// for schedule in client.schedules().list().await? {
    ///     println!("{} {}", schedule.schedule_id, schedule.cron);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list(&self) -> Result<Vec<Schedule>> {
        self.client
            .execute_json(ApiCall::get("/v2/schedules"))
            .await
    }

    /// Deletes a schedule (`DELETE /v2/schedules/{id}`).
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// client.schedules().delete("scd_123").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete(&self, schedule_id: &str) -> Result<()> {
        let call = ApiCall::delete(schedule_path(schedule_id, "")?);

        self.client.execute(call).await?;
        Ok(())
    }

    /// Pauses a schedule (`PATCH /v2/schedules/{id}/pause`). The official
    /// SDKs use PATCH here although the OpenAPI spec says POST; this crate
    /// follows the SDKs.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// client.schedules().pause("scd_123").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn pause(&self, schedule_id: &str) -> Result<()> {
        let call = ApiCall::new(http::Method::PATCH, schedule_path(schedule_id, "/pause")?);

        self.client.execute(call).await?;
        Ok(())
    }

    /// Resumes a paused schedule (`PATCH /v2/schedules/{id}/resume`).
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// client.schedules().resume("scd_123").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn resume(&self, schedule_id: &str) -> Result<()> {
        let call = ApiCall::new(http::Method::PATCH, schedule_path(schedule_id, "/resume")?);

        self.client.execute(call).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::Destination;

    #[test]
    fn an_empty_cron_is_refused() {
        let message = PublishRequest::new(Destination::url("https://example.com"));

        let err = ScheduleRequest::new(" ", message).call().unwrap_err();

        assert!(err.is_invalid_input());
    }

    #[test]
    fn the_schedule_path_encodes_the_id() {
        let path = schedule_path("scd 1", "/pause").unwrap();

        assert_eq!(path, "/v2/schedules/scd%201/pause");
    }
}
