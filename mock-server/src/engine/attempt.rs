//! The data exchanged between the engine and the delivery shell: the request an attempt
//! sends and what came back.

use bytes::Bytes;
use std::time::Duration;

/// One HTTP request the engine wants sent to a destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingRequest {
    /// The published URL. The signature's `sub` claim names this URL, whatever host
    /// mapping the delivery client applies.
    pub url: String,
    /// The HTTP method (`Upstash-Method`, POST by default).
    pub method: http::Method,
    /// Headers in the order they are sent, names as QStash writes them.
    pub headers: Vec<(String, String)>,
    /// The body, unchanged from the publish request.
    pub body: Bytes,
    /// How long the attempt may take before it counts as a timeout.
    pub timeout: Duration,
}

/// What one delivery attempt produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The destination answered with an HTTP response, of any status.
    Response(CapturedResponse),
    /// No complete response arrived within the attempt's timeout.
    Timeout,
    /// The connection could not be made or broke before a response arrived.
    ConnectionError {
        /// A short, human-readable cause, without secrets.
        reason: String,
    },
}

/// A response received from a destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedResponse {
    /// The HTTP status code.
    pub status: u16,
    /// Response headers in the order received, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The response body, cut to the delivery client's limit.
    pub body: Bytes,
}
