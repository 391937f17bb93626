//! The HTTP connection to QStash: hyper 1 over rustls, with a per-call timeout.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;

use crate::error::{Error, Result};

/// How long opening a TCP connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A whole answer from QStash, body included.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// Sends requests over http or https and reads the whole answer.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    client: HyperClient<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl Transport {
    /// Builds a transport that trusts the Mozilla root certificates.
    pub(crate) fn new(timeout: Duration) -> Result<Self> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));

        // The provider is passed explicitly so that no process-wide rustls
        // default has to be installed by the application.
        let provider = rustls::crypto::ring::default_provider();
        let https = HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(provider)
            .map_err(|err| Error::config(format!("cannot set up tls: {err}")))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = HyperClient::builder(TokioExecutor::new()).build(https);

        Ok(Transport { client, timeout })
    }

    /// Sends one request and reads the answer, within the timeout.
    pub(crate) async fn send(&self, request: Request<Full<Bytes>>) -> Result<RawResponse> {
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(Error::transport)?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await.map_err(Error::transport)?.to_bytes();

            Ok(RawResponse {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        };

        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            Err(_elapsed) => Err(Error::timeout(self.timeout)),
        }
    }
}
