//! Measurement 3: simulation speed. Messages to a destination that always fails run
//! through every retry into the DLQ and on past the free plan's retention, once through
//! the whole stack (HTTP publish, real deliveries) and once on the bare engine.

use super::bare::BareServer;
use super::load::{self, Load};
use super::publish::publish_template;
use super::system::{peak_resident_bytes, resident_bytes};
use super::START_MS;
use bytes::Bytes;
use hyper::StatusCode;
use qstash_mock::engine::{
    AttemptOutcome, CapturedResponse, Engine, EngineConfig, PublishRequest, PublishSettings,
};
use qstash_mock::{MockServer, Plan};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Attempts per message with the default three retries.
const ATTEMPTS_PER_MESSAGE: u64 = 4;

/// Events per message: published, four failed attempts, moved to the DLQ, expired.
const EVENTS_PER_MESSAGE: u64 = 7;

/// The delay of the first attempt, so publishing and running are timed apart.
const FIRST_DELAY_MS: u64 = 1_000;

/// Where the last attempt has certainly failed: past 1s + 12s + 2m28s + 30m8s.
const PAST_LAST_ATTEMPT: Duration = Duration::from_secs(3_600);

/// Past the free plan's three days of DLQ retention, counted from the DLQ entry.
const PAST_RETENTION: Duration = Duration::from_secs(3 * 24 * 3_600 + 60);

/// Connections used to publish over HTTP.
const PUBLISH_CONNECTIONS: usize = 32;

/// Which layers a simulation ran through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Stack {
    /// HTTP publishes and real deliveries to a server answering 500.
    Full,
    /// `Engine` driven directly with synthetic outcomes.
    Engine,
}

/// One simulation run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SimulationFigures {
    /// The layers it ran through.
    pub(crate) stack: Stack,
    /// Messages published.
    pub(crate) messages: u64,
    /// Bytes of each body.
    pub(crate) body_bytes: usize,
    /// Events the engine recorded.
    pub(crate) events: u64,
    /// Wall time of the publishes, seconds.
    pub(crate) publish_seconds: f64,
    /// Wall time from the first attempt to the last expiry, seconds.
    pub(crate) run_seconds: f64,
    /// Both, seconds.
    pub(crate) total_seconds: f64,
    /// Events per second of total wall time.
    pub(crate) events_per_second: f64,
    /// `VmHWM` at the end, bytes.
    pub(crate) peak_bytes: u64,
    /// Resident growth while every message sat in the DLQ, per message, bytes.
    pub(crate) bytes_per_dlq_entry: f64,
}

/// What each stack measured, to fill in [`SimulationFigures`].
struct Timings {
    publish: Duration,
    run: Duration,
    resident_before: u64,
    resident_in_dlq: u64,
    events: u64,
}

impl Timings {
    fn figures(self, stack: Stack, messages: u64, body_bytes: usize) -> SimulationFigures {
        let total = (self.publish + self.run).as_secs_f64();
        let growth = self.resident_in_dlq.saturating_sub(self.resident_before);
        SimulationFigures {
            stack,
            messages,
            body_bytes,
            events: self.events,
            publish_seconds: self.publish.as_secs_f64(),
            run_seconds: self.run.as_secs_f64(),
            total_seconds: total,
            events_per_second: self.events as f64 / total,
            peak_bytes: peak_resident_bytes(),
            bytes_per_dlq_entry: growth as f64 / messages.max(1) as f64,
        }
    }
}

/// Runs `messages` through the engine alone, every attempt answered 500.
///
/// # Errors
/// When a publish is refused or the run does not end with every message expired.
pub(crate) fn engine(messages: u64, body_bytes: usize) -> anyhow::Result<SimulationFigures> {
    let mut engine = Engine::new(EngineConfig {
        seed: 1,
        plan: Plan::Free,
        ..EngineConfig::default()
    });
    let resident_before = resident_bytes();
    let started = Instant::now();

    for n in 0..messages {
        let request = PublishRequest {
            destination: "http://127.0.0.1:9/hook".to_owned(),
            body: numbered_body(n, body_bytes),
            settings: PublishSettings {
                delay_ms: Some(FIRST_DELAY_MS),
                content_type: Some("application/octet-stream".to_owned()),
                ..PublishSettings::default()
            },
            caller_ip: Some("127.0.0.1".to_owned()),
        };
        engine.publish(START_MS, request)?;
    }
    let publish = started.elapsed();

    let resident_in_dlq = step_until_idle(&mut engine, messages);
    let run = started.elapsed() - publish;

    check_finished(engine.dlq_len(), engine.event_count() as u64, messages)?;
    let timings = Timings {
        publish,
        run,
        resident_before,
        resident_in_dlq,
        events: engine.event_count() as u64,
    };
    Ok(timings.figures(Stack::Engine, messages, body_bytes))
}

/// Steps the engine through every due instant as the mock's driver would, answering
/// each attempt with a 500; returns the resident set when all `messages` were in the
/// DLQ at once.
fn step_until_idle(engine: &mut Engine, messages: u64) -> u64 {
    let failure = AttemptOutcome::Response(CapturedResponse {
        status: 500,
        headers: Vec::new(),
        body: Bytes::from_static(b"fail"),
    });
    let mut resident_in_dlq = 0;
    while let Some(at) = engine.next_due_at() {
        if resident_in_dlq == 0 && engine.dlq_len() as u64 == messages {
            resident_in_dlq = resident_bytes();
        }
        for attempt in engine.start_due(at) {
            engine.finish_attempt(at, &attempt, failure.clone());
        }
    }
    resident_in_dlq
}

/// Runs `messages` through a mock over HTTP, delivering to a server answering 500.
///
/// # Errors
/// When a server cannot start, a publish fails, or the run does not end with every
/// message expired.
pub(crate) async fn full(
    messages: u64,
    body_bytes: usize,
    concurrency: usize,
) -> anyhow::Result<SimulationFigures> {
    let failing = BareServer::start_local(StatusCode::INTERNAL_SERVER_ERROR, "fail").await?;
    let mock = MockServer::builder()
        .seed(1)
        .plan(Plan::Free)
        .start_at_ms(START_MS)
        .concurrency(concurrency)
        .start()
        .await?;
    let destination = format!("http://{}/hook", failing.address());
    let resident_before = resident_bytes();
    let started = Instant::now();

    publish_numbered(&mock, &destination, messages, body_bytes).await?;
    let publish = started.elapsed();

    let into_dlq = mock.advance(PAST_LAST_ATTEMPT).await;
    let attempts = u64::from(into_dlq.attempts);
    drop(into_dlq);
    let resident_in_dlq = resident_bytes();
    let in_dlq = mock.with_engine(|engine| engine.dlq_len() as u64);
    let expired = mock.advance(PAST_RETENTION).await;
    let run = started.elapsed() - publish;
    drop(expired);

    anyhow::ensure!(
        in_dlq == messages && attempts == ATTEMPTS_PER_MESSAGE * messages,
        "{attempts} attempts put {in_dlq} of {messages} messages in the DLQ"
    );
    let (dlq_len, events) = mock.with_engine(|e| (e.dlq_len(), e.event_count() as u64));
    check_finished(dlq_len, events, messages)?;
    let timings = Timings {
        publish,
        run,
        resident_before,
        resident_in_dlq,
        events,
    };
    Ok(timings.figures(Stack::Full, messages, body_bytes))
}

/// Publishes `messages` bodies over HTTP. The load generator sends one template, so the
/// bodies are alike; each still is its own allocation in the mock.
async fn publish_numbered(
    mock: &MockServer,
    destination: &str,
    messages: u64,
    body_bytes: usize,
) -> anyhow::Result<()> {
    let body = numbered_body(0, body_bytes);
    let template = publish_template(mock.token(), destination, "1s", body);
    let load = Load {
        connections: PUBLISH_CONNECTIONS,
        requests: messages,
        time_limit: Duration::from_secs(3_600),
    };
    load::run(mock.address(), &template, load).await?;
    Ok(())
}

/// A body of `size` bytes that starts with its number.
fn numbered_body(n: u64, size: usize) -> Bytes {
    let mut body = format!("{n:020}").into_bytes();
    body.resize(size.max(body.len()), b'.');
    Bytes::from(body)
}

fn check_finished(dlq_len: usize, events: u64, messages: u64) -> anyhow::Result<()> {
    anyhow::ensure!(
        dlq_len == 0 && events == EVENTS_PER_MESSAGE * messages,
        "the run ended with {dlq_len} DLQ entries and {events} events for {messages} messages"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tiny_engine_run_expires_every_message_and_gives_positive_figures() {
        let figures = engine(100, 1024).unwrap();

        assert_eq!(figures.events, 700);
        assert!(figures.events_per_second.is_finite() && figures.events_per_second > 0.0);
        assert!(figures.bytes_per_dlq_entry.is_finite());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_tiny_full_stack_run_expires_every_message_and_gives_positive_figures() {
        let figures = full(100, 1024, 16).await.unwrap();

        assert_eq!(figures.events, 700);
        assert!(figures.events_per_second.is_finite() && figures.events_per_second > 0.0);
        assert!(figures.total_seconds > 0.0);
    }

    #[test]
    fn numbered_bodies_have_the_asked_size_and_start_with_their_number() {
        let body = numbered_body(42, 1024);

        assert_eq!(body.len(), 1024);
        assert!(body.starts_with(b"00000000000000000042"));
    }
}
