//! Delivery over real HTTP: the client that performs the attempts the engine decides on.
//!
//! The engine hands over an [`OutgoingRequest`] and gets back an [`AttemptOutcome`];
//! everything about sockets, TLS, pooling and timeouts stays in here.
//!
//! - `config`: [`DeliveryConfig`] and [`HostMapping`].
//! - `request`: building the wire request, host mapping included.
//! - `tls`: the trusted roots and the crypto provider.
//! - `failure`: short reasons for attempts that got no response.
//! - `error`: [`DeliveryError`], for setup that cannot work.

mod config;
mod error;
mod failure;
mod request;
mod tls;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

pub use config::{DeliveryConfig, HostMapping};
pub use error::DeliveryError;

use crate::engine::{AttemptOutcome, CapturedResponse, OutgoingRequest};

/// How long an idle keep-alive connection stays in the pool.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How many idle connections are kept per destination.
const POOL_MAX_IDLE_PER_HOST: usize = 32;

type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Performs delivery attempts over real HTTP/1.1 connections.
///
/// Connections are pooled and kept alive between attempts. `https` URLs are checked
/// against the web PKI roots plus any extra roots from the [`DeliveryConfig`]. Redirects
/// are not followed: a 3xx is an ordinary response. Cloning is cheap and clones share
/// the pool.
///
/// ```no_run
/// use std::time::Duration;
/// use qstash_mock::delivery::{Deliverer, DeliveryConfig};
/// use qstash_mock::engine::{AttemptOutcome, OutgoingRequest};
///
/// # async fn run() -> Result<(), qstash_mock::delivery::DeliveryError> {
/// let deliverer = Deliverer::new(DeliveryConfig::default())?;
/// let outcome = deliverer
///     .send(OutgoingRequest {
///         url: "https://example.com/hook".to_owned(),
///         method: http::Method::POST,
///         headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
///         body: bytes::Bytes::from_static(b"{}"),
///         timeout: Duration::from_secs(30),
///     })
///     .await;
/// if let AttemptOutcome::Response(response) = outcome {
///     println!("status {}", response.status);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Deliverer {
    client: HttpClient,
    map_hosts: Arc<[HostMapping]>,
    max_response_body_bytes: usize,
}

impl fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deliverer")
            .field("map_hosts", &self.map_hosts)
            .field("max_response_body_bytes", &self.max_response_body_bytes)
            .finish_non_exhaustive()
    }
}

impl Deliverer {
    /// Builds a deliverer from `config`.
    ///
    /// TLS uses rustls with the ring provider, passed explicitly rather than taken from
    /// a process-wide default. No connection is opened until the first attempt.
    ///
    /// # Errors
    ///
    /// A [`DeliveryError`] naming the entry and the problem when an entry of
    /// `extra_root_certs_pem` is not PEM, holds no certificate, or holds a certificate
    /// that cannot be a trust anchor.
    pub fn new(config: DeliveryConfig) -> Result<Self, DeliveryError> {
        let tls = tls::client_config(&config.extra_root_certs_pem)?;

        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);

        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .pool_max_idle_per_host(POOL_MAX_IDLE_PER_HOST)
            .build(connector);

        Ok(Self {
            client,
            map_hosts: config.map_hosts.into(),
            max_response_body_bytes: config.max_response_body_bytes,
        })
    }

    /// Performs one attempt and reports what happened.
    ///
    /// `request.timeout` bounds the whole attempt: connecting, the response head and the
    /// body. Past it the outcome is [`AttemptOutcome::Timeout`]. When no response
    /// arrives (refused, DNS or TLS failure, connection closed early, or a header that
    /// is not valid HTTP) the outcome is [`AttemptOutcome::ConnectionError`] with a short
    /// reason. Any response, whatever its status, is [`AttemptOutcome::Response`], with
    /// header names lower-cased and the body cut to `max_response_body_bytes`. Headers
    /// come in received order, except that a repeated name has all its values at its
    /// first position (hyper keeps headers in a map). Values that are not UTF-8 are
    /// captured lossily.
    ///
    /// Every attempt is logged at debug level with the URL minus its query string, the
    /// method, the outcome and the elapsed time; header values are never logged.
    pub async fn send(&self, request: OutgoingRequest) -> AttemptOutcome {
        let started = wall_clock_now();

        let outcome = match request::build(&request, &self.map_hosts) {
            Ok(wire) => self.perform_within(request.timeout, wire).await,
            Err(reason) => AttemptOutcome::ConnectionError { reason },
        };

        log_attempt(&request, &outcome, started.elapsed());
        outcome
    }

    /// Sends `wire` and reads the response, giving up after `timeout`.
    async fn perform_within(
        &self,
        timeout: Duration,
        wire: request::WireRequest,
    ) -> AttemptOutcome {
        // Dropping the in-flight future on timeout also drops its connection, so a slow
        // destination never returns a half-used connection to the pool.
        tokio::time::timeout(timeout, self.perform(wire))
            .await
            .unwrap_or(AttemptOutcome::Timeout)
    }

    /// Sends `wire` and reads the response, without a time limit.
    async fn perform(&self, wire: request::WireRequest) -> AttemptOutcome {
        let response = match self.client.request(wire).await {
            Ok(response) => response,
            Err(error) => {
                let reason = failure::describe_request_error(&error);
                return AttemptOutcome::ConnectionError { reason };
            }
        };

        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect();

        match read_limited(response.into_body(), self.max_response_body_bytes).await {
            Ok(body) => AttemptOutcome::Response(CapturedResponse {
                status,
                headers,
                body,
            }),
            Err(error) => AttemptOutcome::ConnectionError {
                reason: failure::describe_body_error(&error),
            },
        }
    }
}

/// The wall-clock instant, for measuring how long an attempt took on the network.
///
/// Attempts happen in real time (their timeouts are real too), so the mock's virtual
/// clock has no say here; this is the one wall-clock read in delivery.
#[allow(clippy::disallowed_methods)] // reason: network time is wall time, not mock time
fn wall_clock_now() -> Instant {
    Instant::now()
}

/// Reads at most `limit` bytes of `body`, then stops.
///
/// The rest is never read: dropping the body closes the connection instead of draining
/// an unbounded stream into the pool.
async fn read_limited(mut body: Incoming, limit: usize) -> Result<Bytes, hyper::Error> {
    let mut kept = BytesMut::new();
    while kept.len() < limit {
        let Some(frame) = body.frame().await else {
            break;
        };
        let Ok(data) = frame?.into_data() else {
            // Trailers carry no body bytes.
            continue;
        };
        let room = limit - kept.len();
        kept.extend_from_slice(&data[..data.len().min(room)]);
    }
    Ok(kept.freeze())
}

/// Logs one finished attempt at debug level, without query string or header values.
fn log_attempt(request: &OutgoingRequest, outcome: &AttemptOutcome, elapsed: Duration) {
    let url = request::url_for_log(&request.url);
    let method = request.method.as_str();
    let elapsed_ms = elapsed.as_millis();
    match outcome {
        AttemptOutcome::Response(response) => {
            tracing::debug!(
                url,
                method,
                status = response.status,
                elapsed_ms,
                "delivery response"
            );
        }
        AttemptOutcome::Timeout => {
            tracing::debug!(url, method, elapsed_ms, "delivery timed out");
        }
        AttemptOutcome::ConnectionError { reason } => {
            tracing::debug!(url, method, reason, elapsed_ms, "delivery connection error");
        }
    }
}
