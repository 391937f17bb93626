//! Scripted destinations served by the mock itself.
//!
//! A sink lives at `/__sinks/{name}` (any deeper path and query reach the same sink). It
//! answers each request from its script and keeps every request it received, so a test
//! can point messages at it without running a server of its own.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a sink picks the script entry for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ScriptIndex {
    /// By the request's `Upstash-Retried` header: entry 0 answers first attempts, entry 1
    /// first retries, and so on. Deterministic even when deliveries run concurrently.
    #[default]
    Attempt,
    /// By the number of requests the sink received before, whatever message they were for.
    Request,
}

/// One scripted answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SinkResponse {
    /// The status to answer with.
    #[serde(default = "ok_status")]
    pub status: u16,
    /// Headers to answer with, e.g. `Retry-After`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The body to answer with.
    #[serde(default)]
    pub body: String,
    /// Wall-clock milliseconds to wait before answering (to provoke timeouts).
    #[serde(default)]
    pub delay_ms: u64,
    /// Close the connection without answering.
    #[serde(default)]
    pub drop_connection: bool,
}

fn ok_status() -> u16 {
    200
}

impl SinkResponse {
    /// An answer with this status and nothing else.
    pub fn status(status: u16) -> Self {
        SinkResponse {
            status,
            headers: BTreeMap::new(),
            body: String::new(),
            delay_ms: 0,
            drop_connection: false,
        }
    }

    /// Adds a header to the answer.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// Sets the answer's body.
    #[must_use]
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = body.into();
        self
    }

    /// Waits this long (wall clock) before answering.
    #[must_use]
    pub fn delay_ms(mut self, delay_ms: u64) -> Self {
        self.delay_ms = delay_ms;
        self
    }

    /// Closes the connection instead of answering.
    pub fn dropped_connection() -> Self {
        SinkResponse {
            drop_connection: true,
            ..SinkResponse::status(0)
        }
    }
}

/// A sink's script: answers in order; the last one repeats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SinkScript {
    /// The answers; an empty list answers 200 to everything.
    #[serde(default)]
    pub responses: Vec<SinkResponse>,
    /// How an answer is picked.
    #[serde(default)]
    pub per: ScriptIndex,
}

impl Default for SinkScript {
    fn default() -> Self {
        SinkScript {
            responses: vec![SinkResponse::status(200)],
            per: ScriptIndex::Attempt,
        }
    }
}

impl SinkScript {
    /// A script answering these statuses in order, the last one repeating.
    pub fn statuses(statuses: &[u16]) -> Self {
        SinkScript {
            responses: statuses.iter().map(|s| SinkResponse::status(*s)).collect(),
            per: ScriptIndex::Attempt,
        }
    }

    /// The answer for a request with this `Upstash-Retried` value, when `seen` requests
    /// came before it.
    pub fn pick(&self, retried: u32, seen: usize) -> SinkResponse {
        let index = match self.per {
            ScriptIndex::Attempt => retried as usize,
            ScriptIndex::Request => seen,
        };
        match self.responses.get(index).or_else(|| self.responses.last()) {
            Some(response) => response.clone(),
            None => SinkResponse::status(200),
        }
    }
}

/// A request a sink received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedRequest {
    /// Unix ms on the mock's clock when it arrived.
    pub time: u64,
    /// The method.
    pub method: String,
    /// Path below the sink, with query string (`/` for the sink itself).
    pub path: String,
    /// The headers, names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    /// The body as text when it is UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The body as base64 when it is not UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
    /// `Upstash-Message-Id`, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// `Upstash-Retried`, 0 when absent.
    pub retried: u32,
    /// The status the sink answered with; 0 when it dropped the connection.
    pub status: u16,
}

impl ReceivedRequest {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The raw body bytes.
    pub fn body_bytes(&self) -> Vec<u8> {
        match (&self.body, &self.body_base64) {
            (Some(text), _) => text.as_bytes().to_vec(),
            (None, Some(encoded)) => STANDARD.decode(encoded).unwrap_or_default(),
            (None, None) => Vec::new(),
        }
    }
}

/// A sink: its script and what it received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sink {
    /// The name in its URL.
    pub name: String,
    /// How it answers.
    pub script: SinkScript,
    /// What it received, in arrival order.
    pub received: Vec<ReceivedRequest>,
}

/// All sinks of one mock.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Sinks {
    sinks: BTreeMap<String, Sink>,
}

/// Checks a sink name: letters, digits, `-`, `_` and `.`, 1 to 64 of them.
///
/// # Errors
/// A message naming what is wrong.
pub fn validate_sink_name(name: &str) -> Result<(), String> {
    let valid_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.is_empty() || name.len() > 64 || !name.chars().all(valid_char) {
        return Err(format!(
            "`{name}` is not a valid sink name: use 1 to 64 letters, digits, `-`, `_` or `.`"
        ));
    }
    Ok(())
}

impl Sinks {
    /// Creates or replaces a sink's script, keeping what it received.
    pub fn upsert(&mut self, name: &str, script: SinkScript) -> &Sink {
        let sink = self.sinks.entry(name.to_owned()).or_insert_with(|| Sink {
            name: name.to_owned(),
            script: SinkScript::default(),
            received: Vec::new(),
        });
        sink.script = script;
        sink
    }

    /// One sink.
    pub fn get(&self, name: &str) -> Option<&Sink> {
        self.sinks.get(name)
    }

    /// Every sink, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Sink> {
        self.sinks.values()
    }

    /// Removes a sink; whether it existed.
    pub fn remove(&mut self, name: &str) -> bool {
        self.sinks.remove(name).is_some()
    }

    /// Forgets what a sink received.
    pub fn clear_received(&mut self, name: &str) -> bool {
        match self.sinks.get_mut(name) {
            Some(sink) => {
                sink.received.clear();
                true
            }
            None => false,
        }
    }

    /// Picks the answer for an arriving request and records it. `None` for an unknown sink.
    pub fn receive(&mut self, name: &str, mut request: ReceivedRequest) -> Option<SinkResponse> {
        let sink = self.sinks.get_mut(name)?;
        let response = sink.script.pick(request.retried, sink.received.len());
        request.status = if response.drop_connection {
            0
        } else {
            response.status
        };
        sink.received.push(request);
        Some(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_answers_by_attempt_and_repeats_its_last_entry() {
        let script = SinkScript::statuses(&[500, 503, 200]);

        let statuses: Vec<u16> = (0..5).map(|r| script.pick(r, 0).status).collect();

        assert_eq!(statuses, vec![500, 503, 200, 200, 200]);
    }

    #[test]
    fn a_request_indexed_script_counts_every_request() {
        let script = SinkScript {
            per: ScriptIndex::Request,
            ..SinkScript::statuses(&[500, 200])
        };

        assert_eq!(script.pick(0, 0).status, 500);
        assert_eq!(script.pick(0, 1).status, 200);
    }

    #[test]
    fn an_empty_script_answers_ok() {
        let script = SinkScript {
            responses: vec![],
            per: ScriptIndex::Attempt,
        };

        assert_eq!(script.pick(3, 3).status, 200);
    }

    #[test]
    fn sink_names_are_checked() {
        assert!(validate_sink_name("app-1.v2_x").is_ok());
        assert!(validate_sink_name("").is_err());
        assert!(validate_sink_name("a/b")
            .unwrap_err()
            .contains("not a valid sink name"));
    }

    #[test]
    fn unknown_script_fields_are_refused() {
        let error =
            serde_json::from_str::<SinkScript>(r#"{"responses":[{"stauts":500}]}"#).unwrap_err();

        assert!(error.to_string().contains("stauts"));
    }
}
