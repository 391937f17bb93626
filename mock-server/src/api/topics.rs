//! URL groups: `POST` and `DELETE /v2/topics/{name}/endpoints`, `GET /v2/topics`,
//! `GET` and `DELETE /v2/topics/{name}`, and `PATCH /v2/topics/{name}` with
//! `{"headers": {...}}` for the group's default headers.

use super::error::ApiError;
use super::{json, ApiRequest, HttpResponse};
use crate::engine::{Endpoint, RemoveEndpoint};
use crate::rules::canonical_header_name;
use crate::server::shared::Shared;
use http::{Method, StatusCode};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
struct Endpoints<T> {
    endpoints: Option<Vec<T>>,
}

/// The body of `PATCH /v2/topics/{name}`.
#[derive(Debug, Deserialize)]
struct Patch {
    headers: Option<serde_json::Map<String, serde_json::Value>>,
}

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
        (&Method::PATCH, name) if !name.is_empty() => {
            let headers = default_headers(request.json_body()?)?;
            let group = engine.set_url_group_headers(now, name, headers)?;
            Ok(json(StatusCode::OK, &to_json(group)))
        }
        (method, _) => Err(ApiError::method_not_allowed(method, &request.path)),
    }
}

/// Checks the default headers of a PATCH and canonicalises their names. A name may
/// carry the `Upstash-Forward-` prefix, which is dropped; other `Upstash-` names are
/// settings, which the mock does not take as defaults.
fn default_headers(patch: Patch) -> Result<BTreeMap<String, String>, ApiError> {
    let headers = patch
        .headers
        .ok_or_else(|| ApiError::invalid("headers", "is required"))?;
    let mut defaults = BTreeMap::new();
    for (name, value) in headers {
        let field = format!("headers.{name}");
        let serde_json::Value::String(value) = value else {
            return Err(ApiError::invalid(&field, "must be a string"));
        };
        let lower = name.to_ascii_lowercase();
        let forwarded = match lower.strip_prefix("upstash-forward-") {
            Some(_) => &name["upstash-forward-".len()..],
            None if lower.starts_with("upstash-") => {
                // TODO: settings such as Upstash-Retries as group defaults (QStash's
                // server-side templates) are refused rather than applied.
                return Err(ApiError::invalid(
                    &field,
                    "Upstash- settings are not supported as defaults; give headers to \
                     forward",
                ));
            }
            None => name.as_str(),
        };
        if http::HeaderName::from_bytes(forwarded.as_bytes()).is_err() {
            return Err(ApiError::invalid(&field, "is not a valid header name"));
        }
        if http::HeaderValue::from_str(&value).is_err() {
            return Err(ApiError::invalid(
                &field,
                "the value is not valid visible ASCII",
            ));
        }
        defaults.insert(canonical_header_name(forwarded), value);
    }
    Ok(defaults)
}

fn to_json(value: impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}
