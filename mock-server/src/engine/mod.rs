//! The pure state machine at the heart of the mock.

mod attempt;

pub use attempt::{AttemptOutcome, CapturedResponse, OutgoingRequest};
