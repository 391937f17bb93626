//! Plays a scenario against a mock over HTTP: reset, sinks, steps, checks.
//!
//! The runner only speaks HTTP (QStash's API and the control plane), so the same file
//! plays unchanged against an embedded mock and against a running `qstash-mock`.

use super::client::{Answer, MockClient};
use super::model::{Action, Destination, Scenario, Step, TimePoint};
use super::report::{EventLine, ScenarioReport, Settings, StepReport};
use anyhow::Context as _;
use bytes::Bytes;
use http::Method;
use qstash_mock::engine::format_time;
use qstash_mock::rules::format_duration_ms;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Where the mock runs and the token it takes.
#[derive(Debug, Clone)]
pub struct Target {
    /// The mock's base URL, like `http://127.0.0.1:8080`.
    pub url: String,
    /// Its token.
    pub token: String,
}

/// Plays one scenario against the mock at `target` and reports what happened.
///
/// The mock is reset first, so whatever it held before is gone.
pub async fn play(scenario: &Scenario, target: &Target) -> ScenarioReport {
    let client = MockClient::new(&target.url, &target.token);
    let mut report = ScenarioReport {
        name: scenario.name.clone(),
        file: scenario.file.clone(),
        description: scenario.description.clone(),
        settings: None,
        steps: Vec::new(),
        checks: Vec::new(),
        error: None,
    };
    let mut session = match Session::start(client, scenario).await {
        Ok((session, settings)) => {
            report.settings = Some(settings);
            session
        }
        Err(error) => {
            report.error = Some(format!("could not prepare the mock: {error:#}"));
            return report;
        }
    };

    for (index, step) in scenario.steps.iter().enumerate() {
        let step_report = session.step(index + 1, step).await;
        let failed = step_report.error.clone();
        report.steps.push(step_report);
        if let Some(error) = failed {
            report.error = Some(format!("step {} failed: {error}", index + 1));
            return report;
        }
    }
    for check in &scenario.checks {
        let results = session.evaluate(check).await;
        report.checks.extend(results);
    }
    report
}

/// The state of one scenario being played: the names it gave to ids, and what it saw.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) client: MockClient,
    /// The mock's own base URL, which sink URLs start with.
    pub(crate) base_url: String,
    /// The clock at the start, unix ms.
    pub(crate) start_ms: u64,
    /// Message ids by the scenario's names.
    pub(crate) ids: BTreeMap<String, String>,
    /// The first name given to each message id.
    pub(crate) names: BTreeMap<String, String>,
    /// DLQ ids by message id.
    pub(crate) dlq_ids: BTreeMap<String, String>,
    /// The API's answers, by the name of the step that got them.
    pub(crate) responses: BTreeMap<String, Answer>,
    /// How many derived messages (callbacks, DLQ retries) each name has, by kind.
    derived: BTreeMap<(String, String), u32>,
}

impl Session {
    /// Resets the mock with the scenario's settings, freezes its clock and creates the
    /// sinks.
    async fn start(client: MockClient, scenario: &Scenario) -> anyhow::Result<(Self, Settings)> {
        let mock = &scenario.mock;
        // TODO: a target launched with `--retention`, `--dedup-window` or
        // `--default-retries` keeps them unless the file sets them, since a reset body
        // cannot clear a launch override; the report's header shows the retention used.
        let mut body = json!({ "seed": mock.seed, "plan": mock.plan, "start": mock.start });
        if let Some(retention) = &mock.retention {
            body["retention"] = json!(retention);
        }
        if let Some(window) = &mock.dedup_window {
            body["dedupWindow"] = json!(window);
        }
        if let Some(retries) = mock.default_retries {
            body["defaultRetries"] = json!(retries);
        }
        // A running clock would let work fall due between two steps, and would move
        // between the reset and the first step; freeze it first, since a reset keeps the
        // clock's mode.
        client
            .control(
                Method::PUT,
                "/__mock/clock/mode",
                Some(&json!({ "mode": "frozen" })),
            )
            .await?;
        let reset = client
            .control(Method::POST, "/__mock/reset", Some(&body))
            .await?;
        let start_ms = reset["clock"]["now"]
            .as_u64()
            .context("the reset answer has no `clock.now`")?;
        let config = &reset["config"];
        let base_url = config["url"]
            .as_str()
            .context("the reset answer has no `config.url`")?
            .trim_end_matches('/')
            .to_owned();

        for sink in &scenario.sinks {
            let path = format!("/__mock/sinks/{}", sink.name);
            client
                .control(Method::PUT, &path, Some(&sink.script))
                .await?;
        }

        let settings = Settings {
            seed: config["seed"].as_u64().unwrap_or(mock.seed),
            plan: config["plan"].as_str().unwrap_or(&mock.plan).to_owned(),
            retention: config["retentionMs"]
                .as_u64()
                .map_or_else(|| "unknown".to_owned(), format_duration_ms),
            start: format_time(start_ms),
        };
        let session = Session {
            client,
            base_url,
            start_ms,
            ids: BTreeMap::new(),
            names: BTreeMap::new(),
            dlq_ids: BTreeMap::new(),
            responses: BTreeMap::new(),
            derived: BTreeMap::new(),
        };
        Ok((session, settings))
    }

    async fn step(&mut self, number: usize, step: &Step) -> StepReport {
        let mut report = StepReport {
            number,
            line: step.line,
            action: self.describe_action(&step.action),
            outcome: None,
            events: Vec::new(),
            checks: Vec::new(),
            error: None,
        };
        match self.act(&step.action, &mut report).await {
            Ok(()) => {}
            Err(error) => {
                report.error = Some(self.redact(&format!("{error:#}")));
                return report;
            }
        }
        for check in &step.checks {
            let results = self.evaluate(check).await;
            report.checks.extend(results);
        }
        report
    }

    async fn act(&mut self, action: &Action, report: &mut StepReport) -> anyhow::Result<()> {
        let clock = match action {
            Action::Publish {
                destination,
                alias,
                body,
                headers,
            } => {
                self.publish(destination, alias.as_deref(), body, headers, report)
                    .await?;
                self.settle(report).await?
            }
            Action::Advance { ms } => {
                let body = json!({ "ms": ms });
                self.clock_call("advance", Some(&body), report).await?
            }
            Action::AdvanceTo { to } => {
                let to = match to {
                    TimePoint::Offset(ms) => json!(self.start_ms + ms),
                    TimePoint::Instant(text) => json!(text),
                };
                let body = json!({ "to": to });
                self.clock_call("advance-to", Some(&body), report).await?
            }
            Action::Next { times } => {
                let mut last = Value::Null;
                for _ in 0..*times {
                    last = self.clock_call("next", None, report).await?;
                }
                last
            }
            Action::RunUntilIdle { max_steps } => {
                let body = max_steps.map_or_else(|| json!({}), |n| json!({ "maxSteps": n }));
                let answer = self
                    .clock_call("run-until-idle", Some(&body), report)
                    .await?;
                if answer["stepLimitReached"].as_bool() == Some(true) {
                    report.outcome = Some("stopped at the step limit".to_owned());
                }
                answer
            }
            Action::Settle => self.settle(report).await?,
            Action::DlqRetry { of, alias, headers } => {
                self.dlq_retry(of, alias.as_deref(), headers, report)
                    .await?;
                self.settle(report).await?
            }
            Action::DlqDelete { of } => {
                let dlq_id = self.dlq_id(of)?;
                let path = format!("/v2/dlq/{dlq_id}");
                self.api(Method::DELETE, &path, &[], Bytes::new()).await?;
                self.settle(report).await?
            }
            Action::Cancel { of } => {
                let id = self.id(of)?;
                let path = format!("/v2/messages/{id}");
                self.api(Method::DELETE, &path, &[], Bytes::new()).await?;
                self.settle(report).await?
            }
            Action::RotateKeys => {
                self.api(Method::POST, "/v2/keys/rotate", &[], Bytes::new())
                    .await?;
                self.settle(report).await?
            }
        };
        if report.outcome.is_none() && is_clock_action(action) {
            if let Some(to) = clock["to"].as_u64() {
                report.outcome = Some(format!("clock at {}", self.offset(to)));
            }
        }
        Ok(())
    }

    /// Calls the API and fails the step on a refusal.
    async fn api(
        &self,
        method: Method,
        path: &str,
        headers: &[(String, String)],
        body: Bytes,
    ) -> anyhow::Result<Answer> {
        let answer = self
            .client
            .send(method.clone(), path, headers, body)
            .await?;
        if !answer.is_success() {
            anyhow::bail!(
                "{method} {path} answered {}: {}",
                answer.status,
                answer.error_text()
            );
        }
        Ok(answer)
    }

    async fn publish(
        &mut self,
        destination: &Destination,
        alias: Option<&str>,
        body: &str,
        headers: &[(String, String)],
        report: &mut StepReport,
    ) -> anyhow::Result<()> {
        let url = match destination {
            Destination::Sink { name, path } => format!("{}{path}", self.sink_url(name)),
            Destination::Url(url) => url.clone(),
        };
        let headers = self.expand_headers(headers);
        let path = format!("/v2/publish/{url}");
        let answer = self
            .client
            .send(Method::POST, &path, &headers, Bytes::from(body.to_owned()))
            .await?;
        report.outcome = Some(self.describe_answer(&answer));
        if let (true, Some(id)) = (answer.is_success(), answer.json()["messageId"].as_str()) {
            if let Some(alias) = alias {
                self.name(alias, id);
            }
        }
        if let Some(alias) = alias {
            self.responses.insert(alias.to_owned(), answer);
        }
        Ok(())
    }

    async fn dlq_retry(
        &mut self,
        of: &str,
        alias: Option<&str>,
        headers: &[(String, String)],
        report: &mut StepReport,
    ) -> anyhow::Result<()> {
        let dlq_id = self.dlq_id(of)?;
        let headers = self.expand_headers(headers);
        let path = format!("/v2/dlq/retry/{dlq_id}");
        let answer = self
            .api(Method::POST, &path, &headers, Bytes::new())
            .await?;
        report.outcome = Some(self.describe_answer(&answer));
        let id = answer.json()["messageId"]
            .as_str()
            .context("the retry answer has no `messageId`")?
            .to_owned();
        let name = match alias {
            Some(alias) => alias.to_owned(),
            None => self.derived_name(of, "retry"),
        };
        self.name(&name, &id);
        self.responses.insert(name, answer);
        Ok(())
    }

    async fn settle(&mut self, report: &mut StepReport) -> anyhow::Result<Value> {
        self.clock_call("settle", None, report).await
    }

    /// Calls a clock route and adds the events of its report to the step.
    async fn clock_call(
        &mut self,
        route: &str,
        body: Option<&Value>,
        report: &mut StepReport,
    ) -> anyhow::Result<Value> {
        let path = format!("/__mock/clock/{route}");
        let answer = self.client.control(Method::POST, &path, body).await?;
        if let Some(events) = answer["events"].as_array() {
            for event in events {
                let line = self.absorb(event);
                report.events.push(line);
            }
        }
        Ok(answer)
    }

    /// Learns the names and DLQ ids an event reveals, and renders it.
    fn absorb(&mut self, event: &Value) -> EventLine {
        let text = |key: &str| event[key].as_str().unwrap_or_default().to_owned();
        let message_id = text("messageId");
        match event["event"].as_str().unwrap_or_default() {
            "callbackPublished" => {
                let source = self.display_id(&message_id);
                let name = self.derived_name(&source, &text("role"));
                self.name(&name, &text("callbackMessageId"));
            }
            "dlqRetried" => {
                let new_id = text("newMessageId");
                if !self.names.contains_key(&new_id) {
                    let source = self.display_id(&message_id);
                    let name = self.derived_name(&source, "retry");
                    self.name(&name, &new_id);
                }
            }
            "movedToDlq" => {
                self.dlq_ids.insert(message_id.clone(), text("dlqId"));
            }
            _ => {}
        }
        let time = event["time"].as_u64().unwrap_or(self.start_ms);
        EventLine {
            offset: self.offset(time),
            at: format_time(time),
            event: event["event"].as_str().unwrap_or("?").to_owned(),
            message: if message_id.is_empty() {
                "-".to_owned()
            } else {
                self.display_id(&message_id)
            },
            details: self.describe_event(event),
        }
    }

    fn describe_event(&self, event: &Value) -> String {
        let text = |key: &str| event[key].as_str().unwrap_or_default();
        let at = |key: &str| {
            event[key]
                .as_u64()
                .map(|t| self.offset(t))
                .unwrap_or_default()
        };
        match text("event") {
            "published" => {
                let origin = match event["fromDlqId"].as_str() {
                    Some(dlq_id) => format!(" from DLQ entry {dlq_id}"),
                    None => String::new(),
                };
                let retries = match event["maxRetries"].as_u64() {
                    Some(1) => "1 retry".to_owned(),
                    Some(n) => format!("{n} retries"),
                    None => "unknown retries".to_owned(),
                };
                format!(
                    "to {}{origin}; first attempt at {}, up to {retries}",
                    self.redact(text("url")),
                    at("notBefore"),
                )
            }
            "deduplicated" => format!(
                "a publish with deduplication id `{}` got this message back",
                text("deduplicationId")
            ),
            "attemptSucceeded" => format!(
                "attempt {} (Upstash-Retried {}) answered {}",
                event["retried"].as_u64().unwrap_or(0) + 1,
                event["retried"],
                event["status"]
            ),
            "attemptFailed" => self.describe_failure(event),
            "movedToDlq" => format!(
                "DLQ entry {} ({}), expires at {}",
                text("dlqId"),
                match text("reason") {
                    "nonRetryable" => "non-retryable answer",
                    _ => "retries exhausted",
                },
                at("expiresAt")
            ),
            "callbackPublished" => format!(
                "{} {} to {}",
                text("role"),
                self.display_id(text("callbackMessageId")),
                self.redact(text("url"))
            ),
            "dlqRetried" => format!(
                "DLQ entry {} republished as {}",
                text("dlqId"),
                self.display_id(text("newMessageId"))
            ),
            "dlqDeleted" => format!("DLQ entry {} deleted", text("dlqId")),
            "dlqExpired" => format!("DLQ entry {} expired", text("dlqId")),
            "cancelled" => "no further attempts, no DLQ entry".to_owned(),
            "keysRotated" => "the next signing key became current".to_owned(),
            other => format!("{other}: {}", self.redact(&event.to_string())),
        }
    }

    fn describe_failure(&self, event: &Value) -> String {
        let retried = event["retried"].as_u64().unwrap_or(0);
        let cause = match (event["status"].as_u64(), event["error"].as_str()) {
            (Some(status), _) => format!("answered {status}"),
            (None, Some(error)) => self.redact(error),
            (None, None) => "failed".to_owned(),
        };
        let head = format!(
            "attempt {} (Upstash-Retried {retried}) {cause}",
            retried + 1
        );
        let next = &event["nextRetry"];
        let Some(at) = next["at"].as_u64() else {
            return format!("{head}; no retries left");
        };
        let ignored: String = next["ignored"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|h| {
                format!(
                    "; ignored {}: {} ({})",
                    h["header"].as_str().unwrap_or_default(),
                    h["value"].as_str().unwrap_or_default(),
                    h["reason"].as_str().unwrap_or_default()
                )
            })
            .collect();
        format!(
            "{head}; retry at {} after {}{ignored}",
            self.offset(at),
            next["explanation"].as_str().unwrap_or_default()
        )
    }

    fn describe_action(&self, action: &Action) -> String {
        match action {
            Action::Publish {
                destination,
                alias,
                body,
                headers,
            } => {
                let to = match destination {
                    Destination::Sink { name, path } => format!("sink:{name}{path}"),
                    Destination::Url(url) => url.clone(),
                };
                let mut text = match alias {
                    Some(alias) => format!("publish {alias} to {to}"),
                    None => format!("publish to {to}"),
                };
                if !body.is_empty() {
                    text.push_str(&format!(" with body {body:?}"));
                }
                for (name, value) in headers {
                    text.push_str(&format!("\n      {name}: {}", display_placeholders(value)));
                }
                text
            }
            Action::Advance { ms } => format!("advance {}", format_duration_ms(*ms)),
            Action::AdvanceTo { to } => match to {
                TimePoint::Offset(ms) => format!("advance to +{}", format_duration_ms(*ms)),
                TimePoint::Instant(text) => format!("advance to {text}"),
            },
            Action::Next { times: 1 } => "next: jump to the next scheduled work".to_owned(),
            Action::Next { times } => format!("next x{times}: jump to the next scheduled work"),
            Action::RunUntilIdle { max_steps: None } => "run until idle".to_owned(),
            Action::RunUntilIdle { max_steps: Some(n) } => {
                format!("run until idle, at most {n} steps")
            }
            Action::Settle => "settle: run the work due now".to_owned(),
            Action::DlqRetry { of, alias, headers } => {
                let mut text = format!("retry the DLQ entry of {of}");
                if let Some(alias) = alias {
                    text.push_str(&format!(" as {alias}"));
                }
                for (name, value) in headers {
                    text.push_str(&format!("\n      {name}: {}", display_placeholders(value)));
                }
                text
            }
            Action::DlqDelete { of } => format!("delete the DLQ entry of {of}"),
            Action::Cancel { of } => format!("cancel {of}"),
            Action::RotateKeys => "rotate the signing keys".to_owned(),
        }
    }

    fn describe_answer(&self, answer: &Answer) -> String {
        let body = match serde_json::from_slice::<Value>(&answer.body) {
            Ok(json) => self.redact(&json.to_string()),
            Err(_) => self.redact(&String::from_utf8_lossy(&answer.body)),
        };
        format!("answered {} {body}", answer.status)
    }

    /// Replaces `${sink:NAME}` in header values with the sink's URL.
    fn expand_headers(&self, headers: &[(String, String)]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(name, value)| {
                let mut value = value.clone();
                for sink in super::load::placeholder_names(&value.clone(), "sink") {
                    value = value.replace(&format!("${{sink:{sink}}}"), &self.sink_url(&sink));
                }
                (name.clone(), value)
            })
            .collect()
    }

    pub(crate) fn sink_url(&self, name: &str) -> String {
        format!("{}/__sinks/{name}", self.base_url)
    }

    /// Shows sink URLs by name and hides the mock's address, so that reports do not
    /// depend on the port.
    pub(crate) fn redact(&self, text: &str) -> String {
        let authority = self
            .base_url
            .split("://")
            .nth(1)
            .unwrap_or(&self.base_url)
            .to_owned();
        text.replace(&format!("{}/__sinks/", self.base_url), "sink:")
            .replace(&self.base_url, "mock:")
            .replace(&authority, "mock")
    }

    /// `+2m28s`: virtual time since the scenario's start.
    pub(crate) fn offset(&self, time: u64) -> String {
        match time.checked_sub(self.start_ms) {
            Some(ms) => format!("+{}", format_duration_ms(ms)),
            None => format!("-{}", format_duration_ms(self.start_ms - time)),
        }
    }

    fn name(&mut self, alias: &str, id: &str) {
        self.ids.insert(alias.to_owned(), id.to_owned());
        self.names
            .entry(id.to_owned())
            .or_insert_with(|| alias.to_owned());
    }

    fn derived_name(&mut self, source: &str, kind: &str) -> String {
        let count = self
            .derived
            .entry((source.to_owned(), kind.to_owned()))
            .or_insert(0);
        *count += 1;
        format!("{source}.{kind}{count}")
    }

    /// The scenario's name for a message id, or the id itself.
    pub(crate) fn display_id(&self, id: &str) -> String {
        self.names.get(id).cloned().unwrap_or_else(|| id.to_owned())
    }

    /// The message id of a name.
    pub(crate) fn id(&self, alias: &str) -> anyhow::Result<String> {
        match self.ids.get(alias) {
            Some(id) => Ok(id.clone()),
            None => anyhow::bail!("no message is named `{alias}` yet (was its publish refused?)"),
        }
    }

    /// The DLQ id of a named message's entry.
    pub(crate) fn dlq_id(&self, alias: &str) -> anyhow::Result<String> {
        let id = self.id(alias)?;
        match self.dlq_ids.get(&id) {
            Some(dlq_id) => Ok(dlq_id.clone()),
            None => anyhow::bail!("`{alias}` has not moved to the DLQ"),
        }
    }
}

fn is_clock_action(action: &Action) -> bool {
    matches!(
        action,
        Action::Advance { .. }
            | Action::AdvanceTo { .. }
            | Action::Next { .. }
            | Action::RunUntilIdle { .. }
    )
}

/// `${sink:app}` shown as `sink:app`.
fn display_placeholders(value: &str) -> String {
    let mut text = value.to_owned();
    for sink in super::load::placeholder_names(value, "sink") {
        text = text.replace(&format!("${{sink:{sink}}}"), &format!("sink:{sink}"));
    }
    text
}
