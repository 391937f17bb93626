//! Why the engine refused a call.

use thiserror::Error;

/// A refusal, worded for the API user. The HTTP layer maps each kind to QStash's status.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EngineError {
    /// A field of the request was malformed or out of range (400).
    #[error("{field}: {reason}")]
    InvalidInput {
        /// The header, parameter or JSON field at fault.
        field: String,
        /// What was wrong and what is expected.
        reason: String,
    },
    /// No such message, DLQ entry or other resource (404).
    #[error("{what} `{id}` not found")]
    NotFound {
        /// What was looked up, e.g. "message" or "dlq entry".
        what: &'static str,
        /// The id given.
        id: String,
    },
    /// The body is larger than the plan allows (413).
    #[error("body of {size} bytes exceeds the plan's limit of {limit} bytes")]
    PayloadTooLarge {
        /// The body's size.
        size: usize,
        /// The plan's limit.
        limit: usize,
    },
}

impl EngineError {
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        EngineError::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The HTTP status QStash uses for this refusal.
    pub fn status(&self) -> u16 {
        match self {
            EngineError::InvalidInput { .. } => 400,
            EngineError::NotFound { .. } => 404,
            EngineError::PayloadTooLarge { .. } => 413,
        }
    }
}
