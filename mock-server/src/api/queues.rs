//! Queues: `POST /v2/queues` (upsert), `GET /v2/queues`, `GET` and `DELETE
//! /v2/queues/{name}`, and `POST /v2/queues/{name}/pause` and `/resume`.

use super::error::ApiError;
use super::{json, ApiRequest, HttpResponse};
use crate::engine::Queue;
use crate::server::shared::Shared;
use http::{Method, StatusCode};
use serde::Deserialize;
use std::sync::Arc;

/// The body of an upsert.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Upsert {
    queue_name: Option<String>,
    parallelism: Option<u32>,
    paused: Option<bool>,
}

pub(super) fn route(
    shared: &Arc<Shared>,
    request: &ApiRequest,
    rest: &str,
) -> Result<HttpResponse, ApiError> {
    let now = shared.clock.now_ms();
    let name = rest.strip_prefix('/').unwrap_or_default();
    let mut engine = shared.engine();
    let queue = match (&request.method, name) {
        (&Method::POST, "") => {
            let body: Upsert = request.json_body()?;
            let name = body
                .queue_name
                .ok_or_else(|| ApiError::invalid("queueName", "is required"))?;
            engine.upsert_queue(now, &name, body.parallelism, body.paused)?
        }
        (&Method::GET, "") => {
            let queues: Vec<serde_json::Value> = engine.queues().iter().map(view).collect();
            return Ok(json(StatusCode::OK, &serde_json::Value::Array(queues)));
        }
        (&Method::POST, name) if name.ends_with("/pause") => {
            engine.set_queue_paused(now, name.trim_end_matches("/pause"), true)?
        }
        (&Method::POST, name) if name.ends_with("/resume") => {
            engine.set_queue_paused(now, name.trim_end_matches("/resume"), false)?
        }
        (&Method::GET, name) => engine
            .queue(name)
            .ok_or_else(|| ApiError::not_found(format!("queue `{name}` not found")))?,
        (&Method::DELETE, name) if !name.is_empty() => {
            engine.delete_queue(now, name)?;
            return Ok(json(StatusCode::OK, &serde_json::json!({})));
        }
        (method, _) => return Err(ApiError::method_not_allowed(method, &request.path)),
    };
    drop(engine);
    shared.wake.notify_one();
    Ok(json(StatusCode::OK, &view(&queue)))
}

fn view(queue: &Queue) -> serde_json::Value {
    serde_json::to_value(queue).unwrap_or_default()
}
