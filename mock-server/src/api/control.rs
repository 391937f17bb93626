//! The control plane under `/__mock/`: the clock, the event log, timelines, sinks, reset,
//! and export and import of the whole state. JSON in and out, same token as the API.

use super::error::ApiError;
use super::query::{value, values};
use super::{json, ApiRequest, HttpResponse};
use crate::clock::ClockMode;
use crate::engine::{format_time, DlqEntry, Engine, Message, MessageKind, MessageState, Plan};
use crate::rules::parse_human_duration;
use crate::server::shared::{ResetOptions, Shared, DEFAULT_IDLE_STEP_LIMIT};
use crate::sinks::{validate_sink_name, SinkScript, Sinks};
use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{json as value_json, Value};
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// `POST /__mock/reset` may change the settings it starts afresh with.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ResetBody {
    seed: Option<u64>,
    plan: Option<String>,
    /// A duration like `3d`, or ms.
    retention: Option<Value>,
    dedup_window: Option<Value>,
    default_retries: Option<u32>,
    /// Unix ms or RFC 3339.
    start: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceBody {
    ms: Option<u64>,
    by: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceToBody {
    /// Unix ms, or an RFC 3339 string.
    to: Value,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct IdleBody {
    max_steps: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModeBody {
    mode: String,
    speed: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StateBody {
    clock: ClockState,
    engine: Value,
    #[serde(default)]
    sinks: Option<Sinks>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClockState {
    now: u64,
    #[serde(flatten)]
    mode: ClockMode,
}

pub(super) async fn route(
    shared: &Arc<Shared>,
    request: &ApiRequest,
    rest: &str,
) -> Result<HttpResponse, ApiError> {
    let method = &request.method;
    let segments: Vec<&str> = rest.split('/').collect();
    match (method, segments.as_slice()) {
        (&Method::GET, ["clock"]) => Ok(ok(clock(shared))),
        (&Method::POST, ["clock", "advance"]) => advance(shared, request).await,
        (&Method::POST, ["clock", "advance-to"]) => advance_to(shared, request).await,
        (&Method::POST, ["clock", "next"]) => Ok(ok(to_value(&shared.next().await))),
        (&Method::POST, ["clock", "settle"]) => Ok(ok(to_value(&shared.settle().await))),
        (&Method::POST, ["clock", "run-until-idle"]) => {
            let body: IdleBody = request.json_body()?;
            let steps = body.max_steps.unwrap_or(DEFAULT_IDLE_STEP_LIMIT);
            Ok(ok(to_value(&shared.run_until_idle(steps).await)))
        }
        (&Method::PUT | &Method::POST, ["clock", "mode"]) => set_mode(shared, request),
        (&Method::POST, ["reset"]) => {
            let options = reset_options(request)?;
            shared.reset(&options).await;
            Ok(ok(
                value_json!({ "clock": clock(shared), "config": config(shared) }),
            ))
        }
        (&Method::GET, ["config"]) => Ok(ok(config(shared))),
        (&Method::GET, ["events"]) => Ok(ok(events(shared, request)?)),
        (&Method::GET, ["messages"]) => Ok(ok(messages(shared, request)?)),
        (&Method::GET, ["dlq"]) => Ok(ok(dlq_details(shared, request))),
        (&Method::GET, ["messages", id, "timeline"]) => {
            let timeline = shared.engine().timeline(id);
            let timeline =
                timeline.ok_or_else(|| ApiError::not_found(format!("message `{id}` not found")))?;
            Ok(ok(to_value(&timeline)))
        }
        (&Method::GET, ["sinks"]) => Ok(ok(list_sinks(shared))),
        (&Method::PUT | &Method::POST, ["sinks", name]) => put_sink(shared, request, name),
        (&Method::GET, ["sinks", name]) => get_sink(shared, name, true),
        (&Method::DELETE, ["sinks", name]) => {
            if !shared.sinks().remove(name) {
                return Err(sink_not_found(name));
            }
            Ok(ok(value_json!({ "deleted": name })))
        }
        (&Method::GET, ["sinks", name, "requests"]) => {
            let sinks = shared.sinks();
            let sink = sinks.get(name).ok_or_else(|| sink_not_found(name))?;
            Ok(ok(to_value(&sink.received)))
        }
        (&Method::DELETE, ["sinks", name, "requests"]) => {
            if !shared.sinks().clear_received(name) {
                return Err(sink_not_found(name));
            }
            get_sink(shared, name, false)
        }
        (&Method::GET, ["state"]) => Ok(ok(export(shared))),
        (&Method::PUT | &Method::POST, ["state"]) => import(shared, request).await,
        _ => Err(ApiError::not_found(format!(
            "no control-plane route for {method} /__mock/{rest}"
        ))),
    }
}

fn ok(body: Value) -> HttpResponse {
    json(StatusCode::OK, &body)
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn clock(shared: &Shared) -> Value {
    let now = shared.clock.now_ms();
    let mut body = value_json!({
        "now": now,
        "nowIso": format_time(now),
        "mode": shared.clock.mode().name(),
    });
    {
        // Cheap counters that let a page poll for changes instead of fetching everything.
        let engine = shared.engine();
        body["eventCount"] = value_json!(engine.event_count());
        body["messageCount"] = value_json!(engine.messages().count());
        body["dlqCount"] = value_json!(engine.dlq_len());
    }
    if let ClockMode::Running { speed } = shared.clock.mode() {
        body["speed"] = value_json!(speed);
    }
    if let Some(at) = shared.engine().next_due_at() {
        body["nextDueAt"] = value_json!(at);
    }
    body
}

fn config(shared: &Shared) -> Value {
    let engine = shared.engine();
    let config = engine.config();
    value_json!({
        "seed": config.seed,
        "plan": config.plan.as_str(),
        "retentionMs": config.effective_retention_ms(),
        "dedupWindowMs": config.dedup_window_ms,
        "defaultRetries": config.default_retries,
        "maxBodyBytes": config.plan.max_body_bytes(),
        "url": shared.base_url,
    })
}

fn reset_options(request: &ApiRequest) -> Result<ResetOptions, ApiError> {
    let body: ResetBody = request.json_body()?;
    let plan = body
        .plan
        .map(|p| p.parse::<Plan>().map_err(|e| ApiError::invalid("plan", e)))
        .transpose()?;
    Ok(ResetOptions {
        seed: body.seed,
        plan,
        retention_ms: body
            .retention
            .map(|v| duration_ms("retention", &v))
            .transpose()?,
        dedup_window_ms: body
            .dedup_window
            .map(|v| duration_ms("dedupWindow", &v))
            .transpose()?,
        default_retries: body.default_retries,
        start_ms: body.start.map(|v| instant_ms("start", &v)).transpose()?,
    })
}

/// A duration given as ms or as text like `1h30m`.
fn duration_ms(field: &str, value: &Value) -> Result<u64, ApiError> {
    match value {
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| ApiError::invalid(field, "expected whole milliseconds")),
        Value::String(text) => parse_human_duration(text).map_err(|e| ApiError::invalid(field, e)),
        _ => Err(ApiError::invalid(
            field,
            "expected milliseconds or a duration like \"3d\"",
        )),
    }
}

/// An instant given as unix ms or as RFC 3339 text.
fn instant_ms(field: &str, value: &Value) -> Result<u64, ApiError> {
    let parsed = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(text) => OffsetDateTime::parse(text, &Rfc3339)
            .ok()
            .and_then(|t| u64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()),
        _ => None,
    };
    parsed.ok_or_else(|| ApiError::invalid(field, "expected unix ms or an RFC 3339 time"))
}

async fn advance(shared: &Arc<Shared>, request: &ApiRequest) -> Result<HttpResponse, ApiError> {
    let body: AdvanceBody = request.json_body()?;
    let ms = match (body.ms, body.by) {
        (Some(ms), None) => ms,
        (None, Some(by)) => parse_human_duration(&by).map_err(|e| ApiError::invalid("by", e))?,
        _ => {
            return Err(ApiError::bad_request(
                "body: give exactly one of `ms` (milliseconds) or `by` (a duration like \"1h30m\")",
            ))
        }
    };
    Ok(ok(to_value(&shared.advance_by(ms).await)))
}

async fn advance_to(shared: &Arc<Shared>, request: &ApiRequest) -> Result<HttpResponse, ApiError> {
    let body: AdvanceToBody = request.json_body()?;
    let target = instant_ms("to", &body.to)?;
    let report = shared
        .advance_to(target)
        .await
        .map_err(|e| ApiError::invalid("to", e))?;
    Ok(ok(to_value(&report)))
}

fn set_mode(shared: &Arc<Shared>, request: &ApiRequest) -> Result<HttpResponse, ApiError> {
    let body: ModeBody = request.json_body()?;
    let mode = match (body.mode.as_str(), body.speed) {
        ("frozen", None) => ClockMode::Frozen,
        ("frozen", Some(_)) => {
            return Err(ApiError::invalid("speed", "only applies to running mode"))
        }
        ("running", speed) => {
            let speed = speed.unwrap_or(1.0);
            if !(speed.is_finite() && speed > 0.0) {
                return Err(ApiError::invalid(
                    "speed",
                    format!("{speed} is not a positive number"),
                ));
            }
            ClockMode::Running { speed }
        }
        (other, _) => {
            return Err(ApiError::invalid(
                "mode",
                format!("`{other}` is not frozen or running"),
            ))
        }
    };
    shared.clock.set_mode(mode);
    shared.wake.notify_one();
    Ok(ok(clock(shared)))
}

/// `GET /__mock/events?messageId=&event=&since=&limit=`.
fn events(shared: &Shared, request: &ApiRequest) -> Result<Value, ApiError> {
    let pairs = request.query_pairs();
    let message_id = value(&pairs, "messageId");
    let name = value(&pairs, "event");
    let number = |field: &str| {
        value(&pairs, field)
            .map(|raw| {
                raw.parse::<u64>()
                    .map_err(|_| ApiError::invalid(field, format!("`{raw}` is not a whole number")))
            })
            .transpose()
    };
    let since = number("since")?;
    let limit = number("limit")?.map_or(usize::MAX, |l| l as usize);
    let engine = shared.engine();
    let events: Vec<Value> = engine
        .events()
        .filter(|e| message_id.is_none_or(|id| e.message_id() == Some(id)))
        .filter(|e| name.is_none_or(|n| e.name() == n))
        .filter(|e| since.is_none_or(|s| e.time >= s))
        .take(limit)
        .map(to_value)
        .collect();
    Ok(value_json!({ "events": events }))
}

/// `GET /__mock/messages?url=&label=&state=`: the messages the engine still holds, in
/// the order they were created.
fn messages(shared: &Shared, request: &ApiRequest) -> Result<Value, ApiError> {
    let pairs = request.query_pairs();
    let url = value(&pairs, "url");
    let label = value(&pairs, "label");
    let state = value(&pairs, "state").map(parse_state).transpose()?;
    let engine = shared.engine();
    let mut held: Vec<&Message> = engine
        .messages()
        .filter(|m| url.is_none_or(|url| m.url == url))
        .filter(|m| label.is_none_or(|label| m.labels.iter().any(|l| l == label)))
        .filter(|m| state.is_none_or(|state| m.state == state))
        .collect();
    held.sort_by_key(|m| m.order);
    let list: Vec<Value> = held.into_iter().map(message_summary).collect();
    Ok(value_json!({ "messages": list }))
}

fn parse_state(raw: &str) -> Result<MessageState, ApiError> {
    match raw.to_ascii_uppercase().as_str() {
        "CREATED" => Ok(MessageState::Created),
        "ACTIVE" => Ok(MessageState::Active),
        "RETRY" => Ok(MessageState::Retry),
        _ => Err(ApiError::invalid(
            "state",
            format!("`{raw}` is not CREATED, ACTIVE or RETRY"),
        )),
    }
}

fn message_summary(message: &Message) -> Value {
    let kind = match message.kind {
        MessageKind::Published => "published",
        MessageKind::Callback { .. } => "callback",
        MessageKind::FailureCallback { .. } => "failureCallback",
    };
    let mut body = value_json!({
        "messageId": message.message_id,
        "url": message.url,
        "method": message.method,
        "kind": kind,
        "state": message.state,
        "attempts": message.retried,
        "maxRetries": message.max_retries,
        "notBefore": message.not_before,
        "createdAt": message.created_at,
        "labels": message.labels,
    });
    if let Some(at) = message.next_delivery_at {
        body["nextDeliveryAt"] = value_json!(at);
    }
    body
}

/// `GET /__mock/dlq?dlqId=`: what QStash's DLQ listing leaves out (when an entry arrived,
/// when it expires, why, after how many attempts), for every entry or those named.
fn dlq_details(shared: &Shared, request: &ApiRequest) -> Value {
    let ids = values(&request.query_pairs(), &["dlqId", "dlqIds"]);
    let engine = shared.engine();
    let entries: Vec<Value> = engine
        .dlq_entries()
        .filter(|entry| ids.is_empty() || ids.contains(&entry.dlq_id))
        .map(dlq_detail)
        .collect();
    value_json!({ "entries": entries })
}

fn dlq_detail(entry: &DlqEntry) -> Value {
    value_json!({
        "dlqId": entry.dlq_id,
        "messageId": entry.message.message_id,
        "enteredAt": entry.entered_at,
        "expiresAt": entry.expires_at,
        "reason": entry.reason,
        // A message keeps the `Upstash-Retried` of its last attempt when it moves.
        "attempts": entry.message.retried + 1,
    })
}

fn sink_not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("sink `{name}` does not exist"))
}

fn list_sinks(shared: &Shared) -> Value {
    let sinks = shared.sinks();
    let list: Vec<Value> = sinks
        .iter()
        .map(|sink| {
            value_json!({
                "name": sink.name,
                "url": shared.sink_url(&sink.name),
                "script": sink.script,
                "receivedCount": sink.received.len(),
            })
        })
        .collect();
    value_json!({ "sinks": list })
}

fn put_sink(shared: &Shared, request: &ApiRequest, name: &str) -> Result<HttpResponse, ApiError> {
    validate_sink_name(name).map_err(|e| ApiError::invalid("name", e))?;
    let script: SinkScript = if request.body.iter().all(u8::is_ascii_whitespace) {
        SinkScript::default()
    } else {
        serde_json::from_slice(&request.body)
            .map_err(|e| ApiError::bad_request(format!("body: not a sink script: {e}")))?
    };
    if let Some(bad) = script
        .responses
        .iter()
        .find(|r| !r.drop_connection && !(100..=999).contains(&r.status))
    {
        return Err(ApiError::invalid(
            "responses",
            format!("status {} is not an HTTP status", bad.status),
        ));
    }
    shared.sinks().upsert(name, script);
    get_sink(shared, name, false)
}

fn get_sink(shared: &Shared, name: &str, with_requests: bool) -> Result<HttpResponse, ApiError> {
    let sinks = shared.sinks();
    let sink = sinks.get(name).ok_or_else(|| sink_not_found(name))?;
    let mut body = value_json!({
        "name": sink.name,
        "url": shared.sink_url(name),
        "script": sink.script,
        "receivedCount": sink.received.len(),
    });
    if with_requests {
        body["received"] = to_value(&sink.received);
    }
    Ok(ok(body))
}

fn export(shared: &Shared) -> Value {
    let now = shared.clock.now_ms();
    let mut clock = to_value(&shared.clock.mode());
    clock["now"] = value_json!(now);
    value_json!({
        "clock": clock,
        "engine": shared.engine().export(),
        "sinks": to_value(&*shared.sinks()),
    })
}

async fn import(shared: &Arc<Shared>, request: &ApiRequest) -> Result<HttpResponse, ApiError> {
    let body: StateBody = serde_json::from_slice(&request.body)
        .map_err(|e| ApiError::bad_request(format!("body: not an exported state: {e}")))?;
    let engine = Engine::import(body.engine)
        .map_err(|e| ApiError::bad_request(format!("engine: not an exported engine: {e}")))?;
    shared
        .replace(
            engine,
            body.sinks.unwrap_or_default(),
            body.clock.now,
            body.clock.mode,
        )
        .await;
    Ok(ok(clock(shared)))
}
