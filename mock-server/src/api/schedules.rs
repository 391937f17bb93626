//! Schedules: `POST /v2/schedules/{destination}` with `Upstash-Cron`, `GET
//! /v2/schedules`, `GET` and `DELETE /v2/schedules/{id}`, and pause and resume by POST
//! (the API reference) or PATCH (what the official SDKs send).

use super::error::ApiError;
use super::flow_control::parse_flow_control;
use super::publish::parse_settings;
use super::query::split_publish_query;
use super::{json, ApiRequest, HttpResponse};
use crate::engine::{header_map, Schedule, ScheduleRequest};
use crate::server::shared::Shared;
use http::{Method, StatusCode};
use serde_json::{json, Map, Value};
use std::sync::Arc;

pub(super) fn route(
    shared: &Arc<Shared>,
    request: &ApiRequest,
    rest: &str,
) -> Result<HttpResponse, ApiError> {
    let rest = rest.strip_prefix('/').unwrap_or_default();
    let toggle = (!rest.contains("://"))
        .then(|| {
            rest.strip_suffix("/pause")
                .map(|id| (id, true))
                .or_else(|| rest.strip_suffix("/resume").map(|id| (id, false)))
        })
        .flatten();
    if let Some((id, pause)) = toggle {
        if !matches!(request.method, Method::POST | Method::PATCH) {
            return Err(ApiError::method_not_allowed(&request.method, &request.path));
        }
        return set_paused(shared, id, pause);
    }
    match (&request.method, rest) {
        (&Method::POST, destination) if !destination.is_empty() => {
            create(shared, request, destination)
        }
        (&Method::GET, "") => {
            let engine = shared.engine();
            let retries = engine.config().default_retries;
            let list = engine.schedules().map(|s| view(s, retries)).collect();
            Ok(json(StatusCode::OK, &Value::Array(list)))
        }
        (&Method::GET, id) => {
            let engine = shared.engine();
            let retries = engine.config().default_retries;
            let schedule = engine.schedule_by_id(id).ok_or_else(|| not_found(id))?;
            Ok(json(StatusCode::OK, &view(schedule, retries)))
        }
        (&Method::DELETE, id) if !id.is_empty() => {
            shared.engine().delete_schedule(id)?;
            Ok(json(StatusCode::OK, &json!({})))
        }
        (method, _) => Err(ApiError::method_not_allowed(method, &request.path)),
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("schedule `{id}` not found"))
}

fn set_paused(shared: &Arc<Shared>, id: &str, pause: bool) -> Result<HttpResponse, ApiError> {
    let now = shared.clock.now_ms();
    let mut engine = shared.engine();
    if pause {
        engine.pause_schedule(id)?;
    } else {
        engine.resume_schedule(now, id)?;
    }
    drop(engine);
    shared.wake.notify_one();
    Ok(json(StatusCode::OK, &json!({})))
}

fn create(
    shared: &Arc<Shared>,
    request: &ApiRequest,
    raw_destination: &str,
) -> Result<HttpResponse, ApiError> {
    let (own_query, settings_query) = split_publish_query(request.query.as_deref());
    let destination = match own_query {
        Some(query) => format!("{raw_destination}?{query}"),
        None => raw_destination.to_owned(),
    };
    let settings = parse_settings(&request.headers, &settings_query)?;
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let cron =
        header("upstash-cron").ok_or_else(|| ApiError::invalid("Upstash-Cron", "is required"))?;
    let schedule = ScheduleRequest {
        destination,
        cron,
        schedule_id: header("upstash-schedule-id"),
        queue_name: header("upstash-queue-name"),
        flow_control: parse_flow_control(&request.headers, &settings_query)?,
        settings,
        body: request.body.clone(),
        caller_ip: Some(request.peer.ip().to_string()),
    };
    let now = shared.clock.now_ms();

    let schedule_id = shared.engine().create_schedule(now, schedule)?;
    shared.wake.notify_one();
    Ok(json(StatusCode::OK, &json!({ "scheduleId": schedule_id })))
}

/// A schedule in QStash's shape. `retries` and `method` are always present, since the
/// Python SDK reads them without a fallback.
fn view(schedule: &Schedule, default_retries: u32) -> Value {
    let mut object = Map::new();
    object.insert("scheduleId".into(), json!(schedule.schedule_id));
    object.insert("cron".into(), json!(schedule.cron));
    object.insert("destination".into(), json!(schedule.destination));
    object.insert("method".into(), json!(schedule.method));
    let mut headers = schedule.forward_headers.clone();
    if let Some(content_type) = &schedule.content_type {
        headers.insert(0, ("Content-Type".to_owned(), content_type.clone()));
    }
    object.insert("header".into(), Value::Object(header_map(&headers)));
    match std::str::from_utf8(&schedule.body) {
        Ok(text) => object.insert("body".into(), json!(text)),
        Err(_) => {
            use base64::Engine as _;
            let encoded = base64::engine::general_purpose::STANDARD.encode(&schedule.body);
            object.insert("bodyBase64".into(), json!(encoded))
        }
    };
    object.insert(
        "retries".into(),
        json!(schedule.retries.unwrap_or(default_retries)),
    );
    if let Some(delay) = schedule.delay_ms {
        object.insert("delay".into(), json!(delay / 1000));
    }
    if let Some(timeout) = schedule.timeout_ms {
        object.insert("timeout".into(), json!(timeout / 1000));
    }
    for (name, callback) in [
        ("callback", &schedule.callback),
        ("failureCallback", &schedule.failure_callback),
    ] {
        if let Some(callback) = callback {
            object.insert(name.into(), json!(callback.url));
            object.insert(
                format!("{name}Header"),
                Value::Object(header_map(&callback.forward_headers)),
            );
        }
    }
    if let Some(expression) = &schedule.retry_delay {
        object.insert("retryDelayExpression".into(), json!(expression.as_str()));
    }
    if let Some(ip) = &schedule.caller_ip {
        object.insert("callerIP".into(), json!(ip));
    }
    if let Some(queue) = &schedule.queue_name {
        object.insert("queueName".into(), json!(queue));
    }
    if let Some(flow) = &schedule.flow_control {
        object.insert("flowControlKey".into(), json!(flow.key));
        if let Some(parallelism) = flow.parallelism {
            object.insert("parallelism".into(), json!(parallelism));
        }
        if let Some(rate) = flow.rate {
            object.insert("rate".into(), json!(rate));
        }
        object.insert("period".into(), json!(flow.period_ms / 1000));
    }
    if let Some(label) = schedule.labels.first() {
        object.insert("label".into(), json!(label));
        object.insert("labels".into(), json!(schedule.labels));
    }
    object.insert("isPaused".into(), json!(schedule.paused));
    object.insert("createdAt".into(), json!(schedule.created_at));
    if let Some(at) = schedule.last_schedule_time {
        object.insert("lastScheduleTime".into(), json!(at));
        object.insert(
            "lastScheduleStates".into(),
            json!(schedule.last_schedule_states),
        );
    }
    if let Some(at) = schedule.next_schedule_time {
        object.insert("nextScheduleTime".into(), json!(at));
    }
    if let Some(error) = &schedule.error {
        object.insert("error".into(), json!(error));
    }
    Value::Object(object)
}
