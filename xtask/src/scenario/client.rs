//! A small HTTP client for the mock: QStash's `/v2` API and the `/__mock` control plane.

use anyhow::Context as _;
use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::time::Duration;

/// How long one call may take. Advances run every delivery they pass, so this is
/// generous; it only keeps a stuck mock from hanging the run.
const CALL_TIMEOUT: Duration = Duration::from_secs(300);

/// The mock's answer to one call.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Bytes,
}

impl Answer {
    /// The body as JSON (`null` when empty or not JSON).
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The `error` of a JSON error body, or the body as text.
    pub(crate) fn error_text(&self) -> String {
        match self.json().get("error").and_then(Value::as_str) {
            Some(error) => error.to_owned(),
            None => String::from_utf8_lossy(&self.body).into_owned(),
        }
    }

    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Talks to one mock at `base` with a token.
#[derive(Debug, Clone)]
pub(crate) struct MockClient {
    base: String,
    token: String,
    http: Client<HttpConnector, Full<Bytes>>,
}

impl MockClient {
    pub(crate) fn new(base: &str, token: &str) -> Self {
        MockClient {
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            http: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Sends a request and reads the whole answer, whatever its status.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(String, String)],
        body: Bytes,
    ) -> anyhow::Result<Answer> {
        let uri = format!("{}{path}", self.base);
        let mut request = Request::builder()
            .method(method.clone())
            .uri(&uri)
            .header("authorization", format!("Bearer {}", self.token));
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let request = request
            .body(Full::new(body))
            .with_context(|| format!("could not build the request {method} {path}"))?;
        let call = async {
            let response = self.http.request(request).await?;
            let status = response.status().as_u16();
            let body = response.into_body().collect().await?.to_bytes();
            anyhow::Ok(Answer { status, body })
        };
        match tokio::time::timeout(CALL_TIMEOUT, call).await {
            Ok(answer) => answer.with_context(|| format!("{method} {path} failed")),
            Err(_) => anyhow::bail!("{method} {path}: the mock did not answer in time"),
        }
    }

    /// Calls the control plane with a JSON body and returns the JSON answer.
    ///
    /// # Errors
    /// When the call fails or the mock refuses it; the error carries the mock's reason.
    pub(crate) async fn control(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let (headers, bytes) = match body {
            Some(body) => (
                vec![("content-type".to_owned(), "application/json".to_owned())],
                Bytes::from(serde_json::to_vec(body)?),
            ),
            None => (Vec::new(), Bytes::new()),
        };
        let answer = self.send(method.clone(), path, &headers, bytes).await?;
        if !answer.is_success() {
            anyhow::bail!(
                "{method} {path} answered {}: {}",
                answer.status,
                answer.error_text()
            );
        }
        Ok(answer.json())
    }
}
