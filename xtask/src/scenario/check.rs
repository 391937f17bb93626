//! Checks expectations against what the mock shows through its API and control plane.

use super::model::{Assert, Check, Subject};
use super::report::CheckResult;
use super::run::Session;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use qstash_mock::rules::format_duration_ms;
use serde_json::Value;

/// What a subject looks like on the mock, fetched once per expectation.
enum Seen {
    /// The JSON the mock showed.
    Found(Value),
    /// Why there is nothing to look at (an unknown name, a 404).
    Missing(String),
}

impl Session {
    /// Checks one expectation; one result per claim.
    pub(crate) async fn evaluate(&mut self, check: &Check) -> Vec<CheckResult> {
        let seen = self.fetch(&check.subject).await;
        let subject = subject_label(&check.subject);
        check
            .asserts
            .iter()
            .map(|assert| {
                let (claim, expected, actual) = self.judge(&subject, assert, &seen);
                let passed = actual.is_ok();
                CheckResult {
                    line: check.line,
                    claim,
                    passed,
                    expected,
                    actual: actual.unwrap_or_else(|actual| actual),
                }
            })
            .chain(self.dlq_entries_result(check, &seen))
            .collect()
    }

    /// `dlq_entries` and a bare `dlq` claim through their subject alone.
    fn dlq_entries_result(&self, check: &Check, seen: &Seen) -> Option<CheckResult> {
        let expected = match &check.subject {
            Subject::DlqEntries(expected) => format!("[{}]", expected.join(", ")),
            Subject::Dlq(alias) if check.asserts.is_empty() => {
                let passed = matches!(seen, Seen::Found(_));
                return Some(CheckResult {
                    line: check.line,
                    claim: format!("dlq entry of {alias}: present"),
                    passed,
                    expected: "true".to_owned(),
                    actual: if passed { "true" } else { "false" }.to_owned(),
                });
            }
            _ => return None,
        };
        let actual = match seen {
            Seen::Found(Value::Array(ids)) => {
                let names: Vec<String> = ids
                    .iter()
                    .map(|id| self.display_id(id.as_str().unwrap_or_default()))
                    .collect();
                format!("[{}]", names.join(", "))
            }
            Seen::Found(other) => other.to_string(),
            Seen::Missing(why) => why.clone(),
        };
        Some(CheckResult {
            line: check.line,
            claim: "dlq: entries".to_owned(),
            passed: actual == expected,
            expected,
            actual,
        })
    }

    async fn fetch(&self, subject: &Subject) -> Seen {
        let result = match subject {
            Subject::Message(alias) => match self.id(alias) {
                Ok(id) => {
                    self.fetch_json(&format!("/__mock/messages/{id}/timeline"))
                        .await
                }
                Err(error) => Err(error.to_string()),
            },
            Subject::Dlq(alias) => match self.dlq_id(alias) {
                Ok(dlq_id) => self.fetch_json(&format!("/v2/dlq/{dlq_id}")).await,
                Err(error) => Err(error.to_string()),
            },
            Subject::DlqEntries(_) => self.dlq_message_ids().await,
            Subject::Sink(name) => self
                .fetch_json(&format!("/__mock/sinks/{name}/requests"))
                .await
                .map(sort_requests),
            Subject::Response(alias) => match self.responses.get(alias) {
                Some(answer) => Ok(serde_json::json!({
                    "status": answer.status,
                    "body": self.redact_value(answer.json()),
                })),
                None => Err(format!("no answer was recorded for `{alias}`")),
            },
            Subject::Event { name, of } => {
                let mut path = format!("/__mock/events?event={name}");
                if let Some(alias) = of {
                    match self.id(alias) {
                        Ok(id) => path.push_str(&format!("&messageId={id}")),
                        Err(error) => return Seen::Missing(error.to_string()),
                    }
                }
                self.fetch_json(&path).await
            }
        };
        match result {
            Ok(value) => Seen::Found(value),
            Err(why) => Seen::Missing(why),
        }
    }

    async fn fetch_json(&self, path: &str) -> Result<Value, String> {
        let answer = self
            .client
            .send(http::Method::GET, path, &[], bytes::Bytes::new())
            .await
            .map_err(|error| format!("{error:#}"))?;
        if answer.status == 404 {
            return Err("not found (404)".to_owned());
        }
        if !answer.is_success() {
            return Err(format!(
                "answered {}: {}",
                answer.status,
                answer.error_text()
            ));
        }
        Ok(self.redact_value(answer.json()))
    }

    /// Every message id in the DLQ, oldest first, across pages.
    async fn dlq_message_ids(&self) -> Result<Value, String> {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(cursor) => format!("/v2/dlq?count=100&cursor={cursor}"),
                None => "/v2/dlq?count=100".to_owned(),
            };
            let page = self.fetch_json(&path).await?;
            for entry in page["messages"].as_array().into_iter().flatten() {
                ids.push(entry["messageId"].clone());
            }
            match page["cursor"].as_str() {
                Some(next) if !next.is_empty() => cursor = Some(next.to_owned()),
                _ => return Ok(Value::Array(ids)),
            }
        }
    }

    /// The claim, the expected value, and the actual value (`Ok` when it matches).
    fn judge(
        &self,
        subject: &str,
        assert: &Assert,
        seen: &Seen,
    ) -> (String, String, Result<String, String>) {
        let claim = |what: &str| format!("{subject}: {what}");
        let value = match seen {
            Seen::Found(value) => value,
            Seen::Missing(why) => {
                let (what, expected) = self.claim_of(assert);
                if let Assert::Present(false) = assert {
                    return (claim(&what), expected, Ok("false".to_owned()));
                }
                return (claim(&what), expected, Err(why.clone()));
            }
        };
        let (what, expected) = self.claim_of(assert);
        let actual = match assert {
            Assert::Status(_) => text(&value["status"]),
            Assert::Attempts(_) => value["attempts"].to_string(),
            Assert::AttemptedAt(_) => {
                list(self.attempt_times(value).iter().map(|t| self.offset(*t)))
            }
            Assert::RetryDelays(_) => {
                let times = self.attempt_times(value);
                list(times.windows(2).map(|w| format_duration_ms(w[1] - w[0])))
            }
            Assert::ExpiresAfter(_) => expires_after(value),
            Assert::RetriedAs(_) => value["retriedAs"]
                .as_str()
                .map_or_else(|| "none".to_owned(), |id| self.display_id(id)),
            Assert::SameAs(other) => {
                let mine = value["messageId"].as_str().unwrap_or_default();
                match self.id(other) {
                    Ok(id) if id == mine => other.clone(),
                    _ => format!("a different message ({})", self.display_id(mine)),
                }
            }
            Assert::Present(_) => "true".to_owned(),
            Assert::Fields(expected) | Assert::Json(expected) => {
                let target = match assert {
                    Assert::Json(_) => &value["body"],
                    _ => value,
                };
                let expected = self.expand_value(expected);
                let result = subset(&expected, target);
                return (claim(&what), expected.text(), result);
            }
            Assert::Requests(_) => requests(value).len().to_string(),
            Assert::Statuses(_) => list(requests(value).iter().map(|r| r["status"].to_string())),
            Assert::Retried(_) => list(requests(value).iter().map(|r| r["retried"].to_string())),
            Assert::ReceivedAt(_) => list(
                requests(value)
                    .iter()
                    .map(|r| self.offset(r["time"].as_u64().unwrap_or(0))),
            ),
            Assert::Headers { nth, headers } => {
                let expected = Value::Object(
                    headers
                        .iter()
                        .map(|(n, v)| (n.to_ascii_lowercase(), Value::String(v.clone())))
                        .collect(),
                );
                let expected = self.expand_value(&expected);
                let result = self.per_request(value, *nth, |request| {
                    subset(&expected, &header_object(request))
                });
                return (claim(&what), expected.text(), result);
            }
            Assert::JsonBody { nth, expected } => {
                let expected = self.expand_value(expected);
                let result = self.per_request(value, *nth, |request| {
                    let body = request["body"].as_str().unwrap_or_default();
                    match serde_json::from_str::<Value>(body) {
                        Ok(json) => subset(&expected, &self.redact_value(json)),
                        Err(_) => Err(format!("the body is not JSON: {body:?}")),
                    }
                });
                return (claim(&what), expected.text(), result);
            }
            Assert::Body { nth, expected } => {
                let result = self.per_request(value, *nth, |request| {
                    let body = request["body"].as_str().unwrap_or_default();
                    if body == expected {
                        Ok(format!("{body:?}"))
                    } else {
                        Err(format!("{body:?}"))
                    }
                });
                return (claim(&what), format!("{expected:?}"), result);
            }
            Assert::HttpStatus(_) => value["status"].to_string(),
            Assert::Count(_) => value["events"].as_array().map_or(0, Vec::len).to_string(),
        };
        let result = if actual == expected {
            Ok(actual)
        } else {
            Err(actual)
        };
        (claim(&what), expected, result)
    }

    /// What a claim is called and the value it expects, as text.
    fn claim_of(&self, assert: &Assert) -> (String, String) {
        let durations = |values: &[u64]| list(values.iter().map(|v| format_duration_ms(*v)));
        let offsets = |values: &[u64]| {
            list(
                values
                    .iter()
                    .map(|v| format!("+{}", format_duration_ms(*v))),
            )
        };
        let nth_label = |nth: &Option<u32>, what: &str| match nth {
            Some(n) => format!("request {n} {what}"),
            None => format!("every request's {what}"),
        };
        match assert {
            Assert::Status(status) => ("status".into(), status.clone()),
            Assert::Attempts(n) => ("attempts".into(), n.to_string()),
            Assert::AttemptedAt(at) => ("attempted at".into(), offsets(at)),
            Assert::RetryDelays(delays) => ("delays between attempts".into(), durations(delays)),
            Assert::ExpiresAfter(ms) => ("DLQ entry kept for".into(), format_duration_ms(*ms)),
            Assert::RetriedAs(alias) => ("retried from the DLQ as".into(), alias.clone()),
            Assert::SameAs(alias) => ("same message as".into(), alias.clone()),
            Assert::Present(present) => ("present".into(), present.to_string()),
            Assert::Fields(_) => ("fields include".into(), String::new()),
            Assert::Requests(n) => ("requests received".into(), n.to_string()),
            Assert::Statuses(s) => (
                "statuses answered".into(),
                list(s.iter().map(u16::to_string)),
            ),
            Assert::Retried(r) => (
                "Upstash-Retried values".into(),
                list(r.iter().map(u32::to_string)),
            ),
            Assert::ReceivedAt(at) => ("received at".into(), offsets(at)),
            Assert::Headers { nth, .. } => (nth_label(nth, "headers include"), String::new()),
            Assert::JsonBody { nth, .. } => (nth_label(nth, "JSON body includes"), String::new()),
            Assert::Body { nth, expected } => (nth_label(nth, "body"), format!("{expected:?}")),
            Assert::HttpStatus(status) => ("HTTP status".into(), status.to_string()),
            Assert::Json(_) => ("JSON body includes".into(), String::new()),
            Assert::Count(n) => ("count".into(), n.to_string()),
        }
    }

    /// Applies a per-request check to the `nth` request, or to every request.
    fn per_request(
        &self,
        value: &Value,
        nth: Option<u32>,
        judge: impl Fn(&Value) -> Result<String, String>,
    ) -> Result<String, String> {
        let requests = requests(value);
        if let Some(n) = nth {
            return match requests.get(n as usize - 1) {
                Some(request) => judge(request),
                None => Err(format!("only {} requests arrived", requests.len())),
            };
        }
        if requests.is_empty() {
            return Err("no request arrived".to_owned());
        }
        for (index, request) in requests.iter().enumerate() {
            if let Err(why) = judge(request) {
                return Err(format!("request {}: {why}", index + 1));
            }
        }
        Ok("every request matched".to_owned())
    }

    /// Fills in `${id:NAME}`, `${dlq:NAME}`, `${sink:NAME}` and `${base64:TEXT}`.
    fn expand_value(&self, value: &Value) -> Expected {
        let mut problems = Vec::new();
        let value = self.expand_json(value, &mut problems);
        Expected { value, problems }
    }

    fn expand_json(&self, value: &Value, problems: &mut Vec<String>) -> Value {
        match value {
            Value::String(text) => Value::String(self.expand(text, problems)),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.expand_json(item, problems))
                    .collect(),
            ),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.expand_json(v, problems)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn expand(&self, text: &str, problems: &mut Vec<String>) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                return out;
            };
            let inner = &after[..end];
            let filled = match inner.split_once(':') {
                Some(("id", alias)) => self.id(alias).map_err(|e| e.to_string()),
                Some(("dlq", alias)) => self.dlq_id(alias).map_err(|e| e.to_string()),
                Some(("sink", name)) => Ok(format!("sink:{name}")),
                Some(("base64", plain)) => Ok(STANDARD.encode(plain)),
                _ => Err(format!("`${{{inner}}}` is not a placeholder")),
            };
            match filled {
                Ok(filled) => out.push_str(&filled),
                Err(problem) => {
                    problems.push(problem);
                    out.push_str(&format!("${{{inner}}}"));
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }

    fn redact_value(&self, value: Value) -> Value {
        match value {
            Value::String(text) => Value::String(self.redact(&text)),
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| self.redact_value(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k, self.redact_value(v)))
                    .collect(),
            ),
            other => other,
        }
    }

    /// The times of a timeline's attempts.
    fn attempt_times(&self, timeline: &Value) -> Vec<u64> {
        timeline["entries"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|entry| {
                matches!(
                    entry["event"].as_str(),
                    Some("attemptSucceeded" | "attemptFailed")
                )
            })
            .filter_map(|entry| entry["time"].as_u64())
            .collect()
    }
}

fn subject_label(subject: &Subject) -> String {
    match subject {
        Subject::Message(alias) => format!("message {alias}"),
        Subject::Dlq(alias) => format!("dlq entry of {alias}"),
        Subject::DlqEntries(_) => "dlq".to_owned(),
        Subject::Sink(name) => format!("sink {name}"),
        Subject::Response(alias) => format!("answer to {alias}"),
        Subject::Event { name, of: None } => format!("events {name}"),
        Subject::Event { name, of: Some(of) } => format!("events {name} of {of}"),
    }
}

/// Compares `expected` as a part of `actual`: objects may hold more keys, arrays and
/// scalars must match.
fn compare(expected: &Value, actual: &Value, path: &str, problems: &mut Vec<String>) {
    let at = |path: &str| {
        if path.is_empty() {
            ".".to_owned()
        } else {
            path.to_owned()
        }
    };
    match (expected, actual) {
        (Value::Object(want), Value::Object(have)) => {
            for (key, want) in want {
                let path = format!("{path}.{key}");
                match have.get(key) {
                    Some(have) => compare(want, have, &path, problems),
                    None => problems.push(format!("{path} is missing")),
                }
            }
        }
        (Value::Array(want), Value::Array(have)) if want.len() == have.len() => {
            for (index, (want, have)) in want.iter().zip(have).enumerate() {
                compare(want, have, &format!("{path}[{index}]"), problems);
            }
        }
        (Value::Number(want), Value::Number(have)) if want.as_f64() == have.as_f64() => {}
        _ if expected == actual => {}
        _ => problems.push(format!("{} is {}, not {}", at(path), actual, expected)),
    }
}

/// An expected JSON value with its placeholders filled in, and the placeholders that
/// could not be.
struct Expected {
    value: Value,
    problems: Vec<String>,
}

impl Expected {
    fn text(&self) -> String {
        self.value.to_string()
    }
}

/// Checks that `expected` is a part of `actual`.
fn subset(expected: &Expected, actual: &Value) -> Result<String, String> {
    let mut problems = expected.problems.clone();
    compare(&expected.value, actual, "", &mut problems);
    if problems.is_empty() {
        Ok("matched".to_owned())
    } else {
        Err(problems.join("; "))
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "none".to_owned(),
        other => other.to_string(),
    }
}

fn list(items: impl Iterator<Item = String>) -> String {
    format!("[{}]", items.collect::<Vec<_>>().join(", "))
}

fn requests(value: &Value) -> Vec<Value> {
    value.as_array().cloned().unwrap_or_default()
}

fn header_object(request: &Value) -> Value {
    let mut map = serde_json::Map::new();
    for pair in request["headers"].as_array().into_iter().flatten() {
        if let (Some(name), Some(value)) = (pair[0].as_str(), pair[1].as_str()) {
            map.entry(name.to_ascii_lowercase())
                .or_insert_with(|| Value::String(value.to_owned()));
        }
    }
    Value::Object(map)
}

/// How long after entering the DLQ the entry expires, from the timeline.
fn expires_after(timeline: &Value) -> String {
    let entered = timeline["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|entry| entry["event"].as_str() == Some("movedToDlq"))
        .filter_map(|entry| entry["time"].as_u64())
        .next_back();
    match (entered, timeline["expiresAt"].as_u64()) {
        (Some(entered), Some(expires)) => format_duration_ms(expires.saturating_sub(entered)),
        _ => "never entered the DLQ".to_owned(),
    }
}

/// Requests in a stable order: by arrival time, then by message and attempt, since
/// deliveries at the same instant run concurrently and may arrive in any order.
fn sort_requests(value: Value) -> Value {
    let mut requests = requests(&value);
    requests.sort_by(|a, b| {
        let key = |r: &Value| {
            (
                r["time"].as_u64().unwrap_or(0),
                r["messageId"].as_str().unwrap_or_default().to_owned(),
                r["retried"].as_u64().unwrap_or(0),
            )
        };
        key(a).cmp(&key(b))
    });
    Value::Array(requests)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(expected: Value, actual: Value) -> Vec<String> {
        let mut problems = Vec::new();
        compare(&expected, &actual, "", &mut problems);
        problems
    }

    #[test]
    fn an_object_may_hold_more_keys_than_expected() {
        let found = problems(json!({ "a": 1 }), json!({ "a": 1, "b": 2 }));

        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn a_missing_key_and_a_different_value_are_named_by_their_path() {
        let found = problems(
            json!({ "a": { "b": 1 }, "c": "x" }),
            json!({ "a": { "b": 2 } }),
        );

        assert_eq!(found, vec![".a.b is 2, not 1", ".c is missing"]);
    }

    #[test]
    fn arrays_must_match_in_length_and_order() {
        let shorter = problems(json!([1, 2]), json!([1, 2, 3]));
        let reordered = problems(json!([1, 2]), json!([2, 1]));

        assert_eq!(shorter, vec![". is [1,2,3], not [1,2]"]);
        assert_eq!(reordered, vec!["[0] is 2, not 1", "[1] is 1, not 2"]);
    }

    #[test]
    fn an_integer_matches_the_same_number_written_as_a_float() {
        let found = problems(json!({ "status": 500 }), json!({ "status": 500.0 }));

        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn requests_are_ordered_by_time_then_message_then_attempt() {
        let requests = json!([
            { "time": 2, "messageId": "a", "retried": 0 },
            { "time": 1, "messageId": "b", "retried": 1 },
            { "time": 1, "messageId": "a", "retried": 0 },
        ]);

        let sorted = sort_requests(requests);

        let order: Vec<(u64, &str)> = sorted
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                (
                    r["time"].as_u64().unwrap_or(0),
                    r["messageId"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(order, vec![(1, "a"), (1, "b"), (2, "a")]);
    }
}
