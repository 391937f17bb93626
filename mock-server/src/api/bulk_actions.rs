//! `GET /v2/bulkActions/{actionId}`: how a bulk DLQ delete or retry, or an asynchronous
//! bulk cancel, went. The mock completes them at once.

use super::error::ApiError;
use super::{json, ApiRequest, HttpResponse};
use crate::server::shared::Shared;
use http::{Method, StatusCode};
use std::sync::Arc;

pub(super) fn route(
    shared: &Arc<Shared>,
    request: &ApiRequest,
    action_id: &str,
) -> Result<HttpResponse, ApiError> {
    if request.method != Method::GET {
        return Err(ApiError::method_not_allowed(&request.method, &request.path));
    }
    let engine = shared.engine();
    let action = engine
        .bulk_action(action_id)
        .ok_or_else(|| ApiError::not_found(format!("bulk action `{action_id}` not found")))?;
    let body = serde_json::to_value(action).unwrap_or_default();
    Ok(json(StatusCode::OK, &body))
}

/// The filter of a bulk action as QStash shows it: `{parameter: [values]}`, without the
/// token and the paging parameters.
pub(super) fn filter_of(
    pairs: &[(String, String)],
) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut filter = std::collections::BTreeMap::<String, Vec<String>>::new();
    for (name, value) in pairs {
        if matches!(name.as_str(), "qstash_token" | "cursor" | "count" | "async") {
            continue;
        }
        let name = name.trim_end_matches("[]").to_owned();
        filter
            .entry(name)
            .or_default()
            .extend(value.split(',').map(str::trim).map(str::to_owned));
    }
    filter
}
