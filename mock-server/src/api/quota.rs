//! The optional plan limits: 429 answers with the headers the official SDKs read to tell
//! the daily quota (`RateLimit-*`) from the burst limit (`Burst-RateLimit-*`).

use super::{json, ApiRequest, HttpResponse};
use crate::engine::LimitExceeded;
use crate::server::shared::Shared;
use http::{HeaderValue, StatusCode};

/// TODO: the daily quota is checked before a call, so one batch or URL-group publish may
/// go past it by its own size, and schedule firings count but are never refused.
///
/// The 429 answer for a request over a limit, or `None` when it may go on. Publish,
/// enqueue and batch count against the daily quota; the other `/v2` routes against the
/// burst limit. The control plane and the sinks are never limited.
pub(super) fn refusal(shared: &Shared, request: &ApiRequest) -> Option<HttpResponse> {
    let path = request.path.as_str();
    if !path.starts_with("/v2/") {
        return None;
    }
    let publishing =
        path.starts_with("/v2/publish/") || path.starts_with("/v2/enqueue/") || path == "/v2/batch";
    let now = shared.clock.now_ms();
    let mut engine = shared.engine();
    let checked = if publishing {
        engine.check_daily_quota(now)
    } else {
        engine.take_burst(now)
    };
    checked.err().map(too_many_requests)
}

fn too_many_requests(exceeded: LimitExceeded) -> HttpResponse {
    let (prefix, limit, reset, message) = match exceeded {
        LimitExceeded::Daily { limit, reset } => (
            "RateLimit",
            limit,
            reset,
            format!("daily message quota of {limit} exceeded; it renews at unix time {reset}"),
        ),
        LimitExceeded::Burst { limit, reset } => (
            "Burst-RateLimit",
            limit,
            reset,
            format!("burst limit of {limit} requests per second exceeded"),
        ),
    };
    tracing::debug!(limit, reset, "request over a plan limit");
    let mut response = json(
        StatusCode::TOO_MANY_REQUESTS,
        &serde_json::json!({ "error": message }),
    );
    let headers = response.headers_mut();
    for (name, value) in [("Limit", limit), ("Remaining", 0), ("Reset", reset)] {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(format!("{prefix}-{name}").as_bytes()),
            HeaderValue::from_str(&value.to_string()),
        ) {
            headers.insert(name, value);
        }
    }
    response
}
