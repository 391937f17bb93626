//! `GET /v2/keys` and `POST /v2/keys/rotate`.

use super::error::ApiError;
use super::{json, ApiRequest, HttpResponse};
use crate::server::shared::Shared;
use http::{Method, StatusCode};
use std::sync::Arc;

pub(super) fn route(
    shared: &Arc<Shared>,
    request: &ApiRequest,
    path: &str,
) -> Result<HttpResponse, ApiError> {
    let keys = match (&request.method, path) {
        (&Method::GET, "/v2/keys") => shared.engine().signing_keys().clone(),
        (&Method::POST, "/v2/keys/rotate") => {
            let now = shared.clock.now_ms();
            shared.engine().rotate_signing_keys(now)
        }
        (method, path) => return Err(ApiError::method_not_allowed(method, path)),
    };
    let body = serde_json::json!({ "current": keys.current, "next": keys.next });
    Ok(json(StatusCode::OK, &body))
}
