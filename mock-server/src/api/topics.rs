//! URL groups: `POST` and `DELETE /v2/topics/{name}/endpoints`, `GET /v2/topics`, and
//! `GET` and `DELETE /v2/topics/{name}`.

use super::error::ApiError;
use super::{json, ApiRequest, HttpResponse};
use crate::engine::{Endpoint, RemoveEndpoint};
use crate::server::shared::Shared;
use http::{Method, StatusCode};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
struct Endpoints<T> {
    endpoints: Option<Vec<T>>,
}

// TODO: `PATCH /v2/topics/{name}` (default headers of a group) is not served yet (405).
pub(super) fn route(
    shared: &Arc<Shared>,
    request: &ApiRequest,
    rest: &str,
) -> Result<HttpResponse, ApiError> {
    let now = shared.clock.now_ms();
    let rest = rest.strip_prefix('/').unwrap_or_default();
    let mut engine = shared.engine();
    if let Some(name) = rest.strip_suffix("/endpoints") {
        match request.method {
            Method::POST => {
                let body: Endpoints<Endpoint> = request.json_body()?;
                let endpoints = body
                    .endpoints
                    .ok_or_else(|| ApiError::invalid("endpoints", "is required"))?;
                let group = engine.add_endpoints(now, name, endpoints)?;
                return Ok(json(StatusCode::OK, &to_json(group)));
            }
            Method::DELETE => {
                let body: Endpoints<RemoveEndpoint> = request.json_body()?;
                let endpoints = body
                    .endpoints
                    .ok_or_else(|| ApiError::invalid("endpoints", "is required"))?;
                engine.remove_endpoints(now, name, &endpoints)?;
                return Ok(json(StatusCode::OK, &serde_json::json!({})));
            }
            _ => return Err(ApiError::method_not_allowed(&request.method, &request.path)),
        }
    }
    match (&request.method, rest) {
        (&Method::GET, "") => {
            let groups: Vec<serde_json::Value> = engine.url_groups().map(to_json).collect();
            Ok(json(StatusCode::OK, &serde_json::Value::Array(groups)))
        }
        (&Method::GET, name) => {
            let group = engine
                .url_group(name)
                .ok_or_else(|| ApiError::not_found(format!("url group `{name}` not found")))?;
            Ok(json(StatusCode::OK, &to_json(group)))
        }
        (&Method::DELETE, name) if !name.is_empty() => {
            engine.delete_url_group(name)?;
            Ok(json(StatusCode::OK, &serde_json::json!({})))
        }
        (method, _) => Err(ApiError::method_not_allowed(method, &request.path)),
    }
}

fn to_json(value: impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}
