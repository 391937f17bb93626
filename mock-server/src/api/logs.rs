//! `GET /v2/logs` and its older name `GET /v2/events`, which the official SDKs call.
//!
//! The answer carries the page under both `logs` (the API reference) and `events` (what
//! the SDKs read). `count` defaults to, and is capped at, 1000, as the older API pages
//! and the Python SDK have it.

use super::error::ApiError;
use super::query::{unix_ms, value, values};
use super::{json, views, ApiRequest, HttpResponse};
use crate::engine::{CancelledSpelling, LogEntry, LogFilter, LogState, MAX_LOG_PAGE};
use crate::server::shared::Shared;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use http::{Method, StatusCode};
use serde_json::{json, Map, Value};
use std::sync::Arc;

pub(super) fn route(shared: &Arc<Shared>, request: &ApiRequest) -> Result<HttpResponse, ApiError> {
    if request.method != Method::GET {
        return Err(ApiError::method_not_allowed(&request.method, &request.path));
    }
    let pairs = request.query_pairs();
    let filter = parse_filter(&pairs)?;
    let count = parse_count(&pairs)?;
    let engine = shared.engine();
    let spelling = engine.config().cancelled_spelling;
    let cursor = value(&pairs, "cursor").filter(|cursor| !cursor.is_empty());
    let page = engine.logs(&filter, cursor, count)?;

    let entries: Vec<Value> = page.entries.iter().map(|e| entry(e, spelling)).collect();
    let mut body = json!({ "events": entries, "logs": entries });
    if let Some(cursor) = page.cursor {
        body["cursor"] = Value::String(cursor);
    }
    Ok(json(StatusCode::OK, &body))
}

fn parse_count(pairs: &[(String, String)]) -> Result<usize, ApiError> {
    let Some(raw) = value(pairs, "count") else {
        return Ok(MAX_LOG_PAGE);
    };
    match raw.parse::<usize>() {
        Ok(count) if count > 0 => Ok(count.min(MAX_LOG_PAGE)),
        _ => Err(ApiError::invalid(
            "count",
            format!("`{raw}` is not a whole number from 1 to {MAX_LOG_PAGE}"),
        )),
    }
}

fn parse_filter(pairs: &[(String, String)]) -> Result<LogFilter, ApiError> {
    let mut states = Vec::new();
    for raw in values(pairs, &["state", "state[]"]) {
        states.extend(LogState::parse_filter(&raw)?);
    }
    Ok(LogFilter {
        message_ids: values(pairs, &["messageId", "messageIds", "messageIds[]"]),
        states,
        urls: values(pairs, &["url", "url[]"]),
        topic_names: values(pairs, &["topicName", "topicName[]"]),
        schedule_ids: values(pairs, &["scheduleId", "scheduleId[]"]),
        queue_names: values(pairs, &["queueName", "queueName[]"]),
        labels: values(pairs, &["label", "label[]"]),
        flow_control_keys: values(pairs, &["flowControlKey", "flowControlKey[]"]),
        caller_ips: values(pairs, &["callerIp", "callerIp[]", "callerIP"]),
        from_date: unix_ms(pairs, "fromDate")?,
        to_date: unix_ms(pairs, "toDate")?,
    })
}

/// One log entry in QStash's shape. The body is always base64 here, unlike messages.
fn entry(entry: &LogEntry, spelling: CancelledSpelling) -> Value {
    let mut object = match entry.message.as_ref().map(views::message) {
        Some(Value::Object(object)) => object,
        _ => Map::new(),
    };
    object.remove("bodyBase64");
    object.remove("createdAt");
    object.remove("notBefore");
    if let Some(message) = &entry.message {
        object.insert("body".into(), json!(STANDARD.encode(&message.body)));
        object.insert("timeout".into(), json!(message.timeout_ms));
        if let Some(expression) = &message.retry_delay {
            object.insert("retryDelayExpr".into(), json!(expression.as_str()));
        }
        for (from, to) in [
            ("callbackHeader", "callbackHeaders"),
            ("failureCallbackHeader", "failureCallbackHeaders"),
        ] {
            if let Some(headers) = object.get(from).cloned() {
                object.insert(to.into(), headers);
            }
        }
    }
    object.insert("time".into(), json!(entry.time));
    object.insert("messageId".into(), json!(entry.message_id));
    object.insert("state".into(), json!(entry.state.as_str(spelling)));
    object.insert("url".into(), json!(entry.url));
    if let Some(at) = entry.next_delivery_time {
        object.insert("nextDeliveryTime".into(), json!(at));
    }
    if let Some(error) = &entry.error {
        object.insert("error".into(), json!(error));
    }
    if let Some(response) = &entry.response {
        let headers = Value::Object(crate::engine::header_map(&response.headers));
        object.insert("responseStatus".into(), json!(response.status));
        object.insert("responseHeader".into(), headers.clone());
        object.insert("responseHeaders".into(), headers);
        object.insert(
            "responseBody".into(),
            json!(STANDARD.encode(&response.body)),
        );
    }
    if let Some(dlq_id) = &entry.dlq_id {
        object.insert("dlqId".into(), json!(dlq_id));
    }
    Value::Object(object)
}
