//! `GET` and `DELETE /v2/messages/{id}` and bulk cancel, `DELETE /v2/messages`.

use super::error::ApiError;
use super::query::values;
use super::{json, views, ApiRequest, HttpResponse};
use crate::server::shared::Shared;
use http::{Method, StatusCode};
use serde::Deserialize;
use std::sync::Arc;

/// The legacy JSON form of bulk cancel.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CancelBody {
    #[serde(default)]
    message_ids: Vec<String>,
}

pub(super) fn route(
    shared: &Arc<Shared>,
    request: &ApiRequest,
    rest: &str,
) -> Result<HttpResponse, ApiError> {
    let id = rest.strip_prefix('/').unwrap_or_default();
    match (&request.method, id) {
        (&Method::DELETE, "") => cancel_many(shared, request),
        (&Method::GET, id) if !id.is_empty() => {
            let engine = shared.engine();
            let message = engine
                .message(id)
                .ok_or_else(|| ApiError::not_found(format!("message `{id}` not found")))?;
            Ok(json(StatusCode::OK, &views::message(message)))
        }
        (&Method::DELETE, id) if !id.is_empty() => {
            let now = shared.clock.now_ms();
            shared.engine().cancel(now, id)?;
            Ok(json(StatusCode::OK, &serde_json::json!({ "cancelled": 1 })))
        }
        (method, _) => Err(ApiError::method_not_allowed(method, &request.path)),
    }
}

/// Cancels the messages named by `messageIds` (query or JSON body), those matching the
/// `url` and `label` filters, or, with neither, every message.
fn cancel_many(shared: &Arc<Shared>, request: &ApiRequest) -> Result<HttpResponse, ApiError> {
    let pairs = request.query_pairs();
    let body: CancelBody = request.json_body()?;
    let mut ids = values(&pairs, &["messageIds", "messageIds[]", "messageId"]);
    ids.extend(body.message_ids);
    let urls = values(&pairs, &["url", "url[]"]);
    let labels = values(&pairs, &["label", "label[]"]);
    let now = shared.clock.now_ms();
    let mut engine = shared.engine();

    let selected: Vec<String> = if !ids.is_empty() {
        ids
    } else {
        engine
            .messages()
            .filter(|m| urls.is_empty() || urls.contains(&m.url))
            .filter(|m| labels.is_empty() || m.labels.iter().any(|l| labels.contains(l)))
            .map(|m| m.message_id.clone())
            .collect()
    };
    let cancelled = selected
        .iter()
        .filter(|id| engine.cancel(now, id).is_ok())
        .count();
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "cancelled": cancelled }),
    ))
}
