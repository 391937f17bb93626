//! The load generator: keep-alive HTTP/1.1 connections over loopback, each driven by one
//! task that sends its next request as soon as the previous answer is read.

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1;
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

/// How much load to send: a request count, bounded by a wall-time limit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Load {
    /// Open connections, one task each.
    pub(crate) connections: usize,
    /// Requests in total, over all connections.
    pub(crate) requests: u64,
    /// The run stops with an error when it takes longer than this.
    pub(crate) time_limit: Duration,
}

/// One request, sent again and again.
#[derive(Debug, Clone)]
pub(crate) struct RequestTemplate {
    /// The method.
    pub(crate) method: http::Method,
    /// Path and query.
    pub(crate) path: String,
    /// Headers besides `Host`.
    pub(crate) headers: Vec<(&'static str, String)>,
    /// The body.
    pub(crate) body: Bytes,
}

impl RequestTemplate {
    fn build(&self, address: SocketAddr) -> anyhow::Result<Request<Full<Bytes>>> {
        let mut builder = Request::builder()
            .method(self.method.clone())
            .uri(self.path.as_str())
            .header(http::header::HOST, address.to_string());
        for (name, value) in &self.headers {
            builder = builder.header(*name, value.as_str());
        }
        Ok(builder.body(Full::new(self.body.clone()))?)
    }
}

/// Throughput and latency of one load run.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct LoadFigures {
    /// Requests answered.
    pub(crate) requests: u64,
    /// Wall time from the first request to the last answer, seconds.
    pub(crate) seconds: f64,
    /// Requests per second.
    pub(crate) per_second: f64,
    /// Median latency, microseconds.
    pub(crate) p50_us: f64,
    /// 99th percentile latency, microseconds.
    pub(crate) p99_us: f64,
}

/// Sends `load` to `address`, every request built from `template`.
///
/// # Errors
/// When a connection fails, an answer is not 2xx (the first such answer is quoted), or
/// the run passes its time limit.
pub(crate) async fn run(
    address: SocketAddr,
    template: &RequestTemplate,
    load: Load,
) -> anyhow::Result<LoadFigures> {
    let issued = Arc::new(AtomicU64::new(0));
    let template = Arc::new(template.clone());
    let deadline = Instant::now() + load.time_limit;
    let started = Instant::now();

    let mut workers = JoinSet::new();
    for _ in 0..load.connections.max(1) {
        let issued = Arc::clone(&issued);
        let template = Arc::clone(&template);
        workers.spawn(
            async move { worker(address, &template, &issued, load.requests, deadline).await },
        );
    }
    let mut latencies = Vec::with_capacity(load.requests as usize);
    while let Some(joined) = workers.join_next().await {
        latencies.extend(joined??);
    }
    let seconds = started.elapsed().as_secs_f64();

    Ok(figures(latencies, seconds))
}

/// One connection's loop; returns the latency of each request in microseconds.
async fn worker(
    address: SocketAddr,
    template: &RequestTemplate,
    issued: &AtomicU64,
    total: u64,
    deadline: Instant,
) -> anyhow::Result<Vec<u64>> {
    let stream = TcpStream::connect(address).await?;
    stream.set_nodelay(true)?;
    let (mut sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);

    let mut latencies = Vec::new();
    while issued.fetch_add(1, Ordering::Relaxed) < total {
        if Instant::now() > deadline {
            anyhow::bail!("the load run passed its time limit");
        }
        let request = template.build(address)?;
        let sent = Instant::now();
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        latencies.push(sent.elapsed().as_micros() as u64);
        if !status.is_success() {
            anyhow::bail!(
                "{} {} answered {status}: {}",
                template.method,
                template.path,
                String::from_utf8_lossy(&body[..body.len().min(200)])
            );
        }
    }
    Ok(latencies)
}

fn figures(mut latencies: Vec<u64>, seconds: f64) -> LoadFigures {
    latencies.sort_unstable();
    let requests = latencies.len() as u64;
    LoadFigures {
        requests,
        seconds,
        per_second: requests as f64 / seconds,
        p50_us: percentile(&latencies, 0.50),
        p99_us: percentile(&latencies, 0.99),
    }
}

/// The nearest-rank percentile of sorted values, 0 for none.
pub(crate) fn percentile(sorted: &[u64], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (fraction * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let values: Vec<u64> = (1..=100).collect();

        let p50 = percentile(&values, 0.50);
        let p99 = percentile(&values, 0.99);

        assert_eq!((p50, p99), (50.0, 99.0));
    }

    #[test]
    fn the_percentile_of_nothing_is_zero() {
        assert_eq!(percentile(&[], 0.5), 0.0);
    }
}
