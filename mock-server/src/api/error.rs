//! Errors in QStash's shape: `{"error": "..."}` with the status QStash uses.

use super::HttpResponse;
use crate::engine::EngineError;
use bytes::Bytes;
use http::{Method, Response, StatusCode};
use http_body_util::Full;

/// A refusal on its way to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// The refusal's text, for answers that carry it in a JSON array slot.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, message)
    }

    pub(crate) fn method_not_allowed(method: &Method, path: &str) -> Self {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!(
                "{method} is not allowed on {}",
                path.split("://").next().unwrap_or(path)
            ),
        )
    }

    pub(crate) fn invalid(field: &str, reason: impl std::fmt::Display) -> Self {
        ApiError::bad_request(format!("{field}: {reason}"))
    }

    pub(crate) fn into_response(self) -> HttpResponse {
        tracing::debug!(status = self.status.as_u16(), error = %self.message, "request refused");
        json(self.status, &serde_json::json!({ "error": self.message }))
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
        ApiError::new(status, error.to_string())
    }
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, value: &serde_json::Value) -> HttpResponse {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}
