//! The client, its builder, and the one place where calls to QStash are made.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::Full;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::encoding::Query;
use crate::error::{Error, RateLimit, Result};
use crate::retry::{Failure, RetryPolicy};
use crate::transport::{RawResponse, Transport};

/// The QStash endpoint used when no base URL is given (the EU region).
///
/// ```
/// let client = qstash_sdk::Client::builder().token("token").build()?;
/// assert_eq!(client.base_url(), qstash_sdk::DEFAULT_BASE_URL);
/// # Ok::<(), qstash_sdk::Error>(())
/// ```
pub const DEFAULT_BASE_URL: &str = "https://qstash.upstash.io";

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const SDK_USER_AGENT: &str = concat!("qstash-sdk-rust/", env!("CARGO_PKG_VERSION"));

/// A client for the QStash HTTP API.
///
/// Cloning is cheap: clones share one connection pool. Each API area has its
/// own handle: [`messages`](Client::messages), [`dlq`](Client::dlq),
/// [`logs`](Client::logs), [`queues`](Client::queues),
/// [`schedules`](Client::schedules), [`url_groups`](Client::url_groups) and
/// [`signing_keys`](Client::signing_keys). Publishing is on the client itself.
///
/// ```no_run
/// use qstash_sdk::{Client, Destination, PublishRequest};
///
/// # async fn run() -> Result<(), qstash_sdk::Error> {
/// let client = Client::from_env()?;
/// let request = PublishRequest::new(Destination::url("https://example.com/jobs")).body("hello");
/// let published = client.publish(request).await?;
/// println!("{:?}", published.message_ids());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    base_url: String,
    authorization: HeaderValue,
    transport: Transport,
    retry_policy: RetryPolicy,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("token", &"<redacted>")
            .field("retry_policy", &self.inner.retry_policy)
            .finish_non_exhaustive()
    }
}

/// Settings for a [`Client`]; finish with [`build`](ClientBuilder::build).
///
/// ```
/// use std::time::Duration;
/// use qstash_sdk::{Client, RetryPolicy};
///
/// let client = Client::builder()
///     .base_url("http://localhost:8080")
///     .token("my-token")
///     .timeout(Duration::from_secs(10))
///     .retry_policy(RetryPolicy::none())
///     .build()?;
/// # Ok::<(), qstash_sdk::Error>(())
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct ClientBuilder {
    base_url: Option<String>,
    token: Option<String>,
    timeout: Option<Duration>,
    retry_policy: RetryPolicy,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let token = self.token.as_ref().map(|_| "<redacted>");
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("token", &token)
            .field("timeout", &self.timeout)
            .field("retry_policy", &self.retry_policy)
            .finish()
    }
}

impl ClientBuilder {
    /// An empty builder: default base URL, no token, default timeout and retries.
    ///
    /// ```
    /// let builder = qstash_sdk::ClientBuilder::new().token("my-token");
    /// ```
    pub fn new() -> Self {
        ClientBuilder::default()
    }

    /// A builder filled from `QSTASH_URL` and `QSTASH_TOKEN`.
    ///
    /// A missing or empty `QSTASH_URL` leaves the default base URL. Settings
    /// made afterwards override the environment.
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// let client = qstash_sdk::ClientBuilder::from_env()
    ///     .timeout(Duration::from_secs(5))
    ///     .build()?;
    /// # Ok::<(), qstash_sdk::Error>(())
    /// ```
    pub fn from_env() -> Self {
        ClientBuilder::from_vars(|name| std::env::var(name).ok())
    }

    /// Fills the builder through `read`, so that tests need not touch the
    /// process environment.
    fn from_vars(read: impl Fn(&str) -> Option<String>) -> Self {
        let read = |name: &str| read(name).filter(|value| !value.is_empty());
        ClientBuilder {
            base_url: read("QSTASH_URL"),
            token: read("QSTASH_TOKEN"),
            ..ClientBuilder::default()
        }
    }

    /// The QStash base URL, such as `https://qstash-us-east-1.upstash.io` or a
    /// local mock's address. Defaults to [`DEFAULT_BASE_URL`].
    ///
    /// ```
    /// let builder = qstash_sdk::Client::builder().base_url("http://127.0.0.1:8080");
    /// ```
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// The QStash token, sent as `Authorization: Bearer <token>`.
    ///
    /// ```
    /// let builder = qstash_sdk::Client::builder().token("my-token");
    /// ```
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// How long one attempt of a call may take, answer body included.
    /// Defaults to 30 seconds.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let builder = qstash_sdk::Client::builder().timeout(Duration::from_secs(5));
    /// ```
    pub fn timeout(mut self, timeout: impl Into<Duration>) -> Self {
        self.timeout = Some(timeout.into());
        self
    }

    /// How failed calls are retried; see [`RetryPolicy`].
    ///
    /// ```
    /// let builder = qstash_sdk::Client::builder().retry_policy(qstash_sdk::RetryPolicy::none());
    /// ```
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = policy;
        self
    }

    /// Checks the settings and builds the client.
    ///
    /// # Errors
    ///
    /// A configuration error ([`Error::is_config`]) when no token was given,
    /// the token cannot be a header value, or the base URL is not an absolute
    /// `http` or `https` URL.
    ///
    /// ```
    /// let client = qstash_sdk::Client::builder().token("my-token").build()?;
    /// # Ok::<(), qstash_sdk::Error>(())
    /// ```
    pub fn build(self) -> Result<Client> {
        let base_url = parse_base_url(self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL))?;
        let token = self
            .token
            .filter(|token| !token.is_empty())
            .ok_or_else(|| Error::config("no token given (set QSTASH_TOKEN or call token())"))?;
        let mut authorization = HeaderValue::try_from(format!("Bearer {token}"))
            .map_err(|_| Error::config("the token contains characters not allowed in a header"))?;
        authorization.set_sensitive(true);
        let transport = Transport::new(self.timeout.unwrap_or(DEFAULT_TIMEOUT))?;

        let inner = ClientInner {
            base_url,
            authorization,
            transport,
            retry_policy: self.retry_policy,
        };
        Ok(Client {
            inner: Arc::new(inner),
        })
    }
}

fn parse_base_url(raw: &str) -> Result<String> {
    let trimmed = raw.trim().trim_end_matches('/');
    let uri: Uri = trimmed
        .parse()
        .map_err(|_| Error::config(format!("base url {trimmed:?} is not a valid URL")))?;

    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    if !scheme_ok || uri.authority().is_none() {
        return Err(Error::config(format!(
            "base url {trimmed:?} must be an absolute http or https URL"
        )));
    }
    Ok(trimmed.to_owned())
}

impl Client {
    /// Starts a [`ClientBuilder`].
    ///
    /// ```
    /// let client = qstash_sdk::Client::builder().token("my-token").build()?;
    /// # Ok::<(), qstash_sdk::Error>(())
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// Builds a client from `QSTASH_URL` (optional) and `QSTASH_TOKEN`.
    ///
    /// # Errors
    ///
    /// A configuration error when `QSTASH_TOKEN` is missing or either value
    /// is malformed.
    ///
    /// ```no_run
    /// let client = qstash_sdk::Client::from_env()?;
    /// # Ok::<(), qstash_sdk::Error>(())
    /// ```
    pub fn from_env() -> Result<Client> {
        ClientBuilder::from_env().build()
    }

    /// The base URL calls go to, without a trailing slash.
    ///
    /// ```
    /// let client = qstash_sdk::Client::builder().token("t").build()?;
    /// assert_eq!(client.base_url(), "https://qstash.upstash.io");
    /// # Ok::<(), qstash_sdk::Error>(())
    /// ```
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Sends a call, retrying as the policy says, and returns a 2xx answer.
    pub(crate) async fn execute(&self, call: ApiCall) -> Result<RawResponse> {
        let mut retry = 0;
        loop {
            let outcome = self.attempt(&call).await;
            let (error, headers) = match outcome {
                Ok(response) => return Ok(response),
                Err(failed) => failed,
            };

            let failure = classify(&error, &headers);
            let now = OffsetDateTime::now_utc();
            let Some(wait) = self
                .inner
                .retry_policy
                .delay_before_retry(retry, &failure, now)
            else {
                return Err(error);
            };

            tracing::debug!(
                target: "qstash_sdk::http",
                path = call.path_for_logs(),
                retry = retry + 1,
                wait_ms = wait.as_millis() as u64,
                cause = %error,
                "retrying call to qstash"
            );
            tokio::time::sleep(wait).await;
            retry += 1;
        }
    }

    /// Sends a call and decodes the JSON answer.
    pub(crate) async fn execute_json<T: DeserializeOwned>(&self, call: ApiCall) -> Result<T> {
        let response = self.execute(call).await?;
        decode_json(&response)
    }

    /// One attempt; on failure also returns the answer's headers for the
    /// retry decision.
    async fn attempt(
        &self,
        call: &ApiCall,
    ) -> std::result::Result<RawResponse, (Error, HeaderMap)> {
        let request = self
            .http_request(call)
            .map_err(|err| (err, HeaderMap::new()))?;
        tracing::debug!(
            target: "qstash_sdk::http",
            method = %call.method,
            path = call.path_for_logs(),
            "calling qstash"
        );

        let response = match self.inner.transport.send(request).await {
            Ok(response) => response,
            Err(err) => return Err((err, HeaderMap::new())),
        };
        tracing::debug!(
            target: "qstash_sdk::http",
            status = response.status.as_u16(),
            path = call.path_for_logs(),
            "qstash answered"
        );

        match response.status.is_success() {
            true => Ok(response),
            false => {
                let error = error_from_response(&response);
                Err((error, response.headers))
            }
        }
    }

    fn http_request(&self, call: &ApiCall) -> Result<Request<Full<Bytes>>> {
        let mut target = format!("{}{}", self.inner.base_url, call.path);
        if !call.query.is_empty() {
            target.push('?');
            target.push_str(&call.query.encode());
        }
        let uri: Uri = target
            .parse()
            .map_err(|_| Error::invalid_input("the request does not form a valid URL"))?;

        let mut request = Request::new(Full::new(call.body.clone()));
        *request.method_mut() = call.method.clone();
        *request.uri_mut() = uri;
        *request.headers_mut() = call.headers.clone();
        let headers = request.headers_mut();
        headers.insert(AUTHORIZATION, self.inner.authorization.clone());
        headers.insert(USER_AGENT, HeaderValue::from_static(SDK_USER_AGENT));
        Ok(request)
    }
}

/// Decides whether a failed attempt may be retried.
fn classify<'a>(error: &'a Error, headers: &'a HeaderMap) -> Failure<'a> {
    if error.is_rate_limited() {
        return Failure::RateLimited(error, headers);
    }
    let server_error = error
        .status()
        .is_some_and(|status| status.is_server_error());
    match server_error || error.is_transport() {
        true => Failure::Retryable,
        false => Failure::Final,
    }
}

/// The `{"error": "..."}` body QStash sends with error statuses.
#[derive(Deserialize)]
struct ErrorBody {
    error: String,
}

fn error_from_response(response: &RawResponse) -> Error {
    let message = match serde_json::from_slice::<ErrorBody>(&response.body) {
        Ok(body) => body.error,
        Err(_) => String::from_utf8_lossy(&response.body).trim().to_owned(),
    };

    match response.status {
        StatusCode::TOO_MANY_REQUESTS => {
            Error::rate_limited(RateLimit::from_headers(&response.headers), message)
        }
        status => Error::api(status, message),
    }
}

pub(crate) fn decode_json<T: DeserializeOwned>(response: &RawResponse) -> Result<T> {
    serde_json::from_slice(&response.body).map_err(|err| Error::decode(response.status, err))
}

/// One call to the QStash API, before the base URL and token are added.
#[derive(Debug, Clone)]
pub(crate) struct ApiCall {
    method: Method,
    path: String,
    query: Query,
    headers: HeaderMap,
    body: Bytes,
}

impl ApiCall {
    pub(crate) fn new(method: Method, path: impl Into<String>) -> Self {
        ApiCall {
            method,
            path: path.into(),
            query: Query::new(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    pub(crate) fn get(path: impl Into<String>) -> Self {
        ApiCall::new(Method::GET, path)
    }

    pub(crate) fn post(path: impl Into<String>) -> Self {
        ApiCall::new(Method::POST, path)
    }

    pub(crate) fn delete(path: impl Into<String>) -> Self {
        ApiCall::new(Method::DELETE, path)
    }

    pub(crate) fn query(mut self, query: Query) -> Self {
        self.query = query;
        self
    }

    pub(crate) fn headers(mut self, headers: HeaderMap) -> Self {
        self.headers.extend(headers);
        self
    }

    pub(crate) fn body(mut self, content_type: Option<HeaderValue>, body: Bytes) -> Self {
        if let Some(content_type) = content_type {
            self.headers.insert(CONTENT_TYPE, content_type);
        }
        self.body = body;
        self
    }

    pub(crate) fn json(self, value: &impl Serialize) -> Result<Self> {
        let body = serde_json::to_vec(value)
            .map_err(|err| Error::invalid_input(format!("cannot serialize the body: {err}")))?;
        let content_type = HeaderValue::from_static("application/json");
        Ok(self.body(Some(content_type), Bytes::from(body)))
    }

    /// The path without any query string a destination URL may carry, which
    /// could hold secrets.
    fn path_for_logs(&self) -> &str {
        self.path.split('?').next().unwrap_or_default()
    }
}

/// Builds a header name from user input, as an invalid-input error.
pub(crate) fn header_name(name: &str) -> Result<HeaderName> {
    HeaderName::try_from(name)
        .map_err(|_| Error::invalid_input(format!("{name:?} is not a valid header name")))
}

/// Builds a header value from user input, as an invalid-input error.
pub(crate) fn header_value(name: &str, value: &str) -> Result<HeaderValue> {
    HeaderValue::try_from(value).map_err(|_| {
        Error::invalid_input(format!(
            "the value for {name:?} is not a valid header value"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_and_connection_errors_are_retryable_and_others_are_not() {
        let headers = HeaderMap::new();
        let unavailable = Error::api(StatusCode::SERVICE_UNAVAILABLE, String::new());
        let refused = Error::transport("connection refused");
        let bad_request = Error::api(StatusCode::BAD_REQUEST, String::new());
        let timeout = Error::timeout(Duration::from_secs(1));

        let retryable = |error: &Error| matches!(classify(error, &headers), Failure::Retryable);

        assert!(retryable(&unavailable));
        assert!(retryable(&refused));
        assert!(!retryable(&bad_request));
        assert!(!retryable(&timeout));
    }

    #[test]
    fn the_base_url_loses_its_trailing_slash() {
        let base = parse_base_url("http://localhost:8080/").unwrap();

        assert_eq!(base, "http://localhost:8080");
    }

    #[test]
    fn a_base_url_without_a_scheme_is_refused() {
        let err = parse_base_url("qstash.upstash.io").unwrap_err();

        assert!(err.is_config());
    }

    #[test]
    fn a_client_needs_a_token() {
        let err = Client::builder().build().unwrap_err();

        assert!(err.is_config());
    }

    #[test]
    fn the_environment_gives_the_base_url_and_token() {
        let vars = |name: &str| match name {
            "QSTASH_URL" => Some("http://127.0.0.1:8080/".to_owned()),
            "QSTASH_TOKEN" => Some("env-token".to_owned()),
            _ => None,
        };

        let client = ClientBuilder::from_vars(vars).build().unwrap();

        assert_eq!(client.base_url(), "http://127.0.0.1:8080");
        let authorization = client.inner.authorization.to_str().unwrap();
        assert_eq!(authorization, "Bearer env-token");
    }

    #[test]
    fn an_empty_qstash_url_leaves_the_default_base_url() {
        let vars = |name: &str| match name {
            "QSTASH_URL" => Some(String::new()),
            "QSTASH_TOKEN" => Some("env-token".to_owned()),
            _ => None,
        };

        let client = ClientBuilder::from_vars(vars).build().unwrap();

        assert_eq!(client.base_url(), DEFAULT_BASE_URL);
    }

    #[test]
    fn a_missing_qstash_token_is_a_configuration_error() {
        let err = ClientBuilder::from_vars(|_| None).build().unwrap_err();

        assert!(err.is_config());
    }

    #[test]
    fn debug_output_of_the_client_and_builder_hides_the_token() {
        let builder = Client::builder().token("super-secret-token");
        let client = builder.clone().build().unwrap();

        let output = format!("{builder:?} {client:?}");

        assert!(!output.contains("super-secret-token"), "{output}");
    }
}
