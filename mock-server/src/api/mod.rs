//! The HTTP API: QStash's `/v2` routes, the `/__mock` control plane and the sinks.
//!
//! Routing reads the raw request target, since a publish destination is a whole URL
//! (`/v2/publish/https://example.com/hook?a=b`) whose `//` and query string must survive.

mod batch;
mod bulk_actions;
mod control;
mod dlq;
mod enqueue;
mod error;
mod flow_control;
mod keys;
mod logs;
mod messages;
mod publish;
mod query;
mod queues;
mod quota;
mod schedules;
mod sinks;
mod topics;

pub(crate) use sinks::DropConnection;
mod views;

use crate::server::shared::Shared;
use bytes::Bytes;
use error::ApiError;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use std::net::SocketAddr;
use std::sync::Arc;

pub(crate) use error::json;

/// The response type of every handler.
pub(crate) type HttpResponse = Response<Full<Bytes>>;

/// The largest body the control plane reads (state imports included).
const CONTROL_BODY_LIMIT: usize = 256 * 1024 * 1024;

/// A request with its body read, as the handlers see it.
#[derive(Debug)]
pub(crate) struct ApiRequest {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) peer: SocketAddr,
}

impl ApiRequest {
    pub(crate) fn query_pairs(&self) -> Vec<(String, String)> {
        query::pairs(self.query.as_deref())
    }

    pub(crate) fn json_body<T: serde::de::DeserializeOwned>(&self) -> Result<T, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return serde_json::from_slice(b"{}")
                .map_err(|e| ApiError::bad_request(format!("body: {e}")));
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| ApiError::bad_request(format!("body: invalid JSON: {e}")))
    }
}

/// Serves one request. Never panics on bad input: every refusal is a JSON error.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> HttpResponse {
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let method = request.method().clone();
    tracing::debug!(%method, path = %path.split("://").next().unwrap_or_default(), "request");

    if let Some(rest) = path.strip_prefix("/__sinks/") {
        return sinks::receive(&shared, request, rest, query.as_deref()).await;
    }
    if let Some(response) = crate::console::serve(&method, &path) {
        return response;
    }
    if let Err(error) = authorize(&shared, request.headers(), query.as_deref()) {
        return error.into_response();
    }

    let limit = if path.starts_with("/__mock/") {
        CONTROL_BODY_LIMIT
    } else {
        shared.engine().config().plan.max_body_bytes()
    };
    let (parts, body) = request.into_parts();
    let body = match read_body(body, limit).await {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    let request = ApiRequest {
        method: parts.method,
        path,
        query,
        headers: parts.headers,
        body,
        peer,
    };
    match route(&shared, &request).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn route(shared: &Arc<Shared>, request: &ApiRequest) -> Result<HttpResponse, ApiError> {
    let path = request.path.as_str();
    let method = &request.method;

    if let Some(refusal) = quota::refusal(shared, request) {
        return Ok(refusal);
    }
    if let Some(destination) = path.strip_prefix("/v2/publish/") {
        return match *method {
            Method::POST => publish::publish(shared, request, destination),
            _ => Err(ApiError::method_not_allowed(method, path)),
        };
    }
    if let Some(rest) = path.strip_prefix("/__mock/") {
        return control::route(shared, request, rest).await;
    }
    if path == "/v2/dlq" || path.starts_with("/v2/dlq/") {
        return dlq::route(shared, request, &path["/v2/dlq".len()..]);
    }
    if path == "/v2/messages" || path.starts_with("/v2/messages/") {
        return messages::route(shared, request, &path["/v2/messages".len()..]);
    }
    if path == "/v2/keys" || path == "/v2/keys/rotate" {
        return keys::route(shared, request, path);
    }
    if path == "/v2/logs" || path == "/v2/events" {
        return logs::route(shared, request);
    }
    if path == "/v2/batch" {
        return batch::route(shared, request);
    }
    if let Some(rest) = path.strip_prefix("/v2/enqueue/") {
        return enqueue::route(shared, request, rest);
    }
    if path == "/v2/queues" || path.starts_with("/v2/queues/") {
        return queues::route(shared, request, &path["/v2/queues".len()..]);
    }
    if path == "/v2/topics" || path.starts_with("/v2/topics/") {
        return topics::route(shared, request, &path["/v2/topics".len()..]);
    }
    if path == "/v2/schedules" || path.starts_with("/v2/schedules/") {
        return schedules::route(shared, request, &path["/v2/schedules".len()..]);
    }
    if path.starts_with("/v2/flowControl") || path == "/v2/globalParallelism" {
        return flow_control::route(shared, request, path);
    }
    if let Some(action_id) = path.strip_prefix("/v2/bulkActions/") {
        return bulk_actions::route(shared, request, action_id);
    }
    if is_known_unsupported(path) {
        return Err(ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            format!("{method} {path} is a QStash route this mock does not support yet"),
        ));
    }
    Err(ApiError::not_found(format!("no route for {method} {path}")))
}

fn is_known_unsupported(path: &str) -> bool {
    const PREFIXES: &[&str] = &["/v2/workflows", "/v2/notify", "/v2/wait"];
    PREFIXES.iter().any(|prefix| path.starts_with(prefix))
}

fn authorize(
    shared: &Shared,
    headers: &http::HeaderMap,
    query: Option<&str>,
) -> Result<(), ApiError> {
    let bearer = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    let from_query = query::pairs(query)
        .into_iter()
        .find(|(name, _)| name == "qstash_token")
        .map(|(_, value)| value);
    let given = bearer.map(str::to_owned).or(from_query);
    match given {
        None => Err(ApiError::unauthorized(
            "missing token: send `Authorization: Bearer <QSTASH_TOKEN>` or `?qstash_token=`",
        )),
        Some(token) if constant_time_eq(token.as_bytes(), shared.token.as_bytes()) => Ok(()),
        Some(_) => Err(ApiError::unauthorized("invalid token")),
    }
}

/// Compares without stopping at the first difference, so timing reveals nothing.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn read_body(body: Incoming, limit: usize) -> Result<Bytes, ApiError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("body: larger than the plan's limit of {limit} bytes"),
        )),
        Err(error) => Err(ApiError::bad_request(format!(
            "body: could not be read: {error}"
        ))),
    }
}
