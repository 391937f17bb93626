//! Helpers shared by the mock's black-box tests: a small HTTP client and a destination
//! server that records what it receives.

#![allow(dead_code)] // reason: each test binary uses a different subset

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

/// 2030-01-01T00:00:00Z, the start of every reproducible story.
pub const START: u64 = 1_893_456_000_000;

pub const SECOND: u64 = 1_000;
pub const MINUTE: u64 = 60 * SECOND;
pub const HOUR: u64 = 60 * MINUTE;
pub const DAY: u64 = 24 * HOUR;

/// An answer from the mock: status, headers and JSON body (Null when not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub json: serde_json::Value,
}

/// A client for one mock, sending its token unless told otherwise.
#[derive(Clone)]
pub struct Api {
    base: String,
    token: Option<String>,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
}

impl Api {
    pub fn new(base: &str, token: &str) -> Self {
        Api {
            base: base.to_owned(),
            token: Some(token.to_owned()),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    pub fn without_token(&self) -> Self {
        Api {
            token: None,
            ..self.clone()
        }
    }

    pub fn with_token(&self, token: &str) -> Self {
        Api {
            token: Some(token.to_owned()),
            ..self.clone()
        }
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Answer {
        let mut request = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(body.into())).unwrap();
        let response = self.client.request(request).await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        Answer {
            status,
            headers,
            json,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send("GET", path, &[], Bytes::new()).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.send("DELETE", path, &[], Bytes::new()).await
    }

    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> Answer {
        let body = serde_json::to_vec(&body).unwrap();
        self.send("POST", path, &[("Content-Type", "application/json")], body)
            .await
    }

    /// Publishes `body` to `destination` with the given headers; returns the answer.
    pub async fn publish(&self, destination: &str, headers: &[(&str, &str)], body: &str) -> Answer {
        self.send(
            "POST",
            &format!("/v2/publish/{destination}"),
            headers,
            body.to_owned(),
        )
        .await
    }

    /// Publishes and returns the new message id, panicking on refusal.
    pub async fn publish_ok(&self, destination: &str, headers: &[(&str, &str)]) -> String {
        let answer = self.publish(destination, headers, "payload").await;
        assert_eq!(answer.status, 200, "publish refused: {}", answer.json);
        answer.json["messageId"].as_str().unwrap().to_owned()
    }
}

/// A request a [`Destination`] received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path_and_query: String,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

/// A real HTTP server on a random port that answers every request with one status and
/// records what it got.
pub struct Destination {
    pub address: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    status: Arc<Mutex<u16>>,
}

impl Destination {
    pub async fn start(status: u16) -> Destination {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(Mutex::new(status));
        let (log, answer) = (Arc::clone(&received), Arc::clone(&status));
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (log, answer) = (Arc::clone(&log), Arc::clone(&answer));
                tokio::spawn(async move {
                    let service =
                        service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                            let (log, answer) = (Arc::clone(&log), Arc::clone(&answer));
                            async move {
                                let (parts, body) = request.into_parts();
                                let body = body
                                    .collect()
                                    .await
                                    .map(|c| c.to_bytes())
                                    .unwrap_or_default();
                                log.lock().unwrap().push(Received {
                                    method: parts.method.to_string(),
                                    path_and_query: parts
                                        .uri
                                        .path_and_query()
                                        .map(|p| p.to_string())
                                        .unwrap_or_default(),
                                    headers: parts.headers,
                                    body,
                                });
                                let status = *answer.lock().unwrap();
                                let response = http::Response::builder()
                                    .status(status)
                                    .body(Full::new(Bytes::from_static(b"{\"ok\":false}")))
                                    .unwrap();
                                Ok::<_, std::convert::Infallible>(response)
                            }
                        });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Destination {
            address,
            received,
            status,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn answer_with(&self, status: u16) {
        *self.status.lock().unwrap() = status;
    }
}
