//! Measurement 1: publish throughput and latency, the mock beside a bare server.

use super::bare::{BareServer, PUBLISH_LIKE_BODY};
use super::load::{self, Load, LoadFigures, RequestTemplate};
use super::{Sides, START_MS};
use bytes::Bytes;
use hyper::StatusCode;
use qstash_mock::MockServer;
use serde::{Deserialize, Serialize};

/// The body every publish carries.
const PUBLISH_BODY: &str = r#"{"order":4711,"customer":"c_0001","total":"129.90"}"#;

/// Publish load on the mock and the same load on the bare server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PublishFigures {
    /// Open keep-alive connections.
    pub(crate) connections: usize,
    /// The mock, clock frozen, first attempts a day away.
    pub(crate) mock: LoadFigures,
    /// The bare server answering a fixed JSON body; absent when only the mock ran.
    pub(crate) bare: Option<LoadFigures>,
}

/// Sends `load` to a fresh mock and then to a bare server, after `warmup` requests to
/// each that are not counted.
///
/// # Errors
/// When a server cannot start or a publish is not answered with 200.
pub(crate) async fn measure(
    load: Load,
    warmup: u64,
    sides: Sides,
) -> anyhow::Result<PublishFigures> {
    let mock = MockServer::builder()
        .seed(1)
        .start_at_ms(START_MS)
        .start()
        .await?;
    let template = publish_template(mock.token(), "http://127.0.0.1:9/hook", "1d", PUBLISH_BODY);
    let warmup_load = Load {
        requests: warmup,
        ..load
    };

    load::run(mock.address(), &template, warmup_load).await?;
    let mock_figures = load::run(mock.address(), &template, load).await?;
    drop(mock);

    let bare_figures = match sides {
        Sides::MockOnly => None,
        Sides::Both => {
            let bare = BareServer::start_local(StatusCode::OK, PUBLISH_LIKE_BODY).await?;
            load::run(bare.address(), &template, warmup_load).await?;
            Some(load::run(bare.address(), &template, load).await?)
        }
    };

    Ok(PublishFigures {
        connections: load.connections,
        mock: mock_figures,
        bare: bare_figures,
    })
}

/// A publish of `body` to `destination` whose first attempt waits `delay`.
pub(crate) fn publish_template(
    token: &str,
    destination: &str,
    delay: &str,
    body: impl Into<Bytes>,
) -> RequestTemplate {
    RequestTemplate {
        method: http::Method::POST,
        path: format!("/v2/publish/{destination}"),
        headers: vec![
            ("authorization", format!("Bearer {token}")),
            ("content-type", "application/json".to_owned()),
            ("upstash-delay", delay.to_owned()),
        ],
        body: body.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_tiny_publish_run_gives_positive_figures_for_both_servers() {
        let load = Load {
            connections: 4,
            requests: 100,
            time_limit: Duration::from_secs(60),
        };

        let figures = measure(load, 10, Sides::Both).await.unwrap();

        let bare = figures.bare.unwrap();
        assert_eq!((figures.mock.requests, bare.requests), (100, 100));
        for rate in [figures.mock.per_second, bare.per_second] {
            assert!(rate.is_finite() && rate > 0.0);
        }
        assert!(figures.mock.p99_us >= figures.mock.p50_us);
    }
}
