//! Shared helpers: a mock QStash, a client pointed at it, fixtures, and a
//! stable JSON view of the requests it received.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use qstash_sdk::{Client, RetryPolicy};
use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// The token every test client uses.
pub const TOKEN: &str = "test-token";

/// Headers left out of request snapshots because they say nothing about the
/// call (or, for the user agent, change with the crate version).
const UNSTABLE_HEADERS: [&str; 3] = ["host", "content-length", "user-agent"];

/// A client for `server` that never retries.
pub fn client(server: &MockServer) -> Client {
    client_with(server, RetryPolicy::none())
}

/// A client for `server` with the given retry policy.
pub fn client_with(server: &MockServer, policy: RetryPolicy) -> Client {
    Client::builder()
        .base_url(server.uri())
        .token(TOKEN)
        .retry_policy(policy)
        .build()
        .expect("a valid test client")
}

/// A retry policy fast enough for tests.
pub fn quick_retries(max_retries: u32) -> RetryPolicy {
    RetryPolicy::default()
        .max_retries(max_retries)
        .initial_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(5))
}

/// Reads `tests/fixtures/<name>.json`.
pub fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read fixture {}: {err}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("fixture {name} is not JSON: {err}"))
}

/// A mock QStash that answers every request with `response`.
pub async fn answering(response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

/// A mock QStash that answers every request with the JSON fixture `name`.
pub async fn answering_fixture(name: &str) -> MockServer {
    answering(ResponseTemplate::new(200).set_body_json(fixture(name))).await
}

/// A mock QStash that answers every request with `200` and an empty body.
pub async fn answering_empty() -> MockServer {
    answering(ResponseTemplate::new(200)).await
}

/// Every request the server received.
pub async fn received(server: &MockServer) -> Vec<Request> {
    server
        .received_requests()
        .await
        .expect("request recording is on")
}

/// The one request the server received, as a stable JSON view.
pub async fn only_request(server: &MockServer) -> Value {
    let requests = received(server).await;
    assert_eq!(
        requests.len(),
        1,
        "expected exactly one request, got {requests:?}"
    );
    shape(&requests[0])
}

/// Method, raw path and query, headers and body of a request.
pub fn shape(request: &Request) -> Value {
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in &request.headers {
        if UNSTABLE_HEADERS.contains(&name.as_str()) {
            continue;
        }
        let value = value.to_str().unwrap_or("<binary>").to_owned();
        headers
            .entry(name.as_str().to_owned())
            .or_default()
            .push(value);
    }
    let query: Vec<(String, String)> = request
        .url
        .query_pairs()
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();

    json!({
        "method": request.method.as_str(),
        "target": target(request),
        "query": query,
        "headers": headers,
        "body": body(&request.body),
    })
}

/// The path and query exactly as received.
pub fn target(request: &Request) -> String {
    match request.url.query() {
        Some(query) => format!("{}?{query}", request.url.path()),
        None => request.url.path().to_owned(),
    }
}

fn body(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    match serde_json::from_slice(bytes) {
        Ok(json) => json,
        Err(_) => Value::String(String::from_utf8_lossy(bytes).into_owned()),
    }
}
