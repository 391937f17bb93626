//! `POST /v2/enqueue/{queue}/{destination}`: a publish that waits its turn in a queue,
//! which is created with parallelism 1 when it does not exist.

use super::error::ApiError;
use super::publish::publish_routed;
use super::{ApiRequest, HttpResponse};
use crate::engine::validate_name;
use crate::server::shared::Shared;
use http::Method;
use std::sync::Arc;

pub(super) fn route(
    shared: &Arc<Shared>,
    request: &ApiRequest,
    rest: &str,
) -> Result<HttpResponse, ApiError> {
    if request.method != Method::POST {
        return Err(ApiError::method_not_allowed(&request.method, &request.path));
    }
    let Some((queue, destination)) = rest.split_once('/').filter(|(_, d)| !d.is_empty()) else {
        return Err(ApiError::invalid(
            "destination",
            "missing: use /v2/enqueue/{queueName}/{destination}",
        ));
    };
    validate_name("queueName", queue)?;
    publish_routed(shared, request, destination, Some(queue.to_owned()))
}
