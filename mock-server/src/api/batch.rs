//! `POST /v2/batch`: many publishes in one call, to URLs, URL groups and queues mixed.
//!
//! The answer has one slot per item, in order: an object for a URL, an array for a URL
//! group, and `{"error": "..."}` for an item that was refused while the others went out.

use super::error::ApiError;
use super::flow_control::parse_flow_control;
use super::publish::{parse_settings, send};
use super::{json, ApiRequest, HttpResponse};
use crate::engine::{validate_name, Engine, PublishRequest, Routing};
use crate::server::shared::Shared;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One item of a batch.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Item {
    destination: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    queue: Option<String>,
}

pub(super) fn route(shared: &Arc<Shared>, request: &ApiRequest) -> Result<HttpResponse, ApiError> {
    if request.method != Method::POST {
        return Err(ApiError::method_not_allowed(&request.method, &request.path));
    }
    let items: Vec<Value> = serde_json::from_slice(&request.body)
        .map_err(|e| ApiError::invalid("body", format!("must be a JSON array of messages: {e}")))?;
    if items.is_empty() {
        return Err(ApiError::invalid("body", "must hold at least one message"));
    }
    let caller_ip = request.peer.ip().to_string();
    let now = shared.clock.now_ms();
    let mut engine = shared.engine();

    let answers: Vec<Value> = items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            publish_item(&mut engine, now, item, &caller_ip).unwrap_or_else(
                |error| json!({ "error": format!("[{index}].{}", error.message()) }),
            )
        })
        .collect();
    drop(engine);
    shared.wake.notify_one();
    Ok(json(StatusCode::OK, &Value::Array(answers)))
}

fn publish_item(
    engine: &mut Engine,
    now: u64,
    item: Value,
    caller_ip: &str,
) -> Result<Value, ApiError> {
    let item: Item =
        serde_json::from_value(item).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let headers = header_map(&item.headers)?;
    let settings = parse_settings(&headers, &[])?;
    if let Some(queue) = &item.queue {
        validate_name("queue", queue)?;
    }
    let routing = Routing {
        queue_name: item.queue,
        flow_control: parse_flow_control(&headers, &[])?,
        ..Routing::default()
    };
    let request = PublishRequest {
        destination: item.destination,
        body: Bytes::from(item.body.unwrap_or_default()),
        settings,
        caller_ip: Some(caller_ip.to_owned()),
    };
    send(engine, now, request, routing).map(|(_, answer)| answer)
}

fn header_map(headers: &BTreeMap<String, String>) -> Result<HeaderMap, ApiError> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| ApiError::invalid("headers", format!("`{name}` is not a header name")))?;
        let value = HeaderValue::from_str(value).map_err(|_| {
            ApiError::invalid(&format!("headers.{name}"), "is not a valid header value")
        })?;
        map.append(header, value);
    }
    Ok(map)
}
