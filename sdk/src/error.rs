//! The one error type of the client, and the rate-limit facts it carries.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use http::{HeaderMap, StatusCode};
use time::OffsetDateTime;

/// A `Result` whose error is this crate's [`Error`].
///
/// ```
/// fn build() -> qstash_sdk::Result<qstash_sdk::Client> {
///     qstash_sdk::Client::builder().token("token").build()
/// }
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

type BoxError = Box<dyn StdError + Send + Sync>;

/// Everything that can go wrong when calling QStash.
///
/// The error is opaque: ask it what happened with the `is_*()` predicates and
/// read the details with the accessors. It never holds the token, so its
/// `Display` and `Debug` output are safe to log.
///
/// ```no_run
/// # async fn run() -> Result<(), qstash_sdk::Error> {
/// let client = qstash_sdk::Client::from_env()?;
/// match client.dlq().get("1725323658779-0").await {
///     Ok(entry) => println!("{}", entry.message.message_id),
///     Err(err) if err.status() == Some(http::StatusCode::NOT_FOUND) => {
///         println!("already gone")
///     }
///     Err(err) if err.is_rate_limited() => println!("slow down until {:?}", err.reset_at()),
///     Err(err) => return Err(err),
/// }
/// # Ok(())
/// # }
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: Kind,
    source: Option<BoxError>,
}

#[derive(Debug)]
enum Kind {
    Api { status: StatusCode, message: String },
    RateLimited(RateLimit),
    Timeout(Duration),
    Transport,
    Decode { status: StatusCode },
    InvalidInput(String),
    Config(String),
}

/// Which QStash limit a `429 Too Many Requests` answer reports.
///
/// ```
/// use qstash_sdk::RateLimitScope;
///
/// assert_ne!(RateLimitScope::Burst, RateLimitScope::Daily);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RateLimitScope {
    /// The per-second limit on management calls (`Burst-RateLimit-*` headers).
    Burst,
    /// The daily message quota (`RateLimit-*` headers).
    Daily,
}

/// The facts QStash sent with a `429 Too Many Requests` answer.
///
/// The two kinds of limit are told apart by the presence of the
/// `RateLimit-Limit` header: it is sent only for the daily quota.
///
/// ```no_run
/// # async fn run(client: qstash_sdk::Client) {
/// if let Err(err) = client.queues().list().await {
///     if let Some(limit) = err.rate_limit() {
///         println!("{:?} limit, resets at {:?}", limit.scope, limit.reset);
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// Which limit was hit.
    pub scope: RateLimitScope,
    /// The size of the limit, when QStash sent it.
    pub limit: Option<u64>,
    /// How many calls remain, when QStash sent it.
    pub remaining: Option<u64>,
    /// When the limit resets, when QStash sent it.
    pub reset: Option<OffsetDateTime>,
}

impl RateLimit {
    /// Reads the rate-limit headers of a `429` answer.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        let daily = headers.contains_key("ratelimit-limit");
        let (scope, prefix) = match daily {
            true => (RateLimitScope::Daily, "ratelimit-"),
            false => (RateLimitScope::Burst, "burst-ratelimit-"),
        };
        let number = |name: &str| {
            headers
                .get(format!("{prefix}{name}"))
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse::<u64>().ok())
        };
        let reset = number("reset")
            .and_then(|secs| i64::try_from(secs).ok())
            .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok());

        RateLimit {
            scope,
            limit: number("limit"),
            remaining: number("remaining"),
            reset,
        }
    }
}

impl Error {
    fn new(kind: Kind, source: Option<BoxError>) -> Self {
        Error {
            inner: Box::new(Inner { kind, source }),
        }
    }

    pub(crate) fn api(status: StatusCode, message: String) -> Self {
        Error::new(Kind::Api { status, message }, None)
    }

    pub(crate) fn rate_limited(limit: RateLimit, message: String) -> Self {
        let source = (!message.is_empty()).then(|| BoxError::from(message));
        Error::new(Kind::RateLimited(limit), source)
    }

    pub(crate) fn timeout(after: Duration) -> Self {
        Error::new(Kind::Timeout(after), None)
    }

    pub(crate) fn transport(source: impl Into<BoxError>) -> Self {
        Error::new(Kind::Transport, Some(source.into()))
    }

    pub(crate) fn decode(status: StatusCode, source: impl Into<BoxError>) -> Self {
        Error::new(Kind::Decode { status }, Some(source.into()))
    }

    pub(crate) fn invalid_input(message: impl Into<String>) -> Self {
        Error::new(Kind::InvalidInput(message.into()), None)
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::new(Kind::Config(message.into()), None)
    }

    /// True when QStash answered with an error status other than `429`.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) {
    /// let err = client.messages().get("msg_unknown").await.unwrap_err();
    /// assert!(err.is_api());
    /// # }
    /// ```
    pub fn is_api(&self) -> bool {
        matches!(self.inner.kind, Kind::Api { .. })
    }

    /// True when QStash refused the call with `429 Too Many Requests`.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) {
    /// if let Err(err) = client.logs().list().send().await {
    ///     if err.is_rate_limited() {
    ///         println!("try again at {:?}", err.reset_at());
    ///     }
    /// }
    /// # }
    /// ```
    pub fn is_rate_limited(&self) -> bool {
        matches!(self.inner.kind, Kind::RateLimited(_))
    }

    /// True when the per-second burst limit was hit.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) {
    /// let err = client.queues().list().await.unwrap_err();
    /// assert!(err.is_burst_rate_limited());
    /// # }
    /// ```
    pub fn is_burst_rate_limited(&self) -> bool {
        self.rate_limit()
            .is_some_and(|limit| limit.scope == RateLimitScope::Burst)
    }

    /// True when the daily message quota is used up.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) {
    /// let request = qstash_sdk::PublishRequest::new(qstash_sdk::Destination::url("https://example.com"));
    /// let err = client.publish(request).await.unwrap_err();
    /// assert!(err.is_daily_rate_limited());
    /// # }
    /// ```
    pub fn is_daily_rate_limited(&self) -> bool {
        self.rate_limit()
            .is_some_and(|limit| limit.scope == RateLimitScope::Daily)
    }

    /// True when a call to QStash took longer than the client's timeout.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) {
    /// let err = client.signing_keys().get().await.unwrap_err();
    /// assert!(err.is_timeout());
    /// # }
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self.inner.kind, Kind::Timeout(_))
    }

    /// True when QStash could not be reached or the connection broke.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) {
    /// let err = client.signing_keys().get().await.unwrap_err();
    /// assert!(err.is_transport());
    /// # }
    /// ```
    pub fn is_transport(&self) -> bool {
        matches!(self.inner.kind, Kind::Transport)
    }

    /// True when QStash answered with a body this crate could not read.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) {
    /// let err = client.signing_keys().get().await.unwrap_err();
    /// assert!(err.is_decode());
    /// # }
    /// ```
    pub fn is_decode(&self) -> bool {
        matches!(self.inner.kind, Kind::Decode { .. })
    }

    /// True when the call was refused before anything was sent.
    ///
    /// ```
    /// # async fn run() -> Result<(), qstash_sdk::Error> {
    /// let client = qstash_sdk::Client::builder().token("token").build()?;
    /// let err = client.dlq().delete_many(Vec::<String>::new()).await.unwrap_err();
    /// assert!(err.is_invalid_input());
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_invalid_input(&self) -> bool {
        matches!(self.inner.kind, Kind::InvalidInput(_))
    }

    /// True when the client could not be built from its settings.
    ///
    /// ```
    /// let err = qstash_sdk::Client::builder().build().unwrap_err();
    /// assert!(err.is_config());
    /// ```
    pub fn is_config(&self) -> bool {
        matches!(self.inner.kind, Kind::Config(_))
    }

    /// The HTTP status QStash answered with, when there was an answer.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) {
    /// let err = client.messages().get("msg_unknown").await.unwrap_err();
    /// assert_eq!(err.status(), Some(http::StatusCode::NOT_FOUND));
    /// # }
    /// ```
    pub fn status(&self) -> Option<StatusCode> {
        match &self.inner.kind {
            Kind::Api { status, .. } | Kind::Decode { status } => Some(*status),
            Kind::RateLimited(_) => Some(StatusCode::TOO_MANY_REQUESTS),
            _ => None,
        }
    }

    /// The message QStash gave with an error status (its `error` field).
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) {
    /// let err = client.messages().get("msg_unknown").await.unwrap_err();
    /// println!("qstash said: {}", err.api_message().unwrap_or_default());
    /// # }
    /// ```
    pub fn api_message(&self) -> Option<&str> {
        match &self.inner.kind {
            Kind::Api { message, .. } => Some(message),
            _ => None,
        }
    }

    /// The rate-limit facts of a `429` answer.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) {
    /// let err = client.queues().list().await.unwrap_err();
    /// let limit = err.rate_limit().expect("a 429 answer");
    /// println!("{:?} remaining", limit.remaining);
    /// # }
    /// ```
    pub fn rate_limit(&self) -> Option<&RateLimit> {
        match &self.inner.kind {
            Kind::RateLimited(limit) => Some(limit),
            _ => None,
        }
    }

    /// When the rate limit that refused the call resets.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) {
    /// let err = client.queues().list().await.unwrap_err();
    /// println!("resets at {:?}", err.reset_at());
    /// # }
    /// ```
    pub fn reset_at(&self) -> Option<OffsetDateTime> {
        self.rate_limit().and_then(|limit| limit.reset)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner.kind {
            Kind::Api { status, message } if message.is_empty() => {
                write!(f, "qstash answered {status}")
            }
            Kind::Api { status, message } => write!(f, "qstash answered {status}: {message}"),
            Kind::RateLimited(limit) => {
                let scope = match limit.scope {
                    RateLimitScope::Burst => "burst",
                    RateLimitScope::Daily => "daily",
                };
                write!(f, "qstash {scope} rate limit exceeded")?;
                match limit.reset {
                    Some(reset) => write!(f, ", resets at unix time {}", reset.unix_timestamp()),
                    None => Ok(()),
                }
            }
            Kind::Timeout(after) => write!(f, "call to qstash timed out after {after:?}"),
            Kind::Transport => f.write_str("could not reach qstash"),
            Kind::Decode { status } => {
                write!(
                    f,
                    "could not decode the answer from qstash (status {status})"
                )
            }
            Kind::InvalidInput(message) => write!(f, "invalid input: {message}"),
            Kind::Config(message) => write!(f, "invalid client configuration: {message}"),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("qstash_sdk::Error");
        debug.field("kind", &self.inner.kind);
        if let Some(source) = &self.inner.source {
            debug.field("source", source);
        }
        debug.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_ref()
            .map(|source| &**source as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}

        assert_send_sync::<Error>();
    }

    #[test]
    fn rate_limit_headers_without_ratelimit_limit_are_a_burst_limit() {
        let mut headers = HeaderMap::new();
        headers.insert("burst-ratelimit-limit", "100".parse().unwrap());
        headers.insert("burst-ratelimit-remaining", "0".parse().unwrap());
        headers.insert("burst-ratelimit-reset", "1700000000".parse().unwrap());

        let limit = RateLimit::from_headers(&headers);

        assert_eq!(limit.scope, RateLimitScope::Burst);
        assert_eq!(limit.limit, Some(100));
        assert_eq!(limit.remaining, Some(0));
        assert_eq!(limit.reset.map(|t| t.unix_timestamp()), Some(1_700_000_000));
    }

    #[test]
    fn rate_limit_headers_with_ratelimit_limit_are_the_daily_quota() {
        let mut headers = HeaderMap::new();
        headers.insert("ratelimit-limit", "1000".parse().unwrap());
        headers.insert("ratelimit-remaining", "0".parse().unwrap());
        headers.insert("ratelimit-reset", "1700086400".parse().unwrap());

        let limit = RateLimit::from_headers(&headers);

        assert_eq!(limit.scope, RateLimitScope::Daily);
        assert_eq!(limit.limit, Some(1000));
        assert_eq!(limit.reset.map(|t| t.unix_timestamp()), Some(1_700_086_400));
    }
}
