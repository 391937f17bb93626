//! What a played scenario shows: its timeline, its checks, and the two ways to print it.
//!
//! Nothing here depends on the wall clock or on the mock's port, so the same scenario and
//! seed always print the same bytes.

use serde::Serialize;
use std::fmt::Write as _;

/// The report of one scenario.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ScenarioReport {
    /// The scenario's name.
    pub name: String,
    /// The file it came from.
    pub file: String,
    /// What it shows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The mock's settings after the reset, as the mock states them (none when the
    /// mock could not be prepared).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings: Option<Settings>,
    /// Every step played, in order, with the events it caused.
    pub steps: Vec<StepReport>,
    /// The expectations checked once every step ran.
    pub checks: Vec<CheckResult>,
    /// Why the scenario stopped early, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The mock's settings for a scenario.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Settings {
    /// The seed of every id.
    pub seed: u64,
    /// The plan.
    pub plan: String,
    /// How long DLQ entries are kept, compact (`7d`).
    pub retention: String,
    /// The clock at the start, RFC 3339.
    pub start: String,
}

/// One step of the timeline.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StepReport {
    /// 1-based position among the steps.
    pub number: usize,
    /// Its line in the file.
    pub line: usize,
    /// What it did.
    pub action: String,
    /// What the mock answered, when that tells something.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// The events it caused, in the mock's log order.
    pub events: Vec<EventLine>,
    /// The expectations checked right after it.
    pub checks: Vec<CheckResult>,
    /// Why it failed, if it did; the scenario stops there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One event of the mock's log.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EventLine {
    /// Virtual time since the scenario's start, like `+2m28s`.
    pub offset: String,
    /// Virtual time, RFC 3339.
    pub at: String,
    /// The event's name.
    pub event: String,
    /// The message, by the scenario's name for it.
    pub message: String,
    /// What happened, in a line.
    pub details: String,
}

/// One claim checked against the mock.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CheckResult {
    /// The line of its expectation in the file.
    pub line: usize,
    /// What is claimed, like `message order: status`.
    pub claim: String,
    /// Whether it held.
    pub passed: bool,
    /// The expected value.
    pub expected: String,
    /// What the mock showed.
    pub actual: String,
}

impl ScenarioReport {
    /// Checks that held.
    pub fn passed_checks(&self) -> usize {
        self.all_checks().filter(|check| check.passed).count()
    }

    /// Checks that failed.
    pub fn failed_checks(&self) -> usize {
        self.all_checks().filter(|check| !check.passed).count()
    }

    /// Whether every check held and nothing stopped the scenario.
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.failed_checks() == 0
    }

    fn all_checks(&self) -> impl Iterator<Item = &CheckResult> {
        self.steps
            .iter()
            .flat_map(|step| step.checks.iter())
            .chain(self.checks.iter())
    }

    /// The report as text for people.
    pub fn text(&self) -> String {
        let mut out = String::new();
        self.write_text(&mut out);
        out
    }

    fn write_text(&self, out: &mut String) {
        let _ = writeln!(out, "scenario {} ({})", self.name, self.file);
        if let Some(description) = &self.description {
            for line in wrap(description, 86) {
                let _ = writeln!(out, "  {line}");
            }
        }
        if let Some(settings) = &self.settings {
            let _ = writeln!(
                out,
                "  mock: seed {}, plan {}, DLQ retention {}, start {}",
                settings.seed, settings.plan, settings.retention, settings.start
            );
        }
        let width = self
            .steps
            .iter()
            .flat_map(|step| step.events.iter())
            .map(|event| event.message.len())
            .max()
            .unwrap_or(0);
        for step in &self.steps {
            step.write_text(out, width);
        }
        if !self.checks.is_empty() {
            let _ = writeln!(out, "\n  expectations");
            for check in &self.checks {
                check.write_text(out, "    ");
            }
        }
        if let Some(error) = &self.error {
            let _ = writeln!(out, "\n  stopped: {error}");
        }
        let verdict = if self.passed() { "passed" } else { "FAILED" };
        let _ = writeln!(
            out,
            "\n  {verdict}: {} of {} checks held",
            self.passed_checks(),
            self.passed_checks() + self.failed_checks()
        );
    }
}

impl StepReport {
    fn write_text(&self, out: &mut String, width: usize) {
        let _ = writeln!(
            out,
            "\n  step {} (line {}): {}",
            self.number, self.line, self.action
        );
        if let Some(outcome) = &self.outcome {
            let _ = writeln!(out, "    {outcome}");
        }
        for event in &self.events {
            let _ = writeln!(
                out,
                "    {:<11} {:<20} {:<width$}  {:<17} {}",
                event.offset, event.at, event.message, event.event, event.details
            );
        }
        for check in &self.checks {
            check.write_text(out, "    ");
        }
        if let Some(error) = &self.error {
            let _ = writeln!(out, "    error: {error}");
        }
    }
}

impl CheckResult {
    fn write_text(&self, out: &mut String, indent: &str) {
        if self.passed {
            let _ = writeln!(
                out,
                "{indent}ok    line {:<3} {} = {}",
                self.line, self.claim, self.expected
            );
            return;
        }
        let _ = writeln!(out, "{indent}FAIL  line {:<3} {}", self.line, self.claim);
        let _ = writeln!(out, "{indent}        expected: {}", self.expected);
        let _ = writeln!(out, "{indent}        actual:   {}", self.actual);
    }
}

/// The text of several reports and the closing count of scenarios.
pub fn render_text(reports: &[ScenarioReport]) -> String {
    let mut out = String::new();
    for (index, report) in reports.iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        report.write_text(&mut out);
    }
    let passed = reports.iter().filter(|r| r.passed()).count();
    let _ = writeln!(
        out,
        "\nscenarios: {passed} passed, {} failed",
        reports.len() - passed
    );
    out
}

/// One JSON document holding several reports and the counts.
pub fn render_json(reports: &[ScenarioReport]) -> String {
    let passed = reports.iter().filter(|r| r.passed()).count();
    let scenarios: Vec<serde_json::Value> = reports
        .iter()
        .map(|report| {
            let mut value = serde_json::to_value(report).unwrap_or_default();
            value["passed"] = report.passed().into();
            value["checksPassed"] = report.passed_checks().into();
            value["checksFailed"] = report.failed_checks().into();
            value
        })
        .collect();
    let document = serde_json::json!({
        "scenarios": scenarios,
        "passed": passed,
        "failed": reports.len() - passed,
    });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

/// Splits prose into lines of at most `width` characters, at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}
