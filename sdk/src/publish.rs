//! Publishing messages: to a URL, to a URL group, through a queue, or in a batch.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::client::{header_name, header_value, ApiCall, Client};
use crate::error::{Error, Result};

/// Where a message goes: a URL or the name of a URL group.
///
/// ```
/// use qstash_sdk::Destination;
///
/// let url = Destination::url("https://example.com/jobs?kind=daily");
/// let group = Destination::url_group("billing-workers");
/// assert_eq!(url.as_str(), "https://example.com/jobs?kind=daily");
/// assert_eq!(group.as_str(), "billing-workers");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Destination {
    /// An `http://` or `https://` URL.
    Url(String),
    /// The name of a URL group; the message fans out to each endpoint.
    UrlGroup(String),
}

impl Destination {
    /// A URL destination. It is sent to QStash as written, not percent-encoded.
    ///
    /// ```
    /// let destination = qstash_sdk::Destination::url("https://example.com/hook");
    /// ```
    pub fn url(url: impl Into<String>) -> Self {
        Destination::Url(url.into())
    }

    /// A URL-group destination.
    ///
    /// ```
    /// let destination = qstash_sdk::Destination::url_group("my-group");
    /// ```
    pub fn url_group(name: impl Into<String>) -> Self {
        Destination::UrlGroup(name.into())
    }

    /// The URL or group name.
    ///
    /// ```
    /// assert_eq!(qstash_sdk::Destination::url_group("g").as_str(), "g");
    /// ```
    pub fn as_str(&self) -> &str {
        match self {
            Destination::Url(url) | Destination::UrlGroup(url) => url,
        }
    }

    /// Checks the destination and returns it ready for a request path.
    pub(crate) fn validated(&self) -> Result<&str> {
        match self {
            Destination::Url(url) => {
                let has_scheme = url.starts_with("http://") || url.starts_with("https://");
                if !has_scheme {
                    return Err(Error::invalid_input(
                        "a destination URL must start with http:// or https://",
                    ));
                }
                Ok(url)
            }
            Destination::UrlGroup(name) => {
                validate_name("URL group name", name)?;
                Ok(name)
            }
        }
    }
}

/// Checks a queue, URL-group or schedule name: letters, digits, `-`, `.`, `_`.
pub(crate) fn validate_name(what: &str, name: &str) -> Result<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
    match !name.is_empty() && name.chars().all(allowed) {
        true => Ok(()),
        false => Err(Error::invalid_input(format!(
            "{what} {name:?} must be non-empty and use only letters, digits, '-', '.' and '_'"
        ))),
    }
}

/// A callback or failure callback, with the settings of its own message.
///
/// A plain URL converts into a callback with no extra settings.
///
/// ```
/// use std::time::Duration;
/// use qstash_sdk::{Callback, Destination, PublishRequest};
///
/// let request = PublishRequest::new(Destination::url("https://example.com/work"))
///     .callback("https://example.com/after-each-attempt")
///     .failure_callback(
///         Callback::new("https://example.com/failed")
///             .header("Authorization", "Bearer callback-secret")
///             .retries(1)
///             .timeout(Duration::from_secs(10)),
///     );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Callback {
    url: String,
    headers: Vec<(String, String)>,
    method: Option<Method>,
    timeout: Option<Duration>,
    retries: Option<u32>,
    retry_delay: Option<String>,
    delay: Option<Duration>,
}

impl Callback {
    /// A callback to `url`.
    ///
    /// ```
    /// let callback = qstash_sdk::Callback::new("https://example.com/callback");
    /// ```
    pub fn new(url: impl Into<String>) -> Self {
        Callback {
            url: url.into(),
            headers: Vec::new(),
            method: None,
            timeout: None,
            retries: None,
            retry_delay: None,
            delay: None,
        }
    }

    /// A header QStash forwards to the callback (`…-Forward-<Name>`).
    ///
    /// ```
    /// let callback = qstash_sdk::Callback::new("https://example.com/cb").header("X-Source", "jobs");
    /// ```
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The HTTP method of the callback call; QStash uses POST by default.
    ///
    /// ```
    /// let callback = qstash_sdk::Callback::new("https://example.com/cb").method(http::Method::PUT);
    /// ```
    pub fn method(mut self, method: impl Into<Method>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// The callback call's timeout, in whole seconds.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let callback = qstash_sdk::Callback::new("https://example.com/cb").timeout(Duration::from_secs(5));
    /// ```
    pub fn timeout(mut self, timeout: impl Into<Duration>) -> Self {
        self.timeout = Some(timeout.into());
        self
    }

    /// How often the callback call is retried. Without it the callback
    /// inherits the message's retries.
    ///
    /// ```
    /// let callback = qstash_sdk::Callback::new("https://example.com/cb").retries(0);
    /// ```
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = Some(retries);
        self
    }

    /// A retry-delay expression for the callback, in milliseconds over
    /// `retried`; see [`PublishRequest::retry_delay`].
    ///
    /// ```
    /// let callback = qstash_sdk::Callback::new("https://example.com/cb").retry_delay("1000");
    /// ```
    pub fn retry_delay(mut self, expression: impl Into<String>) -> Self {
        self.retry_delay = Some(expression.into());
        self
    }

    /// A delay before the callback call, in whole seconds.
    ///
    /// QStash's changelog says messages with delayed callbacks may be
    /// refused; this sets the documented header all the same.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let callback = qstash_sdk::Callback::new("https://example.com/cb").delay(Duration::from_secs(30));
    /// ```
    pub fn delay(mut self, delay: impl Into<Duration>) -> Self {
        self.delay = Some(delay.into());
        self
    }

    /// Adds this callback's headers, each name starting with `prefix`
    /// (`Upstash-Callback` or `Upstash-Failure-Callback`).
    fn write_headers(&self, prefix: &str, headers: &mut HeaderMap) -> Result<()> {
        let url_ok = self.url.starts_with("http://") || self.url.starts_with("https://");
        if !url_ok {
            return Err(Error::invalid_input(format!(
                "the {prefix} URL must start with http:// or https://"
            )));
        }
        insert(headers, prefix, &self.url)?;

        for (name, value) in &self.headers {
            insert(headers, &format!("{prefix}-Forward-{name}"), value)?;
        }
        if let Some(method) = &self.method {
            insert(
                headers,
                &format!("{prefix}-Method"),
                validated_method(method)?,
            )?;
        }
        if let Some(timeout) = self.timeout {
            insert(headers, &format!("{prefix}-Timeout"), &seconds(timeout))?;
        }
        if let Some(retries) = self.retries {
            insert(headers, &format!("{prefix}-Retries"), &retries.to_string())?;
        }
        if let Some(expression) = &self.retry_delay {
            insert(headers, &format!("{prefix}-Retry-Delay"), expression)?;
        }
        if let Some(delay) = self.delay {
            insert(headers, &format!("{prefix}-Delay"), &seconds(delay))?;
        }
        Ok(())
    }
}

impl From<&str> for Callback {
    fn from(url: &str) -> Self {
        Callback::new(url)
    }
}

impl From<String> for Callback {
    fn from(url: String) -> Self {
        Callback::new(url)
    }
}

/// Flow control: a key shared by messages, with limits on how many run at
/// once and how many start per period.
///
/// ```
/// use std::time::Duration;
/// use qstash_sdk::FlowControl;
///
/// let flow = FlowControl::new("tenant-42")
///     .parallelism(2)
///     .rate(10)
///     .period(Duration::from_secs(60));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct FlowControl {
    key: String,
    parallelism: Option<u32>,
    rate: Option<u32>,
    period: Option<Duration>,
}

impl FlowControl {
    /// Flow control under `key`, with no limit set yet.
    ///
    /// ```
    /// let flow = qstash_sdk::FlowControl::new("tenant-42").parallelism(1);
    /// ```
    pub fn new(key: impl Into<String>) -> Self {
        FlowControl {
            key: key.into(),
            parallelism: None,
            rate: None,
            period: None,
        }
    }

    /// How many messages under the key may be in delivery at once.
    ///
    /// ```
    /// let flow = qstash_sdk::FlowControl::new("k").parallelism(5);
    /// ```
    pub fn parallelism(mut self, parallelism: u32) -> Self {
        self.parallelism = Some(parallelism);
        self
    }

    /// How many messages under the key may start per period.
    ///
    /// ```
    /// let flow = qstash_sdk::FlowControl::new("k").rate(100);
    /// ```
    pub fn rate(mut self, rate: u32) -> Self {
        self.rate = Some(rate);
        self
    }

    /// The period of the rate, in whole seconds; QStash's default is one second.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let flow = qstash_sdk::FlowControl::new("k").rate(10).period(Duration::from_secs(60));
    /// ```
    pub fn period(mut self, period: impl Into<Duration>) -> Self {
        self.period = Some(period.into());
        self
    }

    fn value(&self) -> String {
        let mut parts = Vec::new();
        if let Some(parallelism) = self.parallelism {
            parts.push(format!("parallelism={parallelism}"));
        }
        if let Some(rate) = self.rate {
            parts.push(format!("rate={rate}"));
        }
        if let Some(period) = self.period {
            parts.push(format!("period={}", seconds(period)));
        }
        parts.join(", ")
    }
}

/// A message to publish, with every publish setting QStash offers.
///
/// Send it with [`Client::publish`], or several at once with
/// [`Client::batch`]. Setting [`queue`](PublishRequest::queue) enqueues it
/// instead. Settings are checked when the request is sent.
///
/// ```no_run
/// use std::time::Duration;
/// use qstash_sdk::{Client, Destination, FlowControl, PublishRequest};
///
/// # async fn run(client: Client) -> Result<(), qstash_sdk::Error> {
/// let request = PublishRequest::new(Destination::url("https://example.com/invoices"))
///     .json(&serde_json::json!({ "invoice": 42 }))
///     .method(http::Method::PUT)
///     .retries(5)
///     .retry_delay("pow(2, retried) * 1000")
///     .delay(Duration::from_secs(60))
///     .timeout(Duration::from_secs(30))
///     .header("Authorization", "Bearer for-the-destination")
///     .deduplication_id("invoice-42")
///     .flow_control(FlowControl::new("invoices").parallelism(2))
///     .label("billing");
/// let published = client.publish(request).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct PublishRequest {
    destination: Destination,
    queue: Option<String>,
    body: Bytes,
    content_type: Option<String>,
    method: Option<Method>,
    retries: Option<u32>,
    retry_delay: Option<String>,
    delay: Option<Duration>,
    not_before: Option<OffsetDateTime>,
    timeout: Option<Duration>,
    callback: Option<Callback>,
    failure_callback: Option<Callback>,
    headers: Vec<(String, String)>,
    deduplication_id: Option<String>,
    content_based_deduplication: bool,
    flow_control: Option<FlowControl>,
    labels: Vec<String>,
    body_error: Option<String>,
}

impl PublishRequest {
    /// A message to `destination` with an empty body and QStash's defaults.
    ///
    /// ```
    /// use qstash_sdk::{Destination, PublishRequest};
    ///
    /// let request = PublishRequest::new(Destination::url("https://example.com/hook"));
    /// ```
    pub fn new(destination: Destination) -> Self {
        PublishRequest {
            destination,
            queue: None,
            body: Bytes::new(),
            content_type: None,
            method: None,
            retries: None,
            retry_delay: None,
            delay: None,
            not_before: None,
            timeout: None,
            callback: None,
            failure_callback: None,
            headers: Vec::new(),
            deduplication_id: None,
            content_based_deduplication: false,
            flow_control: None,
            labels: Vec::new(),
            body_error: None,
        }
    }

    /// The destination this request publishes to.
    ///
    /// ```
    /// use qstash_sdk::{Destination, PublishRequest};
    ///
    /// let request = PublishRequest::new(Destination::url_group("g"));
    /// assert_eq!(request.destination(), &Destination::url_group("g"));
    /// ```
    pub fn destination(&self) -> &Destination {
        &self.destination
    }

    /// Enqueues the message in the named queue (`/v2/enqueue/...`) instead of
    /// publishing it directly. QStash creates the queue if needed.
    ///
    /// ```
    /// use qstash_sdk::{Destination, PublishRequest};
    ///
    /// let request = PublishRequest::new(Destination::url("https://example.com")).queue("emails");
    /// ```
    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.queue = Some(queue.into());
        self
    }

    /// The raw body, delivered to the destination unchanged.
    ///
    /// ```
    /// use qstash_sdk::{Destination, PublishRequest};
    ///
    /// let request = PublishRequest::new(Destination::url("https://example.com"))
    ///     .body("plain text")
    ///     .content_type("text/plain");
    /// ```
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Serializes `value` as the JSON body and sets `Content-Type:
    /// application/json`. A serialization failure is reported when the
    /// request is sent.
    ///
    /// ```
    /// use qstash_sdk::{Destination, PublishRequest};
    ///
    /// let request = PublishRequest::new(Destination::url("https://example.com"))
    ///     .json(&serde_json::json!({ "user": 7 }));
    /// ```
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => {
                self.body = Bytes::from(body);
                self.content_type = Some("application/json".to_owned());
            }
            Err(err) => self.body_error = Some(err.to_string()),
        }
        self
    }

    /// The `Content-Type` forwarded to the destination.
    ///
    /// ```
    /// use qstash_sdk::{Destination, PublishRequest};
    ///
    /// let request = PublishRequest::new(Destination::url("https://example.com")).content_type("text/csv");
    /// ```
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// The method used to call the destination (`Upstash-Method`): GET,
    /// POST, PUT, PATCH or DELETE. QStash uses POST by default.
    ///
    /// ```
    /// use qstash_sdk::{Destination, PublishRequest};
    ///
    /// let request = PublishRequest::new(Destination::url("https://example.com")).method(http::Method::PATCH);
    /// ```
    pub fn method(mut self, method: impl Into<Method>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// How many times QStash retries a failed delivery (`Upstash-Retries`);
    /// attempts in total are one more.
    ///
    /// ```
    /// use qstash_sdk::{Destination, PublishRequest};
    ///
    /// let request = PublishRequest::new(Destination::url("https://example.com")).retries(0);
    /// ```
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = Some(retries);
        self
    }

    /// The delay before each retry, as a QStash expression in milliseconds
    /// over `retried` (`Upstash-Retry-Delay`), such as
    /// `"pow(2, retried) * 1000"`.
    ///
    /// ```
    /// use qstash_sdk::{Destination, PublishRequest};
    ///
    /// let request = PublishRequest::new(Destination::url("https://example.com"))
    ///     .retry_delay("1000 * (1 + retried)");
    /// ```
    pub fn retry_delay(mut self, expression: impl Into<String>) -> Self {
        self.retry_delay = Some(expression.into());
        self
    }

    /// Delays the first delivery, in whole seconds (`Upstash-Delay`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use qstash_sdk::{Destination, PublishRequest};
    ///
    /// let request = PublishRequest::new(Destination::url("https://example.com"))
    ///     .delay(Duration::from_secs(90));
    /// ```
    pub fn delay(mut self, delay: impl Into<Duration>) -> Self {
        self.delay = Some(delay.into());
        self
    }

    /// Delivers no earlier than this time, in unix seconds
    /// (`Upstash-Not-Before`). QStash prefers it over
    /// [`delay`](PublishRequest::delay).
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use qstash_sdk::{Destination, PublishRequest};
    ///
    /// let request = PublishRequest::new(Destination::url("https://example.com"))
    ///     .not_before(SystemTime::now() + Duration::from_secs(3600));
    /// ```
    pub fn not_before(mut self, at: impl Into<OffsetDateTime>) -> Self {
        self.not_before = Some(at.into());
        self
    }

    /// Cuts each delivery attempt off after this long, in whole seconds
    /// (`Upstash-Timeout`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use qstash_sdk::{Destination, PublishRequest};
    ///
    /// let request = PublishRequest::new(Destination::url("https://example.com"))
    ///     .timeout(Duration::from_secs(20));
    /// ```
    pub fn timeout(mut self, timeout: impl Into<Duration>) -> Self {
        self.timeout = Some(timeout.into());
        self
    }

    /// Calls this URL after every delivery attempt (`Upstash-Callback-*`).
    ///
    /// ```
    /// use qstash_sdk::{Destination, PublishRequest};
    ///
    /// let request = PublishRequest::new(Destination::url("https://example.com"))
    ///     .callback("https://example.com/callback");
    /// ```
    pub fn callback(mut self, callback: impl Into<Callback>) -> Self {
        self.callback = Some(callback.into());
        self
    }

    /// Calls this URL once every retry has failed
    /// (`Upstash-Failure-Callback-*`).
    ///
    /// ```
    /// use qstash_sdk::{Destination, PublishRequest};
    ///
    /// let request = PublishRequest::new(Destination::url("https://example.com"))
    ///     .failure_callback("https://example.com/failed");
    /// ```
    pub fn failure_callback(mut self, callback: impl Into<Callback>) -> Self {
        self.failure_callback = Some(callback.into());
        self
    }

    /// A header QStash forwards to the destination (`Upstash-Forward-<Name>`).
    ///
    /// ```
    /// use qstash_sdk::{Destination, PublishRequest};
    ///
    /// let request = PublishRequest::new(Destination::url("https://example.com"))
    ///     .header("X-Tenant", "42");
    /// ```
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// A deduplication id (`Upstash-Deduplication-Id`): a second message with
    /// the same id within QStash's window is not enqueued.
    ///
    /// ```
    /// use qstash_sdk::{Destination, PublishRequest};
    ///
    /// let request = PublishRequest::new(Destination::url("https://example.com"))
    ///     .deduplication_id("order-17");
    /// ```
    pub fn deduplication_id(mut self, id: impl Into<String>) -> Self {
        self.deduplication_id = Some(id.into());
        self
    }

    /// Deduplicates on destination, body and forwarded headers
    /// (`Upstash-Content-Based-Deduplication: true`).
    ///
    /// ```
    /// use qstash_sdk::{Destination, PublishRequest};
    ///
    /// let request = PublishRequest::new(Destination::url("https://example.com"))
    ///     .content_based_deduplication();
    /// ```
    pub fn content_based_deduplication(mut self) -> Self {
        self.content_based_deduplication = true;
        self
    }

    /// Flow control for the message (`Upstash-Flow-Control-Key` and `-Value`).
    ///
    /// ```
    /// use qstash_sdk::{Destination, FlowControl, PublishRequest};
    ///
    /// let request = PublishRequest::new(Destination::url("https://example.com"))
    ///     .flow_control(FlowControl::new("tenant-1").rate(5));
    /// ```
    pub fn flow_control(mut self, flow_control: FlowControl) -> Self {
        self.flow_control = Some(flow_control);
        self
    }

    /// Adds a label (`Upstash-Label`); logs and the DLQ can be filtered by it.
    ///
    /// ```
    /// use qstash_sdk::{Destination, PublishRequest};
    ///
    /// let request = PublishRequest::new(Destination::url("https://example.com"))
    ///     .label("nightly")
    ///     .label("billing");
    /// ```
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.labels.push(label.into());
        self
    }

    /// The path of a publish or enqueue call. The destination is appended
    /// raw, as QStash expects.
    pub(crate) fn path(&self) -> Result<String> {
        let destination = self.destination.validated()?;
        match &self.queue {
            Some(queue) => {
                validate_name("queue name", queue)?;
                Ok(format!("/v2/enqueue/{queue}/{destination}"))
            }
            None => Ok(format!("/v2/publish/{destination}")),
        }
    }

    pub(crate) fn queue_name(&self) -> Option<&str> {
        self.queue.as_deref()
    }

    pub(crate) fn body_bytes(&self) -> Result<Bytes> {
        match &self.body_error {
            Some(message) => Err(Error::invalid_input(format!(
                "cannot serialize the body as JSON: {message}"
            ))),
            None => Ok(self.body.clone()),
        }
    }

    /// Every header of the request except the destination and queue,
    /// which go elsewhere depending on the call.
    pub(crate) fn headers(&self) -> Result<HeaderMap> {
        let mut headers = HeaderMap::new();
        if let Some(content_type) = &self.content_type {
            headers.insert(CONTENT_TYPE, header_value("Content-Type", content_type)?);
        }
        if let Some(method) = &self.method {
            insert(&mut headers, "Upstash-Method", validated_method(method)?)?;
        }
        if let Some(retries) = self.retries {
            insert(&mut headers, "Upstash-Retries", &retries.to_string())?;
        }
        if let Some(expression) = &self.retry_delay {
            insert(&mut headers, "Upstash-Retry-Delay", expression)?;
        }
        self.timing_headers(&mut headers)?;
        for (name, value) in &self.headers {
            insert(&mut headers, &format!("Upstash-Forward-{name}"), value)?;
        }
        if let Some(callback) = &self.callback {
            callback.write_headers("Upstash-Callback", &mut headers)?;
        }
        if let Some(callback) = &self.failure_callback {
            callback.write_headers("Upstash-Failure-Callback", &mut headers)?;
        }
        self.routing_headers(&mut headers)?;
        Ok(headers)
    }

    fn timing_headers(&self, headers: &mut HeaderMap) -> Result<()> {
        if let Some(delay) = self.delay {
            insert(headers, "Upstash-Delay", &seconds(delay))?;
        }
        if let Some(at) = self.not_before {
            insert(
                headers,
                "Upstash-Not-Before",
                &at.unix_timestamp().to_string(),
            )?;
        }
        if let Some(timeout) = self.timeout {
            insert(headers, "Upstash-Timeout", &seconds(timeout))?;
        }
        Ok(())
    }

    fn routing_headers(&self, headers: &mut HeaderMap) -> Result<()> {
        if let Some(id) = &self.deduplication_id {
            insert(headers, "Upstash-Deduplication-Id", id)?;
        }
        if self.content_based_deduplication {
            insert(headers, "Upstash-Content-Based-Deduplication", "true")?;
        }
        if let Some(flow) = &self.flow_control {
            insert(headers, "Upstash-Flow-Control-Key", &flow.key)?;
            let value = flow.value();
            if !value.is_empty() {
                insert(headers, "Upstash-Flow-Control-Value", &value)?;
            }
        }
        if !self.labels.is_empty() {
            insert(headers, "Upstash-Label", &self.labels.join(","))?;
        }
        Ok(())
    }
}

fn insert(headers: &mut HeaderMap, name: &str, value: &str) -> Result<()> {
    let header: HeaderName = header_name(name)?;
    let value: HeaderValue = header_value(name, value)?;
    headers.append(header, value);
    Ok(())
}

fn validated_method(method: &Method) -> Result<&str> {
    let allowed = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
    ];
    match allowed.contains(method) {
        true => Ok(method.as_str()),
        false => Err(Error::invalid_input(format!(
            "QStash cannot call a destination with method {method}"
        ))),
    }
}

/// Writes a duration as QStash's `<n>s`, dropping any fraction of a second.
pub(crate) fn seconds(duration: Duration) -> String {
    let mut text = String::new();
    let _ = write!(text, "{}s", duration.as_secs());
    text
}

/// One message QStash accepted.
///
/// ```no_run
/// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
/// use qstash_sdk::{Destination, PublishRequest};
///
/// let published = client
///     .publish(PublishRequest::new(Destination::url("https://example.com")))
///     .await?;
/// for message in published.messages() {
///     println!("{} deduplicated={}", message.message_id, message.deduplicated);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PublishedMessage {
    /// The id of the new message (or of the earlier one, when deduplicated).
    pub message_id: String,
    /// The endpoint URL, for URL and URL-group destinations.
    #[serde(default)]
    pub url: Option<String>,
    /// True when QStash found a duplicate and enqueued nothing new.
    #[serde(default)]
    pub deduplicated: bool,
}

/// QStash's answer to a publish: one message for a URL, one per endpoint for
/// a URL group.
///
/// ```no_run
/// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
/// use qstash_sdk::{Destination, PublishRequest, PublishResponse};
///
/// let request = PublishRequest::new(Destination::url_group("workers"));
/// match client.publish(request).await? {
///     PublishResponse::Url(message) => println!("{}", message.message_id),
///     PublishResponse::UrlGroup(messages) => println!("{} endpoints", messages.len()),
///     _ => {}
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "PublishAnswer")]
#[non_exhaustive]
pub enum PublishResponse {
    /// A URL destination: a single message.
    Url(PublishedMessage),
    /// A URL-group destination: one message per endpoint.
    UrlGroup(Vec<PublishedMessage>),
}

/// The shapes a publish answer comes in. The SDKs and older docs send a bare
/// array for URL groups; the OpenAPI spec wraps it in `messages`.
#[derive(Deserialize)]
#[serde(untagged)]
enum PublishAnswer {
    One(PublishedMessage),
    Many(Vec<PublishedMessage>),
    Wrapped { messages: Vec<PublishedMessage> },
}

impl From<PublishAnswer> for PublishResponse {
    fn from(answer: PublishAnswer) -> Self {
        match answer {
            PublishAnswer::One(message) => PublishResponse::Url(message),
            PublishAnswer::Many(messages) | PublishAnswer::Wrapped { messages } => {
                PublishResponse::UrlGroup(messages)
            }
        }
    }
}

impl PublishResponse {
    /// Every accepted message, one for a URL destination.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// # let request = qstash_sdk::PublishRequest::new(qstash_sdk::Destination::url_group("g"));
    /// let published = client.publish(request).await?;
    /// assert!(!published.messages().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn messages(&self) -> &[PublishedMessage] {
        match self {
            PublishResponse::Url(message) => std::slice::from_ref(message),
            PublishResponse::UrlGroup(messages) => messages,
        }
    }

    /// The ids of every accepted message.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// # let request = qstash_sdk::PublishRequest::new(qstash_sdk::Destination::url("https://example.com"));
    /// let published = client.publish(request).await?;
    /// println!("{:?}", published.message_ids());
    /// # Ok(())
    /// # }
    /// ```
    pub fn message_ids(&self) -> Vec<&str> {
        self.messages()
            .iter()
            .map(|message| message.message_id.as_str())
            .collect()
    }
}

/// The result of one item of a batch.
///
/// ```no_run
/// # async fn run(client: qstash_sdk::Client, requests: Vec<qstash_sdk::PublishRequest>) -> Result<(), qstash_sdk::Error> {
/// use qstash_sdk::BatchOutcome;
///
/// for outcome in client.batch(requests).await? {
///     match outcome {
///         BatchOutcome::Published(published) => println!("{:?}", published.message_ids()),
///         BatchOutcome::Rejected { error } => println!("refused: {error}"),
///         _ => {}
///     }
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum BatchOutcome {
    /// The item was accepted.
    Published(PublishResponse),
    /// QStash refused this item; the others were still sent.
    Rejected {
        /// QStash's reason.
        error: String,
    },
}

/// One item of a `/v2/batch` body.
#[derive(Serialize)]
struct BatchItem<'a> {
    destination: &'a str,
    headers: BTreeMap<String, String>,
    body: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    queue: Option<&'a str>,
}

impl<'a> BatchItem<'a> {
    fn from_request(request: &'a PublishRequest) -> Result<Self> {
        let destination = request.destination.validated()?;
        if let Some(queue) = request.queue_name() {
            validate_name("queue name", queue)?;
        }
        let body = String::from_utf8(request.body_bytes()?.to_vec())
            .map_err(|_| Error::invalid_input("a batch item's body must be UTF-8 text"))?;

        let mut headers = BTreeMap::new();
        for (name, value) in &request.headers()? {
            let value = value.to_str().map_err(|_| {
                Error::invalid_input(format!("the {name} header of a batch item is not text"))
            })?;
            headers.insert(name.as_str().to_owned(), value.to_owned());
        }
        Ok(BatchItem {
            destination,
            headers,
            body,
            queue: request.queue_name(),
        })
    }
}

impl Client {
    /// Publishes a message, or enqueues it when the request names a queue.
    ///
    /// # Errors
    ///
    /// An invalid-input error, before anything is sent, when the destination,
    /// queue name, method, a header or the JSON body is invalid; otherwise
    /// the errors of any call (see [`Error`]).
    ///
    /// ```no_run
    /// use qstash_sdk::{Client, Destination, PublishRequest};
    ///
    /// # async fn run(client: Client) -> Result<(), qstash_sdk::Error> {
    /// let request = PublishRequest::new(Destination::url("https://example.com/hook"))
    ///     .json(&serde_json::json!({ "hello": "world" }));
    /// let published = client.publish(request).await?;
    /// println!("{:?}", published.message_ids());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn publish(&self, request: PublishRequest) -> Result<PublishResponse> {
        let call = ApiCall::post(request.path()?)
            .headers(request.headers()?)
            .body(None, request.body_bytes()?);

        self.execute_json(call).await
    }

    /// Publishes several messages in one call (`/v2/batch`). Items may mix
    /// URLs, URL groups and queues; bodies must be UTF-8 text.
    ///
    /// The answer has one outcome per request, in order.
    ///
    /// # Errors
    ///
    /// An invalid-input error when the batch is empty or an item is invalid
    /// (nothing is sent then); otherwise the errors of any call.
    ///
    /// ```no_run
    /// use qstash_sdk::{Client, Destination, PublishRequest};
    ///
    /// # async fn run(client: Client) -> Result<(), qstash_sdk::Error> {
    /// let outcomes = client
    ///     .batch([
    ///         PublishRequest::new(Destination::url("https://example.com/a")).body("1"),
    ///         PublishRequest::new(Destination::url_group("workers")).body("2"),
    ///         PublishRequest::new(Destination::url("https://example.com/b")).queue("slow"),
    ///     ])
    ///     .await?;
    /// assert_eq!(outcomes.len(), 3);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn batch(
        &self,
        requests: impl IntoIterator<Item = PublishRequest>,
    ) -> Result<Vec<BatchOutcome>> {
        let requests: Vec<PublishRequest> = requests.into_iter().collect();
        if requests.is_empty() {
            return Err(Error::invalid_input("a batch needs at least one message"));
        }
        let items = requests
            .iter()
            .map(BatchItem::from_request)
            .collect::<Result<Vec<_>>>()?;

        let call = ApiCall::post("/v2/batch").json(&items)?;
        self.execute_json(call).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_control_parts_are_joined_with_a_comma_and_space() {
        let flow = FlowControl::new("k")
            .parallelism(2)
            .rate(10)
            .period(Duration::from_secs(60));

        let value = flow.value();

        assert_eq!(value, "parallelism=2, rate=10, period=60s");
    }

    #[test]
    fn a_url_destination_without_a_scheme_is_refused() {
        let request = PublishRequest::new(Destination::url("example.com/hook"));

        let err = request.path().unwrap_err();

        assert!(err.is_invalid_input());
    }

    #[test]
    fn a_url_group_name_with_a_slash_is_refused() {
        let request = PublishRequest::new(Destination::url_group("a/b"));

        let err = request.path().unwrap_err();

        assert!(err.is_invalid_input());
    }

    #[test]
    fn an_unsupported_method_is_refused() {
        let request =
            PublishRequest::new(Destination::url("https://example.com")).method(Method::OPTIONS);

        let err = request.headers().unwrap_err();

        assert!(err.is_invalid_input());
    }

    #[test]
    fn the_destination_is_put_into_the_path_raw() {
        let request = PublishRequest::new(Destination::url("https://example.com/x?a=b c"));

        let path = request.path().unwrap();

        assert_eq!(path, "/v2/publish/https://example.com/x?a=b c");
    }
}
