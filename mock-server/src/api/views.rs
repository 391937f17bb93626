//! The JSON shapes QStash answers with, built from engine types.

use crate::engine::{header_map, DlqEntry, Message, Routing};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Map, Value};

/// Puts a body under `text_field` when it is UTF-8, else base64 under `base64_field`.
fn put_body(object: &mut Map<String, Value>, body: &[u8], text_field: &str, base64_field: &str) {
    match std::str::from_utf8(body) {
        Ok(text) => {
            object.insert(text_field.to_owned(), Value::String(text.to_owned()));
        }
        Err(_) => {
            object.insert(
                base64_field.to_owned(),
                Value::String(STANDARD.encode(body)),
            );
        }
    }
}

/// A message as `GET /v2/messages/{id}` shows it. Always carries the fields the official
/// Python SDK reads without a fallback (`messageId`, `url`, `method`, `maxRetries`,
/// `notBefore`, `createdAt`).
pub(crate) fn message(message: &Message) -> Value {
    let mut object = Map::new();
    object.insert("messageId".into(), json!(message.message_id));
    object.insert("url".into(), json!(message.url));
    object.insert("method".into(), json!(message.method));
    object.insert("header".into(), Value::Object(header_map(&message.headers)));
    put_body(&mut object, &message.body, "body", "bodyBase64");
    object.insert("maxRetries".into(), json!(message.max_retries));
    object.insert("notBefore".into(), json!(message.not_before));
    object.insert("createdAt".into(), json!(message.created_at));
    if let Some(expression) = &message.retry_delay {
        object.insert("retryDelayExpression".into(), json!(expression.as_str()));
    }
    if let Some(callback) = &message.callback {
        object.insert("callback".into(), json!(callback.url));
        object.insert(
            "callbackHeader".into(),
            Value::Object(header_map(&callback.forward_headers)),
        );
    }
    if let Some(callback) = &message.failure_callback {
        object.insert("failureCallback".into(), json!(callback.url));
        object.insert(
            "failureCallbackHeader".into(),
            Value::Object(header_map(&callback.forward_headers)),
        );
    }
    if let Some(ip) = &message.caller_ip {
        object.insert("callerIP".into(), json!(ip));
    }
    if let Some(label) = message.first_label() {
        object.insert("label".into(), json!(label));
        object.insert("labels".into(), json!(message.labels));
    }
    put_routing(&mut object, &message.routing);
    Value::Object(object)
}

/// The URL group, endpoint, queue, schedule and flow-control fields, when set.
fn put_routing(object: &mut Map<String, Value>, routing: &Routing) {
    let fields = [
        ("topicName", &routing.topic_name),
        ("endpointName", &routing.endpoint_name),
        ("queueName", &routing.queue_name),
        ("scheduleId", &routing.schedule_id),
    ];
    for (name, value) in fields {
        if let Some(value) = value {
            object.insert(name.into(), json!(value));
        }
    }
    if let Some(flow) = &routing.flow_control {
        object.insert("flowControlKey".into(), json!(flow.key));
        if let Some(parallelism) = flow.parallelism {
            object.insert("parallelism".into(), json!(parallelism));
        }
        if let Some(rate) = flow.rate {
            object.insert("rate".into(), json!(rate));
            if flow.period_ms == 1000 {
                object.insert("ratePerSecond".into(), json!(rate));
            }
        }
        object.insert("period".into(), json!(flow.period_ms / 1000));
    }
}

/// A DLQ entry as `GET /v2/dlq` shows it: the message fields plus the DLQ id and the last
/// response. `responseStatus` is always present (0 when there was no answer).
pub(crate) fn dlq_entry(entry: &DlqEntry) -> Value {
    let mut value = message(&entry.message);
    if let Value::Object(object) = &mut value {
        object.insert("dlqId".into(), json!(entry.dlq_id));
        object.insert("responseStatus".into(), json!(entry.response.status));
        object.insert(
            "responseHeader".into(),
            Value::Object(header_map(&entry.response.headers)),
        );
        put_body(
            object,
            &entry.response.body,
            "responseBody",
            "responseBodyBase64",
        );
    }
    value
}
