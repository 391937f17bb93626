//! Reads a scenario file and checks it, so that every mistake is reported with the file,
//! the line and what was expected before anything runs.

use super::format::{ExpectSpec, FileSpec, MockSpec, ResponseSpec, SinkSpec, StepSpec};
use super::model::{
    Action, Assert, Check, Destination, MockSettings, Scenario, SinkDecl, Step, Subject, TimePoint,
    TIMELINE_STATUSES,
};
use qstash_mock::rules::parse_human_duration;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// The event names the mock records, which `event` expectations may count.
const EVENT_NAMES: &[&str] = &[
    "published",
    "deduplicated",
    "attemptSucceeded",
    "attemptFailed",
    "movedToDlq",
    "callbackPublished",
    "dlqRetried",
    "dlqDeleted",
    "dlqExpired",
    "cancelled",
    "keysRotated",
];

/// What each expectation subject may claim.
const FACTS_BY_SUBJECT: &[(&str, &[&str])] = &[
    (
        "message",
        &[
            "status",
            "attempts",
            "attempted_at",
            "retry_delays",
            "expires_after",
            "retried_as",
            "same_as",
        ],
    ),
    ("dlq", &["present", "fields"]),
    ("dlq_entries", &[]),
    (
        "sink",
        &[
            "requests",
            "statuses",
            "retried",
            "received_at",
            "nth",
            "headers",
            "json_body",
            "body",
        ],
    ),
    ("response", &["http_status", "json"]),
    ("event", &["of", "count"]),
];

/// A scenario file that cannot be played, with where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The file as it was named.
    pub file: String,
    /// 1-based line, when the problem has a place.
    pub line: Option<usize>,
    /// 1-based column, when the problem has a place.
    pub column: Option<usize>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => {
                write!(f, "{}:{line}:{column}: {}", self.file, self.message)
            }
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for LoadError {}

/// Reads and checks the scenario file at `path`.
///
/// # Errors
/// A [`LoadError`] when the file cannot be read, is not valid TOML, has unknown keys or
/// refers to sinks and messages it never declares.
pub fn load(path: &Path) -> Result<Scenario, LoadError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| LoadError {
        file: file.clone(),
        line: None,
        column: None,
        message: format!("could not read the file: {error}"),
    })?;
    let stem = path
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.clone());
    parse(&text, &file, &stem)
}

/// Checks a scenario given as text; `file` names it in errors and reports, `default_name`
/// is its name when the file gives none.
///
/// # Errors
/// As [`load`].
pub fn parse(text: &str, file: &str, default_name: &str) -> Result<Scenario, LoadError> {
    let source = Source { file, text };
    let spec: FileSpec = toml::from_str(text).map_err(|error| {
        let message = error.message().trim_end().replace('\n', "; ");
        match error.span() {
            Some(span) => source.error(span, message),
            None => source.error(0..0, message),
        }
    })?;
    Loader::new(&source).scenario(spec, default_name)
}

/// The text of a file, for turning byte spans into lines and columns.
struct Source<'a> {
    file: &'a str,
    text: &'a str,
}

impl Source<'_> {
    fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        self.text[..offset].matches('\n').count() + 1
    }

    fn error(&self, span: Range<usize>, message: impl Into<String>) -> LoadError {
        let offset = span.start.min(self.text.len());
        let line_start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        LoadError {
            file: self.file.to_owned(),
            line: Some(self.line_of(offset)),
            column: Some(self.text[line_start..offset].chars().count() + 1),
            message: message.into(),
        }
    }
}

/// Builds the checked scenario, remembering which names are declared so far.
struct Loader<'a> {
    source: &'a Source<'a>,
    sinks: BTreeSet<String>,
    aliases: BTreeSet<String>,
}

impl<'a> Loader<'a> {
    fn new(source: &'a Source<'a>) -> Self {
        Loader {
            source,
            sinks: BTreeSet::new(),
            aliases: BTreeSet::new(),
        }
    }

    fn scenario(mut self, spec: FileSpec, default_name: &str) -> Result<Scenario, LoadError> {
        let name = match spec.name {
            Some(name) if name.get_ref().trim().is_empty() => {
                return Err(self.error(name.span(), "`name` must not be empty"))
            }
            Some(name) => name.into_inner(),
            None => default_name.to_owned(),
        };
        let mock = self.mock(spec.mock)?;
        let mut sinks = Vec::new();
        for (name, sink) in spec.sinks {
            sinks.push(self.sink(name, sink)?);
        }
        if spec.step.is_empty() {
            return Err(self.error(0..0, "a scenario needs at least one `[[step]]`"));
        }
        let mut steps = Vec::new();
        for step in spec.step {
            steps.push(self.step(step)?);
        }
        let checks = self.checks(spec.expect)?;
        Ok(Scenario {
            name,
            description: spec.description,
            file: self.source.file.to_owned(),
            mock,
            sinks,
            steps,
            checks,
        })
    }

    fn error(&self, span: Range<usize>, message: impl Into<String>) -> LoadError {
        self.source.error(span, message)
    }

    fn line(&self, span: &Range<usize>) -> usize {
        self.source.line_of(span.start)
    }

    fn duration(&self, value: &Spanned<String>, key: &str) -> Result<u64, LoadError> {
        parse_human_duration(value.get_ref()).map_err(|error| {
            self.error(
                value.span(),
                format!("`{key}`: {error}; expected a duration like \"12s\", \"2m28s\" or \"7d\""),
            )
        })
    }

    /// A time relative to the scenario's start, written `+2m28s`.
    fn offset(&self, text: &str, span: Range<usize>, key: &str) -> Result<u64, LoadError> {
        let Some(duration) = text.strip_prefix('+') else {
            return Err(self.error(
                span,
                format!(
                    "`{key}`: `{text}` is not a time; expected an offset from the scenario's \
                     start like \"+2m28s\""
                ),
            ));
        };
        parse_human_duration(duration).map_err(|error| {
            self.error(
                span,
                format!("`{key}`: {error}; expected an offset like \"+2m28s\""),
            )
        })
    }

    fn offsets(&self, values: &Spanned<Vec<String>>, key: &str) -> Result<Vec<u64>, LoadError> {
        values
            .get_ref()
            .iter()
            .map(|text| self.offset(text, values.span(), key))
            .collect()
    }

    fn mock(&self, spec: MockSpec) -> Result<MockSettings, LoadError> {
        let plan = match spec.plan {
            Some(plan) => {
                plan.get_ref()
                    .parse::<qstash_mock::Plan>()
                    .map_err(|error| self.error(plan.span(), format!("`plan`: {error}")))?;
                plan.into_inner()
            }
            None => "payg".to_owned(),
        };
        let retention = spec
            .retention
            .map(|value| {
                self.duration(&value, "retention")
                    .map(|_| value.into_inner())
            })
            .transpose()?;
        let dedup_window = spec
            .dedup_window
            .map(|value| {
                self.duration(&value, "dedup_window")
                    .map(|_| value.into_inner())
            })
            .transpose()?;
        Ok(MockSettings {
            seed: spec.seed.unwrap_or(1),
            plan,
            retention,
            dedup_window,
            default_retries: spec.default_retries,
            start: spec
                .start
                .map_or_else(|| "2030-01-01T00:00:00Z".to_owned(), Spanned::into_inner),
        })
    }

    fn sink(&mut self, name: Spanned<String>, spec: SinkSpec) -> Result<SinkDecl, LoadError> {
        qstash_mock::sinks::validate_sink_name(name.get_ref())
            .map_err(|error| self.error(name.span(), format!("sink name: {error}")))?;
        let per = match &spec.per {
            None => "attempt",
            Some(per) if per.get_ref() == "attempt" => "attempt",
            Some(per) if per.get_ref() == "request" => "request",
            Some(per) => {
                return Err(self.error(
                    per.span(),
                    format!("`per`: `{}` is not attempt or request", per.get_ref()),
                ))
            }
        };
        let responses: Vec<Value> = match (spec.statuses, spec.responses) {
            (Some(_), Some(responses)) => {
                let span = responses.first().map_or(name.span(), Spanned::span);
                return Err(self.error(
                    span,
                    "give either `statuses` or `responses` for a sink, not both",
                ));
            }
            (Some(statuses), None) => statuses
                .iter()
                .map(|status| self.status(status).map(|s| json!({ "status": s })))
                .collect::<Result<_, _>>()?,
            (None, Some(responses)) => responses
                .iter()
                .map(|response| self.response(response))
                .collect::<Result<_, _>>()?,
            (None, None) => Vec::new(),
        };
        let script = if responses.is_empty() {
            json!({ "per": per, "responses": [{ "status": 200 }] })
        } else {
            json!({ "per": per, "responses": responses })
        };
        self.sinks.insert(name.get_ref().clone());
        Ok(SinkDecl {
            name: name.into_inner(),
            script,
        })
    }

    fn status(&self, status: &Spanned<u16>) -> Result<u16, LoadError> {
        let value = *status.get_ref();
        if !(100..=999).contains(&value) {
            return Err(self.error(
                status.span(),
                format!("status {value} is not an HTTP status; expected 100 to 999"),
            ));
        }
        Ok(value)
    }

    fn response(&self, response: &Spanned<ResponseSpec>) -> Result<Value, LoadError> {
        let spec = response.get_ref();
        if spec.drop_connection && spec.status.is_some() {
            return Err(self.error(
                response.span(),
                "a response with `drop_connection = true` has no `status`",
            ));
        }
        let status = Spanned::new(response.span(), spec.status.unwrap_or(200));
        let status = self.status(&status)?;
        let delay_ms = spec
            .delay
            .as_ref()
            .map(|delay| self.duration(delay, "delay"))
            .transpose()?
            .unwrap_or(0);
        let mut value = json!({
            "status": status,
            "headers": spec.headers,
            "body": spec.body,
            "delayMs": delay_ms,
        });
        if spec.drop_connection {
            value = json!({ "dropConnection": true, "delayMs": delay_ms });
        }
        Ok(value)
    }

    fn step(&mut self, spanned: Spanned<StepSpec>) -> Result<Step, LoadError> {
        let span = spanned.span();
        let spec = spanned.into_inner();
        let actions = step_actions(&spec);
        let (action_name, action_span) = match actions.as_slice() {
            [(name, span)] => (*name, span.clone()),
            [] => {
                return Err(self.error(
                    span,
                    format!(
                        "a step needs one action; expected one of {}",
                        STEP_ACTIONS.join(", ")
                    ),
                ))
            }
            [_, (second, second_span), ..] => {
                return Err(self.error(
                    second_span.clone(),
                    format!(
                        "a step has one action, but this one also has `{second}`; \
                         split it into two `[[step]]` tables"
                    ),
                ))
            }
        };
        self.refuse_extras(&spec, action_name)?;
        let action = self.action(&spec, action_name)?;
        let line = self.line(&action_span);
        let checks = self.checks(spec.expect)?;
        Ok(Step {
            line,
            action,
            checks,
        })
    }

    /// Refuses keys that mean nothing for the step's action.
    fn refuse_extras(&self, spec: &StepSpec, action: &str) -> Result<(), LoadError> {
        let takes_alias = matches!(action, "publish" | "dlq_retry");
        let takes_headers = matches!(action, "publish" | "dlq_retry");
        if let (false, Some(alias)) = (takes_alias, &spec.alias) {
            return Err(self.error(
                alias.span(),
                format!("`as` names a new message; `{action}` creates none"),
            ));
        }
        if let (false, Some(headers)) = (takes_headers, &spec.headers) {
            return Err(self.error(
                headers.span(),
                format!("`headers` only go with publish and dlq_retry, not `{action}`"),
            ));
        }
        if let (true, Some(body)) = (action != "publish", &spec.body) {
            return Err(self.error(body.span(), "`body` only goes with publish"));
        }
        if let (true, Some(max)) = (action != "run_until_idle", &spec.max_steps) {
            return Err(self.error(max.span(), "`max_steps` only goes with run_until_idle"));
        }
        Ok(())
    }

    fn action(&mut self, spec: &StepSpec, name: &str) -> Result<Action, LoadError> {
        let headers = match &spec.headers {
            Some(headers) => self.headers(headers)?,
            None => Vec::new(),
        };
        let action = match name {
            "publish" => {
                let target = spec.publish.as_ref().expect("publish is the action");
                Action::Publish {
                    destination: self.destination(target)?,
                    alias: self.new_alias(spec.alias.as_ref())?,
                    body: spec
                        .body
                        .as_ref()
                        .map(|b| b.get_ref().clone())
                        .unwrap_or_default(),
                    headers,
                }
            }
            "advance" => {
                let by = spec.advance.as_ref().expect("advance is the action");
                Action::Advance {
                    ms: self.duration(by, "advance")?,
                }
            }
            "advance_to" => {
                let to = spec.advance_to.as_ref().expect("advance_to is the action");
                let point = if to.get_ref().starts_with('+') {
                    TimePoint::Offset(self.offset(to.get_ref(), to.span(), "advance_to")?)
                } else {
                    TimePoint::Instant(to.get_ref().clone())
                };
                Action::AdvanceTo { to: point }
            }
            "next" => {
                let times = spec.next.as_ref().expect("next is the action");
                if *times.get_ref() == 0 {
                    return Err(self.error(times.span(), "`next`: expected 1 or more jumps"));
                }
                Action::Next {
                    times: *times.get_ref(),
                }
            }
            "run_until_idle" => {
                self.flag(spec.run_until_idle.as_ref(), "run_until_idle")?;
                Action::RunUntilIdle {
                    max_steps: spec.max_steps.as_ref().map(|m| *m.get_ref()),
                }
            }
            "settle" => {
                self.flag(spec.settle.as_ref(), "settle")?;
                Action::Settle
            }
            "dlq_retry" => {
                let of = spec.dlq_retry.as_ref().expect("dlq_retry is the action");
                Action::DlqRetry {
                    of: self.known_alias(of)?,
                    alias: self.new_alias(spec.alias.as_ref())?,
                    headers,
                }
            }
            "dlq_delete" => Action::DlqDelete {
                of: self.known_alias(spec.dlq_delete.as_ref().expect("the action"))?,
            },
            "cancel" => Action::Cancel {
                of: self.known_alias(spec.cancel.as_ref().expect("the action"))?,
            },
            _ => {
                self.flag(spec.rotate_keys.as_ref(), "rotate_keys")?;
                Action::RotateKeys
            }
        };
        Ok(action)
    }

    fn flag(&self, flag: Option<&Spanned<bool>>, key: &str) -> Result<(), LoadError> {
        match flag {
            Some(flag) if !flag.get_ref() => Err(self.error(
                flag.span(),
                format!("`{key} = false` does nothing; write `{key} = true` or drop the step"),
            )),
            _ => Ok(()),
        }
    }

    fn destination(&self, target: &Spanned<String>) -> Result<Destination, LoadError> {
        let text = target.get_ref();
        if text.contains("://") {
            return Ok(Destination::Url(text.clone()));
        }
        let (name, path) = match text.split_once('/') {
            Some((name, path)) => (name, format!("/{path}")),
            None => (text.as_str(), String::new()),
        };
        if !self.sinks.contains(name) {
            return Err(self.error(
                target.span(),
                format!(
                    "`publish`: no sink named `{name}`; declare `[sinks.{name}]` or give a \
                     URL starting with http:// or https://"
                ),
            ));
        }
        Ok(Destination::Sink {
            name: name.to_owned(),
            path,
        })
    }

    fn headers(
        &self,
        headers: &Spanned<std::collections::BTreeMap<String, String>>,
    ) -> Result<Vec<(String, String)>, LoadError> {
        for value in headers.get_ref().values() {
            for sink in placeholder_names(value, "sink") {
                if !self.sinks.contains(&sink) {
                    return Err(self.error(
                        headers.span(),
                        format!("`${{sink:{sink}}}` names no declared sink"),
                    ));
                }
            }
        }
        Ok(headers
            .get_ref()
            .iter()
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect())
    }

    fn new_alias(&mut self, alias: Option<&Spanned<String>>) -> Result<Option<String>, LoadError> {
        let Some(alias) = alias else {
            return Ok(None);
        };
        let text = alias.get_ref();
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if text.is_empty() || !text.chars().all(valid) {
            return Err(self.error(
                alias.span(),
                format!("`as`: `{text}` is not a name; use letters, digits, `-` and `_`"),
            ));
        }
        if !self.aliases.insert(text.clone()) {
            return Err(self.error(
                alias.span(),
                format!("`as`: `{text}` already names an earlier message"),
            ));
        }
        Ok(Some(text.clone()))
    }

    /// A message named earlier, or a derived name such as `order.callback1` whose first
    /// part was named earlier.
    fn known_alias(&self, alias: &Spanned<String>) -> Result<String, LoadError> {
        let text = alias.get_ref();
        let base = text.split('.').next().unwrap_or_default();
        if !self.aliases.contains(base) {
            return Err(self.error(
                alias.span(),
                format!(
                    "no message is named `{base}` before this point; name one with \
                     `as = \"{base}\"` on a publish step"
                ),
            ));
        }
        Ok(text.clone())
    }

    fn checks(&self, specs: Vec<Spanned<ExpectSpec>>) -> Result<Vec<Check>, LoadError> {
        specs.into_iter().map(|spec| self.check(spec)).collect()
    }

    fn check(&self, spanned: Spanned<ExpectSpec>) -> Result<Check, LoadError> {
        let span = spanned.span();
        let spec = spanned.into_inner();
        let subjects = spec.subjects();
        let (subject_name, subject_span) = match subjects.as_slice() {
            [(name, span)] => (*name, span.clone()),
            [] => {
                return Err(self.error(
                    span,
                    "an expectation needs one subject; expected one of message, dlq, \
                     dlq_entries, sink, response, event",
                ))
            }
            [(first, _), (second, second_span), ..] => {
                return Err(self.error(
                    second_span.clone(),
                    format!(
                        "an expectation has one subject, but this one has `{first}` and \
                         `{second}`; split it into two"
                    ),
                ))
            }
        };
        let allowed = FACTS_BY_SUBJECT
            .iter()
            .find(|(name, _)| *name == subject_name)
            .map_or(&[][..], |(_, facts)| *facts);
        let facts = spec.facts();
        if let Some((fact, fact_span)) = facts.iter().find(|(fact, _)| !allowed.contains(fact)) {
            return Err(self.error(
                fact_span.clone(),
                format!(
                    "`{fact}` is not a fact about a {subject_name}; expected {}",
                    list_or_nothing(allowed)
                ),
            ));
        }
        let subject = self.subject(&spec, subject_name, &subject_span)?;
        if facts.is_empty() && !matches!(subject, Subject::DlqEntries(_) | Subject::Dlq(_)) {
            return Err(self.error(
                subject_span,
                format!(
                    "this expectation claims nothing; give one of {}",
                    list_or_nothing(allowed)
                ),
            ));
        }
        let asserts = self.asserts(&spec)?;
        Ok(Check {
            line: self.line(&subject_span),
            subject,
            asserts,
        })
    }

    fn subject(
        &self,
        spec: &ExpectSpec,
        name: &str,
        span: &Range<usize>,
    ) -> Result<Subject, LoadError> {
        let text = |value: &Option<Spanned<String>>| value.as_ref().map(|v| v.get_ref().clone());
        let subject = match name {
            "message" => Subject::Message(self.known_alias(spec.message.as_ref().expect("set"))?),
            "dlq" => Subject::Dlq(self.known_alias(spec.dlq.as_ref().expect("set"))?),
            "dlq_entries" => {
                let entries = spec.dlq_entries.as_ref().expect("set");
                for alias in entries.get_ref() {
                    self.known_alias(&Spanned::new(entries.span(), alias.clone()))?;
                }
                Subject::DlqEntries(entries.get_ref().clone())
            }
            "sink" => {
                let sink = text(&spec.sink).unwrap_or_default();
                if !self.sinks.contains(&sink) {
                    return Err(self.error(span.clone(), format!("no sink named `{sink}`")));
                }
                Subject::Sink(sink)
            }
            "response" => {
                let alias = spec.response.as_ref().expect("set");
                if !self.aliases.contains(alias.get_ref()) {
                    return Err(self.error(
                        alias.span(),
                        format!(
                            "no publish or dlq_retry step before this point is named `{}`",
                            alias.get_ref()
                        ),
                    ));
                }
                Subject::Response(alias.get_ref().clone())
            }
            _ => {
                let event = spec.event.as_ref().expect("set");
                if !EVENT_NAMES.contains(&event.get_ref().as_str()) {
                    return Err(self.error(
                        event.span(),
                        format!(
                            "`{}` is not an event; expected one of {}",
                            event.get_ref(),
                            EVENT_NAMES.join(", ")
                        ),
                    ));
                }
                let of = spec
                    .of
                    .as_ref()
                    .map(|of| self.known_alias(of))
                    .transpose()?;
                Subject::Event {
                    name: event.get_ref().clone(),
                    of,
                }
            }
        };
        Ok(subject)
    }

    fn asserts(&self, spec: &ExpectSpec) -> Result<Vec<Assert>, LoadError> {
        let mut asserts = Vec::new();
        if let Some(status) = &spec.status {
            if !TIMELINE_STATUSES.contains(&status.get_ref().as_str()) {
                return Err(self.error(
                    status.span(),
                    format!(
                        "`status`: `{}` is not a message status; expected one of {}",
                        status.get_ref(),
                        TIMELINE_STATUSES.join(", ")
                    ),
                ));
            }
            asserts.push(Assert::Status(status.get_ref().clone()));
        }
        if let Some(attempts) = &spec.attempts {
            asserts.push(Assert::Attempts(*attempts.get_ref()));
        }
        if let Some(at) = &spec.attempted_at {
            asserts.push(Assert::AttemptedAt(self.offsets(at, "attempted_at")?));
        }
        if let Some(delays) = &spec.retry_delays {
            let parsed = delays
                .get_ref()
                .iter()
                .map(|d| self.duration(&Spanned::new(delays.span(), d.clone()), "retry_delays"))
                .collect::<Result<_, _>>()?;
            asserts.push(Assert::RetryDelays(parsed));
        }
        if let Some(after) = &spec.expires_after {
            asserts.push(Assert::ExpiresAfter(self.duration(after, "expires_after")?));
        }
        if let Some(alias) = &spec.retried_as {
            asserts.push(Assert::RetriedAs(self.known_alias(alias)?));
        }
        if let Some(alias) = &spec.same_as {
            asserts.push(Assert::SameAs(self.known_alias(alias)?));
        }
        if let Some(present) = &spec.present {
            asserts.push(Assert::Present(*present.get_ref()));
        }
        if let Some(fields) = &spec.fields {
            asserts.push(Assert::Fields(table_json(fields.get_ref())));
        }
        self.sink_asserts(spec, &mut asserts)?;
        if let Some(status) = &spec.http_status {
            asserts.push(Assert::HttpStatus(self.status(status)?));
        }
        if let Some(expected) = &spec.json {
            asserts.push(Assert::Json(table_json(expected.get_ref())));
        }
        if let Some(count) = &spec.count {
            asserts.push(Assert::Count(*count.get_ref()));
        }
        Ok(asserts)
    }

    fn sink_asserts(&self, spec: &ExpectSpec, asserts: &mut Vec<Assert>) -> Result<(), LoadError> {
        if let Some(requests) = &spec.requests {
            asserts.push(Assert::Requests(*requests.get_ref()));
        }
        if let Some(statuses) = &spec.statuses {
            asserts.push(Assert::Statuses(statuses.get_ref().clone()));
        }
        if let Some(retried) = &spec.retried {
            asserts.push(Assert::Retried(retried.get_ref().clone()));
        }
        if let Some(at) = &spec.received_at {
            asserts.push(Assert::ReceivedAt(self.offsets(at, "received_at")?));
        }
        let nth = match &spec.nth {
            Some(nth) if *nth.get_ref() == 0 => {
                return Err(self.error(nth.span(), "`nth` counts from 1"))
            }
            Some(nth) => Some(*nth.get_ref()),
            None => None,
        };
        let per_request = spec.headers.is_some() || spec.json_body.is_some() || spec.body.is_some();
        if let (Some(nth_span), false) = (spec.nth.as_ref().map(Spanned::span), per_request) {
            return Err(self.error(
                nth_span,
                "`nth` picks the request that `headers`, `json_body` or `body` describe; \
                 give one of them",
            ));
        }
        if let Some(headers) = &spec.headers {
            asserts.push(Assert::Headers {
                nth,
                headers: headers.get_ref().clone(),
            });
        }
        if let Some(body) = &spec.json_body {
            asserts.push(Assert::JsonBody {
                nth,
                expected: table_json(body.get_ref()),
            });
        }
        if let Some(body) = &spec.body {
            asserts.push(Assert::Body {
                nth,
                expected: body.get_ref().clone(),
            });
        }
        Ok(())
    }
}

/// The action keys a step may have, in the order the format reference lists them.
const STEP_ACTIONS: &[&str] = &[
    "publish",
    "advance",
    "advance_to",
    "next",
    "run_until_idle",
    "settle",
    "dlq_retry",
    "dlq_delete",
    "cancel",
    "rotate_keys",
];

fn step_actions(spec: &StepSpec) -> Vec<(&'static str, Range<usize>)> {
    fn span<T>(value: &Option<Spanned<T>>) -> Option<Range<usize>> {
        value.as_ref().map(Spanned::span)
    }
    let all = [
        ("publish", span(&spec.publish)),
        ("advance", span(&spec.advance)),
        ("advance_to", span(&spec.advance_to)),
        ("next", span(&spec.next)),
        ("run_until_idle", span(&spec.run_until_idle)),
        ("settle", span(&spec.settle)),
        ("dlq_retry", span(&spec.dlq_retry)),
        ("dlq_delete", span(&spec.dlq_delete)),
        ("cancel", span(&spec.cancel)),
        ("rotate_keys", span(&spec.rotate_keys)),
    ];
    let mut found: Vec<_> = all
        .into_iter()
        .filter_map(|(name, span)| span.map(|span| (name, span)))
        .collect();
    found.sort_by_key(|(_, span)| span.start);
    found
}

fn list_or_nothing(names: &[&str]) -> String {
    if names.is_empty() {
        return "no further keys".to_owned();
    }
    names.join(", ")
}

/// The names used in `${kind:name}` placeholders of a text.
pub(crate) fn placeholder_names(text: &str, kind: &str) -> Vec<String> {
    let opening = format!("${{{kind}:");
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&opening) {
        let after = &rest[start + opening.len()..];
        let Some(end) = after.find('}') else {
            break;
        };
        names.push(after[..end].to_owned());
        rest = &after[end..];
    }
    names
}

fn table_json(table: &toml::Table) -> Value {
    serde_json::to_value(table).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_of_one_kind_are_found_in_order() {
        let text = "${sink:a}?next=${id:x}&back=${sink:b}";

        assert_eq!(placeholder_names(text, "sink"), vec!["a", "b"]);
        assert_eq!(placeholder_names(text, "id"), vec!["x"]);
    }

    #[test]
    fn an_unclosed_placeholder_is_not_a_name() {
        assert!(placeholder_names("${sink:a", "sink").is_empty());
    }

    #[test]
    fn a_minimal_scenario_takes_the_default_settings() {
        let scenario = parse("[[step]]\nsettle = true\n", "min.toml", "min").expect("loads");

        assert_eq!(scenario.name, "min");
        assert_eq!(scenario.mock.seed, 1);
        assert_eq!(scenario.mock.plan, "payg");
        assert_eq!(scenario.mock.start, "2030-01-01T00:00:00Z");
    }
}
