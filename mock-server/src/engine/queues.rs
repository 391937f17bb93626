//! Queues: FIFO lines of messages, each with its own parallelism.
//!
//! A queued message holds its queue slot from its first attempt until it and every
//! callback and failure callback it caused are finished, as QStash does: the next
//! message of the line waits for the retries of the one before and for its callbacks.
//! Messages of one chain share the [`OrderKey::origin`] of the API call that created
//! them, so a slot is held by an origin and freed when no held message has it any more.
//!
//! [`OrderKey::origin`]: super::message::OrderKey

use super::error::EngineError;
use super::message::Message;
use super::state::Engine;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// The longest queue, URL group or schedule name accepted.
const MAX_NAME_LEN: usize = 100;

/// A queue as `GET /v2/queues/{name}` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Queue {
    /// The queue's name.
    pub name: String,
    /// Unix ms of creation.
    pub created_at: u64,
    /// Unix ms of the last change of settings.
    pub updated_at: u64,
    /// How many messages of the queue may be in progress at once.
    pub parallelism: u32,
    /// Whether the queue holds its messages back.
    pub paused: bool,
    /// How many messages wait for their turn.
    pub lag: u64,
}

/// Every queue of an engine.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Queues {
    queues: BTreeMap<String, QueueState>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueueState {
    name: String,
    created_at: u64,
    updated_at: u64,
    parallelism: u32,
    paused: bool,
    /// Message ids waiting for a slot, oldest first. Cancelled ones are skipped lazily.
    waiting: VecDeque<String>,
    /// The origins that hold a slot.
    active: BTreeSet<u64>,
}

impl QueueState {
    fn new(now: u64, name: &str) -> Self {
        QueueState {
            name: name.to_owned(),
            created_at: now,
            updated_at: now,
            parallelism: 1,
            paused: false,
            waiting: VecDeque::new(),
            active: BTreeSet::new(),
        }
    }
}

/// Checks a queue, URL group or schedule name: letters, digits, `-`, `.` and `_`.
///
/// # Errors
/// [`EngineError::InvalidInput`] naming `field`.
pub fn validate_name(field: &str, name: &str) -> Result<(), EngineError> {
    if name.is_empty() {
        return Err(EngineError::invalid(field, "must not be empty"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(EngineError::invalid(
            field,
            format!("must be at most {MAX_NAME_LEN} characters"),
        ));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
    if let Some(bad) = name.chars().find(|c| !allowed(*c)) {
        return Err(EngineError::invalid(
            field,
            format!("`{name}` contains `{bad}`; use only letters, digits, `-`, `.` and `_`"),
        ));
    }
    Ok(())
}

impl Engine {
    /// Creates a queue or changes its settings. A new queue has parallelism 1 and is
    /// running unless told otherwise.
    ///
    /// # Errors
    /// [`EngineError::InvalidInput`] for a bad name or a parallelism of 0.
    pub fn upsert_queue(
        &mut self,
        now: u64,
        name: &str,
        parallelism: Option<u32>,
        paused: Option<bool>,
    ) -> Result<Queue, EngineError> {
        validate_name("queueName", name)?;
        if parallelism == Some(0) {
            return Err(EngineError::invalid("parallelism", "must be at least 1"));
        }
        let state = self
            .queues
            .queues
            .entry(name.to_owned())
            .or_insert_with(|| QueueState::new(now, name));
        if let Some(parallelism) = parallelism {
            state.parallelism = parallelism;
        }
        if let Some(paused) = paused {
            state.paused = paused;
        }
        state.updated_at = now;
        self.pump_queue(now, name);
        self.queue(name).ok_or_else(|| queue_not_found(name))
    }

    /// The queue `name`, if it exists.
    pub fn queue(&self, name: &str) -> Option<Queue> {
        let state = self.queues.queues.get(name)?;
        Some(self.queue_view(state))
    }

    /// Every queue, by name.
    pub fn queues(&self) -> Vec<Queue> {
        self.queues
            .queues
            .values()
            .map(|state| self.queue_view(state))
            .collect()
    }

    /// Deletes a queue and cancels the messages still waiting in it. Messages already
    /// in progress finish as they would have.
    ///
    /// # Errors
    /// [`EngineError::NotFound`] for an unknown queue.
    pub fn delete_queue(&mut self, now: u64, name: &str) -> Result<(), EngineError> {
        let state = self
            .queues
            .queues
            .remove(name)
            .ok_or_else(|| queue_not_found(name))?;
        for message_id in state.waiting {
            let _ = self.cancel(now, &message_id);
        }
        Ok(())
    }

    /// Pauses or resumes a queue.
    ///
    /// # Errors
    /// [`EngineError::NotFound`] for an unknown queue.
    pub fn set_queue_paused(
        &mut self,
        now: u64,
        name: &str,
        paused: bool,
    ) -> Result<Queue, EngineError> {
        let state = self
            .queues
            .queues
            .get_mut(name)
            .ok_or_else(|| queue_not_found(name))?;
        state.paused = paused;
        state.updated_at = now;
        self.pump_queue(now, name);
        self.queue(name).ok_or_else(|| queue_not_found(name))
    }

    /// Puts a held message at the end of its queue, creating the queue if needed.
    pub(super) fn join_queue(&mut self, now: u64, name: &str, message_id: &str) {
        self.queues
            .queues
            .entry(name.to_owned())
            .or_insert_with(|| QueueState::new(now, name))
            .waiting
            .push_back(message_id.to_owned());
        self.pump_queue(now, name);
    }

    /// Called whenever a held message leaves the engine: frees the queue slot of its
    /// chain once nothing of the chain is left, and lets flow control move on.
    pub(super) fn message_left(&mut self, now: u64, message: &Message) {
        self.flow_control_message_left(now, message);
        self.schedule_message_left(message);
        let origin = message.order.origin;
        let holding: Vec<String> = self
            .queues
            .queues
            .values()
            .filter(|state| state.active.contains(&origin))
            .map(|state| state.name.clone())
            .collect();
        if holding.is_empty() || self.origin_is_live(origin) {
            return;
        }
        for name in holding {
            if let Some(state) = self.queues.queues.get_mut(&name) {
                state.active.remove(&origin);
            }
            self.pump_queue(now, &name);
        }
    }

    /// Starts waiting messages while the queue runs and has free slots.
    fn pump_queue(&mut self, now: u64, name: &str) {
        loop {
            let Some(state) = self.queues.queues.get_mut(name) else {
                return;
            };
            if state.paused || state.active.len() >= state.parallelism as usize {
                return;
            }
            let Some(message_id) = state.waiting.pop_front() else {
                return;
            };
            let Some(message) = self.held_message(&message_id) else {
                continue;
            };
            let (order, at) = (message.order, message.not_before.max(now));
            if let Some(state) = self.queues.queues.get_mut(name) {
                state.active.insert(order.origin);
            }
            self.schedule_delivery(at, order, &message_id);
        }
    }

    fn queue_view(&self, state: &QueueState) -> Queue {
        let lag = state
            .waiting
            .iter()
            .filter(|id| self.held_message(id).is_some())
            .count() as u64;
        Queue {
            name: state.name.clone(),
            created_at: state.created_at,
            updated_at: state.updated_at,
            parallelism: state.parallelism,
            paused: state.paused,
            lag,
        }
    }
}

fn queue_not_found(name: &str) -> EngineError {
    EngineError::NotFound {
        what: "queue",
        id: name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{EngineConfig, PublishRequest, PublishSettings, Routing};
    use bytes::Bytes;

    fn enqueue(engine: &mut Engine, queue: &str) -> String {
        let request = PublishRequest {
            destination: "https://example.com/".to_owned(),
            body: Bytes::new(),
            settings: PublishSettings::default(),
            caller_ip: None,
        };
        let routing = Routing {
            queue_name: Some(queue.to_owned()),
            ..Routing::default()
        };
        engine.publish_with(0, request, routing).unwrap().message_id
    }

    #[test]
    fn names_take_letters_digits_dashes_dots_and_underscores_only() {
        assert!(validate_name("queueName", "jobs-1.a_b").is_ok());
        assert!(validate_name("queueName", "").is_err());
        let error = validate_name("queueName", "a/b").unwrap_err().to_string();
        assert!(
            error.contains("queueName") && error.contains('/'),
            "{error}"
        );
    }

    #[test]
    fn a_queue_starts_only_as_many_messages_as_its_parallelism() {
        let mut engine = Engine::new(EngineConfig::default());
        engine.upsert_queue(0, "line", Some(2), None).unwrap();
        for _ in 0..3 {
            enqueue(&mut engine, "line");
        }

        let attempts = engine.start_due(0);

        assert_eq!(attempts.len(), 2);
        assert_eq!(engine.queue("line").unwrap().lag, 1);
    }

    #[test]
    fn a_paused_queue_starts_nothing() {
        let mut engine = Engine::new(EngineConfig::default());
        engine.upsert_queue(0, "line", None, Some(true)).unwrap();
        enqueue(&mut engine, "line");

        assert!(engine.start_due(0).is_empty());
        assert_eq!(engine.queue("line").unwrap().lag, 1);
    }
}
