//! The scenario file as written: TOML tables read with serde, spans kept for errors.
//!
//! These types mirror the file one to one and refuse unknown keys; [`super::load`] turns
//! them into the checked [`super::Scenario`] the runner plays.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// A whole scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileSpec {
    pub(crate) name: Option<Spanned<String>>,
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) mock: MockSpec,
    #[serde(default)]
    pub(crate) sinks: BTreeMap<Spanned<String>, SinkSpec>,
    #[serde(default)]
    pub(crate) step: Vec<Spanned<StepSpec>>,
    #[serde(default)]
    pub(crate) expect: Vec<Spanned<ExpectSpec>>,
}

/// `[mock]`: the settings the mock is reset with.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MockSpec {
    pub(crate) seed: Option<u64>,
    pub(crate) plan: Option<Spanned<String>>,
    pub(crate) retention: Option<Spanned<String>>,
    pub(crate) dedup_window: Option<Spanned<String>>,
    pub(crate) default_retries: Option<u32>,
    pub(crate) start: Option<Spanned<String>>,
}

/// `[sinks.NAME]`: a scripted destination served by the mock.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SinkSpec {
    pub(crate) per: Option<Spanned<String>>,
    pub(crate) statuses: Option<Vec<Spanned<u16>>>,
    pub(crate) responses: Option<Vec<Spanned<ResponseSpec>>>,
}

/// One scripted answer of a sink.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResponseSpec {
    pub(crate) status: Option<u16>,
    #[serde(default)]
    pub(crate) headers: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) body: String,
    pub(crate) delay: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) drop_connection: bool,
}

/// `[[step]]`: one action, with the checks made right after it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepSpec {
    pub(crate) publish: Option<Spanned<String>>,
    pub(crate) advance: Option<Spanned<String>>,
    pub(crate) advance_to: Option<Spanned<String>>,
    pub(crate) next: Option<Spanned<u32>>,
    pub(crate) run_until_idle: Option<Spanned<bool>>,
    pub(crate) max_steps: Option<Spanned<u32>>,
    pub(crate) settle: Option<Spanned<bool>>,
    pub(crate) dlq_retry: Option<Spanned<String>>,
    pub(crate) dlq_delete: Option<Spanned<String>>,
    pub(crate) cancel: Option<Spanned<String>>,
    pub(crate) rotate_keys: Option<Spanned<bool>>,
    #[serde(rename = "as")]
    pub(crate) alias: Option<Spanned<String>>,
    pub(crate) body: Option<Spanned<String>>,
    pub(crate) headers: Option<Spanned<BTreeMap<String, String>>>,
    #[serde(default)]
    pub(crate) expect: Vec<Spanned<ExpectSpec>>,
}

/// `[[expect]]` or `[[step.expect]]`: one subject and the facts claimed about it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExpectSpec {
    // Subjects: exactly one of these.
    pub(crate) message: Option<Spanned<String>>,
    pub(crate) dlq: Option<Spanned<String>>,
    pub(crate) dlq_entries: Option<Spanned<Vec<String>>>,
    pub(crate) sink: Option<Spanned<String>>,
    pub(crate) response: Option<Spanned<String>>,
    pub(crate) event: Option<Spanned<String>>,

    // About a message.
    pub(crate) status: Option<Spanned<String>>,
    pub(crate) attempts: Option<Spanned<u32>>,
    pub(crate) attempted_at: Option<Spanned<Vec<String>>>,
    pub(crate) retry_delays: Option<Spanned<Vec<String>>>,
    pub(crate) expires_after: Option<Spanned<String>>,
    pub(crate) retried_as: Option<Spanned<String>>,
    pub(crate) same_as: Option<Spanned<String>>,

    // About a DLQ entry.
    pub(crate) present: Option<Spanned<bool>>,
    pub(crate) fields: Option<Spanned<toml::Table>>,

    // About a sink.
    pub(crate) requests: Option<Spanned<u32>>,
    pub(crate) statuses: Option<Spanned<Vec<u16>>>,
    pub(crate) retried: Option<Spanned<Vec<u32>>>,
    pub(crate) received_at: Option<Spanned<Vec<String>>>,
    pub(crate) nth: Option<Spanned<u32>>,
    pub(crate) headers: Option<Spanned<BTreeMap<String, String>>>,
    pub(crate) json_body: Option<Spanned<toml::Table>>,
    pub(crate) body: Option<Spanned<String>>,

    // About an API answer.
    pub(crate) http_status: Option<Spanned<u16>>,
    pub(crate) json: Option<Spanned<toml::Table>>,

    // About the event log.
    pub(crate) of: Option<Spanned<String>>,
    pub(crate) count: Option<Spanned<u32>>,
}

impl ExpectSpec {
    /// The subject keys present, with their spans.
    pub(crate) fn subjects(&self) -> Vec<(&'static str, std::ops::Range<usize>)> {
        let mut found = Vec::new();
        let mut note = |name, span: Option<std::ops::Range<usize>>| {
            if let Some(span) = span {
                found.push((name, span));
            }
        };
        note("message", self.message.as_ref().map(Spanned::span));
        note("dlq", self.dlq.as_ref().map(Spanned::span));
        note("dlq_entries", self.dlq_entries.as_ref().map(Spanned::span));
        note("sink", self.sink.as_ref().map(Spanned::span));
        note("response", self.response.as_ref().map(Spanned::span));
        note("event", self.event.as_ref().map(Spanned::span));
        found
    }

    /// The fact keys present (everything but the subject), with their spans.
    pub(crate) fn facts(&self) -> Vec<(&'static str, std::ops::Range<usize>)> {
        fn span<T>(value: &Option<Spanned<T>>) -> Option<std::ops::Range<usize>> {
            value.as_ref().map(Spanned::span)
        }
        let all = [
            ("status", span(&self.status)),
            ("attempts", span(&self.attempts)),
            ("attempted_at", span(&self.attempted_at)),
            ("retry_delays", span(&self.retry_delays)),
            ("expires_after", span(&self.expires_after)),
            ("retried_as", span(&self.retried_as)),
            ("same_as", span(&self.same_as)),
            ("present", span(&self.present)),
            ("fields", span(&self.fields)),
            ("requests", span(&self.requests)),
            ("statuses", span(&self.statuses)),
            ("retried", span(&self.retried)),
            ("received_at", span(&self.received_at)),
            ("nth", span(&self.nth)),
            ("headers", span(&self.headers)),
            ("json_body", span(&self.json_body)),
            ("body", span(&self.body)),
            ("http_status", span(&self.http_status)),
            ("json", span(&self.json)),
            ("of", span(&self.of)),
            ("count", span(&self.count)),
        ];
        all.into_iter()
            .filter_map(|(name, span)| span.map(|span| (name, span)))
            .collect()
    }
}
