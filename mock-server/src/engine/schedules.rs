//! Schedules: publishes repeated on a cron expression, fired by the virtual clock.
//!
//! Each schedule keeps one pending firing in the engine's due work. When it runs, the
//! schedule publishes its message (to a URL, a URL group or through a queue), notes the
//! new messages in `lastScheduleStates` and schedules its next firing, so advancing the
//! clock a day fires an every-minute schedule exactly 1440 times.

use super::error::EngineError;
use super::message::{CallbackSpec, FlowControlSpec, Message, MessageState, Routing};
use super::publish::{PublishRequest, PublishSettings, Published};
use super::queues::validate_name;
use super::state::Engine;
use crate::rules::{Cron, RetryDelayExpr};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// What a schedule publishes and when, as `GET /v2/schedules/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Schedule {
    /// `scd_…`, or the `Upstash-Schedule-Id` given at creation.
    pub schedule_id: String,
    /// The cron expression, `CRON_TZ=` prefix included.
    pub cron: String,
    /// A URL or a URL group name.
    pub destination: String,
    /// The method of every message.
    pub method: String,
    /// `Content-Type` of every message.
    pub content_type: Option<String>,
    /// Headers forwarded to the destination.
    pub forward_headers: Vec<(String, String)>,
    /// The body of every message.
    #[serde(with = "crate::engine::serde_util::b64")]
    pub body: Bytes,
    /// `Upstash-Retries`, if given.
    pub retries: Option<u32>,
    /// `Upstash-Retry-Delay`, if given.
    pub retry_delay: Option<RetryDelayExpr>,
    /// `Upstash-Delay` of every message, ms.
    pub delay_ms: Option<u64>,
    /// `Upstash-Timeout`, ms.
    pub timeout_ms: Option<u64>,
    /// `Upstash-Callback` and its settings.
    pub callback: Option<CallbackSpec>,
    /// `Upstash-Failure-Callback` and its settings.
    pub failure_callback: Option<CallbackSpec>,
    /// `Upstash-Label` values.
    pub labels: Vec<String>,
    /// `Upstash-Queue-Name`: every message goes through this queue.
    pub queue_name: Option<String>,
    /// Flow control of every message.
    pub flow_control: Option<FlowControlSpec>,
    /// The creator's address.
    pub caller_ip: Option<String>,
    /// Whether firings are suspended.
    pub paused: bool,
    /// Unix ms of creation.
    pub created_at: u64,
    /// Unix ms of the last firing.
    pub last_schedule_time: Option<u64>,
    /// Unix ms of the next firing, while one is scheduled.
    pub next_schedule_time: Option<u64>,
    /// The messages of the last firing and how each is doing.
    pub last_schedule_states: BTreeMap<String, ScheduleRunState>,
    /// Why the last firing published nothing, if it did not.
    pub error: Option<String>,
    /// Creation number; orders firings of the same instant.
    number: u32,
}

/// How a message of a schedule's last firing is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScheduleRunState {
    /// Not finished yet.
    InProgress,
    /// Delivered.
    Success,
    /// Moved to the DLQ or cancelled.
    Fail,
}

/// A request to create (or, with an existing id, replace) a schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleRequest {
    /// A URL or a URL group name.
    pub destination: String,
    /// `Upstash-Cron`.
    pub cron: String,
    /// `Upstash-Schedule-Id`, to choose the id or replace a schedule.
    pub schedule_id: Option<String>,
    /// `Upstash-Queue-Name`.
    pub queue_name: Option<String>,
    /// `Upstash-Flow-Control-Key` and `-Value`.
    pub flow_control: Option<FlowControlSpec>,
    /// The publish headers.
    pub settings: PublishSettings,
    /// The body of every message.
    pub body: Bytes,
    /// The creator's address.
    pub caller_ip: Option<String>,
}

/// Every schedule of an engine.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Schedules {
    schedules: BTreeMap<String, Schedule>,
    created: u32,
}

impl Engine {
    /// Creates a schedule, or replaces the one with the same `Upstash-Schedule-Id`, and
    /// returns its id. The first firing is the cron's first instant after `now`.
    ///
    /// # Errors
    /// [`EngineError::InvalidInput`] for a bad cron expression, schedule id, queue name
    /// or destination.
    pub fn create_schedule(
        &mut self,
        now: u64,
        request: ScheduleRequest,
    ) -> Result<String, EngineError> {
        let cron = Cron::parse(&request.cron)
            .map_err(|e| EngineError::invalid("Upstash-Cron", e.to_string()))?;
        check_destination(&request.destination)?;
        if let Some(id) = &request.schedule_id {
            validate_name("Upstash-Schedule-Id", id)?;
        }
        if let Some(queue) = &request.queue_name {
            validate_name("Upstash-Queue-Name", queue)?;
        }
        self.schedules.created += 1;
        let created = self.schedules.created;
        let schedule_id = request
            .schedule_id
            .clone()
            .unwrap_or_else(|| schedule_id(self.config().seed, created));
        let (number, created_at) = match self.schedules.schedules.get(&schedule_id) {
            Some(existing) => (existing.number, existing.created_at),
            None => (created, now),
        };
        let settings = request.settings;
        let next = cron.next_after(now);
        let schedule = Schedule {
            schedule_id: schedule_id.clone(),
            cron: request.cron.trim().to_owned(),
            destination: request.destination,
            method: settings.method.unwrap_or_else(|| "POST".to_owned()),
            content_type: settings.content_type,
            forward_headers: settings.forward_headers,
            body: request.body,
            retries: settings.retries,
            retry_delay: settings.retry_delay,
            delay_ms: settings.delay_ms,
            timeout_ms: settings.timeout_ms,
            callback: settings.callback,
            failure_callback: settings.failure_callback,
            labels: settings.labels,
            queue_name: request.queue_name,
            flow_control: request.flow_control,
            caller_ip: request.caller_ip,
            paused: false,
            created_at,
            last_schedule_time: None,
            next_schedule_time: next,
            last_schedule_states: BTreeMap::new(),
            error: None,
            number,
        };
        self.unschedule_firing(&schedule_id);
        self.schedules
            .schedules
            .insert(schedule_id.clone(), schedule);
        if let Some(at) = next {
            self.schedule_firing(at, number, &schedule_id);
        }
        Ok(schedule_id)
    }

    /// The schedule `schedule_id`, if it exists.
    pub fn schedule_by_id(&self, schedule_id: &str) -> Option<&Schedule> {
        self.schedules.schedules.get(schedule_id)
    }

    /// Every schedule, by id.
    pub fn schedules(&self) -> impl Iterator<Item = &Schedule> {
        self.schedules.schedules.values()
    }

    /// Deletes a schedule; messages it already published carry on.
    ///
    /// # Errors
    /// [`EngineError::NotFound`] for an unknown schedule.
    pub fn delete_schedule(&mut self, schedule_id: &str) -> Result<(), EngineError> {
        self.schedules
            .schedules
            .remove(schedule_id)
            .ok_or_else(|| schedule_not_found(schedule_id))?;
        self.unschedule_firing(schedule_id);
        Ok(())
    }

    /// Pauses a schedule: no firing until it is resumed.
    ///
    /// # Errors
    /// [`EngineError::NotFound`] for an unknown schedule.
    pub fn pause_schedule(&mut self, schedule_id: &str) -> Result<(), EngineError> {
        let schedule = self
            .schedules
            .schedules
            .get_mut(schedule_id)
            .ok_or_else(|| schedule_not_found(schedule_id))?;
        schedule.paused = true;
        schedule.next_schedule_time = None;
        self.unschedule_firing(schedule_id);
        Ok(())
    }

    /// Resumes a schedule: it next fires at the cron's first instant after `now`.
    ///
    /// # Errors
    /// [`EngineError::NotFound`] for an unknown schedule.
    pub fn resume_schedule(&mut self, now: u64, schedule_id: &str) -> Result<(), EngineError> {
        let schedule = self
            .schedules
            .schedules
            .get_mut(schedule_id)
            .ok_or_else(|| schedule_not_found(schedule_id))?;
        if !schedule.paused {
            return Ok(());
        }
        schedule.paused = false;
        let next = Cron::parse(&schedule.cron)
            .ok()
            .and_then(|cron| cron.next_after(now));
        schedule.next_schedule_time = next;
        let number = schedule.number;
        if let Some(at) = next {
            self.schedule_firing(at, number, schedule_id);
        }
        Ok(())
    }

    /// Runs the firing of `schedule_id` due at `now`.
    pub(super) fn fire_schedule(&mut self, now: u64, schedule_id: &str) {
        let Some(schedule) = self.schedules.schedules.get(schedule_id).cloned() else {
            return;
        };
        if schedule.paused || schedule.next_schedule_time != Some(now) {
            return;
        }
        let outcome = self.publish_firing(now, &schedule);
        let next = Cron::parse(&schedule.cron)
            .ok()
            .and_then(|cron| cron.next_after(now));
        if let Some(stored) = self.schedules.schedules.get_mut(schedule_id) {
            stored.last_schedule_time = Some(now);
            stored.next_schedule_time = next;
            match outcome {
                Ok(published) => {
                    stored.error = None;
                    stored.last_schedule_states = published
                        .into_iter()
                        .map(|p| (p.message_id, ScheduleRunState::InProgress))
                        .collect();
                }
                Err(error) => {
                    stored.error = Some(error.to_string());
                    stored.last_schedule_states.clear();
                }
            }
        }
        if let Some(at) = next {
            self.schedule_firing(at, schedule.number, schedule_id);
        }
    }

    /// Notes how a message of a schedule's last firing ended.
    pub(super) fn schedule_message_left(&mut self, message: &Message) {
        let Some(schedule_id) = &message.routing.schedule_id else {
            return;
        };
        let failed = self
            .dlq_entries()
            .last()
            .is_some_and(|entry| entry.message.message_id == message.message_id);
        // A message leaves while Active when its last attempt ended it; otherwise it
        // was cancelled.
        let state = if message.state == MessageState::Active && !failed {
            ScheduleRunState::Success
        } else {
            ScheduleRunState::Fail
        };
        if let Some(schedule) = self.schedules.schedules.get_mut(schedule_id) {
            if let Some(slot) = schedule.last_schedule_states.get_mut(&message.message_id) {
                *slot = state;
            }
        }
    }

    fn publish_firing(
        &mut self,
        now: u64,
        schedule: &Schedule,
    ) -> Result<Vec<Published>, EngineError> {
        let request = PublishRequest {
            destination: schedule.destination.clone(),
            body: schedule.body.clone(),
            settings: PublishSettings {
                method: Some(schedule.method.clone()),
                retries: schedule.retries,
                retry_delay: schedule.retry_delay.clone(),
                delay_ms: schedule.delay_ms,
                timeout_ms: schedule.timeout_ms,
                content_type: schedule.content_type.clone(),
                forward_headers: schedule.forward_headers.clone(),
                callback: schedule.callback.clone(),
                failure_callback: schedule.failure_callback.clone(),
                labels: schedule.labels.clone(),
                ..PublishSettings::default()
            },
            caller_ip: schedule.caller_ip.clone(),
        };
        let routing = Routing {
            queue_name: schedule.queue_name.clone(),
            schedule_id: Some(schedule.schedule_id.clone()),
            flow_control: schedule.flow_control.clone(),
            ..Routing::default()
        };
        if is_url(&schedule.destination) {
            return self
                .publish_with(now, request, routing)
                .map(|published| vec![published]);
        }
        self.publish_to_url_group(now, request, routing)
    }
}

fn is_url(destination: &str) -> bool {
    destination.starts_with("http://") || destination.starts_with("https://")
}

fn check_destination(destination: &str) -> Result<(), EngineError> {
    if is_url(destination) {
        return Ok(());
    }
    validate_name("destination", destination).map_err(|_| {
        EngineError::invalid(
            "destination",
            format!("`{destination}` is neither an http(s) URL nor a URL group name"),
        )
    })
}

fn schedule_not_found(schedule_id: &str) -> EngineError {
    EngineError::NotFound {
        what: "schedule",
        id: schedule_id.to_owned(),
    }
}

/// The id of the `n`-th schedule created without an `Upstash-Schedule-Id`.
fn schedule_id(seed: u64, n: u32) -> String {
    let mut hasher = Sha256::new();
    hasher.update(seed.to_be_bytes());
    hasher.update(b"schedule");
    hasher.update(n.to_be_bytes());
    let digest = hasher.finalize();
    format!("scd_{}", bs58::encode(&digest[..20]).into_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineConfig;

    /// 2030-01-01T00:00:00Z.
    const START: u64 = 1_893_456_000_000;
    const MINUTE: u64 = 60_000;

    fn every_minute() -> ScheduleRequest {
        ScheduleRequest {
            destination: "https://example.com/tick".to_owned(),
            cron: "* * * * *".to_owned(),
            schedule_id: None,
            queue_name: None,
            flow_control: None,
            settings: PublishSettings::default(),
            body: Bytes::from_static(b"tick"),
            caller_ip: None,
        }
    }

    #[test]
    fn a_schedule_fires_once_per_matching_minute_and_publishes_with_its_id() {
        let mut engine = Engine::new(EngineConfig::default());
        let id = engine.create_schedule(START, every_minute()).unwrap();

        let attempts = engine.start_due(START + 3 * MINUTE);

        assert_eq!(attempts.len(), 3);
        let header = attempts[0]
            .request
            .headers
            .iter()
            .find(|(name, _)| name == "Upstash-Schedule-Id");
        assert_eq!(header.map(|(_, value)| value.as_str()), Some(id.as_str()));
        assert_eq!(
            engine.schedule_by_id(&id).unwrap().next_schedule_time,
            Some(START + 4 * MINUTE)
        );
    }

    #[test]
    fn schedules_queues_and_url_groups_survive_export_and_import() {
        let mut engine = Engine::new(EngineConfig::default());
        let id = engine.create_schedule(START, every_minute()).unwrap();
        engine.upsert_queue(START, "line", Some(2), None).unwrap();

        let mut restored = Engine::import(engine.export()).unwrap();
        let attempts = restored.start_due(START + MINUTE);

        assert_eq!(attempts.len(), 1);
        assert_eq!(restored.queue("line").unwrap().parallelism, 2);
        assert!(restored.schedule_by_id(&id).is_some());
    }

    #[test]
    fn the_same_seed_gives_the_same_schedule_ids() {
        assert_eq!(schedule_id(1, 1), schedule_id(1, 1));
        assert_ne!(schedule_id(1, 1), schedule_id(2, 1));
        assert!(schedule_id(1, 1).starts_with("scd_"));
    }
}
