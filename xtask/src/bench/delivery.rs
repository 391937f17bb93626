//! Measurement 2: delivery throughput, the mock's deliveries beside a plain hyper client
//! sending the same requests to the same sink with the same concurrency.

use super::bare::BareServer;
use super::load::{self, Load};
use super::publish::publish_template;
use super::{Sides, START_MS};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::{Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use qstash_mock::MockServer;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Connections used to publish the messages before the timed part.
const PUBLISH_CONNECTIONS: usize = 16;

/// How many requests per second a side completed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct Throughput {
    /// Requests completed.
    pub(crate) count: u64,
    /// Wall time, seconds.
    pub(crate) seconds: f64,
    /// Requests per second.
    pub(crate) per_second: f64,
}

impl Throughput {
    fn new(count: u64, elapsed: Duration) -> Throughput {
        let seconds = elapsed.as_secs_f64();
        Throughput {
            count,
            seconds,
            per_second: count as f64 / seconds,
        }
    }
}

/// The mock delivering `messages` due at one instant, and the plain client.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DeliveryFigures {
    /// Messages delivered by each side.
    pub(crate) messages: u64,
    /// Requests in flight at once, on both sides.
    pub(crate) concurrency: usize,
    /// The mock: one advance over the instant all messages are due.
    pub(crate) mock: Throughput,
    /// A hyper client with the same pool; absent when only the mock ran.
    pub(crate) plain: Option<Throughput>,
}

/// Delivers `messages` bodies of `body_bytes` through a fresh mock and, unless
/// `sides` says otherwise, through a plain client, to the same local sink.
///
/// # Errors
/// When a server cannot start, a request fails, or not every message was delivered.
pub(crate) async fn measure(
    messages: u64,
    concurrency: usize,
    body_bytes: usize,
    sides: Sides,
) -> anyhow::Result<DeliveryFigures> {
    let sink = BareServer::start_local(StatusCode::OK, "ok").await?;
    let body = Bytes::from(vec![b'x'; body_bytes]);
    let warmup = (messages / 10).clamp(1, 1_000);

    let plain = match sides {
        Sides::MockOnly => None,
        Sides::Both => {
            plain_client(sink.address(), warmup, concurrency, &body).await?;
            Some(plain_client(sink.address(), messages, concurrency, &body).await?)
        }
    };

    let mock = MockServer::builder()
        .seed(1)
        .start_at_ms(START_MS)
        .concurrency(concurrency)
        .start()
        .await?;
    let destination = format!("http://{}/hook", sink.address());
    mock_round(&mock, &destination, warmup, &body).await?;
    let delivered = mock_round(&mock, &destination, messages, &body).await?;

    Ok(DeliveryFigures {
        messages,
        concurrency,
        mock: delivered,
        plain,
    })
}

/// Publishes `messages` due one second later, then times the advance that delivers them.
async fn mock_round(
    mock: &MockServer,
    destination: &str,
    messages: u64,
    body: &Bytes,
) -> anyhow::Result<Throughput> {
    let template = publish_template(mock.token(), destination, "1s", body.clone());
    let load = Load {
        connections: PUBLISH_CONNECTIONS,
        requests: messages,
        time_limit: Duration::from_secs(600),
    };
    load::run(mock.address(), &template, load).await?;

    let started = Instant::now();
    let report = mock.advance(Duration::from_secs(1)).await;
    let elapsed = started.elapsed();

    let succeeded = report.count("attemptSucceeded") as u64;
    anyhow::ensure!(
        succeeded == messages,
        "the mock delivered {succeeded} of {messages} messages"
    );
    Ok(Throughput::new(messages, elapsed))
}

/// Sends `messages` POSTs shaped like the mock's deliveries, `concurrency` at a time.
async fn plain_client(
    sink: SocketAddr,
    messages: u64,
    concurrency: usize,
    body: &Bytes,
) -> anyhow::Result<Throughput> {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(concurrency)
        .build_http();
    let url: http::Uri = format!("http://{sink}/hook").parse()?;
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();

    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (client, url, body, issued) = (
            client.clone(),
            url.clone(),
            body.clone(),
            Arc::clone(&issued),
        );
        workers.spawn(async move {
            while issued.fetch_add(1, Ordering::Relaxed) < messages {
                let response = client.request(delivery_like(&url, &body)?).await?;
                let status = response.status();
                response.into_body().collect().await?;
                anyhow::ensure!(status.is_success(), "the sink answered {status}");
            }
            anyhow::Ok(())
        });
    }
    while let Some(joined) = workers.join_next().await {
        joined??;
    }

    Ok(Throughput::new(messages, started.elapsed()))
}

/// A request with the header names and sizes of a delivery, without computing a
/// signature (the mock's signing is part of what is measured).
fn delivery_like(url: &http::Uri, body: &Bytes) -> anyhow::Result<Request<Full<Bytes>>> {
    Ok(Request::post(url.clone())
        .header(
            "upstash-message-id",
            "msg_26hZCxZCuWyyTWPmSVBrNCtiJGNsULmsRMdW3V",
        )
        .header("upstash-retried", "0")
        .header("user-agent", "Upstash-QStash")
        .header("upstash-signature", "x".repeat(380))
        .header("upstash-caller-ip", "127.0.0.1")
        .header("content-type", "application/json")
        .body(Full::new(body.clone()))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_tiny_delivery_run_delivers_every_message_on_both_sides() {
        let figures = measure(100, 8, 1024, Sides::Both).await.unwrap();

        let plain = figures.plain.unwrap();
        assert_eq!((figures.mock.count, plain.count), (100, 100));
        for rate in [figures.mock.per_second, plain.per_second] {
            assert!(rate.is_finite() && rate > 0.0);
        }
    }
}
