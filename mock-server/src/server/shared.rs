//! The state one mock instance shares between its HTTP handlers, its driver task and
//! the embedded API, and the stepping logic that runs due work.

use super::report::{AdvanceReport, Progress};
use crate::clock::{wall_unix_ms, BackwardsError, Clock, ClockMode};
use crate::delivery::Deliverer;
use crate::engine::{Attempt, AttemptOutcome, Engine, EngineConfig};
use crate::sinks::Sinks;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;

/// Limits how many steps an advance takes before it reports that it stopped early.
pub(crate) const ADVANCE_STEP_LIMIT: u32 = 10_000_000;

/// The default step limit of a run until idle.
pub const DEFAULT_IDLE_STEP_LIMIT: u32 = 100_000;

/// What a run of due work is bounded by.
#[derive(Debug, Clone, Copy)]
enum Bound {
    /// Everything due at or before this instant.
    Until(u64),
    /// Only the earliest due instant.
    NextInstant,
    /// Everything, until nothing is scheduled.
    Idle,
}

/// Settings a reset may change; `None` keeps the launch setting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResetOptions {
    /// A new seed.
    pub seed: Option<u64>,
    /// A new plan.
    pub plan: Option<crate::engine::Plan>,
    /// A DLQ retention overriding the plan's, in ms.
    pub retention_ms: Option<u64>,
    /// A new deduplication window, in ms.
    pub dedup_window_ms: Option<u64>,
    /// Retries when a publish gives none.
    pub default_retries: Option<u32>,
    /// The clock's new reading, unix ms.
    pub start_ms: Option<u64>,
}

impl ResetOptions {
    fn apply(&self, config: &mut EngineConfig) {
        if let Some(seed) = self.seed {
            config.seed = seed;
        }
        if let Some(plan) = self.plan {
            config.plan = plan;
        }
        if self.retention_ms.is_some() {
            config.retention_ms = self.retention_ms;
        }
        if let Some(window) = self.dedup_window_ms {
            config.dedup_window_ms = window;
        }
        if let Some(retries) = self.default_retries {
            config.default_retries = retries;
        }
    }
}

/// Everything one mock instance owns.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) engine: Mutex<Engine>,
    pub(crate) clock: Clock,
    pub(crate) sinks: Mutex<Sinks>,
    pub(crate) deliverer: Deliverer,
    pub(crate) token: String,
    pub(crate) base_url: String,
    pub(crate) engine_config: EngineConfig,
    /// The configured clock start, or `None` for "the wall clock at start".
    pub(crate) start_ms: Option<u64>,
    pub(crate) concurrency: usize,
    /// Serialises stepping: one run of due work at a time. An async mutex on purpose,
    /// since it is held while deliveries are awaited; it guards the report mark.
    step: tokio::sync::Mutex<u64>,
    /// Wakes the driver when new work may be due.
    pub(crate) wake: Notify,
}

/// Locks a std mutex, carrying on after a panic elsewhere: every critical section leaves
/// the data consistent before it can panic.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) struct SharedParts {
    pub(crate) engine_config: EngineConfig,
    pub(crate) start_ms: Option<u64>,
    pub(crate) mode: ClockMode,
    pub(crate) deliverer: Deliverer,
    pub(crate) token: String,
    pub(crate) base_url: String,
    pub(crate) concurrency: usize,
}

impl Shared {
    pub(crate) fn new(parts: SharedParts) -> Arc<Self> {
        let start = parts.start_ms.unwrap_or_else(wall_unix_ms);
        Arc::new(Shared {
            engine: Mutex::new(Engine::new(parts.engine_config.clone())),
            clock: Clock::new(start, parts.mode),
            sinks: Mutex::new(Sinks::default()),
            deliverer: parts.deliverer,
            token: parts.token,
            base_url: parts.base_url,
            engine_config: parts.engine_config,
            start_ms: parts.start_ms,
            concurrency: parts.concurrency.max(1),
            step: tokio::sync::Mutex::new(0),
            wake: Notify::new(),
        })
    }

    pub(crate) fn engine(&self) -> MutexGuard<'_, Engine> {
        lock(&self.engine)
    }

    pub(crate) fn sinks(&self) -> MutexGuard<'_, Sinks> {
        lock(&self.sinks)
    }

    /// The URL of a sink.
    pub(crate) fn sink_url(&self, name: &str) -> String {
        format!("{}/__sinks/{name}", self.base_url)
    }

    /// Runs the work due now, as the driver does, and reports it.
    pub(crate) async fn settle(&self) -> AdvanceReport {
        let now = self.clock.now_ms();
        self.run(Bound::Until(now), ADVANCE_STEP_LIMIT).await
    }

    /// Moves the clock forward by `ms`, running everything due on the way.
    pub(crate) async fn advance_by(&self, ms: u64) -> AdvanceReport {
        let mut mark = self.step.lock().await;
        let target = self.clock.now_ms().saturating_add(ms);
        self.run_locked(&mut mark, Bound::Until(target), ADVANCE_STEP_LIMIT)
            .await
    }

    /// Moves the clock forward to `target`, running everything due on the way.
    pub(crate) async fn advance_to(&self, target: u64) -> Result<AdvanceReport, BackwardsError> {
        let mut mark = self.step.lock().await;
        self.clock.check_forward(target)?;
        Ok(self
            .run_locked(&mut mark, Bound::Until(target), ADVANCE_STEP_LIMIT)
            .await)
    }

    /// Jumps to the earliest scheduled work and runs what is due then.
    pub(crate) async fn next(&self) -> AdvanceReport {
        self.run(Bound::NextInstant, ADVANCE_STEP_LIMIT).await
    }

    /// Runs due work, moving the clock as needed, until nothing is scheduled or
    /// `max_steps` batches ran.
    pub(crate) async fn run_until_idle(&self, max_steps: u32) -> AdvanceReport {
        self.run(Bound::Idle, max_steps).await
    }

    /// Runs the work due now without writing a report; the driver's job.
    pub(crate) async fn run_due_now(&self) {
        let _mark = self.step.lock().await;
        let now = self.clock.now_ms();
        self.run_batches(Bound::Until(now), ADVANCE_STEP_LIMIT)
            .await;
    }

    /// Starts afresh: no messages, DLQ, events or sinks; the keys, settings and clock as
    /// at launch, except what `options` changes.
    pub(crate) async fn reset(&self, options: &ResetOptions) {
        let mut mark = self.step.lock().await;
        let mut config = self.engine_config.clone();
        options.apply(&mut config);
        *self.engine() = Engine::new(config);
        *self.sinks() = Sinks::default();
        *mark = 0;
        let start = options
            .start_ms
            .or(self.start_ms)
            .unwrap_or_else(wall_unix_ms);
        let mode = self.clock.mode();
        self.clock.reset(start, mode);
        self.wake.notify_one();
    }

    /// Replaces the engine (imported state), moving the clock to `now_ms`.
    pub(crate) async fn replace(&self, engine: Engine, sinks: Sinks, now_ms: u64, mode: ClockMode) {
        let mut mark = self.step.lock().await;
        *mark = engine.event_mark();
        *self.engine() = engine;
        *self.sinks() = sinks;
        self.clock.reset(now_ms, mode);
        self.wake.notify_one();
    }

    async fn run(&self, bound: Bound, max_steps: u32) -> AdvanceReport {
        let mut mark = self.step.lock().await;
        self.run_locked(&mut mark, bound, max_steps).await
    }

    async fn run_locked(&self, mark: &mut u64, bound: Bound, max_steps: u32) -> AdvanceReport {
        let from = self.clock.now_ms();
        let progress = self.run_batches(bound, max_steps).await;
        let to = self.clock.now_ms();
        let engine = self.engine();
        let events = engine.events_since(*mark);
        *mark = engine.event_mark();
        AdvanceReport::new(from, to, progress, events)
    }

    /// The stepping loop. Each batch takes everything due at one instant, moves the
    /// clock there, performs the attempts concurrently and applies their outcomes in
    /// (due time, order) order, so the result never depends on network timing.
    async fn run_batches(&self, bound: Bound, max_steps: u32) -> Progress {
        let mut progress = Progress::default();
        let mut first_instant = None;
        loop {
            let next = self.engine().next_due_at();
            let Some(at) = next else {
                break;
            };
            let within = match bound {
                Bound::Until(limit) => at <= limit,
                Bound::NextInstant => first_instant.is_none_or(|first| at <= first),
                Bound::Idle => true,
            };
            if !within {
                break;
            }
            if progress.steps >= max_steps {
                progress.step_limit_reached = true;
                break;
            }

            self.clock.move_forward_to(at);
            let instant = self.clock.now_ms();
            first_instant.get_or_insert(instant);
            progress.attempts += self.run_instant(instant).await;
            progress.steps += 1;
        }
        if let Bound::Until(limit) = bound {
            self.clock.move_forward_to(limit);
        }
        progress.next_due_at = self.engine().next_due_at();
        progress
    }

    /// Runs one batch of the work due at `now`; returns how many attempts it made.
    async fn run_instant(&self, now: u64) -> u32 {
        let attempts = self.engine().start_due_at(now, wall_unix_ms());
        if attempts.is_empty() {
            return 0;
        }
        let count = attempts.len() as u32;

        let outcomes = self.deliver_all(&attempts).await;

        let mut engine = self.engine();
        for (attempt, outcome) in attempts.iter().zip(outcomes) {
            log_attempt(now, attempt, &outcome);
            engine.finish_attempt(now, attempt, outcome);
        }
        count
    }

    /// Sends every attempt, at most `concurrency` at a time, and returns the outcomes in
    /// the attempts' order.
    async fn deliver_all(&self, attempts: &[Attempt]) -> Vec<AttemptOutcome> {
        if let [attempt] = attempts {
            return vec![self.deliverer.send(attempt.request.clone()).await];
        }
        let permits = Arc::new(Semaphore::new(self.concurrency));
        let mut tasks = JoinSet::new();
        for (index, attempt) in attempts.iter().enumerate() {
            let deliverer = self.deliverer.clone();
            let request = attempt.request.clone();
            let permits = Arc::clone(&permits);
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                (index, deliverer.send(request).await)
            });
        }
        let mut outcomes: Vec<Option<AttemptOutcome>> = vec![None; attempts.len()];
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((index, outcome)) => outcomes[index] = Some(outcome),
                Err(error) => tracing::error!(cause = %error, "delivery task failed"),
            }
        }
        outcomes
            .into_iter()
            .map(|outcome| {
                outcome.unwrap_or_else(|| AttemptOutcome::ConnectionError {
                    reason: "the delivery task stopped before it finished".to_owned(),
                })
            })
            .collect()
    }
}

fn log_attempt(now: u64, attempt: &Attempt, outcome: &AttemptOutcome) {
    let url = attempt.request.url.split('?').next().unwrap_or_default();
    match outcome {
        AttemptOutcome::Response(response) => tracing::info!(
            target: "qstash_mock::delivery",
            message_id = %attempt.message_id,
            retried = attempt.retried,
            url,
            status = response.status,
            virtual_time = now,
            "delivery attempt"
        ),
        AttemptOutcome::Timeout => tracing::info!(
            target: "qstash_mock::delivery",
            message_id = %attempt.message_id,
            retried = attempt.retried,
            url,
            outcome = "timeout",
            virtual_time = now,
            "delivery attempt"
        ),
        AttemptOutcome::ConnectionError { reason } => tracing::info!(
            target: "qstash_mock::delivery",
            message_id = %attempt.message_id,
            retried = attempt.retried,
            url,
            outcome = "connection error",
            cause = %reason,
            virtual_time = now,
            "delivery attempt"
        ),
    }
}

/// The driver: runs work as it falls due "now", without an advance. In running mode it
/// also sleeps until the next due instant on the wall clock.
pub(crate) async fn drive(shared: Arc<Shared>, mut shutdown: tokio::sync::watch::Receiver<()>) {
    loop {
        let next = shared.engine().next_due_at();
        let now = shared.clock.now_ms();
        if next.is_some_and(|at| at <= now) {
            shared.run_due_now().await;
            continue;
        }
        let sleep = next.and_then(|at| shared.clock.wall_time_until(at));
        tokio::select! {
            _ = shared.wake.notified() => {}
            _ = sleep_for(sleep) => {}
            _ = shutdown.changed() => break,
        }
    }
}

async fn sleep_for(duration: Option<std::time::Duration>) {
    match duration {
        // Cap each sleep so a change of mode or speed is noticed within a second.
        Some(duration) => tokio::time::sleep(duration.min(std::time::Duration::from_secs(1))).await,
        None => std::future::pending().await,
    }
}
