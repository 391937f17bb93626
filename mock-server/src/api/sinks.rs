//! `/__sinks/{name}`: scripted destinations answering deliveries (no token needed, since
//! QStash does not send one).

use super::error::ApiError;
use super::HttpResponse;
use crate::server::shared::Shared;
use crate::sinks::{ReceivedRequest, SinkResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use std::sync::Arc;
use std::time::Duration;

/// The most a sink keeps of one request body.
const SINK_BODY_LIMIT: usize = 64 * 1024 * 1024;

/// Marks a response that must not be sent: the connection is closed instead.
#[derive(Debug)]
pub(crate) struct DropConnection;

/// Answers a request to a sink from its script and records it.
pub(super) async fn receive(
    shared: &Arc<Shared>,
    request: Request<Incoming>,
    rest: &str,
    query: Option<&str>,
) -> HttpResponse {
    let (name, below) = match rest.split_once('/') {
        Some((name, below)) => (name, format!("/{below}")),
        None => (rest, "/".to_owned()),
    };
    let path = match query {
        Some(query) => format!("{below}?{query}"),
        None => below,
    };
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, SINK_BODY_LIMIT).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let (text, base64) = match std::str::from_utf8(&body) {
        Ok(text) => (Some(text.to_owned()), None),
        Err(_) => (None, Some(STANDARD.encode(&body))),
    };
    let received = ReceivedRequest {
        time: shared.clock.now_ms(),
        method: parts.method.to_string(),
        path,
        message_id: header("upstash-message-id"),
        retried: header("upstash-retried")
            .and_then(|r| r.parse().ok())
            .unwrap_or(0),
        headers,
        body: text,
        body_base64: base64,
        status: 0,
    };

    let scripted = shared.sinks().receive(name, received);
    let Some(scripted) = scripted else {
        return ApiError::not_found(format!("sink `{name}` does not exist")).into_response();
    };
    if scripted.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(scripted.delay_ms)).await;
    }
    respond(&scripted)
}

fn respond(scripted: &SinkResponse) -> HttpResponse {
    let status = StatusCode::from_u16(scripted.status).unwrap_or(StatusCode::OK);
    let mut builder = Response::builder().status(status);
    for (name, value) in &scripted.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let mut response = builder
        .body(Full::new(Bytes::from(scripted.body.clone())))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())));
    if scripted.drop_connection {
        response.extensions_mut().insert(Arc::new(DropConnection));
    }
    response
}
